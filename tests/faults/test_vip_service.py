"""Issue 10: the VIP stand-in as the sandbox commands run it, in a process of its own:
`flask --app wizard sandbox vip-certs DIR` and `... vip-service --port PORT --certs DIR`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cluster.processes import free_port

from wizard.authority.vip import messages
from wizard.authority.vip.transport import Transport, VipSettings
from wizard.store.crypto import SeedCipher

FLASK = [sys.executable, "-m", "flask", "--app", "wizard"]


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WIZARD_DATABASE_URL": f"sqlite:///{tmp_path / 'wizard.sqlite3'}",
        "WIZARD_SECRET_KEY": "vip-service-test-secret-key-0123456789",
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
    }


def test_should_serve_vip_over_mutual_tls_from_the_sandbox_commands(tmp_path, environ):
    certs = tmp_path / "certs"
    made = subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [*FLASK, "sandbox", "vip-certs", str(certs)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    for name in ("ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"):
        assert (certs / name).is_file()
    assert stat.S_IMODE((certs / "client-key.pem").stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in made.stdout

    port = free_port()
    database = tmp_path / "standin.sqlite3"
    service = subprocess.Popen(  # noqa: S603
        [*FLASK, "sandbox", "vip-service", "--port", str(port), "--certs", str(certs)]
        + ["--database", str(database)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    transport = Transport(
        VipSettings(
            f"https://127.0.0.1:{port}/vipuserservices",
            str(certs / "client.pem"),
            str(certs / "client-key.pem"),
            str(certs / "ca.pem"),
        )
    )
    try:
        answer = _first_answer(transport, messages.get_credential_info("SYMC12345678"))
        assert answer.status == "6004"  # VIP's "Credential ID is not valid"
        assert database.is_file()
        with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
            requests.post(
                f"https://127.0.0.1:{port}/vipuserservices/QueryService_1_10",
                data=b"<x/>",
                verify=str(certs / "ca.pem"),
                timeout=5,
            )
    finally:
        service.terminate()
        service.wait(timeout=10)


def _first_answer(transport: Transport, request, seconds: float = 30):
    """The stand-in's answer, once it is listening."""
    from wizard.authority import AuthorityUnavailable

    deadline = time.monotonic() + seconds
    while True:
        try:
            return transport.call(request)
        except AuthorityUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
