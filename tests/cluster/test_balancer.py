"""The balancer's access log, the cluster's only one: each request once, with the node that
answered it, and never a help-desk setup link's one-time token. nginx here is in front of two
small HTTP servers, not the app: what is checked is nginx's own configuration."""

from __future__ import annotations

import threading
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


def test_each_request_is_logged_once_with_the_node_that_answered(balancer):
    nginx, ports = balancer
    for _ in range(6):
        get(nginx, "/healthz")

    assert [nginx.served_by(port) for port in ports] == [3, 3]  # round robin
    assert len(nginx.access_log.read_text().splitlines()) == 6


def test_a_setup_links_token_never_reaches_the_log(balancer):
    nginx, _ = balancer
    get(nginx, "/helpdesk/setup/K7FQ-3QXM-ZP2D")
    get(nginx, "/helpdesk/setup/K7FQ-3QXM-ZP2D?step=2")
    get(nginx, "//helpdesk/setup/K7FQ-3QXM-ZP2D")

    log = nginx.access_log.read_text()
    assert "K7FQ" not in log
    assert '"GET /helpdesk/setup/[redacted] HTTP/1.1"' in log
    assert '"GET /helpdesk/setup/[redacted]?step=2 HTTP/1.1"' in log
    assert '"GET //helpdesk/setup/[redacted] HTTP/1.1"' in log
