"""Benchmarks of SPEC §8 that apply so far. Prints figures; asserts nothing.

- requests per second of a step's htmx fragment under gunicorn, against a bare
  Flask "hello world" served the same way in the same run (target: at least half);
- page weight of every page so far: HTML + CSS + JavaScript, gzip-compressed (target: < 30 KB);
- server time of the flow so far (steps 1 to 3), measured in-process (target for 1-9: < 150 ms).
"""

import gzip
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

DURATION_S = 5
CLIENT_THREADS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(app_spec: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec],
        cwd=ROOT, env={**os.environ, **env},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app_spec} did not start")


def load(port: int, path: str, headers: dict) -> float:
    """Requests per second: with wrk when it is installed (it leaves the CPU to the
    server), else with Python threads, which flatter the slower server."""
    if shutil.which("wrk"):
        command = ["wrk", "-t1", "-c8", f"-d{DURATION_S}s"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                                check=True).stdout
        if "Non-2xx" in output:
            raise RuntimeError(f"{path} answered errors under load:\n{output}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return load_with_threads(port, path, headers)


def load_with_threads(port: int, path: str, headers: dict) -> float:
    count = 0
    lock = threading.Lock()
    stop = time.monotonic() + DURATION_S

    def worker():
        nonlocal count
        done = 0
        while time.monotonic() < stop:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                done += 1
        with lock:
            count += done

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / DURATION_S


def fragment_throughput(env: dict) -> None:
    hello, hello_port = serve("bench.hello:app", {"PYTHONPATH": ROOT})
    try:
        hello_rps = load(hello_port, "/", {})
    finally:
        hello.terminate()
        hello.wait()
    app, app_port = serve("app:create_app()", env)
    try:
        # An applicant's browser has a session (with its CSRF token) after the first page.
        connection = http.client.HTTPConnection("127.0.0.1", app_port, timeout=5)
        connection.request("GET", "/stap/1")
        cookie = connection.getresponse().getheader("Set-Cookie").split(";")[0]
        connection.close()
        step_rps = load(app_port, "/stap/1", {"HX-Request": "true", "Cookie": cookie})
    finally:
        app.terminate()
        app.wait()
    print(f"load generator:         {'wrk' if shutil.which('wrk') else 'Python threads (install wrk for truer figures)'}")
    print(f"hello world:            {hello_rps:8.0f} req/s")
    print(f"step 1 htmx fragment:   {step_rps:8.0f} req/s  ({step_rps / hello_rps:.0%} of hello world; target >= 50%)")


def page_weights(client) -> None:
    assets = 0
    for name in ("app.css", "app.js", "htmx-2.0.11.min.js"):
        with open(os.path.join(ROOT, "static", name), "rb") as handle:
            assets += len(gzip.compress(handle.read()))
    print(f"static assets gzip:     {assets / 1024:8.1f} KB")
    for url in ("/", "/stap/1", "/stap/1/verstuurd", "/stap/2", "/stap/3", "/stap/3/onjuist", "/stap/4"):
        html = client.get(url).get_data()
        total = len(gzip.compress(html)) + assets
        print(f"page {url:<18} {total / 1024:8.1f} KB (HTML {len(gzip.compress(html)) / 1024:.1f} KB; target < 30 KB)")


def flow(app):
    from tests.conftest import hidden_inputs

    client = app.test_client()
    timings = []

    def timed(method, url, **kwargs):
        start = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        timings.append(time.perf_counter() - start)
        return response

    def submit(url, data, page=None):
        fields = hidden_inputs(timed("get", page or url).get_data(as_text=True))
        return timed("post", url, data={**fields, **data})

    submit("/stap/1", {"email": "bench@example.nl"})
    with app.app_context():
        from routes.pages import get_db
        body = get_db().conn.execute("SELECT body_text FROM outbox ORDER BY id DESC LIMIT 1").fetchone()[0]
    link = re.search(r"(/bevestig/[\w-]+)", body).group(1)
    submit(link, {})
    submit("/stap/2", {"kvk_number": "50000004", "agb_code": "06852447"})
    timed("get", "/stap/3")
    submit("/stap/3", {"data_correct": "yes"})
    return client, timings


def main() -> None:
    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        env = {"AANSLUITEN_DATABASE": os.path.join(tmp, "bench.db"), "AANSLUITEN_SECRET_KEY": "bench",
               "AANSLUITEN_DEMO": "true"}
        app = create_app({"DATABASE": env["AANSLUITEN_DATABASE"], "SECRET_KEY": "bench", "DEMO": True})
        flow(app)  # warm up: templates compiled, registry loaded
        app = create_app({"DATABASE": os.path.join(tmp, "bench2.db"), "SECRET_KEY": "bench", "DEMO": True})
        flow(app)
        client, timings = flow(app)
        print(f"flow steps 1-3 (hospital group, 177 codes): {sum(timings) * 1000:.1f} ms server time "
              f"over {len(timings)} requests")
        page_weights(client)
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "app", "init-db"],
                       cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
        fragment_throughput(env)


if __name__ == "__main__":
    main()
