"""Fixtures for tests against the VIP stand-in over real mutual TLS (a pytest plugin, loaded
by tests/conftest.py).

- `vip_certs`: certificates made by the same code as `flask --app wizard sandbox vip-certs`.
- `vip_service`: the stand-in on 127.0.0.1 and a free port, started once per test session,
  with its own SQLite file; `.environ()` gives the WIZARD_VIP_* variables that point at it,
  `.store` reads what it holds (users, bindings).
- tests/web/vip/conftest.py runs the wizard configured for VIP at the stand-in.
- `fake_vip(answer)`: another server over the same mutual TLS that answers as told: garbage,
  a status VIP never documents, or nothing for a long time. For the fault tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from wizard.vipsandbox.certs import write_certificates
from wizard.vipsandbox.server import (
    MutualTLSServer,
    StandinApp,
    make_standin_server,
    server_context,
)
from wizard.vipsandbox.service import Reply, StandIn
from wizard.vipsandbox.store import StandinStore

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def vip_environ(url: str, certs: Path, **extra: str) -> dict[str, str]:
    return {
        "WIZARD_VIP_URL": url,
        "WIZARD_VIP_CERT": str(certs / "client.pem"),
        "WIZARD_VIP_KEY": str(certs / "client-key.pem"),
        "WIZARD_VIP_CA": str(certs / "ca.pem"),
        **extra,
    }


@dataclass
class Running:
    """A server in a thread of this process."""

    server: MutualTLSServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_port}/vipuserservices"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def run(server: MutualTLSServer) -> Running:
    thread = threading.Thread(target=server.serve_forever, name="vip", daemon=True)
    thread.start()
    return Running(server, thread)


@dataclass
class VipService:
    running: Running
    certs: Path
    store: StandinStore

    @property
    def url(self) -> str:
        return self.running.url

    def environ(self, **extra: str) -> dict[str, str]:
        return vip_environ(self.url, self.certs, **extra)

    def binding(self, user_id: str | None, credential_id: str):
        return self.store.binding(user_id or "", credential_id)


@pytest.fixture(scope="session")
def vip_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vip-certs")
    write_certificates(folder)
    return folder


@pytest.fixture(scope="session")
def vip_service(vip_certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VipService]:
    database = tmp_path_factory.mktemp("vip-service") / "standin.sqlite3"
    running = run(make_standin_server("127.0.0.1", 0, vip_certs, database))
    try:
        yield VipService(running, vip_certs, running.server.app.standin.store)
    finally:
        running.stop()


# --- Fake VIP servers for the faults ----------------------------------------------------------


class AlwaysStatus(StandIn):
    """Answers every operation, well formed, with one status."""

    def __init__(self, status: str) -> None:
        self.status = status

    def answer(self, operation: str, fields: dict[str, str]) -> Reply:
        return Reply(self.status)


def garbage_app(environ, start_response):
    return Response("<html>Service temporarily unavailable</html>", 200)(environ, start_response)


def slow_app(seconds: float):
    def app(environ, start_response):
        time.sleep(seconds)
        return Response("late", 200)(environ, start_response)

    return app


@pytest.fixture
def fake_vip(vip_certs: Path) -> Iterator[Callable[..., str]]:
    """fake_vip(app, certs=vip_certs): serve a WSGI app over the same mutual TLS; its URL."""
    started: list[Running] = []

    def start(app, certs: Path = vip_certs) -> str:
        started.append(run(MutualTLSServer("127.0.0.1", 0, app, server_context(certs))))
        return started[-1].url

    yield start
    for running in started:
        running.stop()


def status_app(status: str) -> StandinApp:
    return StandinApp(AlwaysStatus(status))
