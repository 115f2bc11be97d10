"""Speed of the EPCS token enrollment wizard, measured against a bare Flask app.

    .venv/bin/python bench/run.py            # the full run, about 3.5 minutes
    .venv/bin/python bench/run.py --quick    # shorter windows, for trying the script

Serves the wizard with gunicorn (2 sync workers) on 127.0.0.1 and a free port, over a fresh
SQLite file in sandbox mode with argon2's default parameters, and bench/bare_app.py under the
same gunicorn settings, side by side. A load generator in this process (threads, each with its
own http.client connection) measures requests per second and p50/p99 latency. See
bench/README.md for what each figure means and docs/PERFORMANCE.md for the latest results.

Traffic goes to 127.0.0.1 only; every loop is bounded by a time window and a count; the
gunicorn masters (and their workers) and Chromium are stopped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import http.client
import io
import json
import logging
import os
import platform
import pstats
import re
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

WORKERS = 2
CONCURRENCY = 4  # client threads: two per sync worker keeps both busy without a long queue
PASSPHRASE = "bench lantern orchard 73"  # noqa: S105 - the bench accounts' passphrase
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TARGETS = {
    "step_get_ratio": 0.5,
    "code_post_ratio": 0.2,
    "partial_share": 0.25,
    "click_to_focus_ms": 100.0,
    "tokens_latency_ratio": 1.2,
    "peak_rss_mb": 80.0,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- HTTP client -------------------------------------------------------------------------------


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
            if name.lower() == "set-cookie" and value.startswith("wizard_session="):
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


# --- Servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def workers(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{self.process.pid}$", status, re.M):
                children.append(int(entry.name))
        return sorted(children)

    def memory(self) -> list[dict]:
        """Per worker: VmHWM (peak resident set) and VmRSS, in MB, from /proc/<pid>/status."""
        out = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}
            out.append({"pid": pid, "peak_mb": kb["VmHWM"] / 1024, "rss_mb": kb["VmRSS"] / 1024})
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn stops its own workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_gunicorn(name: str, app: str, env: dict, workdir: Path, chdir: Path) -> Server:
    port = free_port()
    log_path = workdir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(chdir),
        "--log-level",
        "warning",
        app,
    ]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
        try:
            reply = Client(port).get("/healthz" if name == "wizard" else "/")
            if reply.status == 200 and len(server.workers()) == WORKERS:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer within 60 s: {log_path.read_text()[-2000:]}")


# --- The database: accounts, credentials, tokens ---------------------------------------------


@dataclass
class Account:
    npi: str
    token_id: int
    secret: str


@dataclass
class Pool:
    """Sandbox credentials bound to no one: (credential ID, base32 secret), used once each."""

    items: list[tuple[str, str]]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[str, str]:
        with self.lock:
            if not self.items:
                raise RuntimeError("the credential pool is empty: raise --credentials")
            return self.items.pop()


def wizard_environ(database: Path) -> dict[str, str]:
    from wizard.store.crypto import SeedCipher

    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": f"sqlite:///{database}",
        "WIZARD_SECRET_KEY": secrets.token_hex(32),
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        # Every bench client comes from 127.0.0.1; the per-address limits would stop it.
        "WIZARD_SIGN_IN_RATE_LIMIT": "100000 per minute",
        "WIZARD_CODE_RATE_LIMIT": "100000 per minute",
        "WIZARD_CREDENTIAL_ID_RATE_LIMIT": "100000 per minute",
        "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT": "100000 per minute",
    }


def build_app(environ: dict):
    from wizard import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_app(environ=environ)


def prepare_database(app, accounts: int, credentials: int) -> tuple[list[Account], Pool]:
    """The schema, `accounts` prescribers with one Active sandbox token each, and a pool of
    unbound sandbox credentials. The passphrase is hashed once (argon2 defaults: about 64 MiB
    and tens of milliseconds per hash) and the hash shared, as the demo seed does."""
    from wizard.cli import create_schema
    from wizard.extensions import db
    from wizard.services import accounts as account_service
    from wizard.store.models import OathCredential, Prescriber, Token

    cipher = app.extensions["seed_cipher"]
    now = datetime.now(UTC)
    made: list[Account] = []
    pool: list[tuple[str, str]] = []
    with app.app_context():
        create_schema()
        passphrase_hash = account_service.hash_passphrase(PASSPHRASE)
        ids = iter(secrets.SystemRandom().sample(range(10**8), accounts + credentials))

        def credential() -> tuple[str, str, OathCredential]:
            credential_id, secret = f"SYMC{next(ids):08d}", pyotp.random_base32(32)
            row = OathCredential(
                credential_id=credential_id,
                sealed_secret=cipher.seal(secret, credential_id),
                source="sandbox",
                created_at=now,
            )
            return credential_id, secret, row

        for n in range(accounts):
            prescriber = Prescriber(
                npi=valid_npi(f"18{n:07d}"),
                name=f"Dr. Bench {n}",
                passphrase_hash=passphrase_hash,
                identity_proofed=True,
                created_at=now,
            )
            credential_id, secret, row = credential()
            db.session.add_all([prescriber, row])
            db.session.flush()
            token = Token(
                prescriber_id=prescriber.id,
                nickname="Token 1",
                nickname_key="token 1",
                credential_id=credential_id,
                manufacturer="SYMANTEC",
                token_type="OTP SOFT TOKEN",  # noqa: S106 - a token type, not a password
                model="VIP",
                status="Active",
                created_at=now,
                updated_at=now,
            )
            db.session.add(token)
            db.session.flush()
            made.append(Account(prescriber.npi, token.id, secret))
        for _ in range(credentials):
            credential_id, secret, row = credential()
            db.session.add(row)
            pool.append((credential_id, secret))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return made, Pool(pool)


def valid_npi(first_nine: str) -> str:
    """An NPI the sign-in form accepts: its Luhn check digit computed over 80840 + NPI."""
    from stdnum import luhn

    return first_nine + luhn.calc_check_digit("80840" + first_nine)


def quiesce(database: Path) -> None:
    """Before a latency comparison: fold the WAL into the database and let the kernel write
    back its dirty pages, so one measurement does not pay for the last one's disk writes."""
    try:
        with sqlite3.connect(database, timeout=30) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass  # a reader held the WAL; the sync below still settles the disk
    os.sync()
    time.sleep(1.0)


def fsync_probe(folder: Path, count: int = 200) -> dict:
    """How long this disk takes to fsync a 4 KiB write (each commit in WAL mode waits for one)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return {
        "p50_ms": round(times[count // 2] * 1000, 2),
        "p90_ms": round(times[int(count * 0.9)] * 1000, 2),
    }


def count_tokens(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM tokens").fetchone()[0]


def add_tokens(app, up_to: int) -> int:
    """Bulk-insert other prescribers' tokens (5 each, with their credentials' sealed dummy
    seeds) through SQLAlchemy core until the tokens table holds up_to rows."""
    from sqlalchemy import func, insert, select

    from wizard.extensions import db
    from wizard.store.models import OathCredential, Prescriber, Token

    now = datetime.now(UTC)
    with app.app_context():
        have = db.session.scalar(select(func.count(Token.id)))
        first = db.session.scalar(select(func.coalesce(func.max(Prescriber.id), 0))) + 1
        need = max(0, up_to - have)
        chunk = 10_000
        for start in range(0, need, chunk):
            n = min(chunk, need - start)
            base = first + start // 5
            prescribers = [
                {
                    "id": base + i,
                    "npi": f"9{base + i:09d}",
                    "name": f"Dr. Filler {base + i}",
                    "email": "",
                    "passphrase_hash": None,
                    "identity_proofed": True,
                    "sign_in_failures": 0,
                    "code_failures": 0,
                    "backup_decision": "",
                    "created_at": now,
                }
                for i in range((n + 4) // 5)
            ]
            credential_ids = [f"FILL{have + start + i:012d}" for i in range(n)]
            credentials = [
                {
                    "credential_id": cid,
                    "algorithm": "totp",
                    "sealed_secret": secrets.token_bytes(60),  # dummy sealed bytes
                    "digits": 6,
                    "period": 30,
                    "manufacturer": "SYMANTEC",
                    "source": "import",
                    "created_at": now,
                }
                for cid in credential_ids
            ]
            tokens = [
                {
                    "prescriber_id": base + i // 5,
                    "nickname": f"Token {i % 5 + 1}",
                    "nickname_key": f"token {i % 5 + 1}",
                    "credential_id": cid,
                    "manufacturer": "SYMANTEC",
                    "issuer": "DRFIRST",
                    "token_type": "OTP SOFT TOKEN",
                    "model": "VIP",
                    "status": ("Active", "Active", "Inactive", "Deleted", "Lost")[i % 5],
                    "created_at": now,
                    "updated_at": now,
                }
                for i, cid in enumerate(credential_ids)
            ]
            db.session.execute(insert(Prescriber), prescribers)
            db.session.execute(insert(OathCredential), credentials)
            db.session.execute(insert(Token), tokens)
            db.session.commit()
        total = db.session.scalar(select(func.count(Token.id)))
        db.session.remove()
        db.engine.dispose()
    return total


# --- Sessions ----------------------------------------------------------------------------------


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


# --- Load --------------------------------------------------------------------------------------


@dataclass
class Load:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    batch_p50: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def row(self) -> dict:
        return {
            "batch_p50_ms": self.batch_p50,
            "median_batch_p50_ms": round(statistics.median(self.batch_p50), 2)
            if self.batch_p50
            else None,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.pct(0.50), 2),
            "p99_ms": round(self.pct(0.99), 2),
            "count": self.count,
            "seconds": round(self.seconds, 2),
        }


def run_load(
    name: str,
    op: Callable[[int], float | None],
    seconds: float,
    concurrency: int = CONCURRENCY,
    max_ops: int = 1_000_000,
) -> Load:
    """concurrency threads call op(thread) until the window closes or max_ops are done.

    op returns the latency of the measured request (or None when it has nothing left to do);
    the rate is measured operations over the wall time of the window.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        barrier.wait()
        while not done.is_set():
            try:
                latency = op(index)
            except BaseException as error:  # noqa: BLE001 - reported after the join
                errors.append(error)
                latency = None
            if latency is None:
                return
            with lock:
                latencies.append(latency)
                if len(latencies) >= max_ops:
                    done.set()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    done.set()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{name}: {errors[0]}") from errors[0]
    return Load(name, len(latencies), elapsed, latencies)


def get_load(
    name: str,
    clients: list[Client],
    path: str,
    seconds: float,
    concurrency: int = CONCURRENCY,
    **headers: str,
) -> Load:
    def op(i: int) -> float:
        reply = clients[i % len(clients)].get(path, **headers)
        if reply.status != 200:
            raise RuntimeError(f"{name}: GET {path} answered {reply.status}")
        return reply.seconds

    run_load(f"{name} (warm-up)", op, min(1.0, seconds / 3), concurrency)
    return run_load(name, op, seconds, concurrency)


def serial_latency(client: Client, path: str, count: int, batches: int = 5) -> Load:
    """One request at a time on an otherwise idle server: latency without queueing.

    A single batch's p50 moves by a third from one batch to the next on this kind of machine
    (the disk's fsync time varies), so `batches` batches of `count` are taken and the median of
    their p50s is the figure compared (Load.batch_p50)."""
    for _ in range(count):
        client.get(path)  # warm-up
    latencies: list[float] = []
    medians = []
    started = time.perf_counter()
    for _ in range(batches):
        batch = []
        for _ in range(count):
            reply = client.get(path)
            if reply.status != 200:
                raise RuntimeError(f"GET {path} answered {reply.status}")
            batch.append(reply.seconds)
        medians.append(statistics.median(batch) * 1000)
        latencies += batch
    load = Load(f"serial {path}", len(latencies), time.perf_counter() - started, latencies)
    load.batch_p50 = [round(m, 2) for m in medians]
    return load


def code_posts(clients: list[Client], pool: Pool, seconds: float) -> tuple[Load, int]:
    """The code-verify POST with the right code, each credential's code used once.

    Rounds: first (untimed) every session posts a new credential at step 2; then all sessions
    post that credential's current code at step 3 at once, and only that phase is timed. The
    rate is the timed posts over the summed timed phases.
    """
    rounds = 0
    latencies: list[float] = []
    timed = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        assigned: list[tuple[Client, str]] = []

        def prepare(i: int, batch=assigned) -> float | None:
            for client in clients[i::CONCURRENCY]:
                credential_id, secret = pool.take()
                reply = client.post("/enroll/credential-id", {"credential_id": credential_id})
                expect(reply, 303, "POST /enroll/credential-id", "/enroll/security-code")
                batch.append((client, secret))
            return None

        run_load("prepare", prepare, 60)
        queue = list(assigned)
        qlock = threading.Lock()

        def post(_i: int, queue=queue, qlock=qlock) -> float | None:
            with qlock:
                if not queue:
                    return None
                client, secret = queue.pop()
            reply = client.post("/enroll/security-code", {"code": pyotp.TOTP(secret).now()})
            expect(reply, 303, "POST /enroll/security-code (right code)", "/enroll/name")
            return reply.seconds

        phase = run_load("code posts", post, 60)
        latencies += phase.latencies
        timed += phase.seconds
        rounds += 1
    return Load("code-verify POST", len(latencies), timed, latencies), rounds


def enrollments(clients: list[Client], pool: Pool, seconds: float, per_session: int) -> Load:
    """Whole enrollments as a browser without JavaScript makes them, each 11 requests:
    start over, step 1 (the app shown), steps 1-4 posted (each a 303 and the next GET),
    ending on step 5. Each session holds at most MAX_TOKENS (5) tokens, so does per_session."""
    work = [(c, n) for n in range(per_session) for c in clients]  # sessions take turns
    lock = threading.Lock()
    busy = {id(c): threading.Lock() for c in clients}

    def one(_i: int) -> float | None:
        with lock:
            if not work:
                return None
            client, n = work.pop(0)
        with busy[id(client)]:  # a session's steps are sequential
            return enrol_once(client, n)

    def enrol_once(client: Client, n: int) -> float:
        credential_id, secret = pool.take()
        started = time.perf_counter()
        expect(client.post("/enroll/start-over", {}), 303, "start over", "/enroll/get-app")
        expect(client.get("/enroll/get-app"), 200, "GET step 1")
        expect(client.get("/enroll/get-app?device=iphone&show=1"), 200, "GET step 1 shown")
        steps = [
            ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
            ("/enroll/credential-id", {"credential_id": credential_id}),
            ("/enroll/security-code", None),
            ("/enroll/name", {"nickname": f"Bench token {n + 2}"}),
        ]
        for path, form in steps:
            form = form if form is not None else {"code": pyotp.TOTP(secret).now()}
            reply = expect(client.post(path, form), 303, f"POST {path}")
            expect(client.get(reply.location), 200, f"GET {reply.location}")
        if reply.location != "/enroll/done":
            raise RuntimeError(f"the enrollment ended at {reply.location}")
        return time.perf_counter() - started

    return run_load("whole enrollment", one, seconds, max_ops=len(work))


# --- Sizes ---------------------------------------------------------------------------------------


def page_sizes(client: Client, pool: Pool) -> list[dict]:
    """Bytes of each step as a full page and as its htmx partial (plain and gzip -6)."""
    credential_id, secret = pool.take()
    expect(client.post("/enroll/start-over", {}), 303, "start over")
    plan = [
        ("1 Get the app (app shown)", "/enroll/get-app?device=iphone&show=1", None),
        (
            "2 Credential ID",
            "/enroll/credential-id",
            ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
        ),
        (
            "3 Security code",
            "/enroll/security-code",
            ("/enroll/credential-id", {"credential_id": credential_id}),
        ),
        ("4 Name and save", "/enroll/name", ("/enroll/security-code", "code")),
        ("5 Done", "/enroll/done", ("/enroll/name", {"nickname": "Size probe"})),
    ]
    rows = []
    for label, path, before in plan:
        if before is not None:
            target, form = before
            form = {"code": pyotp.TOTP(secret).now()} if form == "code" else form
            expect(client.post(target, form), 303, f"POST {target}")
        full = expect(client.get(path), 200, f"GET {path}").body
        partial = expect(client.get(path, **{"HX-Request": "true"}), 200, f"GET {path} hx").body
        rows.append(
            {
                "step": label,
                "full": len(full),
                "partial": len(partial),
                "share": round(len(partial) / len(full), 3),
                "full_gzip": len(gzip.compress(full, 6)),
                "partial_gzip": len(gzip.compress(partial, 6)),
                "chrome": len(full) - len(partial),
            }
        )
    return rows


# --- Chromium ----------------------------------------------------------------------------------

MEASURE_JS = """([buttonName]) => {
    window.__clickToFocus = undefined;
    const button = [...document.querySelectorAll('#step-panel button')]
        .find(b => b.textContent.trim() === buttonName);
    let clicked;
    button.addEventListener('click', () => { clicked = performance.now(); },
                            {capture: true, once: true});
    const onFocus = (event) => {
        if (clicked !== undefined && event.target.id === 'step-heading') {
            window.__clickToFocus = performance.now() - clicked;
            document.removeEventListener('focusin', onFocus, true);
        }
    };
    document.addEventListener('focusin', onFocus, true);
}"""


def click_to_focus(port: int, cookie: str, repeats: int, credential_id: str) -> dict:
    """Milliseconds from the click on Continue (in the page's clock) to focus landing on the
    next step's heading, after htmx swapped it in: step 1 -> 2 and step 2 -> 3."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(executable).exists():
        return {"skipped": f"no Chromium at {executable}"}
    base = f"http://127.0.0.1:{port}"
    name, value = cookie.split("=", 1)
    results: dict[str, list[float]] = {"1->2": [], "2->3": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base)
            context.add_cookies([{"name": name, "value": value, "url": base}])
            page = context.new_page()
            for _ in range(repeats):
                page.goto("/enroll/get-app?device=iphone&show=1")
                page.wait_for_load_state()
                page.wait_for_function("() => typeof htmx === 'object'")
                page.get_by_label(re.compile("different device from the one I use")).check()
                page.evaluate(MEASURE_JS, ["Continue"])
                page.get_by_role("button", name="Continue").click()
                page.wait_for_function("() => window.__clickToFocus !== undefined", timeout=10_000)
                results["1->2"].append(page.evaluate("window.__clickToFocus"))

                page.get_by_label("Credential ID").fill(credential_id)
                page.evaluate(MEASURE_JS, ["Continue"])
                page.get_by_role("button", name="Continue").click()
                page.wait_for_function("() => window.__clickToFocus !== undefined", timeout=10_000)
                results["2->3"].append(page.evaluate("window.__clickToFocus"))
        finally:
            browser.close()
    both = results["1->2"] + results["2->3"]
    return {
        "median_ms": round(statistics.median(both), 1),
        "p90_ms": round(sorted(both)[int(0.9 * len(both))], 1),
        "max_ms": round(max(both), 1),
        "median_1_to_2_ms": round(statistics.median(results["1->2"]), 1),
        "median_2_to_3_ms": round(statistics.median(results["2->3"]), 1),
        "clicks": len(both),
    }


# --- Where the time and the memory go ---------------------------------------------------------

# (label, file fragment, function): cumulative time of these, per request, from cProfile.
PARTS = {
    "step-get": [
        ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
        ("open the server-side session (SELECT)", "flask_session/base.py", "open_session"),
        ("load the prescriber (before_request)", "wizard/web/session.py", "_load_prescriber"),
        ("the view (queries + render)", "wizard/web/enrol/routes.py", "credential_id"),
        ("  of which render_template", "flask/templating.py", "render_template"),
        ("save the server-side session (upsert + COMMIT)", "flask_session/base.py", "save_session"),
        (
            "  of which sqlite3 COMMIT (WAL fsync)",
            "~",
            "<method 'commit' of 'sqlite3.Connection' objects>",
        ),
        ("support-code tracking (after_request)", "wizard/web/support.py", "_record"),
    ],
    "code-post": [
        ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
        ("open the server-side session (SELECT)", "flask_session/base.py", "open_session"),
        ("load the prescriber (before_request)", "wizard/web/session.py", "_load_prescriber"),
        ("CSRF + form validation", "flask_wtf/form.py", "validate_on_submit"),
        ("check_code (lock, verify, audit, COMMIT)", "wizard/services/enrollment.py", "check_code"),
        ("  of which the OATH authority's verify", "wizard/authority/local.py", "verify"),
        ("  of which audit.record (hash chain)", "wizard/services/audit.py", "record"),
        ("save the server-side session (upsert + COMMIT)", "flask_session/base.py", "save_session"),
        (
            "  all sqlite3 COMMITs (WAL fsync)",
            "~",
            "<method 'commit' of 'sqlite3.Connection' objects>",
        ),
        ("support-code tracking (after_request)", "wizard/web/support.py", "_record"),
    ],
}


def breakdown(profiler: cProfile.Profile, label: str, count: int) -> list[tuple[str, float]]:
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for name, fragment, function in PARTS[label]:
        total = sum(
            ct
            for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.items()
            if func == function and fragment in filename
        )
        rows.append((name, round(total / count * 1000, 2)))
    return rows


def bare_in_process(count: int) -> float:
    """ms per GET / of the bare app through Flask's test client: the floor a Flask request
    costs in this process, to set against the wizard's in-process times."""
    sys.path.insert(0, str(BENCH))
    import bare_app

    client = bare_app.app.test_client()
    for _ in range(100):
        client.get("/")
    started = time.perf_counter()
    for _ in range(count):
        client.get("/")
    return round((time.perf_counter() - started) / count * 1000, 3)


def profile_requests(app, cookie: str, pool: Pool, count: int, out: Path) -> dict:
    """In this process, with Flask's test client, over the bench's database and a signed-in
    session: the step GET (full page) and the code-verify POST, timed plainly and then under
    cProfile. Returns ms per request and the profile's breakdown; the top 40 functions by
    cumulative time go to out/profile-*.txt."""
    name, value = cookie.split("=", 1)
    client = app.test_client()
    client.set_cookie(name, value, domain="localhost")
    html = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    client.post("/enroll/start-over", data={"csrf_token": csrf})
    r = client.post(
        "/enroll/get-app",
        data={"csrf_token": csrf, "platform": "iphone", "different_device": "y"},
    )
    assert r.status_code == 303, r.status_code
    results: dict = {}

    def step_get() -> None:
        response = client.get("/enroll/credential-id")
        assert response.status_code == 200, response.status_code

    def code_post(profiler: cProfile.Profile | None) -> float:
        credential_id, secret = pool.take()
        response = client.post(
            "/enroll/credential-id", data={"csrf_token": csrf, "credential_id": credential_id}
        )
        assert response.status_code == 303, response.status_code
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.post(
            "/enroll/security-code", data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now()}
        )
        if profiler:
            profiler.disable()
        assert response.status_code == 303, response.status_code
        return time.perf_counter() - started

    def report(label: str, profiler: cProfile.Profile, n: int, plain_ms: float) -> None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        (out / f"profile-{label}.txt").write_text(text.getvalue())
        results[label] = {"plain_ms": round(plain_ms, 2), "parts": breakdown(profiler, label, n)}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(20):
            step_get()
        started = time.perf_counter()
        for _ in range(count):
            step_get()
        plain = (time.perf_counter() - started) / count * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            step_get()
        profiler.disable()
        report("step-get", profiler, count, plain)

        posts = max(20, count // 3)
        plain = statistics.mean(code_post(None) for _ in range(posts)) * 1000
        profiler = cProfile.Profile()
        for _ in range(posts):
            code_post(profiler)
        report("code-post", profiler, posts, plain)
    return results


MEMORY_PROBE = """
import re, sys, warnings
sys.path.insert(0, sys.argv[1])
def mem(label):
    status = open("/proc/self/status").read()
    kb = dict(re.findall(r"^(VmHWM|VmRSS):\\s+(\\d+) kB", status, re.M))
    print(f"{label}\t{int(kb['VmRSS']) / 1024:.1f}\t{int(kb['VmHWM']) / 1024:.1f}", flush=True)
mem("Python")
import flask
mem("+ Flask")
import sqlalchemy, sqlalchemy.orm, flask_sqlalchemy
mem("+ SQLAlchemy 2 and Flask-SQLAlchemy")
import flask_session, flask_session.sqlalchemy
mem("+ Flask-Session")
import flask_wtf, wtforms
mem("+ Flask-WTF, WTForms")
import flask_limiter
mem("+ Flask-Limiter")
import zxcvbn
zxcvbn.zxcvbn("warm up the frequency lists")
mem("+ zxcvbn (frequency lists loaded)")
import qrcode, pyotp, cryptography, argon2
mem("+ qrcode, pyotp, cryptography, argon2")
import wizard, wizard.web, wizard.cli
mem("+ the wizard's modules")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from argon2 import PasswordHasher
    PasswordHasher().hash("one hash with the default parameters")
mem("+ one argon2 hash (default: 64 MiB)")
"""


def memory_probe(environ: dict) -> list[tuple[str, float, float]]:
    """RSS and peak RSS (MB) of a fresh Python as the wizard's pieces are imported."""
    output = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", MEMORY_PROBE, str(ROOT)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = []
    for line in output.splitlines():
        label, rss, peak = line.split("\t")
        rows.append((label, float(rss), float(peak)))
    return rows


# --- The run -------------------------------------------------------------------------------------


def machine() -> dict:
    from importlib.metadata import version

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "sqlalchemy": version("sqlalchemy"),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def median_load(name: str, loads: list[Load]) -> Load:
    """The window with the median rate, and every window's latencies pooled."""
    ordered = sorted(loads, key=lambda load: load.rps)
    middle = ordered[len(ordered) // 2]
    pooled = [x for load in loads for x in load.latencies]
    return Load(name, middle.count, middle.seconds, pooled)


def target(name: str, value: float, goal: float, higher_is_better: bool) -> dict:
    ok = value >= goal if higher_is_better else value <= goal
    return {
        "target": name,
        "measured": round(value, 3),
        "goal": f"{'>=' if higher_is_better else '<='} {goal:g}",
        "met": ok,
    }


@dataclass
class Plan:
    seconds: float
    rounds: int
    serial: int
    step_sessions: int = CONCURRENCY
    code_sessions: int = 12
    enrol_sessions: int = 25
    spare: int = 2

    @property
    def accounts(self) -> int:
        return self.step_sessions + self.code_sessions + self.enrol_sessions + self.spare


def side_database(workdir: Path, name: str, tokens: int) -> tuple[dict, Path, Account, float]:
    """A database of its own for the token-count comparison: one prescriber to sign in as, and
    other prescribers' tokens up to `tokens` rows. Returns its environment, its path, the
    prescriber, and the bulk insert's seconds."""
    database = workdir / f"{name}.sqlite3"
    environ = wizard_environ(database)
    app = build_app(environ)
    accounts, _ = prepare_database(app, 1, credentials=0)
    started = time.perf_counter()
    add_tokens(app, tokens)
    return environ, database, accounts[0], time.perf_counter() - started


def alternate(measure: Callable[[str], Load], names: list[str], times: int) -> dict[str, list]:
    """measure(name) for each name in turn, `times` times over, so that the slow and fast
    spells of a shared machine fall on every side alike."""
    out: dict[str, list] = {name: [] for name in names}
    for _ in range(times):
        for name in names:
            out[name].append(measure(name))
    return out


def retarget(server: Server, group: list[Client]) -> list[Client]:
    """Point signed-in clients at another server over the same database (same session ids)."""
    for client in group:
        if client.port != server.port:
            client.port = server.port
            client.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    return group


def main() -> int:  # noqa: C901 - one straight run of measurements, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows (a try-out run)")
    parser.add_argument("--seconds", type=float, help="seconds per load window (default 5)")
    parser.add_argument("--tokens", type=int, default=100_000, help="tokens for the big table")
    parser.add_argument("--clicks", type=int, default=20, help="browser clicks per transition")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--credentials",
        type=int,
        default=12_000,
        help="practice credentials for the code-verify POSTs (each is used once)",
    )
    args = parser.parse_args()
    plan = (
        Plan(seconds=args.seconds or 1.5, rounds=1, serial=50, enrol_sessions=8)
        if args.quick
        else Plan(seconds=args.seconds or 5.0, rounds=3, serial=200)
    )
    workdir = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    r: dict = {"machine": machine(), "workdir": str(workdir), "plan": plan.__dict__}
    r["fsync"] = fsync_probe(workdir)
    servers: list[Server] = []
    started = time.perf_counter()
    path = "/enroll/credential-id"
    try:
        log(f"preparing two databases, of 100 and of {args.tokens:,} tokens")
        small_env, small_db, small_account, _ = side_database(workdir, "tokens-small", 100)
        big_env, big_db, big_account, r["bulk_insert_seconds"] = side_database(
            workdir, "tokens-big", args.tokens
        )
        r["tokens_small"], r["tokens_big"] = count_tokens(small_db), count_tokens(big_db)

        database = workdir / "wizard.sqlite3"
        environ = wizard_environ(database)
        log(
            f"preparing {database}: {plan.accounts} prescribers, "
            f"{args.credentials} free credentials"
        )
        app = build_app(environ)
        logging.getLogger().setLevel(logging.WARNING)  # the app's INFO lines, in this process
        accounts, pool = prepare_database(app, plan.accounts, credentials=args.credentials)
        r["tokens_main"] = add_tokens(app, 100)

        log("starting the wizard under gunicorn (2 sync workers)")
        wizard = start_gunicorn(
            "wizard", "wizard:create_app()", {**base_env, **environ}, workdir, ROOT
        )
        servers.append(wizard)
        r["wizard_startup_memory"] = wizard.memory()
        port = wizard.port

        log(f"signing in {len(accounts)} prescribers (argon2 verify, default parameters)")
        clients = sign_in_all(port, accounts)
        r["sign_in_post_p50_ms"] = Load("sign-in", 0, 1, SIGN_IN_LATENCIES).pct(0.5)
        n = plan.step_sessions
        step_clients = [at_step_two(c) for c in clients[:n]]
        code_clients = [at_step_two(c) for c in clients[n : n + plan.code_sessions]]
        n += plan.code_sessions
        enrol_clients = clients[n : n + plan.enrol_sessions]
        spare = clients[-plan.spare :]

        full_size = len(expect(step_clients[0].get(path), 200, f"GET {path}").body)
        log(f"starting the bare Flask app ({full_size}-byte page) under the same settings")
        bare = start_gunicorn(
            "bare", "bare_app:app", {**base_env, "BARE_BYTES": str(full_size)}, workdir, BENCH
        )
        servers.append(bare)
        bare_clients = [Client(bare.port) for _ in range(CONCURRENCY)]
        get_load("warm-up", bare_clients, "/", 1.0)
        get_load("warm-up", step_clients, path, 1.0)

        log(
            f"throughput: {plan.rounds} rounds of bare / full page / partial, {plan.seconds} s each"
        )

        def window(kind: str) -> Load:
            if kind == "bare":
                return get_load(kind, bare_clients, "/", plan.seconds)
            hx = {"HX-Request": "true"} if kind == "partial" else {}
            return get_load(kind, step_clients, path, plan.seconds, **hx)

        windows = alternate(window, ["bare", "full", "partial"], plan.rounds)
        bare_load = median_load("bare Flask GET / (same-size page)", windows["bare"])
        full_load = median_load("wizard step GET, full page", windows["full"])
        partial_load = median_load("wizard step GET, htmx partial", windows["partial"])
        r["windows_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in windows.items()}

        log("code-verify POST: the right code, each credential once")
        code_load, r["code_rounds"] = code_posts(code_clients, pool, plan.seconds * 2)
        code_load.name = "code-verify POST (right code, 303)"

        log("whole enrollments")
        enrol_load = enrollments(enrol_clients, pool, plan.seconds * 4, per_session=4)
        enrol_load.name = "whole enrollment (11 requests), per second"

        log("bytes of each step, full page and partial")
        r["sizes"] = page_sizes(spare[0], pool)

        log(f"click to focused heading in Chromium, {args.clicks} x 2 transitions")
        r["browser"] = click_to_focus(port, spare[1].cookie, args.clicks, pool.take()[0])

        log("what-if: the same wizard with PRAGMA synchronous=NORMAL, in turn with it")
        variant = start_gunicorn(
            "sync-normal", "sync_normal_app:create_app()", {**base_env, **environ}, workdir, BENCH
        )
        servers.append(variant)

        def what_if(kind: str) -> Load:
            server = wizard if kind.startswith("as shipped") else variant
            if kind.endswith("step GET"):
                return get_load(kind, retarget(server, step_clients), path, plan.seconds)
            return code_posts(retarget(server, code_clients), pool, plan.seconds)[0]

        kinds = [
            "as shipped: step GET",
            "synchronous=NORMAL: step GET",
            "as shipped: code POST",
            "synchronous=NORMAL: code POST",
        ]
        what_ifs = alternate(what_if, kinds, 2)
        r["what_if_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in what_ifs.items()}
        what_if_loads = [median_load(f"what-if, {k}", what_ifs[k]) for k in kinds]

        r["wizard_memory"] = wizard.memory()
        r["bare_memory"] = bare.memory()
        for server in servers:
            server.stop()

        log(f"{r['tokens_small']} against {r['tokens_big']:,} tokens: two servers, in turn")
        small = start_gunicorn(
            "tokens-small", "wizard:create_app()", {**base_env, **small_env}, workdir, ROOT
        )
        servers.append(small)
        big = start_gunicorn(
            "tokens-big", "wizard:create_app()", {**base_env, **big_env}, workdir, ROOT
        )
        servers.append(big)
        side = {
            "small": at_step_two(sign_in(small.port, small_account)),
            "big": at_step_two(sign_in(big.port, big_account)),
        }
        for name, database_path in (("small", small_db), ("big", big_db)):
            quiesce(database_path)
            get_load("warm-up", [side[name]], path, 1.0, concurrency=1)
        serial = alternate(
            lambda name: serial_latency(side[name], path, plan.serial, batches=1),
            ["small", "big"],
            5,
        )
        lat: dict[str, Load] = {}
        for name in ("small", "big"):
            lat[name] = Load(name, 0, 1, [x for b in serial[name] for x in b.latencies])
            lat[name].batch_p50 = [b.batch_p50[0] for b in serial[name]]
        side_windows = alternate(
            lambda name: get_load(name, [side[name]], path, plan.seconds, concurrency=1),
            ["small", "big"],
            2,
        )
        r["tokens_windows_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in side_windows.items()}
        small_load = median_load(
            f"step GET one at a time, {r['tokens_small']} tokens", side_windows["small"]
        )
        big_load = median_load(
            f"step GET one at a time, {r['tokens_big']:,} tokens", side_windows["big"]
        )
        for server in servers:
            server.stop()

        log("where the memory goes (a fresh interpreter importing the wizard's pieces)")
        r["memory_probe"] = memory_probe({**base_env, **environ})
        log("where the time goes (in-process, Flask test client, cProfile)")
        r["profiles"] = profile_requests(app, spare[0].cookie, pool, 300, workdir)
        r["bare_in_process_ms"] = bare_in_process(2000)

        loads = [
            bare_load,
            full_load,
            partial_load,
            code_load,
            enrol_load,
            small_load,
            big_load,
            *what_if_loads,
        ]
        r["loads"] = {load.name: load.row() for load in loads}
        r["latency"] = {"tokens_small": lat["small"].row(), "tokens_big": lat["big"].row()}
        step2 = next(s for s in r["sizes"] if s["step"].startswith("2"))
        peak = max(w["peak_mb"] for w in r["wizard_memory"])
        worst = max(s["share"] for s in r["sizes"])
        median_ms = r["browser"].get("median_ms", float("inf"))
        # Each big batch ran right after a small one: compare them pair by pair.
        pairs = [b / a for a, b in zip(lat["small"].batch_p50, lat["big"].batch_p50, strict=True)]
        r["tokens_pair_ratios"] = [round(x, 2) for x in pairs]
        tokens_ratio = statistics.median(pairs)
        r["targets"] = [
            target(
                "step GET rps / bare Flask rps, full page", full_load.rps / bare_load.rps, 0.5, True
            ),
            target(
                "step GET rps / bare Flask rps, htmx partial",
                partial_load.rps / bare_load.rps,
                0.5,
                True,
            ),
            target(
                "code-verify POST rps / bare Flask rps", code_load.rps / bare_load.rps, 0.2, True
            ),
            target("partial / full page bytes, step 2", step2["share"], 0.25, False),
            target("partial / full page bytes, worst step", worst, 0.25, False),
            target("click to next heading focused, median ms", median_ms, 100, False),
            target(
                f"p50 latency, {r['tokens_big']:,} / {r['tokens_small']} tokens (median pair)",
                tokens_ratio,
                1.2,
                False,
            ),
            target("peak RSS per wizard worker, MB", peak, 80, False),
        ]
        r["total_seconds"] = round(time.perf_counter() - started, 1)
        r["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
        print_report(r)
        if args.json:
            args.json.write_text(json.dumps(r, indent=2, default=str))
        return 0
    finally:
        for server in servers:
            server.stop()


def print_profiles(r: dict) -> None:
    bare_ms = r["bare_in_process_ms"]
    print(f"In-process, Flask test client: the bare app's GET / takes {bare_ms} ms per request.")
    print()
    for label, profile in r["profiles"].items():
        plain = f"{profile['plain_ms']} ms per request in-process, unprofiled"
        print(f"| {label}: {plain} | ms per request under cProfile |")
        print("|---|---:|")
        for part, ms in profile["parts"]:
            print(f"| {part} | {ms} |")
        print()


def print_report(r: dict) -> None:
    m = r["machine"]
    out = print
    out()
    out(f"Machine: {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}; Python {m['python']},")
    versions = f"Flask {m['flask']}, SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}"
    out(f"gunicorn {m['gunicorn']}, {versions}")
    out(f"Work folder (database, server logs, profiles): {r['workdir']}")
    fsync = r["fsync"]
    out(f"fsync of a 4 KiB write there: p50 {fsync['p50_ms']} ms, p90 {fsync['p90_ms']} ms")
    out()
    out("| measurement | requests/s | p50 ms | p99 ms | n |")
    out("|---|---:|---:|---:|---:|")
    for name, row in r["loads"].items():
        out(f"| {name} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | {row['count']} |")
    out(f"\nEvery window's rate: {r['windows_rps']}; code-verify rounds: {r['code_rounds']}")
    out()
    out("| step | full page bytes | partial bytes | partial/full | full gzip | partial gzip |")
    out("|---|---:|---:|---:|---:|---:|")
    for s in r["sizes"]:
        out(
            f"| {s['step']} | {s['full']} | {s['partial']} | {s['share']} | "
            f"{s['full_gzip']} | {s['partial_gzip']} |"
        )
    out()
    out("| GET /enroll/credential-id, one at a time | tokens | p50 ms | p99 ms | batch p50s |")
    out("|---|---:|---:|---:|---|")
    for key, label in (("tokens_small", "small database"), ("tokens_big", "big database")):
        row = r["latency"][key]
        batches = ", ".join(map(str, row["batch_p50_ms"]))
        p50 = row["median_batch_p50_ms"]
        out(f"| {label} | {r[key]:,} | {p50} | {row['p99_ms']} | {batches} |")
    out(f"Batch p50 ratios, big / small, pair by pair: {r['tokens_pair_ratios']}")
    out(f"Throughput windows, in turn: {r['tokens_windows_rps']}")
    out(f"What-if windows, in turn: {r['what_if_rps']}")
    out()
    out(
        "| gunicorn worker | peak RSS MB after start | peak RSS MB (VmHWM) at end | RSS MB at end |"
    )
    out("|---|---:|---:|---:|")
    startup = {w["pid"]: w["peak_mb"] for w in r["wizard_startup_memory"]}
    for w in r["wizard_memory"]:
        first = startup.get(w["pid"], 0)
        out(f"| wizard {w['pid']} | {first:.1f} | {w['peak_mb']:.1f} | {w['rss_mb']:.1f} |")
    for w in r["bare_memory"]:
        out(f"| bare Flask {w['pid']} | | {w['peak_mb']:.1f} | {w['rss_mb']:.1f} |")
    out()
    out("| fresh interpreter | RSS MB | peak RSS MB |")
    out("|---|---:|---:|")
    for label, rss, peak in r["memory_probe"]:
        out(f"| {label} | {rss} | {peak} |")
    out()
    print_profiles(r)
    out(f"Chromium: {r['browser']}")
    out(
        f"POST /sign-in (argon2 verify), 4 at once on 2 workers: "
        f"p50 {r['sign_in_post_p50_ms']:.0f} ms"
    )
    out()
    out("| target | measured | goal | |")
    out("|---|---:|---|---|")
    for t in r["targets"]:
        out(
            f"| {t['target']} | {t['measured']} | {t['goal']} | {'met' if t['met'] else 'MISSED'} |"
        )
    bulk = r["bulk_insert_seconds"]
    out(f"\nWhole run: {r['total_seconds']} s (bulk insert of the big table {bulk:.1f} s).")
    start, end = " ".join(m["loadavg_at_start"]), " ".join(r["loadavg_at_end"])
    load = f"{start} at the start, {end} at the end"
    out(f"Load average (1, 5, 15 min): {load}; other work on the machine shares the 2 CPUs.")


if __name__ == "__main__":
    sys.exit(main())
