"""Where the time and the memory go: the step GET and the code POST in this process (Flask's
test client) plainly and under cProfile, and a fresh interpreter importing the wizard's parts."""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyotp

from bench.common import BENCH, ROOT
from bench.data import Pool

PARTS = {
    "step-get": [
        ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
        ("open the server-side session (SELECT)", "wizard/web/server_session.py", "open_session"),
        ("load the prescriber (before_request)", "wizard/web/session.py", "_load_prescriber"),
        ("the view (queries + render)", "wizard/web/enrol/credential.py", "credential_id"),
        ("  of which render_template", "flask/templating.py", "render_template"),
        ("save the session (when changed)", "wizard/web/server_session.py", "save_session"),
        (
            "  of which sqlite3 COMMIT (WAL fsync)",
            "~",
            "<method 'commit' of 'sqlite3.Connection' objects>",
        ),
        ("support-code tracking (after_request)", "wizard/web/support.py", "_record"),
    ],
    "code-post": [
        ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
        ("open the server-side session (SELECT)", "wizard/web/server_session.py", "open_session"),
        ("load the prescriber (before_request)", "wizard/web/session.py", "_load_prescriber"),
        ("CSRF + form validation", "flask_wtf/form.py", "validate_on_submit"),
        (
            "check_code (judge, turn, step, audit, COMMIT)",
            "wizard/services/enrollment.py",
            "check_code",
        ),
        ("  of which judging the code, before the turn", "wizard/authority/local.py", "prejudge"),
        (
            "  of which the turn (the account's row, or SQLite's lock)",
            "wizard/services/lockout.py",
            "reserve_code",
        ),
        ("  of which taking the step, in the turn", "wizard/authority/local.py", "take"),
        ("  of which audit.record (hash chain)", "wizard/services/audit.py", "record"),
        ("save the session (when changed)", "wizard/web/server_session.py", "save_session"),
        (
            "  all sqlite3 COMMITs (WAL fsync)",
            "~",
            "<method 'commit' of 'sqlite3.Connection' objects>",
        ),
        ("support-code tracking (after_request)", "wizard/web/support.py", "_record"),
    ],
    "vip-code-post": [
        ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
        ("check_code (lock, verify, audit, COMMIT)", "wizard/services/enrollment.py", "check_code"),
        ("  of which the VIP authority's verify", "wizard/authority/vip/__init__.py", "verify"),
        ("    building the SOAP request (lxml)", "wizard/authority/vip/messages.py", "_request"),
        ("    HTTPS: send, wait, receive (requests)", "wizard/authority/vip/transport.py", "_post"),
        ("    reading the answer (defusedxml)", "wizard/authority/vip/messages.py", "parse_answer"),
        ("  of which audit.record (hash chain)", "wizard/services/audit.py", "record"),
        ("save the session (when changed)", "wizard/web/server_session.py", "save_session"),
        (
            "  all sqlite3 COMMITs (WAL fsync)",
            "~",
            "<method 'commit' of 'sqlite3.Connection' objects>",
        ),
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


def signed_in(app, cookie: str):
    """Flask's test client with a bench client's session cookie, at step 2 of the wizard;
    and the session's CSRF token."""
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
    return client, csrf


def _report(label: str, profiler: cProfile.Profile, n: int, plain_ms: float, out: Path) -> dict:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
    (out / f"profile-{label}.txt").write_text(text.getvalue())
    return {"plain_ms": round(plain_ms, 2), "parts": breakdown(profiler, label, n)}


def profile_code_post(client, csrf: str, pool: Pool, count: int, out: Path, label: str) -> dict:
    """The code-verify POST (the right code, a new credential each time, its step 2 untimed),
    timed plainly and then under cProfile."""

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

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code_post(None)  # warm-up (a first connection, say)
        plain = statistics.mean(code_post(None) for _ in range(count)) * 1000
        profiler = cProfile.Profile()
        for _ in range(count):
            code_post(profiler)
    return _report(label, profiler, count, plain, out)


def profile_requests(app, cookie: str, pool: Pool, count: int, out: Path) -> dict:
    """In this process, with Flask's test client, over the bench's database and a signed-in
    session: the step GET (full page) and the code-verify POST, timed plainly and then under
    cProfile. Returns ms per request and the profile's breakdown; the top 40 functions by
    cumulative time go to out/profile-*.txt."""
    client, csrf = signed_in(app, cookie)

    def step_get() -> None:
        response = client.get("/enroll/credential-id")
        assert response.status_code == 200, response.status_code

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
    results = {"step-get": _report("step-get", profiler, count, plain, out)}
    posts = max(20, count // 3)
    results["code-post"] = profile_code_post(client, csrf, pool, posts, out, "code-post")
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
import flask_wtf, wtforms
mem("+ Flask-WTF, WTForms")
import flask_limiter
mem("+ Flask-Limiter")
import qrcode, pyotp, cryptography.hazmat.primitives.ciphers.aead, argon2
mem("+ qrcode, pyotp, cryptography (AES-GCM), argon2")
import wizard
app = wizard.create_app()
mem("+ the wizard's modules, create_app (nothing hashed)")
try:  # what a sign-in costs: one argon2id verify, its 7 MiB given back after
    app.extensions["password_hasher"].verify(app.extensions["dummy_passphrase_hash"], "-")
except argon2.exceptions.VerifyMismatchError:
    pass
mem("+ one passphrase check (argon2id, 7 MiB)")
import zxcvbn.frequency_lists
mem("+ zxcvbn's lists (loaded only where a new passphrase is checked)")
import wizard.cli, wizard.store.schema, flask_migrate
mem("+ the command line: wizard.cli, Flask-Migrate, Alembic (never in a web worker)")
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
