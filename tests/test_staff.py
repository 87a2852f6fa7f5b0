"""Staff users: accounts, login with a password, the second factor, and the CLI commands."""

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from onboarding import ratelimit, staff, store
from onboarding.mail import Seal

PASSWORD = "correct horse battery"


@pytest.fixture
def seal(app):
    return Seal(app.config["SECRET_KEY"])


@pytest.fixture
def user(db):
    return staff.create_user(db, "j.devries", PASSWORD)


@pytest.fixture
def enrolled(db, user, seal):
    """A user with a confirmed second factor: (user, secret, recovery codes)."""
    secret = staff.start_enrolment(db, user.id, seal)
    codes = staff.confirm_enrolment(db, user.id, pyotp.TOTP(secret).now(), seal)
    return user, secret, codes


def later(steps: int):
    """A moment ``steps`` TOTP periods from now."""
    return store.utcnow() + timedelta(seconds=30 * steps)


def code_at(secret: str, moment) -> str:
    return pyotp.TOTP(secret).at(moment)


def row(db, user_id):
    return db.conn.execute("SELECT * FROM staff_users WHERE id = ?", (user_id,)).fetchone()


# -- accounts ---------------------------------------------------------------------------------


def test_a_new_user_has_no_second_factor_yet_and_is_enabled(db):
    user = staff.create_user(db, "j.devries", PASSWORD)
    assert user == staff.StaffUser(id=user.id, username="j.devries", totp_enrolled=False, disabled=False,
                                   session_epoch=0)
    assert staff.by_id(db, user.id) == user
    assert staff.by_id(db, user.id + 1) is None


@pytest.mark.parametrize("name", ["j.devries", "J.DeVries"])
def test_a_username_is_taken_once_whatever_its_case(db, user, name):
    with pytest.raises(staff.AccountError) as refused:
        staff.create_user(db, name, PASSWORD)
    assert refused.value.code == "exists"


@pytest.mark.parametrize("password", ["", "short", "x" * (staff.MIN_PASSWORD - 1)])
def test_a_password_shorter_than_the_minimum_is_refused(db, password):
    with pytest.raises(staff.AccountError) as refused:
        staff.create_user(db, "j.devries", password)
    assert refused.value.code == "weak_password"
    assert db.conn.execute("SELECT count(*) FROM staff_users").fetchone()[0] == 0


@pytest.mark.parametrize("username", ["", "ab", "x" * 65, "jan de vries", "jan@example.nl", "jän", "a/b", "a'--"])
def test_a_username_outside_3_to_64_letters_digits_dots_dashes_underscores_is_refused(db, username):
    with pytest.raises(staff.AccountError) as refused:
        staff.create_user(db, username, PASSWORD)
    assert refused.value.code == "bad_username"


def test_the_password_is_stored_as_an_scrypt_hash_and_nowhere_in_plain(app, db, user):
    assert row(db, user.id)["password_hash"].startswith("scrypt:")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database = Path(app.config["DATABASE"])
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            assert PASSWORD.encode() not in path.read_bytes()


# -- login with a password --------------------------------------------------------------------


def test_the_right_password_logs_in(db, user):
    assert staff.check_password(db, "j.devries", PASSWORD, "client-1") == user


def test_the_username_is_not_case_sensitive_at_login(db, user):
    assert staff.check_password(db, "J.DeVries", PASSWORD, "client-1") == user


@pytest.mark.parametrize("username, password, disabled", [
    ("j.devries", "wrong password!", False),
    ("nobody", PASSWORD, False),
    ("j.devries", PASSWORD, True),
], ids=["wrong password", "unknown user", "disabled user"])
def test_a_wrong_password_an_unknown_user_and_a_disabled_user_get_the_same_refusal(
        db, user, username, password, disabled):
    if disabled:
        staff.disable_user(db, "j.devries")
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, username, password, "client-1")
    assert refused.value.reason == "credentials"
    assert refused.value.minutes is None
    assert str(refused.value) == "credentials"


def test_an_unknown_user_is_checked_against_a_dummy_hash(db, monkeypatch):
    checked = []
    real = staff.check_password_hash
    monkeypatch.setattr(staff, "check_password_hash", lambda pwhash, password: checked.append(pwhash) or
                        real(pwhash, password))
    with pytest.raises(staff.LoginRefused):
        staff.check_password(db, "nobody", PASSWORD, "client-1")
    assert len(checked) == 1 and checked[0].startswith("scrypt:")


def test_the_sixth_try_for_a_user_from_one_client_is_refused_even_with_the_right_password(db, user):
    moment = store.utcnow()  # one moment: the tries never straddle two windows
    for attempt in range(staff.LOGIN_PER_USER_AND_CLIENT.hits):
        with pytest.raises(staff.LoginRefused):
            # Typed in another case: the user's count is one.
            staff.check_password(db, "J.DEVRIES" if attempt % 2 else "j.devries", "wrong password!",
                                 "client-1", now=moment)
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, "j.devries", PASSWORD, "client-1", now=moment)
    assert refused.value.reason == "rate_limited"
    assert 1 <= refused.value.minutes <= 15


def test_someone_who_knows_a_user_name_cannot_lock_the_user_out_from_elsewhere(db, user):
    moment = store.utcnow()
    for _ in range(staff.LOGIN_PER_USER_AND_CLIENT.hits):
        with pytest.raises(staff.LoginRefused):
            staff.check_password(db, "j.devries", "wrong password!", "attacker", now=moment)
    assert staff.check_password(db, "j.devries", PASSWORD, "the users own client", now=moment) == user


def test_a_guess_spread_over_many_clients_is_refused_after_the_users_limit(db, user, monkeypatch):
    assert staff.LOGIN_PER_USER.hits == 50
    # Each try checks a password hash: the same limit, fewer tries.
    monkeypatch.setattr(staff, "LOGIN_PER_USER", dataclasses.replace(staff.LOGIN_PER_USER, hits=8))
    moment = store.utcnow()
    for attempt in range(staff.LOGIN_PER_USER.hits):
        with pytest.raises(staff.LoginRefused):
            staff.check_password(db, "j.devries", "wrong password!", f"client-{attempt}", now=moment)
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, "j.devries", PASSWORD, "client-new", now=moment)
    assert refused.value.reason == "rate_limited"


def test_logins_with_the_right_password_do_not_use_up_the_limit(db, user):
    # Else a user who logs in five times in a quarter of an hour would be locked out.
    moment = store.utcnow()
    for _ in range(staff.LOGIN_PER_USER_AND_CLIENT.hits * 2):
        assert staff.check_password(db, "j.devries", PASSWORD, "client-1", now=moment) == user
    for _ in range(staff.LOGIN_PER_USER_AND_CLIENT.hits - 1):
        with pytest.raises(staff.LoginRefused):
            staff.check_password(db, "j.devries", "wrong password!", "client-1", now=moment)
    assert staff.check_password(db, "j.devries", PASSWORD, "client-1", now=moment) == user


def test_an_unknown_user_is_rate_limited_like_a_known_one(db):
    moment = store.utcnow()
    for _ in range(staff.LOGIN_PER_USER_AND_CLIENT.hits):
        with pytest.raises(staff.LoginRefused):
            staff.check_password(db, "nobody", PASSWORD, "client-1", now=moment)
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, "nobody", PASSWORD, "client-1", now=moment)
    assert refused.value.reason == "rate_limited"


def test_a_client_trying_many_users_is_refused_after_its_limit(db, user):
    moment = store.utcnow()
    for number in range(staff.LOGIN_PER_CLIENT.hits):
        with pytest.raises(staff.LoginRefused) as refused:
            staff.check_password(db, f"user{number}", "wrong password!", "client-1", now=moment)
        assert refused.value.reason == "credentials"
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, "j.devries", PASSWORD, "client-1", now=moment)
    assert refused.value.reason == "rate_limited"
    assert 1 <= refused.value.minutes <= 15
    # Another client is not held back by it.
    assert staff.check_password(db, "j.devries", PASSWORD, "client-2", now=moment) == user


def test_the_login_limit_is_over_when_its_window_is(db, user):
    moment = store.utcnow()
    for _ in range(staff.LOGIN_PER_USER_AND_CLIENT.hits):
        with pytest.raises(staff.LoginRefused):
            staff.check_password(db, "j.devries", "wrong password!", "client-1", now=moment)
    assert staff.check_password(db, "j.devries", PASSWORD, "client-1",
                                now=moment + staff.LOGIN_PER_USER_AND_CLIENT.window) == user


# -- password reset and disabling ---------------------------------------------------------------


def test_a_password_reset_ends_every_session_and_the_old_password_fails(db, enrolled):
    user, _, _ = enrolled
    staff.reset_password(db, "j.devries", "a new long password")
    after = staff.by_id(db, user.id)
    assert after.session_epoch == user.session_epoch + 1
    assert after.totp_enrolled  # the second factor stays
    with pytest.raises(staff.LoginRefused) as refused:
        staff.check_password(db, "j.devries", PASSWORD, "client-1")
    assert refused.value.reason == "credentials"
    assert staff.check_password(db, "j.devries", "a new long password", "client-1") == after


def test_a_password_reset_keeps_a_disabled_user_disabled(db, user):
    staff.disable_user(db, "j.devries")
    staff.reset_password(db, "j.devries", "a new long password")
    assert staff.by_id(db, user.id).disabled
    with pytest.raises(staff.LoginRefused):
        staff.check_password(db, "j.devries", "a new long password", "client-1")


@pytest.mark.parametrize("change, args, code", [
    (staff.reset_password, ("nobody", "a new long password"), "unknown"),
    (staff.reset_password, ("j.devries", "short"), "weak_password"),
    (staff.disable_user, ("nobody",), "unknown"),
])
def test_a_change_to_an_unknown_user_or_with_a_weak_password_is_refused(db, user, change, args, code):
    with pytest.raises(staff.AccountError) as refused:
        change(db, *args)
    assert refused.value.code == code
    assert staff.by_id(db, user.id) == user


def test_disabling_a_user_ends_every_session_and_refuses_their_codes(db, enrolled, seal):
    user, secret, codes = enrolled
    staff.disable_user(db, "j.devries")
    after = staff.by_id(db, user.id)
    assert after.disabled
    assert after.session_epoch == user.session_epoch + 1
    assert row(db, user.id)["disabled_at"]
    with pytest.raises(staff.CodeRefused):
        staff.check_code(db, user.id, codes[0], seal)


# -- the second factor --------------------------------------------------------------------------


def test_enrolment_confirmed_with_a_code_from_the_secret_gives_ten_recovery_codes(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    assert not staff.by_id(db, user.id).totp_enrolled
    codes = staff.confirm_enrolment(db, user.id, pyotp.TOTP(secret).now(), seal)
    assert len(codes) == staff.RECOVERY_CODES == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code)
        assert not set(code) & set("01oli")
    assert staff.by_id(db, user.id).totp_enrolled
    assert staff.recovery_codes_left(db, user.id) == 10
    stored = {r["code_hash"] for r in db.conn.execute("SELECT code_hash FROM staff_recovery_codes")}
    assert len(stored) == 10 and not stored & set(codes)


def test_a_wrong_code_does_not_confirm_the_enrolment(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    with pytest.raises(staff.CodeRefused) as refused:
        staff.confirm_enrolment(db, user.id, wrong, seal)
    assert refused.value.reason == "code"
    assert not staff.by_id(db, user.id).totp_enrolled
    assert staff.recovery_codes_left(db, user.id) == 0


def test_enrolment_tries_are_rate_limited(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    moment = store.utcnow()
    for _ in range(staff.CODE_PER_USER.hits):
        with pytest.raises(staff.CodeRefused):
            staff.confirm_enrolment(db, user.id, "000000x", seal, now=moment)
    with pytest.raises(staff.CodeRefused) as refused:
        staff.confirm_enrolment(db, user.id, code_at(secret, moment), seal, now=moment)
    assert refused.value.reason == "rate_limited" and refused.value.minutes >= 1


def test_an_enrolled_user_cannot_start_enrolment_again(db, enrolled, seal):
    user, secret, _ = enrolled
    with pytest.raises(staff.AccountError) as refused:
        staff.start_enrolment(db, user.id, seal)
    assert refused.value.code == "exists"
    moment = later(3)
    assert staff.current_code(db, user.id, seal, now=moment) == code_at(secret, moment)


def test_the_totp_secret_is_stored_sealed_not_in_plain(app, db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    sealed = row(db, user.id)["totp_sealed"]
    assert secret not in sealed
    assert seal.open(sealed) == {"totp": secret}
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert secret.encode() not in Path(app.config["DATABASE"]).read_bytes()


def test_a_totp_code_is_accepted_once(db, enrolled, seal):
    user, secret, _ = enrolled
    moment = later(1)  # the confirming code used the current step
    code = code_at(secret, moment)
    assert staff.check_code(db, user.id, code, seal, now=moment) == "totp"
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, code, seal, now=moment)
    assert refused.value.reason == "code"
    assert row(db, user.id)["totp_last_step"] == pyotp.TOTP(secret).timecode(moment)


def test_accepted_codes_do_not_use_up_the_limit(db, enrolled, seal):
    user, secret, _ = enrolled
    window = staff.CODE_PER_USER.window
    start = ratelimit._window_start(staff.CODE_PER_USER, store.utcnow()) + window  # all in one window
    for step in range(1, staff.CODE_PER_USER.hits * 2 + 1):
        moment = start + timedelta(seconds=30 * step)
        assert staff.check_code(db, user.id, code_at(secret, moment), seal, now=moment) == "totp"


def test_the_code_that_confirmed_the_enrolment_is_not_accepted_again(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    code = pyotp.TOTP(secret).now()
    staff.confirm_enrolment(db, user.id, code, seal)
    with pytest.raises(staff.CodeRefused):
        staff.check_code(db, user.id, code, seal)


def test_a_code_of_the_step_before_or_after_is_accepted_but_not_an_older_one(db, enrolled, seal):
    user, secret, _ = enrolled
    moment = later(10)
    step = timedelta(seconds=30)
    assert staff.check_code(db, user.id, code_at(secret, moment - step), seal, now=moment) == "totp"
    assert staff.check_code(db, user.id, code_at(secret, moment + step), seal, now=moment) == "totp"
    with pytest.raises(staff.CodeRefused):
        # Still in the window, but older than the step last used.
        staff.check_code(db, user.id, code_at(secret, moment), seal, now=moment)
    with pytest.raises(staff.CodeRefused):
        # Two steps ahead: outside the window.
        staff.check_code(db, user.id, code_at(secret, moment + 4 * step), seal, now=moment + 2 * step)


def test_a_totp_code_may_be_typed_with_spaces(db, enrolled, seal):
    user, secret, _ = enrolled
    moment = later(1)
    code = code_at(secret, moment)
    assert staff.check_code(db, user.id, f" {code[:3]} {code[3:]} ", seal, now=moment) == "totp"


def test_a_recovery_code_is_accepted_once_however_it_is_typed(db, enrolled, seal):
    user, _, codes = enrolled
    typed = codes[3].replace("-", " ").upper()
    assert staff.check_code(db, user.id, typed, seal) == "recovery"
    assert staff.recovery_codes_left(db, user.id) == 9
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, codes[3], seal)
    assert refused.value.reason == "code"
    assert staff.check_code(db, user.id, codes[4].replace("-", ""), seal) == "recovery"
    assert staff.recovery_codes_left(db, user.id) == 8


@pytest.mark.parametrize("code", ["", "123", "abcd-efgh-jkmn", "12345678", "not a code at all"])
def test_a_wrong_code_is_refused(db, enrolled, seal, code):
    user, _, _ = enrolled
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, code, seal)
    assert refused.value.reason == "code"
    assert staff.recovery_codes_left(db, user.id) == 10


def test_wrong_codes_are_rate_limited_per_user(db, enrolled, seal):
    user, secret, codes = enrolled
    other = staff.create_user(db, "p.bakker", PASSWORD)
    moment = later(40)  # twenty minutes on: a window of its own, apart from the confirmation's
    for _ in range(staff.CODE_PER_USER.hits):
        with pytest.raises(staff.CodeRefused):
            staff.check_code(db, user.id, "000000", seal, now=moment)
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, code_at(secret, moment), seal, now=moment)
    assert refused.value.reason == "rate_limited"
    assert 1 <= refused.value.minutes <= 15
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, codes[0], seal, now=moment)
    assert refused.value.reason == "rate_limited"
    assert staff.recovery_codes_left(db, user.id) == 10
    # Another user's count is their own.
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, other.id, "000000", seal, now=moment)
    assert refused.value.reason == "code"


def test_a_user_without_a_confirmed_second_factor_has_no_code_to_check(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    with pytest.raises(staff.CodeRefused) as refused:
        staff.check_code(db, user.id, pyotp.TOTP(secret).now(), seal)
    assert refused.value.reason == "code"


def test_the_provisioning_uri_names_the_issuer_and_the_user(db, user, seal):
    secret = staff.start_enrolment(db, user.id, seal)
    uri = staff.provisioning_uri(secret, "j.devries")
    assert uri.startswith("otpauth://totp/VECOZO%20Aansluiten:j.devries?")
    assert f"secret={secret}" in uri and "issuer=VECOZO%20Aansluiten" in uri


def test_the_qr_code_is_inline_svg_with_a_title_and_no_style(db):
    svg = staff.qr_svg(staff.provisioning_uri(pyotp.random_base32(), "j.devries"), "QR-code <voor> de app")
    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert "<title>QR-code &lt;voor&gt; de app</title>" in svg
    assert "style" not in svg.lower()
    assert "<script" not in svg


# -- demo ---------------------------------------------------------------------------------------


def test_the_demo_user_is_made_enrolled_and_stays_the_same_when_made_again(db, seal):
    demo = staff.ensure_demo_user(db, seal)
    assert demo.username == "demo" and demo.totp_enrolled and not demo.disabled
    code = staff.current_code(db, demo.id, seal)
    assert staff.check_code(db, demo.id, code, seal) == "totp"
    first = dict(row(db, demo.id))
    assert staff.ensure_demo_user(db, seal) == demo
    assert dict(row(db, demo.id)) == first
    assert db.conn.execute("SELECT count(*) FROM staff_users").fetchone()[0] == 1
    assert staff.check_password(db, "demo", "demo-beheer-2026", "client-1") == demo


def test_the_demo_user_is_reset_when_changed(db, seal):
    demo = staff.ensure_demo_user(db, seal)
    staff.reset_password(db, "demo", "someone changed it")
    staff.disable_user(db, "demo")
    again = staff.ensure_demo_user(db, seal)
    assert again.id == demo.id and not again.disabled and again.totp_enrolled
    assert staff.check_password(db, "demo", "demo-beheer-2026", "client-1") == again


def test_the_demo_user_gets_a_new_secret_when_the_old_one_cannot_be_opened(db, seal, caplog):
    demo = staff.ensure_demo_user(db, seal)
    other = Seal("another secret key")
    again = staff.ensure_demo_user(db, other)
    code = staff.current_code(db, again.id, other)
    assert pyotp.TOTP(other.open(row(db, demo.id)["totp_sealed"])["totp"]).verify(code)


# -- the commands -------------------------------------------------------------------------------


def test_create_user_asks_for_the_password_hidden_and_twice(app, db):
    result = app.test_cli_runner().invoke(args=["create-user", "j.devries"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat for confirmation" in result.output
    assert ("Staff user j.devries created; they enrol their second factor at the first login at /beheer/login."
            in result.output)
    assert staff.check_password(db, "j.devries", PASSWORD, "client-1").username == "j.devries"


def test_create_user_refuses_two_different_passwords_and_asks_again(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "j.devries"], input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


@pytest.mark.parametrize("username, password, message", [
    ("ab", PASSWORD, "3 to 64 characters"),
    ("j.devries", "short", f"at least {staff.MIN_PASSWORD} characters"),
])
def test_create_user_says_what_is_wrong_and_fails(app, db, username, password, message):
    result = app.test_cli_runner().invoke(args=["create-user", username, "--password", password])
    assert result.exit_code != 0
    assert message in result.output
    assert db.conn.execute("SELECT count(*) FROM staff_users").fetchone()[0] == 0


def test_create_user_refuses_a_name_taken(app, db, user):
    result = app.test_cli_runner().invoke(args=["create-user", "J.DEVRIES", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_the_commands_migrate_a_new_database_first(app, tmp_path):
    app.config["DATABASE"] = str(tmp_path / "fresh.db")
    result = app.test_cli_runner().invoke(args=["create-user", "j.devries", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    fresh = store.connect(app.config["DATABASE"])
    try:
        assert staff.check_password(fresh, "j.devries", PASSWORD, "client-1").username == "j.devries"
    finally:
        fresh.close()


def test_disable_user_disables_and_says_so(app, db, user):
    result = app.test_cli_runner().invoke(args=["disable-user", "j.devries"])
    assert result.exit_code == 0, result.output
    assert "j.devries disabled" in result.output
    assert staff.by_id(db, user.id).disabled


def test_disable_user_of_an_unknown_user_fails(app, db):
    result = app.test_cli_runner().invoke(args=["disable-user", "nobody"])
    assert result.exit_code != 0
    assert "no staff user" in result.output


def test_reset_password_asks_for_the_new_password_hidden_and_twice(app, db, user):
    new = "a new long password"
    result = app.test_cli_runner().invoke(args=["reset-password", "j.devries"], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert new not in result.output
    assert "Password of staff user j.devries reset" in result.output
    assert staff.by_id(db, user.id).session_epoch == 1
    assert staff.check_password(db, "j.devries", new, "client-1").id == user.id


@pytest.mark.parametrize("username, password, message", [
    ("nobody", "a new long password", "no staff user"),
    ("j.devries", "short", "at least"),
])
def test_reset_password_says_what_is_wrong_and_fails(app, db, user, username, password, message):
    result = app.test_cli_runner().invoke(args=["reset-password", username, "--password", password])
    assert result.exit_code != 0
    assert message in result.output
    assert staff.by_id(db, user.id).session_epoch == 0
