"""The two Flask "hello world" apps that SPEC §8 compares a step's fragment with.

``app`` is the bare hello world, printed for reference. ``session_app`` is the floor
of any stateful Flask page: it reads a key from the same kind of signed session
cookie as the application (Flask's SecureCookieSessionInterface, the same secret
key, cookie name and session key, which bench/run.py passes through the environment).
"""

import os

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import escape

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"


session_app = Flask(__name__)
session_app.config.update(
    SECRET_KEY=os.environ.get("AANSLUITEN_SECRET_KEY", "bench"),
    SESSION_COOKIE_NAME=os.environ.get("BENCH_SESSION_COOKIE", "session"),
)
session_app.session_interface = SecureCookieSessionInterface()
SESSION_KEY = os.environ.get("BENCH_SESSION_KEY", "draft")


@session_app.get("/")
def hello_session():
    return f"Hello, {escape(session.get(SESSION_KEY, 'World'))}!"
