"""The connection to VIP is kept between calls: a TLS handshake with client certificates
costs several times the call itself (docs/PERFORMANCE.md), so each worker keeps one open."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from vipsupport import run

from wizard.authority import AuthorityUnavailable
from wizard.authority.vip import messages
from wizard.authority.vip.transport import Transport, VipSettings
from wizard.vipsandbox import server as standin_server
from wizard.vipsandbox.server import make_standin_server


@pytest.fixture
def counted(vip_certs: Path, tmp_path: Path):
    """A stand-in of its own that counts the TCP connections it accepts."""
    server = make_standin_server("127.0.0.1", 0, vip_certs, tmp_path / "standin.sqlite3")
    accepted = []
    accept = server.get_request

    def counting():
        connection = accept()
        accepted.append(connection[1])
        return connection

    server.get_request = counting
    running = run(server)
    transport = Transport(
        VipSettings(
            running.url,
            str(vip_certs / "client.pem"),
            str(vip_certs / "client-key.pem"),
            str(vip_certs / "ca.pem"),
            timeout=2,
        )
    )
    yield running, transport, accepted
    running.stop()


def ask(transport: Transport) -> str:
    return transport.call(messages.get_credential_info("SYMC12345678")).status


def test_should_send_many_vip_calls_over_one_tls_connection(counted):
    _running, transport, accepted = counted
    assert [ask(transport) for _ in range(5)] == ["6004"] * 5  # "Credential ID is not valid"
    assert len(accepted) == 1


def test_should_connect_again_when_vip_closed_the_idle_connection(counted, monkeypatch):
    _running, transport, accepted = counted
    monkeypatch.setattr(standin_server, "CONNECTION_SECONDS", 0.2)
    assert ask(transport) == "6004"
    time.sleep(0.6)  # the stand-in drops the silent connection meanwhile
    assert ask(transport) == "6004"
    assert len(accepted) == 2


def test_cant_reach_a_stopped_stand_in_over_a_connection_kept_from_before(counted):
    running, transport, _accepted = counted
    assert ask(transport) == "6004"
    running.stop()
    with pytest.raises(AuthorityUnavailable) as refused:
        ask(transport)
    assert refused.value.reason == "unreachable"
