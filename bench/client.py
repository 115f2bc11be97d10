"""A browser without JavaScript, over http.client: one connection and one session cookie."""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyotp

from bench.common import CONCURRENCY, PASSPHRASE

if TYPE_CHECKING:
    from bench.data import Account


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.headers.get("location", "")).path


@dataclass
class Client:
    """One connection and one cookie jar of one (the wizard's session) cookie.

    gunicorn's sync workers close the connection after each response; http.client opens a new
    one for the next request, so connect time is part of every measured latency, as it is for
    the bare app.
    """

    port: int
    cookie: str = ""
    cookie_name: str = "wizard_session"  # the peer's is Flask's "session"
    csrf: str = ""
    conn: http.client.HTTPConnection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        form: dict | None = None,
        headers: dict | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            sent["Cookie"] = self.cookie
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            if response.will_close:
                self.conn.close()
            break
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith(f"{self.cookie_name}="):
                self.cookie = value.split(";", 1)[0]
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds
        )

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict, **headers: str) -> Reply:
        return self.request("POST", path, {"csrf_token": self.csrf, **form}, headers=headers)

    def page(self, path: str) -> Reply:
        """GET a page and keep its CSRF token (the hidden input, else the meta tag)."""
        reply = self.get(path)
        found = re.search(rb'name="csrf_token" value="([^"]+)"', reply.body) or re.search(
            rb'name="csrf-token" content="([^"]+)"', reply.body
        )
        if found:
            self.csrf = found.group(1).decode()
        return reply


def expect(reply: Reply, status: int, what: str, location: str | None = None) -> Reply:
    if reply.status != status or (location is not None and reply.location != location):
        snippet = reply.body[:300].decode(errors="replace")
        raise RuntimeError(
            f"{what}: expected {status} {location or ''}, got {reply.status} "
            f"{reply.headers.get('location', '')}\n{snippet}"
        )
    return reply


SIGN_IN_LATENCIES: list[float] = []  # POST /sign-in: the argon2 verify of the passphrase


def sign_in(port: int, account: Account) -> Client:
    """Through /sign-in as a browser without JavaScript would: NPI and passphrase, then a code."""
    client = Client(port)
    expect(client.page("/sign-in"), 200, "GET /sign-in")
    reply = client.post("/sign-in", {"npi": account.npi, "passphrase": PASSPHRASE})
    expect(reply, 303, "POST /sign-in", "/sign-in/code")
    SIGN_IN_LATENCIES.append(reply.seconds)
    code = pyotp.TOTP(account.secret).now()
    reply = client.post("/sign-in/code", {"token": str(account.token_id), "code": code})
    expect(reply, 303, "POST /sign-in/code", "/")
    expect(client.page("/enroll/get-app"), 200, "GET /enroll/get-app")
    return client


def at_step_two(client: Client) -> Client:
    reply = client.post("/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    expect(reply, 303, "POST /enroll/get-app", "/enroll/credential-id")
    return client


def sign_in_all(port: int, accounts: list[Account]) -> list[Client]:
    clients: list[Client | None] = [None] * len(accounts)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        for i in range(index, len(accounts), CONCURRENCY):
            try:
                clients[i] = sign_in(port, accounts[i])
            except BaseException as error:  # noqa: BLE001 - reported after the join
                errors.append(error)
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [c for c in clients if c is not None]
