"""Where a fragment's time goes, in-process: the CPU of one WSGI call of every page's htmx
fragment (or whole page), for the 1-code practice and the 1,000-code organisation, beside the
same for the hello world that reads the session (bench/hello.py), and optionally a profile of
one of them. A tool to profile with before changing anything; `make bench` measures the targets.

    .venv/bin/python bench/fragments.py                  # every page, fragments
    .venv/bin/python bench/fragments.py --whole 6 9      # whole pages of steps 6 and 9
    .venv/bin/python bench/fragments.py --profile large:/stap/6 [--sort tottime]

Each figure is the least of 5 repeats of the process's CPU time per call (the machine's other
work makes calls slower, never faster). Over HTTP, gunicorn adds about 0.35 ms a request to
both sides and a page's own work costs about 1.3 times as much (two workers and wrk share two
cores), so a fragment of about 0.5 ms here is about 0.5x the floor in `make bench`.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench import fixtures  # noqa: E402

REPEATS = 5
PAGES = [(f"/stap/{number}", "open") for number in range(2, 10)] + [("/stap/10", "submitted"),
                                                                       ("/aanmelding", "submitted")]
SIZES = {"small": 1, "large": 1000}


def call(wsgi, environ: dict) -> tuple[str, dict, bytes]:
    answer = {}

    def start_response(status, headers, _exc_info=None):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(wsgi(dict(environ), start_response))
    return answer["status"], answer["headers"], body


def cpu_ms(wsgi, environ: dict, calls: int) -> float:
    call(wsgi, environ)
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for _ in range(calls):
            call(wsgi, environ)
        best = min(best, (time.process_time() - started) / calls * 1000)
    return best


def environ(path: str, cookie: str, fragment: bool) -> dict:
    headers = {"Cookie": cookie, **({"HX-Request": "true"} if fragment else {})}
    return EnvironBuilder(path=path, headers=headers, base_url="http://127.0.0.1:8000").get_environ()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="pages by their last part: 6, 9, aanmelding")
    parser.add_argument("--whole", action="store_true", help="whole pages instead of htmx fragments")
    parser.add_argument("--calls", type=int, default=100, help="calls per repeat (a quarter at 1,000 codes)")
    parser.add_argument("--profile", metavar="SIZE:PATH", help="cProfile one page, e.g. large:/stap/6")
    parser.add_argument("--sort", default="cumulative", help="the profile's order: cumulative, tottime, ...")
    arguments = parser.parse_args()

    tmp = tempfile.mkdtemp()
    registry_path = fixtures.write_registry(tmp)
    database = os.path.join(tmp, "fragments.db")
    os.environ["AANSLUITEN_SECRET_KEY"] = "bench"
    from app import create_app
    from onboarding import store
    from onboarding.registry import Registry
    from routes.pages import SESSION_DRAFT

    app = create_app({"DATABASE": database, "SECRET_KEY": "bench", "DEMO": True, "REGISTRY": registry_path})
    os.environ["BENCH_SESSION_COOKIE"] = app.config["SESSION_COOKIE_NAME"]
    os.environ["BENCH_SESSION_KEY"] = SESSION_DRAFT
    from bench import hello

    db = store.connect(database)
    store.migrate(db)
    registry = Registry.from_file(registry_path)
    cookies = {}
    for size, codes in SIZES.items():
        for state, done in (("open", 8), ("submitted", fixtures.METHOD_CHOSEN)):
            key = fixtures.create_draft(db, registry, f"{size}-{state}@bench.example", fixtures.ORGANISATIONS[codes],
                                        True, done)
            cookie = fixtures.session_cookie(app, key)
            # The cookie a browser holds after its first page (with its CSRF token): no answer resends it.
            _status, headers, _body = call(app.wsgi_app, environ("/stap/2", cookie, True))
            cookies[size, state] = fixtures.updated_cookie(cookie, headers.get("Set-Cookie"))

    floor = cpu_ms(hello.session_app.wsgi_app, environ("/", cookies["small", "open"], False), arguments.calls)
    print(f"hello world reading the session: {floor:.3f} ms")
    for size in SIZES:
        for path, state in PAGES:
            if arguments.only and path.rsplit("/", 1)[-1] not in arguments.only:
                continue
            page = environ(path, cookies[size, state], not arguments.whole)
            status, _headers, body = call(app.wsgi_app, page)
            if not status.startswith("200"):
                raise SystemExit(f"{path} ({size}): {status}")
            calls = arguments.calls if size == "small" else max(1, arguments.calls // 4)
            took = cpu_ms(app.wsgi_app, page, calls)
            print(f"{size:5} {path:12} {took:6.3f} ms  {took / floor:5.1f}x the floor  {len(body):7,} bytes")

    if arguments.profile:
        size, path = arguments.profile.split(":", 1)
        state = "submitted" if path in ("/stap/10", "/aanmelding") else "open"
        page = environ(path, cookies[size, state], not arguments.whole)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(arguments.calls):
            call(app.wsgi_app, page)
        profile.disable()
        pstats.Stats(profile).sort_stats(arguments.sort).print_stats(40)
    db.close()


if __name__ == "__main__":
    main()
