"""The app under gunicorn, as `make run` and the README's production command start it (gunicorn
reads gunicorn.conf.py from the directory it starts in)."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(tmp_path, proxies: int):
    """gunicorn serving the demo app on a port of its own, behind ``proxies`` proxies."""
    port = _free_port()
    env = {**os.environ, "AANSLUITEN_DEMO": "true", "AANSLUITEN_SECRET_KEY": "server-test",
           "AANSLUITEN_DATABASE": str(tmp_path / "app.db"), "AANSLUITEN_PROXIES": str(proxies)}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen([GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("proxies, https", [(0, False), (1, True)])
def test_only_aansluiten_proxies_says_whose_forwarded_headers_count(tmp_path, proxies, https):
    # gunicorn takes X-Forwarded-Proto from 127.0.0.1 unless told not to; AANSLUITEN_PROXIES alone
    # says which proxies to trust (0: none), so a client cannot make its plain request pass as HTTPS.
    with serve(tmp_path, proxies) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on",
                                                "X-Forwarded-For": "192.0.2.1"})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 200
        assert (response.getheader("Strict-Transport-Security") is not None) is https
