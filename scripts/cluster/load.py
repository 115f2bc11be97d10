"""Load on the wizard over HTTP: virtual users, each a browser without JavaScript (its own
cookie jar and connection, redirects followed), signing in and adding a token, again and
again until a deadline. Every answer is checked; nothing is sent around the routes.

    accounts = make_accounts(cluster.settings, 600)      # prescribers with one Active token
    result = run_load(cluster.url, accounts, users=50, seconds=60)
    result.errors, result.enrolled                         # [] and [(npi, credential_id), ...]

Each user connects from an address of its own (127.0.0.2, 127.0.0.3, ...), so per-address
limits see fifty clients, as they would in a clinic's network behind the balancer.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pyotp

PASSPHRASE = "load test passphrase 2468"  # noqa: S105 - accounts made for one run
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


@dataclass(frozen=True)
class Account:
    npi: str
    token_id: int
    secret: str  # base32, the seed of its one Active token


def make_accounts(settings: dict[str, str], count: int) -> list[Account]:
    """count prescribers, each with one Active sandbox token, in the database of settings
    (WIZARD_* variables, as the nodes have them). One passphrase hash serves them all."""
    from datetime import UTC, datetime

    from wizard import create_app
    from wizard.domain.tokens import TokenType
    from wizard.extensions import db
    from wizard.services import accounts, sandbox
    from wizard.store.models import Prescriber, Token

    app = create_app(environ=settings)
    made = []
    now = datetime.now(UTC)
    with app.app_context():
        digest = accounts.hash_passphrase(PASSPHRASE)
        for n in range(count):
            npi = _npi(n)
            prescriber = Prescriber(npi=npi, name=f"Dr. Load {n}", passphrase_hash=digest)
            db.session.add(prescriber)
            db.session.flush()
            issued = sandbox.issue(now)
            token = Token(
                prescriber_id=prescriber.id,
                nickname="Phone",
                nickname_key="phone",
                credential_id=issued.credential_id,
                manufacturer="SYMANTEC",
                token_type=TokenType.SOFT,
                model="VIP",
                status="Active",
                created_at=now,
                updated_at=now,
            )
            db.session.add(token)
            db.session.flush()
            made.append(Account(npi, token.id, issued.secret))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return made


def _npi(n: int) -> str:
    """A valid NPI (Luhn over 80840 + NPI) starting with 19, one per n."""
    from stdnum import luhn

    base = f"19{n:07d}"
    return base + luhn.calc_check_digit("80840" + base)


@dataclass
class Result:
    requests: int = 0
    iterations: int = 0
    enrolled: list[tuple[str, str]] = field(default_factory=list)  # (npi, credential_id)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, every request

    def merge(self, other: Result) -> None:
        self.requests += other.requests
        self.iterations += other.iterations
        self.enrolled += other.enrolled
        self.errors += other.errors
        self.latencies += other.latencies


class Unexpected(Exception):
    """An answer that a person following the flow would not expect."""


class Browser:
    """One client: a keep-alive connection from its own address, a cookie jar, redirects."""

    def __init__(self, base_url: str, source: str, result: Result) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.source = source
        self.result = result
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: str | None) -> tuple[int, dict, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=60, source_address=(self.source, 0)
            )
        started = time.monotonic()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = None
            raise Unexpected(f"{method} {path}: {type(error).__name__}") from None
        self.result.latencies.append(time.monotonic() - started)
        self.result.requests += 1
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def get(self, path: str, expect: int = 200) -> tuple[dict, str]:
        status, headers, text = self._send("GET", path, None)
        if status != expect:
            raise Unexpected(f"GET {_route(path)}: {status}, expected {expect}")
        return headers, text

    def submit(self, path: str, form: dict, token: str) -> int:
        """POST a form (with the CSRF token); the status, whatever it is."""
        return self._send("POST", path, urlencode({**form, "csrf_token": token}))[0]

    def csrf_token(self, path: str) -> str:
        """GET a form page; its CSRF token."""
        return _csrf(self.get(path)[1])

    def post(self, path: str, form: dict, token: str, then: str) -> str:
        """POST a form (with the CSRF token), expect a 303 to then, follow it; its page."""
        status, headers, _ = self._send("POST", path, urlencode({**form, "csrf_token": token}))
        location = headers.get("location", "")
        if status != 303 or location != then:
            raise Unexpected(f"POST {path}: {status} to {location or '-'}, expected 303 to {then}")
        return self.get(then)[1]

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _route(path: str) -> str:
    """The path without a credential ID (logs and errors name routes, not credentials)."""
    return re.sub(r"[A-Z]{4}\d{8}", "ID", path.split("?", 1)[0])


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise Unexpected("a form page without a CSRF token")
    return found.group(1) or found.group(2)


class Steps:
    """Which time step each account's code was last used at: a code is accepted once."""

    def __init__(self) -> None:
        self.used: dict[str, int] = {}
        self.lock = threading.Lock()

    def code_for(self, account: Account) -> str:
        totp = pyotp.TOTP(account.secret)
        while True:
            with self.lock:
                step = int(time.time()) // 30
                if self.used.get(account.npi, -1) < step:
                    self.used[account.npi] = step
                    return totp.at(step * 30)
            time.sleep(1)


def one_round(browser: Browser, account: Account, steps: Steps, label: str) -> tuple[str, str]:
    """Sign in, add a practice token with the wizard, see Done, sign out; (npi, credential)."""
    token = _csrf(browser.get("/sign-in")[1])
    page = browser.post(
        "/sign-in", {"npi": account.npi, "passphrase": PASSPHRASE}, token, "/sign-in/code"
    )
    code = steps.code_for(account)
    browser.post("/sign-in/code", {"token": account.token_id, "code": code}, _csrf(page), "/")
    headers, _ = browser.get("/sandbox/vip-access", expect=302)
    credential_id = headers["location"].rsplit("credential=", 1)[-1]
    page = browser.get("/enroll/get-app")[1]
    page = browser.post(
        "/enroll/get-app",
        {"platform": "iphone", "different_device": "y"},
        _csrf(page),
        "/enroll/credential-id",
    )
    page = browser.post(
        "/enroll/credential-id",
        {"credential_id": credential_id},
        _csrf(page),
        "/enroll/security-code",
    )
    code = json.loads(browser.get(f"/sandbox/api/otp/{credential_id}")[1])["code"]
    page = browser.post("/enroll/security-code", {"code": code}, _csrf(page), "/enroll/name")
    done = browser.post("/enroll/name", {"nickname": label}, _csrf(page), "/enroll/done")
    if label not in done:
        raise Unexpected("the Done page does not name the token saved")
    browser.post("/sign-out", {}, _csrf(done), "/sign-in")
    return account.npi, credential_id


def _user(
    base_url: str, source: str, accounts: Iterator[Account], steps: Steps, deadline: float
) -> Result:
    result = Result()
    browser = Browser(base_url, source, result)
    try:
        while time.monotonic() < deadline:
            account = next(accounts)
            try:
                result.enrolled.append(
                    one_round(browser, account, steps, f"Load {result.iterations + 1}")
                )
            except Unexpected as error:
                result.errors.append(f"{source}: {error}")
                browser = Browser(base_url, source, result)  # a fresh start, as a person would
            result.iterations += 1
    finally:
        browser.close()
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
