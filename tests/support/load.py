"""Load on the wizard over HTTP, for the cluster's test: virtual users, each a browser without
JavaScript (support.http's client: its own cookie jar and kept-alive connection), signing in
and adding a token, again and again until a deadline. Every answer is checked; nothing is
sent around the routes.

    accounts = make_accounts(app, 400)  # prescribers with one Active token each
    result = run_load(cluster.url, accounts, users=50, seconds=60)
    result.errors, result.enrolled  # [] and [(npi, credential_id), ...]
    print(result.summary(50, 60))

Each user connects from an address of its own (127.0.0.2, 127.0.0.3, ...), so per-address
limits see fifty clients, as they would in a clinic's network behind the balancer.
"""

from __future__ import annotations

import http.client
import itertools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from flask import Flask

from support.accounts import Account, create_account
from support.csrf import csrf_token_in
from support.http import HttpClient, Reply


def make_accounts(app: Flask, count: int) -> list[Account]:
    """count prescribers, each with one Active sandbox token, in app's database (an app over
    the cluster's database, with the cheap passphrase hashing of the tests)."""
    now = datetime.now(UTC)
    with app.app_context():
        return [create_account(now, name=f"Dr. Load {n}") for n in range(count)]


@dataclass
class Result:
    requests: int = 0
    iterations: int = 0
    enrolled: list[tuple[str, str]] = field(default_factory=list)  # (npi, credential_id)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, every request

    def summary(self, users: int, seconds: float) -> str:
        latencies = sorted(self.latencies) or [0.0]
        median = latencies[len(latencies) // 2]
        slow = latencies[int(len(latencies) * 0.95)]
        return (
            f"{users} users, {seconds:.0f} s: {len(self.enrolled)} enrollments, "
            f"{self.requests} requests ({self.requests / seconds:.1f}/s), "
            f"median {median * 1000:.0f} ms, 95th percentile {slow * 1000:.0f} ms, "
            f"{len(self.errors)} errors"
        )

    def merge(self, other: Result) -> None:
        self.requests += other.requests
        self.iterations += other.iterations
        self.enrolled += other.enrolled
        self.errors += other.errors
        self.latencies += other.latencies


class Unexpected(Exception):
    """An answer that a person following the flow would not expect."""


class User:
    """One virtual user: a browser from its own address that follows redirects, timed."""

    def __init__(self, base_url: str, source: str, result: Result) -> None:
        self.http = HttpClient(base_url, keep_alive=True, source_address=source)
        self.result = result

    def _send(self, method: str, path: str, form: dict | None = None) -> Reply:
        started = time.monotonic()
        try:
            if form is None:
                reply = self.http.get(path)
            else:
                reply = self.http.post(path, form, csrf=False)
        except (OSError, http.client.HTTPException) as error:
            raise Unexpected(f"{method} {_route(path)}: {type(error).__name__}") from None
        self.result.latencies.append(time.monotonic() - started)
        self.result.requests += 1
        return reply

    def get(self, path: str, expect: int = 200) -> Reply:
        reply = self._send("GET", path)
        if reply.status_code != expect:
            raise Unexpected(f"GET {_route(path)}: {reply.status_code}, expected {expect}")
        return reply

    def post(self, path: str, form: dict, page: Reply, then: str) -> str:
        """POST a form with the CSRF token of the page it is on, expect a 303 to then, follow
        it; the page it leads to."""
        token = csrf_token_in(page.text)
        if token is None:
            raise Unexpected(f"{page.request}: a form page without a CSRF token")
        reply = self._send("POST", path, {**form, "csrf_token": token})
        if reply.status_code != 303 or reply.location != then:
            raise Unexpected(
                f"POST {path}: {reply.status_code} to {reply.location or '-'}, "
                f"expected 303 to {then}"
            )
        return self.get(then)

    def close(self) -> None:
        self.http.close()


def _route(path: str) -> str:
    """The path without a credential ID (logs and errors name routes, not credentials)."""
    return re.sub(r"[A-Z]{4}\d{8}", "ID", path.split("?", 1)[0])


class Steps:
    """Which time step each account's code was last used at: a code is accepted once."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}
        self.lock = threading.Lock()

    def code_for(self, account: Account) -> str:
        totp = pyotp.TOTP(account.token().secret)
        while True:
            with self.lock:
                step = int(time.time()) // 30
                if self.used.get(account.npi, -1) < step:
                    self.used[account.npi] = step
                    return totp.at(step * 30)
            time.sleep(1)


def one_round(user: User, account: Account, steps: Steps, label: str) -> tuple[str, str]:
    """Sign in, add a practice token with the wizard, see Done, sign out; (npi, credential)."""
    form = {"npi": account.npi, "passphrase": account.passphrase}
    page = user.post("/sign-in", form, user.get("/sign-in"), "/sign-in/code")
    code = {"token": account.token().id, "code": steps.code_for(account)}
    user.post("/sign-in/code", code, page, "/")
    practice = user.get("/sandbox/vip-access", expect=302)
    credential_id = (practice.location or "").rsplit("credential=", 1)[-1]
    page = user.get("/enroll/get-app")
    device = {"platform": "iphone", "different_device": "y"}
    page = user.post("/enroll/get-app", device, page, "/enroll/credential-id")
    typed = {"credential_id": credential_id}
    page = user.post("/enroll/credential-id", typed, page, "/enroll/security-code")
    shown = user.get(f"/sandbox/api/otp/{credential_id}").get_json()["code"]
    page = user.post("/enroll/security-code", {"code": shown}, page, "/enroll/name")
    done = user.post("/enroll/name", {"nickname": label}, page, "/enroll/done")
    if label not in done.text:
        raise Unexpected("the Done page does not name the token saved")
    user.post("/sign-out", {}, done, "/sign-in")
    return account.npi, credential_id


def _user(
    base_url: str, source: str, accounts: Iterator[Account], steps: Steps, deadline: float
) -> Result:
    result = Result()
    user = User(base_url, source, result)
    try:
        while time.monotonic() < deadline:
            account = next(accounts)
            try:
                result.enrolled.append(
                    one_round(user, account, steps, f"Load {result.iterations + 1}")
                )
            except Unexpected as error:
                result.errors.append(f"{source}: {error}")
                user.close()
                user = User(base_url, source, result)  # a fresh start, as a person would
            result.iterations += 1
    finally:
        user.close()
    return result


def run_load(base_url: str, accounts: list[Account], users: int, seconds: float) -> Result:
    """users virtual users for seconds; each takes its accounts in turn from its own share."""
    deadline = time.monotonic() + seconds
    steps = Steps()
    results: list[Result] = [Result() for _ in range(users)]

    def work(index: int) -> None:
        share = itertools.cycle(accounts[index::users])
        results[index] = _user(base_url, f"127.0.0.{index + 2}", share, steps, deadline)

    threads = [threading.Thread(target=work, args=(i,), name=f"user-{i}") for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Result()
    for result in results:
        total.merge(result)
    return total
