"""The Flask apps that SPEC §8 compares a step's fragment with.

``app`` is the bare hello world, printed for reference. ``session_app`` is the floor
of any stateful Flask page: it reads a key from the same kind of signed session
cookie as the application (Flask's SecureCookieSessionInterface, the same secret
key, cookie name and session key, which bench/run.py passes through the environment).

``stack_app``, printed for reference too, is the least page of the stack the product is
built on: the same session, one SQLite row read by its key, a Flask-WTF form of one field
with its CSRF token, and a Jinja template of six lines. What it costs beyond the floor
no step can do without; a step adds its own fields, checks, progress and messages.
"""

import json
import os
import sqlite3

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from markupsafe import escape
from wtforms import StringField
from wtforms.validators import InputRequired

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


stack_app = Flask(__name__)
stack_app.config.update(SECRET_KEY=session_app.secret_key, WTF_CSRF_TIME_LIMIT=None,
                        SESSION_COOKIE_NAME=session_app.config["SESSION_COOKIE_NAME"])
stack_app.session_interface = SecureCookieSessionInterface()
CSRFProtect(stack_app)
# One database per worker, made on import: a row to read, as a step reads its draft.
_db = sqlite3.connect(":memory:", check_same_thread=False)
_db.execute("CREATE TABLE drafts (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
_db.execute("INSERT INTO drafts (id, data) VALUES (1, ?)", (json.dumps({"name": "Jansen"}),))
_TEMPLATE = stack_app.jinja_env.from_string("""<h1>Hello, {{ key }}!</h1>
<form method="post" novalidate>{{ form.csrf_token }}
  <label for="name">{{ form.name.label.text }}</label>
  {{ form.name(autocomplete="family-name") }}
  <button>Doorgaan</button>
</form>""")


class NameForm(FlaskForm):
    name = StringField("Achternaam", validators=[InputRequired()])


@stack_app.get("/")
def stack_page():
    (data,) = _db.execute("SELECT data FROM drafts WHERE id = ?", (1,)).fetchone()
    return _TEMPLATE.render(key=session.get(SESSION_KEY, "World"), form=NameForm(data=json.loads(data)))
