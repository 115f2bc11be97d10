"""The yardstick: a bare Flask app with one route returning an HTML page of a given size.

bench/run.py serves it under the same gunicorn settings as the wizard, side by side, so the
wizard's figures can be read as a ratio that holds on a noisy or slow machine. BARE_BYTES sets
the page size (run.py passes the size of the wizard's full step page).
"""

from __future__ import annotations

import os

from flask import Flask

SIZE = int(os.environ.get("BARE_BYTES", "6000"))
HEAD = (
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
    "<title>Bare page</title></head>\n<body>\n<main>\n<h1>A page of the same size</h1>\n"
)
TAIL = "</main>\n</body>\n</html>\n"
FILLER = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\n"


def page(size: int) -> str:
    """HEAD, paragraphs, a comment to make up the last bytes, TAIL: size bytes in all."""
    room = max(0, size - len(HEAD) - len(TAIL))
    body = FILLER * (room // len(FILLER))
    rest = room - len(body)
    pad = f"<!--{'-' * (rest - 8)}-->\n" if rest >= 8 else " " * rest
    return HEAD + body + pad + TAIL


PAGE = page(SIZE)
app = Flask(__name__)


@app.get("/")
def index() -> str:
    return PAGE
