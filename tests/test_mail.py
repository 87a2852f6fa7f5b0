"""Mail: stored in the outbox first, then delivered by a real SMTP server, with retries."""

import re
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from app import create_app
from onboarding import mail
from onboarding.store import utcnow
from routes import mailer

from .conftest import MAIN_CONTACT, Applicant, edit_registry, hidden_inputs


def free_port() -> int:
    # aiosmtpd's Controller(port=0) does not report the port it got, so pick one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mail_app(app, smtp):
    controller, _ = smtp
    return create_app({**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port,
                       "BASE_URL": "http://localhost:8080"})


def wait_for(inbox, count=1):
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return inbox.messages


def test_the_link_arrives_by_smtp_and_can_be_followed(mail_app, smtp, db):
    _, inbox = smtp
    applicant = Applicant(mail_app.test_client(), db)
    assert applicant.submit("/stap/1", {"email": "smtp@example.nl"}).status_code == 303
    [message] = wait_for(inbox)
    assert message["To"] == "smtp@example.nl"
    assert "Bevestig uw e-mailadres" in message["Subject"]
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    link = re.search(r"http://localhost:8080(/bevestig/[\w-]+)", parts["text/plain"]).group(1)
    assert link in parts["text/html"]
    response = applicant.open_link(link)
    assert response.headers["Location"] == "/stap/2"
    assert db.conn.execute("SELECT sent_at FROM outbox").fetchone()["sent_at"]


def test_a_mail_server_that_is_down_keeps_the_mail_for_a_retry(app, db, smtp):
    controller, inbox = smtp
    down = mail.SmtpSettings(host="127.0.0.1", port=free_port(), sender="noreply@aansluiten.example")
    mail.enqueue(db, "later@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
    assert mail.deliver_pending(db, down) == 0
    row = db.conn.execute("SELECT * FROM outbox").fetchone()
    assert row["attempts"] == 1 and row["last_error"] and row["sent_at"] is None
    up = mail.SmtpSettings(host="127.0.0.1", port=controller.port, sender="noreply@aansluiten.example")
    assert mail.deliver_pending(db, up) == 0  # not due yet
    assert mail.deliver_pending(db, up, now=utcnow() + timedelta(hours=1)) == 1
    assert wait_for(inbox)[0]["To"] == "later@example.nl"


def test_without_a_mail_server_mail_only_goes_to_the_outbox(applicant, db):
    applicant.submit("/stap/1", {"email": "outbox@example.nl"})
    row = db.conn.execute("SELECT * FROM outbox").fetchone()
    assert row["recipient"] == "outbox@example.nl" and row["sent_at"] is None and row["attempts"] == 0


def test_the_demo_mailbox_shows_the_outbox(applicant, client):
    applicant.submit("/stap/1", {"email": "demo@example.nl"})
    html = client.get("/demo/mailbox").get_data(as_text=True)
    assert "demo@example.nl" in html and "Open de link uit deze e-mail" in html


def test_send_mail_command_delivers_what_waits(mail_app, smtp, db):
    _, inbox = smtp
    mail.enqueue(db, "cron@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
    output = mail_app.test_cli_runner().invoke(args=["send-mail"]).output
    assert "1 e-mail(s) verstuurd" in output
    assert wait_for(inbox)[0]["To"] == "cron@example.nl"


def database_bytes(app) -> bytes:
    path = app.config["DATABASE"]
    data = b""
    for name in (path, path + "-wal", path + "-shm"):
        try:
            with open(name, "rb") as handle:
                data += handle.read()
        except FileNotFoundError:
            pass
    return data


def test_no_usable_token_sits_in_the_database_files(mail_app, smtp, db):
    _, inbox = smtp
    applicant = Applicant(mail_app.test_client(), db)
    applicant.submit("/stap/1", {"email": "smtp@example.nl"})
    [message] = wait_for(inbox)
    text = next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")
    token = re.search(r"/bevestig/([\w-]+)", text).group(1)
    row = db.conn.execute("SELECT * FROM outbox").fetchone()
    assert row["sent_at"] and row["sealed"] is None
    assert token not in row["body_text"] and token not in row["body_html"]
    assert token.encode() not in database_bytes(mail_app)


def test_a_waiting_mail_keeps_its_link_sealed_not_readable(applicant, db, app):
    applicant.submit("/stap/1", {"email": "wacht@example.nl"})
    token = applicant.last_link("wacht@example.nl").rsplit("/", 1)[1]
    row = db.conn.execute("SELECT * FROM outbox").fetchone()
    assert row["sent_at"] is None and row["sealed"]
    assert token.encode() not in database_bytes(app)


def test_sent_bodies_are_emptied_after_a_day_and_unsendable_links_given_up(db):
    settings = mail.SmtpSettings(host="127.0.0.1", port=free_port(), sender="noreply@aansluiten.example")
    seal = mail.Seal("key")
    mail.enqueue(db, "oud@example.nl", "Onderwerp", "tekst [[link]]", "<p>[[link]]</p>",
                 sealed=seal.close({"link": "http://x/bevestig/abc"}))
    mail.enqueue(db, "verstuurd@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
    db.conn.execute("UPDATE outbox SET created_at = ?", ("2000-01-01T00:00:00+00:00",))
    db.conn.execute("UPDATE outbox SET sent_at = ? WHERE recipient = 'verstuurd@example.nl'",
                    ("2000-01-01T00:00:00+00:00",))
    mail.forget(db)
    rows = {row["recipient"]: row for row in db.conn.execute("SELECT * FROM outbox")}
    assert rows["verstuurd@example.nl"]["body_text"] == "" and rows["verstuurd@example.nl"]["subject"]
    assert rows["oud@example.nl"]["sealed"] is None
    assert rows["oud@example.nl"]["attempts"] == mail.MAX_ATTEMPTS
    assert mail.deliver_pending(db, settings) == 0


def test_links_are_filled_in_escaped_in_the_html_part():
    seal = mail.Seal("key")
    row = {"body_text": "open [[link]]", "body_html": '<a href="[[link]]">x</a>',
           "sealed": seal.close({"link": "http://x/a?b=1&c=2"})}
    text, html = mail.bodies(row, seal)
    assert text == "open http://x/a?b=1&c=2"
    assert html == '<a href="http://x/a?b=1&amp;c=2">x</a>'
    assert mail.bodies(row, mail.Seal("another key"))[0] == "open [[link]]"


# -- header values from the registry or the applicant --------------------------------------------

EVIL_NAME = "Evil B.V.\r\nBcc: attacker@evil.example"


def unfolded(value: str) -> str:
    """A header as read, without the line breaks SMTP folds a long one at (RFC 5322 2.2.3)."""
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def test_a_line_break_in_a_subject_is_folded_to_a_space(db, smtp):
    controller, inbox = smtp
    up = mail.SmtpSettings(host="127.0.0.1", port=controller.port,
                           sender="VECOZO\r\nAansluiten <noreply@aansluiten.example>")
    mail.enqueue(db, "contact@example.nl", f"Identificeer u voor {EVIL_NAME}\x00\u2028", "tekst", "<p>tekst</p>")
    assert mail.deliver_pending(db, up) == 1
    [message] = wait_for(inbox)
    assert unfolded(message["Subject"]) == "Identificeer u voor Evil B.V. Bcc: attacker@evil.example"
    assert message["From"] == "VECOZO Aansluiten <noreply@aansluiten.example>"
    assert message["Bcc"] is None and message["X-RcptTo"] == "contact@example.nl"
    # The sender's domain, without the ">" that closes its address.
    assert message["Message-ID"].endswith("@aansluiten.example>")


@pytest.fixture
def evil_company(registry_path):
    """The practice's name in the registry carries a line break and a header. Request it
    before the fixture that looks the practice up."""
    edit_registry(registry_path, lambda data: data["companies"][0].update(naam=EVIL_NAME))


def test_a_company_name_with_a_line_break_is_mailed_on_one_line(evil_company, submitted, smtp, db):
    controller, inbox = smtp
    submitted.client.application.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    assert submitted.submit("/stap/10", {"method": "online"}).headers["Location"] == "/stap/10"
    resent = submitted.submit("/stap/10/link-hoofdcontact", page="/stap/10")
    assert resent.status_code == 303 and resent.headers["Location"] == "/stap/10"
    messages = wait_for(inbox, 2)
    assert [unfolded(message["Subject"]) for message in messages] == [
        "Identificeer u voor de VECOZO-aansluiting van Evil B.V. Bcc: attacker@evil.example"] * 2
    assert {message["X-RcptTo"] for message in messages} == {MAIN_CONTACT["email"]}
    assert all(message["Bcc"] is None for message in messages)
    rows = db.conn.execute("SELECT * FROM outbox WHERE recipient = ?", (MAIN_CONTACT["email"],)).fetchall()
    assert len(rows) == 2 and all(row["sent_at"] for row in rows)


def test_a_mail_that_cannot_be_made_does_not_stop_the_ones_after_it(db, smtp, caplog):
    controller, inbox = smtp
    up = mail.SmtpSettings(host="127.0.0.1", port=controller.port, sender="noreply@aansluiten.example")
    broken = mail.enqueue(db, "kapot@example.nl", "Afspraak", "tekst", "<p>tekst</p>",
                          attachment=mail.Attachment("afspraak.ics", b"BEGIN:VCALENDAR", "text/calendar"))
    db.conn.execute("UPDATE outbox SET attachment_type = NULL WHERE id = ?", (broken,))
    mail.enqueue(db, "heel@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
    assert mail.deliver_pending(db, up) == 1
    assert [message["To"] for message in wait_for(inbox)] == ["heel@example.nl"]
    row = db.conn.execute("SELECT * FROM outbox WHERE id = ?", (broken,)).fetchone()
    assert row["attempts"] == 1 and row["sent_at"] is None and row["last_error"]
    assert row["next_attempt_at"] > mail.timestamp(utcnow())  # retried later, as after a server down
    assert [record.levelname for record in caplog.records if f"outbox mail {broken}" in record.getMessage()] == [
        "ERROR"]


# -- a mail server that takes the connection and never finishes an answer ------------------------

DEADLINE = 0.5
MARGIN = 1.5  # a busy machine; still far from SMTP_TIMEOUT_S, and from never


@pytest.fixture(params=["silent", "dripping"])
def hung_smtp(request):
    """The port of a mail server that accepts and then says nothing, or sends its greeting one
    byte every 0.1 s, never ending the line: no single read waits long enough to time out."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                while not stop.wait(0.1):
                    if request.param == "dripping":
                        try:
                            connection.sendall(b"2")
                        except OSError:
                            break

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    yield listener.getsockname()[1]
    stop.set()
    server.join()
    listener.close()


@pytest.fixture
def short_deadline(monkeypatch):
    monkeypatch.setattr(mail, "SEND_DEADLINE_S", DEADLINE)


def test_a_mail_server_that_does_not_answer_does_not_hold_the_applicant(applicant, app, db, hung_smtp,
                                                                          short_deadline):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=hung_smtp)
    fields = hidden_inputs(applicant.get("/stap/1").get_data(as_text=True)) | {"email": "traag@example.nl"}
    started = time.monotonic()
    response = applicant.client.post("/stap/1", data=fields)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/1/verstuurd"
    assert time.monotonic() - started < DEADLINE + MARGIN
    row = db.conn.execute("SELECT * FROM outbox").fetchone()
    assert row["attempts"] == 1 and row["sent_at"] is None and "deadline" in row["last_error"]
    assert applicant.open_link(applicant.last_link("traag@example.nl")).headers["Location"] == "/stap/2"


def test_all_the_mail_of_one_request_waits_for_the_server_once(app, db, hung_smtp, short_deadline):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=hung_smtp)
    first, second = (mail.enqueue(db, f"{name}@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
                     for name in ("een", "twee"))
    started = time.monotonic()
    with app.test_request_context():
        mailer.deliver(db, first)
        mailer.deliver(db, second)
    assert time.monotonic() - started < DEADLINE + MARGIN
    rows = db.conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    assert [(row["attempts"], row["sent_at"]) for row in rows] == [(1, None), (0, None)]  # both still queued
