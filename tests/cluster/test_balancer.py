"""The balancer's access log, the cluster's only one: each request once, with the node that
answered it, and never a help-desk setup link's one-time token. nginx here is in front of two
small HTTP servers, not the app: what is checked is nginx's own configuration."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cluster.balancer import Balancer
from cluster.processes import free_port


class Answer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[tuple[Balancer, list[int]]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Answer) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ports = [server.server_address[1] for server in servers]
    started = Balancer(free_port(), ports, tmp_path).start()
    yield started, ports
    started.stop()
    for server in servers:
        server.shutdown()
        server.server_close()


def get(balancer: Balancer, path: str) -> None:
    with urllib.request.urlopen(balancer.url + path, timeout=10) as reply:  # noqa: S310
        assert reply.status == 200


def logged(balancer: Balancer, lines: int) -> str:
    """The access log once it holds `lines` lines: nginx writes a line after its answer."""
    deadline = time.monotonic() + 10
    while True:
        text = balancer.access_log.read_text() if balancer.access_log.exists() else ""
        if len(text.splitlines()) >= lines or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_each_request_is_logged_once_with_the_node_that_answered(balancer):
    nginx, ports = balancer
    for _ in range(6):
        get(nginx, "/healthz")

    assert len(logged(nginx, 6).splitlines()) == 6
    assert [nginx.served_by(port) for port in ports] == [3, 3]  # round robin


SETUP_PATHS = [
    "/helpdesk/setup/K7FQ-3QXM-ZP2D",
    "/helpdesk/setup/K7FQ-3QXM-ZP2D?step=2",
    "//helpdesk/setup/K7FQ-3QXM-ZP2D",
    "/helpdesk//setup/K7FQ-3QXM-ZP2D",
    "/helpdesk/setup%2FK7FQ-3QXM-ZP2D",
    "/helpdesk/%73etup/K7FQ-3QXM-ZP2D",
    "/HELPDESK/setup/K7FQ-3QXM-ZP2D",
]


def test_a_setup_links_token_never_reaches_the_log(balancer):
    nginx, _ = balancer
    for path in SETUP_PATHS:
        get(nginx, path)

    log = logged(nginx, len(SETUP_PATHS))
    assert len(log.splitlines()) == len(SETUP_PATHS)
    assert "K7FQ" not in log
    assert log.count('"GET /helpdesk/setup/[redacted] HTTP/1.1"') == len(SETUP_PATHS)
