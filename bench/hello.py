"""A bare Flask application: the ceiling that bench/load.py measures beside the service."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"
