"""The code-verify POST through the VIP authority, beside the local OATH authority, and where
the extra time goes.

The VIP stand-in runs as `make run` runs it: `flask --app wizard sandbox vip-certs DIR` (a
throwaway CA, server and client certificates) and `... sandbox vip-service` over HTTPS with
mutual TLS on 127.0.0.1. Two wizards under the same gunicorn settings share one database (so
one set of signed-in sessions): one checks codes itself, the other is pointed at the stand-in
(WIZARD_VIP_*). Their code POSTs are measured in turn. Then, in this process: one VIP call
over the connection kept open and over a new one (the TLS handshake), building and reading
the SOAP messages, the stand-in's own work without the network, and a profile of the VIP code
POST.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyotp

from bench.client import at_step_two, sign_in_all
from bench.common import CODE_SESSIONS, ROOT, log
from bench.data import Pool, prepare_database
from bench.load import Load, alternate, code_posts, median_load, retarget
from bench.profiling import profile_code_post, signed_in
from bench.servers import Server, build_app, free_port, start_gunicorn, wizard_environ

FLASK = [sys.executable, "-m", "flask", "--app", "wizard"]
SESSIONS = CODE_SESSIONS


def measure(r: dict, workdir: Path) -> dict:
    plan = r["plan"]
    quick = plan["rounds"] == 1
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    environ = wizard_environ(workdir / "vip-bench.sqlite3")
    certs = workdir / "vip-certs"
    log("VIP: throwaway certificates and the stand-in (flask --app wizard sandbox ...)")
    subprocess.run(  # noqa: S603 - our interpreter, our command
        [*FLASK, "sandbox", "vip-certs", str(certs)],
        env={**base_env, **environ},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    servers: list[Server] = []
    try:
        standin = start_standin(certs, workdir, {**base_env, **environ})
        servers.append(standin)
        vip_env = {**environ, **vip_settings(standin.port, certs)}
        credentials = 600 if quick else 8000  # each used once; faster POSTs use more
        app = build_app(environ)
        accounts, local_pool = prepare_database(app, SESSIONS, credentials=credentials)
        vip_pool = register_at_standin(workdir / "vip-service.sqlite3", credentials)
        log("VIP: two wizards under gunicorn, one checking codes itself, one asking the stand-in")
        local = start_gunicorn(
            "vip-local", "wizard:create_app()", {**base_env, **environ}, workdir, ROOT, "/healthz"
        )
        servers.append(local)
        vip = start_gunicorn(
            "vip-wizard", "wizard:create_app()", {**base_env, **vip_env}, workdir, ROOT, "/healthz"
        )
        servers.append(vip)
        clients = [at_step_two(c) for c in sign_in_all(local.port, accounts)]
        pools = {"local": (local, local_pool), "VIP": (vip, vip_pool)}

        def posts(kind: str, seconds: float = plan["seconds"] * 2) -> Load:
            server, pool = pools[kind]
            return code_posts(retarget(server, clients), pool, seconds)[0]

        for kind in pools:  # warm-up: each worker's first connection to the stand-in
            posts(kind, 0.1)
        log("VIP: code-verify POSTs, the local authority and VIP in turn")
        found = alternate(posts, list(pools), min(3, plan["rounds"]))  # beside the targets
        vip_app = build_app(vip_env)
        log("VIP: where the extra time goes (in this process)")
        parts = where_time_goes(vip_env, workdir, vip_pool, 50 if quick else 200)
        client, csrf = signed_in(vip_app, clients[0].cookie)
        parts["profile"] = profile_code_post(
            client, csrf, vip_pool, 20 if quick else 100, workdir, "vip-code-post"
        )
    finally:
        for server in reversed(servers):
            server.stop()
    loads = {k: median_load(f"code-verify POST, {k} authority", v) for k, v in found.items()}
    rows = {load.name: load.row() for load in loads.values()}
    return {
        "targets": [],
        "figures": {
            "loads": rows,
            "VIP / local, requests per second": round(loads["VIP"].rps / loads["local"].rps, 3),
            "VIP - local, p50 ms": round(loads["VIP"].pct(0.5) - loads["local"].pct(0.5), 1),
            "windows_rps": {k: [round(w.rps, 1) for w in v] for k, v in found.items()},
            "breakdown": parts,
        },
    }


def vip_settings(port: int, certs: Path) -> dict[str, str]:
    return {
        "WIZARD_VIP_URL": f"https://127.0.0.1:{port}/vipuserservices",
        "WIZARD_VIP_CERT": str(certs / "client.pem"),
        "WIZARD_VIP_KEY": str(certs / "client-key.pem"),
        "WIZARD_VIP_CA": str(certs / "ca.pem"),
    }


def start_standin(certs: Path, workdir: Path, env: dict) -> Server:
    port = free_port()
    log_path = workdir / "vip-service.log"
    command = [*FLASK, "sandbox", "vip-service", "--port", str(port), "--certs", str(certs)]
    command += ["--database", str(workdir / "vip-service.sqlite3")]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server("vip-service", port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stand-in exited: {log_path.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("the VIP stand-in did not listen within 60 s")


def register_at_standin(database: Path, count: int) -> Pool:
    """Practice credentials (VSST…, a Symantec prefix the wizard's database never holds) put
    straight into the stand-in's database: their seeds live there alone, as at Symantec."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rows = [
        (f"VSST{n:08d}", pyotp.random_base32(32)) for n in range(10_000_000, 10_000_000 + count)
    ]
    with sqlite3.connect(database, timeout=30) as db:
        db.executemany(
            "INSERT INTO credentials (credential_id, secret, algorithm, created_at) "
            "VALUES (?, ?, 'totp', ?)",
            [(cid, secret, now) for cid, secret in rows],
        )
    return Pool(rows)


def _median_ms(action: Callable, items: list) -> float:
    """The median ms of action(item), each item prepared beforehand."""
    times = []
    for item in items:
        started = time.perf_counter()
        action(item)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def where_time_goes(vip_env: dict, workdir: Path, pool: Pool, count: int) -> dict:
    """Median ms of each piece of one AuthenticateCredentials call (the right code, a new
    credential each time), in this process."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from wizard.authority.vip import messages
    from wizard.authority.vip.transport import Transport, VipSettings
    from wizard.vipsandbox.server import StandinApp
    from wizard.vipsandbox.service import StandIn
    from wizard.vipsandbox.store import StandinStore

    settings = VipSettings(
        vip_env["WIZARD_VIP_URL"],
        vip_env["WIZARD_VIP_CERT"],
        vip_env["WIZARD_VIP_KEY"],
        vip_env["WIZARD_VIP_CA"],
    )

    def requests() -> list[messages.Request]:
        made = []
        for _ in range(count):
            credential_id, secret = pool.take()
            code = pyotp.TOTP(secret).now()
            made.append(messages.authenticate_credentials(credential_id, code))
        return made

    def accepted(transport: Transport, request: messages.Request) -> None:
        answer = transport.call(request)
        if not answer.ok:
            raise RuntimeError(f"the stand-in answered {answer.status}")

    def new_connection(request: messages.Request) -> None:
        transport = Transport(settings)
        try:
            accepted(transport, request)
        finally:
            transport._session().close()  # noqa: SLF001 - its one connection, closed

    kept = Transport(settings)
    accepted(kept, requests()[0])  # its connection, opened once
    sample = requests()[0]
    content = kept._post(sample)  # noqa: SLF001 - an answer to read, below
    standin = StandinApp(StandIn(StandinStore(workdir / "vip-service.sqlite3")))
    path = kept.url("AuthenticationService").split("127.0.0.1", 1)[1].split("/", 1)[1]

    def standin_alone(request: messages.Request) -> None:
        environ = EnvironBuilder(
            path=f"/{path}", method="POST", data=request.body, content_type="text/xml"
        ).get_environ()
        if standin.respond(Request(environ)).status_code != 200:
            raise RuntimeError("the stand-in refused the request")

    return {
        "one call, connection kept open": _median_ms(lambda q: accepted(kept, q), requests()),
        "one call, a new TLS connection each time": _median_ms(new_connection, requests()),
        "the stand-in's own work (no network)": _median_ms(standin_alone, requests()),
        "building the SOAP request": _median_ms(
            lambda n: messages.authenticate_credentials(f"VSST{n:08d}", "123456"), range(count)
        ),
        "reading the answer": _median_ms(
            lambda _: messages.parse_answer(sample, content), range(count)
        ),
    }
