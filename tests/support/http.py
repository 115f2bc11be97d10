"""Plain HTTP for the tests that need a real server: `serve(app)` runs one in a thread,
`HttpClient` talks to it (or to a server in another process) as a browser without JavaScript
would, and `at_once` sends requests truly together.

The Flask test client runs the app in the caller's thread; these go through a socket, so
requests overlap, each on its own server thread and database connection, as in production.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server

from support.csrf import SESSION_COOKIE, csrf_token


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on 127.0.0.1 and a free port, one thread per request; yields its base URL."""
    from wizard.extensions import db

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()


class Reply:
    """A server's answer, with the parts of werkzeug's TestResponse the tests read."""

    def __init__(self, request: str, status: int, headers: list[tuple[str, str]], body: bytes):
        self.request = request  # "POST /sign-in", for messages
        self.status_code = status
        self.headers = Headers(headers)
        self.data = body

    def __repr__(self) -> str:
        return f"<Reply {self.request}: {self.status_code}>"

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def mimetype(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.text if as_text else self.data

    def get_json(self) -> Any:
        return jsonlib.loads(self.data)


class HttpClient:
    """A browser without JavaScript: a cookie jar of its own, forms posted with the session's
    CSRF token, redirects not followed.

    Paths are relative to base_url; an absolute URL reaches another server with the same
    jar (servers on one host share cookies, whatever their port, as in a browser).
    keep_alive reuses one connection (a load test's client); source_address picks the
    address the requests come from (the per-address limits see one client per address).
    """

    def __init__(
        self,
        base_url: str = "",
        *,
        session_id: str | None = None,
        keep_alive: bool = False,
        source_address: str | None = None,
        timeout: float = 60,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies: dict[str, str] = {}
        if session_id:
            self.cookies[SESSION_COOKIE] = session_id
        self.keep_alive = keep_alive
        self.source_address = source_address
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._csrf: tuple[str | None, str] | None = None  # (session cookie, its token)

    # --- Requests ------------------------------------------------------------------------

    def request(
        self, method: str, url: str, body: str | None = None, headers: dict | None = None
    ) -> Reply:
        parts = urlsplit(url if "://" in url else self.base_url + url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if not self.keep_alive:
            headers["Connection"] = "close"
        connection = self._connect(parts.hostname, parts.port)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            connection.close()
            raise
        finally:
            if not self.keep_alive:
                connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        return Reply(f"{method} {parts.path}", response.status, response.getheaders(), data)

    def get(self, url: str) -> Reply:
        return self.request("GET", url)

    def post(self, url: str, form: dict | None = None, *, csrf: bool = True) -> Reply:
        """POST a form, with this session's CSRF token unless csrf=False."""
        form = dict(form or {})
        if csrf:
            form["csrf_token"] = self.csrf_token(_origin(url))
        return self.request(
            "POST", url, urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_json(self, url: str, body: dict | None = None) -> Reply:
        return self.request(
            "POST", url, jsonlib.dumps(body or {}), {"Content-Type": "application/json"}
        )

    def csrf_token(self, page: str = "/") -> str:
        """This session's CSRF token: read from page once per session (the session cookie),
        then remembered. Read it before requests sent at once, so that none waits on a GET."""
        cookie = self.cookies.get(SESSION_COOKIE)
        if self._csrf is None or cookie is None or self._csrf[0] != cookie:
            token = csrf_token(self, page)
            self._csrf = (self.cookies.get(SESSION_COOKIE), token)
        return self._csrf[1]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- Parts ---------------------------------------------------------------------------

    def _connect(self, host: str | None, port: int | None) -> http.client.HTTPConnection:
        if self.keep_alive and self._connection is not None:
            return self._connection
        source = (self.source_address, 0) if self.source_address else None
        connection = http.client.HTTPConnection(
            host, port, timeout=self.timeout, source_address=source
        )
        if self.keep_alive:
            self._connection = connection
        return connection

    def _keep_cookie(self, header: str) -> None:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)


def _origin(url: str) -> str:
    """ "/" on url's server: where the CSRF token of a form posted to url is read."""
    if "://" not in url:
        return "/"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def answers(base_url: str, path: str = "/healthz") -> bool:
    """Whether a server answers at base_url (any status)."""
    try:
        HttpClient(base_url, timeout=2).get(path)
        return True
    except OSError:
        return False


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..count-1) on count threads released together; the results in order. Fails
    when any thread raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} threads failed: {errors[:3]}"
    return results
