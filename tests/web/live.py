"""A real threaded HTTP server for an app, and plain HTTP clients with cookie jars of their own.

For the race tests: many requests truly at once, each on its own server thread and database
connection, as in production (the Flask test client runs the app in the caller's thread).
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask
from werkzeug.serving import make_server

from wizard.extensions import db

COOKIE = "wizard_session"


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, one thread per request; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="race-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class Browser:
    """An HTTP client with a cookie jar of its own (the session cookie is all the app sets)."""

    def __init__(self, base_url: str, session_id: str | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        if session_id:
            self.cookies[COOKIE] = session_id
        self.csrf_token: str | None = None

    def request(self, method: str, path: str, form: dict | None = None) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        finally:
            connection.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def fetch_csrf(self, path: str = "/") -> str:
        """This session's own CSRF token, read from a page (the public home page has none
        for a visitor without a session: the sign-in page then)."""
        body = self.get(path).body
        if path == "/" and "csrf" not in body:
            body = self.get("/sign-in").body
        found = re.search(r'name="csrf_token" value="([^"]+)"', body) or re.search(
            r'<meta name="csrf-token" content="([^"]+)"', body
        )
        assert found, f"no CSRF token on {path}"
        self.csrf_token = found.group(1)
        return self.csrf_token

    def post(self, path: str, form: dict | None = None) -> Reply:
        token = self.csrf_token or self.fetch_csrf()
        return self.request("POST", path, {**(form or {}), "csrf_token": token})


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..count-1) on count threads released together; the results (or the
    exceptions raised) in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} threads failed: {errors[:3]}"
    return results
