"""Step 6's spreadsheet at 1,000 AGB codes, in-process (Flask test client): the server time of
one upload of the filled-in template up to its preview (the POST that reads, checks and plans
the file, and the GET that shows the plan) and of its confirmation (the POST that stores the
1,000 contact persons), for the .xlsx and the .csv template; median of ROUNDS, each on a draft of
its own at step 6 (bench/fixtures.py). SPEC §8 names no target: the figures are printed.

`bench/run.py --only upload` runs it; so does `make bench`.
"""

import csv
import io
import os
import statistics
import tempfile
import time

from bench import fixtures

ROUNDS = 5
CODES = 1000
UPLOAD = "/stap/6/bestand"
CONFIRM = "/stap/6/bestand/opslaan"


def filled_csv(template: bytes) -> bytes:
    """The .csv template with a contact person on every row, as an office fills it in."""
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig")), delimiter=";"))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0])
    for index, row in enumerate(rows[1:]):
        writer.writerow(row[:3] + ["K.", "", "Jansen", f"k.jansen{index}@bench.example", "0612345678"] + row[8:])
    return out.getvalue().encode("utf-8")


def filled_xlsx(template: bytes) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    for line in range(2, sheet.max_row + 1):
        for column, value in zip(range(4, 9), ["K.", "", "Jansen", f"k.jansen{line}@bench.example", "0612345678"]):
            sheet.cell(line, column).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _post_file(client, fields: dict, data: bytes, name: str):
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart(MultiDict({**fields, "file": FileStorage(io.BytesIO(data), name)}))
    return client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _timed(call):
    started = time.perf_counter()
    response = call()
    return response, (time.perf_counter() - started) * 1000


def measure(app, registry_path: str, kind: str) -> tuple[list[float], list[float], int]:
    """Preview and confirmation times (ms) of ROUNDS uploads of a filled-in ``kind`` template,
    and the size of the file."""
    from onboarding import store
    from onboarding.registry import Registry

    db = store.connect(app.config["DATABASE"])
    store.migrate(db)
    registry = Registry.from_file(registry_path)
    previews, confirms, size = [], [], 0
    try:
        for index in range(ROUNDS + 1):  # the first warms up
            key = fixtures.create_draft(db, registry, f"upload-{kind}-{index}@bench.example",
                                        fixtures.ORGANISATIONS[CODES], done=5)
            client = app.test_client()
            name, _, value = fixtures.session_cookie(app, key).partition("=")
            client.set_cookie(name, value)
            template = client.get(f"/stap/6/sjabloon.{kind}").get_data()
            data = filled_xlsx(template) if kind == "xlsx" else filled_csv(template)
            size = len(data)
            form = fixtures.post_form(client.get(UPLOAD).get_data(as_text=True), UPLOAD)
            uploaded, upload_ms = _timed(lambda: _post_file(client, form["hidden"], data, f"contactpersonen.{kind}"))
            shown, show_ms = _timed(lambda: client.get(UPLOAD))
            html = shown.get_data(as_text=True)
            if uploaded.status_code != 303 or f"{CODES} AGB-codes krijgen een contactpersoon" not in html:
                raise RuntimeError(f"upload of the {kind} template: status {uploaded.status_code}, no preview")
            confirm = fixtures.post_form(html, CONFIRM)
            stored, confirm_ms = _timed(lambda: client.post(CONFIRM, data={**confirm["hidden"], "store": "all"}))
            draft_id = db.conn.execute("SELECT id FROM drafts WHERE key = ?", (key,)).fetchone()[0]
            count = db.conn.execute("SELECT count(*) FROM contact_persons WHERE draft_id = ? AND source = "
                                    "'applicant'", (draft_id,)).fetchone()[0]
            if stored.status_code != 303 or count != CODES:
                raise RuntimeError(f"confirming the {kind} upload: status {stored.status_code}, {count} stored")
            if index:
                previews.append(upload_ms + show_ms)
                confirms.append(confirm_ms)
    finally:
        db.close()
    return previews, confirms, size


def figures(report, tmp: str, registry_path: str) -> None:
    from app import create_app

    app = create_app({"DATABASE": os.path.join(tmp, "upload.db"), "SECRET_KEY": "bench", "DEMO": True,
                      "REGISTRY": registry_path})
    report.section(f"7. Step 6's spreadsheet, {CODES:,} rows in one upload (in-process, median of {ROUNDS})")
    for kind in ("xlsx", "csv"):
        previews, confirms, size = measure(app, registry_path, kind)
        report.info(f"upload of {CODES:,} rows (.{kind}, {size / 1024:.0f} KB)",
                    f"preview {statistics.median(previews):.0f} ms, confirm {statistics.median(confirms):.0f} ms "
                    f"(no target in SPEC §8)")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, fixtures.ROOT)
    from bench.run import Report

    with tempfile.TemporaryDirectory(prefix="aansluiten-bench-upload-") as directory:
        figures(Report(), directory, fixtures.write_registry(directory))
