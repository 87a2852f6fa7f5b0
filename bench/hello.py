"""The bare Flask "hello world" that SPEC §8 compares a step's fragment with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
