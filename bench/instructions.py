"""Instructions per request, counted by valgrind's callgrind: a figure that does not move with
the machine's load, for comparing two versions of the code on a noisy machine.

    python -m bench.instructions            # needs valgrind (Debian's package)

In this process, with Flask's test client over a bench database (SQLite, sessions in it) and
one signed-in session at step 2: the step GET (full page and htmx partial), and the code-verify
POST (its step 2 post, a new credential each time, counted apart and taken off). Each measure
runs in its own `valgrind --tool=callgrind` process, counting only while its requests run
(callgrind_control switches counting on and off around them). Python code runs about 50 times
slower under valgrind: a measure takes about half a minute.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pyotp

from bench.common import ROOT

MEASURES = ("bare", "step-get", "step-get-partial", "code-post-pair", "credential-post")
REQUESTS = 100


def _requests(measure: str, count: int) -> None:
    """Run in the valgrind process: set up, warm up, then count instructions over count
    requests of the measure."""
    from werkzeug.test import EnvironBuilder

    if measure == "bare":
        from bench.bare_app import app as bare

        _counted(lambda: _wsgi_get(bare, EnvironBuilder(path="/").get_environ()), count)
        return

    from bench.client import sign_in_all
    from bench.data import prepare_database
    from bench.profiling import signed_in
    from bench.servers import build_app, start_gunicorn, wizard_environ

    workdir = Path(tempfile.mkdtemp(prefix="instructions-"))
    environ = wizard_environ(workdir / "wizard.sqlite3")
    app = build_app(environ)
    logging.getLogger().setLevel(logging.WARNING)
    accounts, pool = prepare_database(app, 1, credentials=count + 50)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    server = start_gunicorn(
        "wizard", "wizard:create_app()", {**env, **environ}, workdir, ROOT, "/healthz"
    )
    try:
        cookie = sign_in_all(server.port, accounts)[0].cookie  # the sign-in a browser makes
    finally:
        server.stop()
    client, csrf = signed_in(app, cookie)
    name, value = cookie.split("=", 1)
    headers = {"Cookie": f"{name}={value}"}
    if measure == "step-get-partial":
        headers |= {"HX-Request": "true", "HX-Target": "step-panel"}
    page = EnvironBuilder(path="/enroll/credential-id", headers=headers).get_environ()

    def step_get() -> None:
        _wsgi_get(app, page)

    def posts(code_too: bool) -> None:
        credential_id, secret = pool.take()
        reply = client.post(
            "/enroll/credential-id", data={"csrf_token": csrf, "credential_id": credential_id}
        )
        assert reply.status_code == 303, reply.status_code
        if code_too:
            code = pyotp.TOTP(secret).now()
            reply = client.post("/enroll/security-code", data={"csrf_token": csrf, "code": code})
            assert reply.status_code == 303, reply.status_code

    one = {
        "step-get": step_get,
        "step-get-partial": step_get,
        "code-post-pair": lambda: posts(True),
        "credential-post": lambda: posts(False),
    }[measure]
    _counted(one, count)


def _wsgi_get(app, environ: dict) -> None:
    def answered(status: str, _headers, _exc=None) -> None:
        assert status.startswith("200"), status

    body = app(dict(environ), answered)
    b"".join(body)
    body.close()


def _counted(one, count: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(20):
            one()
        _count(True)
        for _ in range(count):
            one()
        _count(False)


def _count(on: bool) -> None:
    control = shutil.which("callgrind_control") or "callgrind_control"
    subprocess.run(  # noqa: S603 - valgrind's own tool, on this process
        [control, "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


def count(measure: str, requests: int = REQUESTS) -> float:
    """Millions of instructions per request of the measure."""
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(  # noqa: S603 - this module again, under valgrind
            [
                shutil.which("valgrind") or "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}/callgrind.%p",
                sys.executable,
                "-m",
                "bench.instructions",
                "--one",
                measure,
                "--requests",
                str(requests),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if not found:
        raise RuntimeError(f"callgrind counted nothing for {measure}: {run.stderr[-500:]}")
    return int(found.group(1)) / requests / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", choices=MEASURES, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    if args.one:
        _requests(args.one, args.requests)
        return 0
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    counted = {measure: count(measure, args.requests) for measure in MEASURES}
    code_post = counted["code-post-pair"] - counted["credential-post"]
    print(f"millions of instructions per request ({args.requests} requests each):")
    print(f"  bare Flask page          {counted['bare']:.2f}")
    print(f"  step GET, full page      {counted['step-get']:.2f}")
    print(f"  step GET, htmx partial   {counted['step-get-partial']:.2f}")
    print(f"  code-verify POST         {code_post:.2f}")
    print(f"  (its step 2 POST, apart  {counted['credential-post']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
