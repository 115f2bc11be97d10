"""The peer side by side: Flask-Security-Too's two-factor setup page and its code check
(bench/peer_app.py), under the same gunicorn settings as the wizard, measured in turn with
the wizard's step GET and code POST.

Flask-Security-Too lives in a virtual environment of its own, `.venv-peer/`, made here from
bench/peer-requirements.txt the first time (pip, from PyPI) and again when that file changes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pyotp

from bench.client import Client, expect
from bench.common import BENCH, CONCURRENCY, ROOT, log
from bench.load import Load, alternate, code_posts, get_load, median_load, run_load
from bench.servers import start_gunicorn

VENV = ROOT / ".venv-peer"
REQUIREMENTS = BENCH / "peer-requirements.txt"
PASSWORD = "peer bench lantern 73"  # noqa: S105 - bench/peer_app.py's users' password
STEP = "/enroll/credential-id"
_CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
_CODE_CSRF = re.compile(rb'id="code-csrf" name="csrf_token" type="hidden" value="([^"]+)"')
_ACTION = re.compile(rb'<form action="(/tf-setup/[^"]+)" method="post" name="two_factor_verify')
_KEY = re.compile(rb"<div>([A-Z2-7]{4}(?:-[A-Z2-7]{4})+)</div>")


def python() -> str:
    """The peer venv's interpreter, made or brought up to date first."""
    stamp = VENV / ".stamp"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        log(f"making {VENV} for the peer (pip install -r {REQUIREMENTS.name})")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
        pip = [str(VENV / "bin/python"), "-m", "pip", "install", "--quiet", "-r"]
        subprocess.run([*pip, str(REQUIREMENTS)], check=True)  # noqa: S603
        stamp.write_text(wanted)
    return str(VENV / "bin/python")


def version(interpreter: str) -> str:
    found = subprocess.run(  # noqa: S603 - our own venv's interpreter
        [interpreter, "-c", "import flask_security; print(flask_security.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def sign_in(port: int, email: str) -> Client:
    client = Client(port, cookie_name="session")
    page = expect(client.get("/login"), 200, "GET /login")
    client.csrf = _CSRF.search(page.body).group(1).decode()
    reply = client.post("/login", {"email": email, "password": PASSWORD})
    expect(reply, 302, "POST /login")
    return client


class Setup:
    """One pending authenticator setup: where to post the code, its CSRF token, its key."""

    def __init__(self, client: Client) -> None:
        page = expect(client.get("/tf-setup"), 200, "GET /tf-setup")
        client.csrf = _CSRF.search(page.body).group(1).decode()
        reply = expect(client.post("/tf-setup", {"setup": "authenticator"}), 200, "tf-setup")
        self.client = client
        self.action = _ACTION.search(reply.body).group(1).decode()
        self.csrf = _CODE_CSRF.search(reply.body).group(1).decode()
        self.secret = _KEY.search(reply.body).group(1).decode().replace("-", "")

    def check(self) -> float:
        code = pyotp.TOTP(self.secret).now()
        reply = self.client.request(
            "POST", self.action, {"csrf_token": self.csrf, "code": code}, headers={}
        )
        expect(reply, 302, "POST the setup code (right code)", "/tf-setup")
        return reply.seconds


def code_checks(clients: list[Client], seconds: float) -> Load:
    """As the wizard's code POSTs are measured: untimed, each session starts a setup; then
    all post its right code at once, and only that is timed."""
    latencies: list[float] = []
    timed = 0.0
    while timed < seconds:
        pending: list[Setup] = [Setup(c) for c in clients]
        lock = threading.Lock()

        def post(_i: int, pending=pending, lock=lock) -> float | None:
            with lock:
                if not pending:
                    return None
                setup = pending.pop()
            return setup.check()

        phase = run_load("peer code checks", post, 60)
        latencies += phase.latencies
        timed += phase.seconds
    return Load("peer: code check (right code, 302)", len(latencies), timed, latencies)


def measure(workdir: Path, base_env: dict, plan, step_clients, code_clients, pool) -> dict:
    try:
        interpreter = python()
    except (subprocess.CalledProcessError, OSError) as error:
        return {"skipped": f"could not make {VENV}: {error}"}
    users = CONCURRENCY + plan.code_sessions
    env = {
        **base_env,
        "PEER_SECRET_KEY": secrets.token_hex(32),
        "PEER_SALT": secrets.token_hex(16),
        "PEER_TOTP_SECRET": secrets.token_urlsafe(32),
        "PEER_DATABASE": str(workdir / "peer.sqlite3"),
    }
    subprocess.run(  # noqa: S603 - our own venv's interpreter and script
        [interpreter, "peer_app.py", "seed", str(users)], cwd=BENCH, env=env, check=True
    )
    server = start_gunicorn(
        "peer", "peer_app:create_app()", env, workdir, BENCH, "/healthz", interpreter
    )
    try:
        clients = [sign_in(server.port, f"peer{n}@example.org") for n in range(users)]
        getters, checkers = clients[:CONCURRENCY], clients[CONCURRENCY:]
        get_load("warm-up", getters, "/tf-setup", 1.0)

        def pages(kind: str) -> Load:
            if kind == "peer":
                return get_load(kind, getters, "/tf-setup", plan.seconds)
            return get_load(kind, step_clients, STEP, plan.seconds)

        def checks(kind: str) -> Load:
            if kind == "peer":
                return code_checks(checkers, plan.seconds * 2)
            return code_posts(code_clients, pool, plan.seconds * 2)[0]

        rounds = min(3, plan.rounds)  # beside the targets: 3 rounds, to keep the run short
        got = alternate(pages, ["wizard", "peer"], rounds)
        posts = alternate(checks, ["wizard", "peer"], max(1, rounds - 1))
        loads = [
            median_load("wizard: step GET, full page", got["wizard"]),
            median_load("peer: two-factor setup page GET", got["peer"]),
            median_load("wizard: code-verify POST (right code, 303)", posts["wizard"]),
            median_load("peer: code check (right code, 302)", posts["peer"]),
        ]
        memory = server.memory()
    finally:
        server.stop()
    rows = {load.name: load.row() for load in loads}
    return {
        "version": version(interpreter),
        "loads": rows,
        "ratios": {
            "step GET / setup page GET": round(loads[0].rps / loads[1].rps, 3),
            "code POST / code check": round(loads[2].rps / loads[3].rps, 3),
        },
        "memory": memory,
    }
