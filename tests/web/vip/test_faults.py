"""Issue 10: VIP faults. Unreachable, slow, garbage, a status VIP does not document, a server
certificate that does not chain to WIZARD_VIP_CA: the step stays where it was with a clear
message, nothing is saved, nothing counts toward the lock, and the audit log records it.

VIP "goes down" mid-run: the app's VIP transport is pointed at a dead port or a fake server
(same mutual TLS) after the steps before have passed against the stand-in.
"""

from __future__ import annotations

import logging

import pytest
import requests
from signing import code_step, passphrase_step, sign_in
from support.csrf import csrf_token
from vipsupport import free_port, garbage_app, slow_app, status_app

from wizard.authority.vip.transport import Transport, VipSettings
from wizard.vipsandbox.certs import write_certificates

UNAVAILABLE = "We could not reach Symantec VIP"


@pytest.fixture(scope="module")
def stranger_certs(tmp_path_factory):
    """Certificates from another CA: a server the wizard must not trust."""
    folder = tmp_path_factory.mktemp("stranger-certs")
    write_certificates(folder)
    return folder


@pytest.fixture
def vip_down(app, vip_certs, fake_vip, stranger_certs):
    """vip_down(kind): from now on VIP is unreachable, slow, garbage, odd or a stranger."""

    def down(kind: str) -> None:
        url = {
            "unreachable": lambda: f"https://127.0.0.1:{free_port()}/vipuserservices",
            "timeout": lambda: fake_vip(slow_app(3)),
            "bad-answer": lambda: fake_vip(garbage_app),
            "unexpected-status": lambda: fake_vip(status_app("6005")),
            "certificate": lambda: fake_vip(status_app("0000"), stranger_certs),
        }[kind]()
        settings = VipSettings(
            url,
            str(vip_certs / "client.pem"),
            str(vip_certs / "client-key.pem"),
            str(vip_certs / "ca.pem"),
            timeout=0.5,
        )
        app.extensions["token_authority"].vip.transport = Transport(settings)

    return down


STATUS = {
    "unreachable": 503,
    "timeout": 504,
    "bad-answer": 502,
    "unexpected-status": 502,
    "certificate": 502,
}


@pytest.mark.parametrize("kind", list(STATUS))
def test_should_keep_step_3_when_vip_fails_and_count_nothing(
    kind, demo, enrol, client_request, store, vip, vip_down
):
    credential = enrol.reach("security-code")
    vip_down(kind)

    page = client_request.post(
        "/enroll/security-code", {"code": vip.code(credential)}, _expected_status=STATUS[kind]
    )

    assert UNAVAILABLE in page.text("#code-error")
    assert "does not count against you" in page.text("#code-error")
    assert store.prescriber().code_failures == 0
    assert store.audit("enrollment.code") == []
    outage = store.audit("vip.unavailable")[-1]
    assert outage.outcome == kind
    assert '"during": "enrollment.code"' in outage.detail
    assert '"operation": "AuthenticateCredentials"' in outage.detail
    if kind == "unexpected-status":
        assert '"status": "6005"' in outage.detail
    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")


def test_should_swap_the_step_in_place_for_htmx_when_vip_is_unreachable(
    demo, enrol, client_request, vip, vip_down
):
    credential = enrol.reach("security-code")
    vip_down("unreachable")

    page = client_request.post(
        "/enroll/security-code",
        {"code": vip.code(credential)},
        _expected_status=503,
        _htmx=True,
        _headers={"HX-Target": "step-panel"},
    )

    assert page.headers["HX-Retarget"] == "#step-panel"
    assert page.headers["HX-Reswap"] == "innerHTML"
    assert UNAVAILABLE in page.text("#code-error")


def test_should_keep_step_2_when_vip_cannot_say_whether_it_knows_the_credential(
    demo, enrol, client_request, vip, vip_down, store
):
    enrol.choose_device()
    credential = vip.issue()
    vip_down("unreachable")

    page = client_request.post(
        "/enroll/credential-id", {"credential_id": credential.credential_id}, _expected_status=503
    )

    assert UNAVAILABLE in page.text("#credential_id-error")
    client_request.get("/enroll/security-code", _expected_redirect="/enroll/credential-id")
    assert store.audit("vip.unavailable")[-1].outcome == "unreachable"


def test_should_save_nothing_when_vip_cannot_bind_at_step_4(
    demo, enrol, client_request, vip_down, store
):
    credential = enrol.reach("name")
    vip_down("timeout")

    page = client_request.post("/enroll/name", {"nickname": "My phone"}, _expected_status=504)

    assert "nothing was saved" in page.text("#nickname-error")
    assert store.tokens(credential.credential_id) == []
    client_request.get("/enroll/done", _expected_redirect="/enroll/name")


def test_should_not_count_a_sign_in_vip_could_not_check(
    client, make_account, clock, store, vip_down
):
    account = make_account()
    vip_down("unreachable")

    passphrase_step(client, account.npi, account.passphrase)
    response = code_step(client, account.token().id, account.token().code(at=clock()))

    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert store.prescriber(account.npi).sign_in_failures == 0
    assert store.audit("vip.unavailable")[-1].outcome == "unreachable"


def test_should_change_nothing_when_vip_cannot_remove_a_deleted_tokens_binding(
    client, make_account, clock, store, vip_service, vip_down
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    token = account.tokens[1]
    vip_down("unreachable")

    response = client.post(f"/tokens/{token.id}/delete", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 503
    assert "nothing was changed" in response.get_data(as_text=True)
    assert store.tokens(token.credential_id)[0].status == "Active"
    user_id = store.prescriber(account.npi).vip_user_id
    assert vip_service.binding(user_id, token.credential_id) is not None


def test_should_keep_the_name_when_vip_cannot_rename(client, make_account, clock, store, vip_down):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    token = account.tokens[1]
    vip_down("bad-answer")

    response = client.post(
        f"/tokens/{token.id}/rename",
        data={"nickname": "Work iPad", "csrf_token": csrf_token(client)},
    )

    assert response.status_code == 502
    assert store.tokens(token.credential_id)[0].nickname == "Token 2"


def test_should_make_a_loss_final_even_when_vip_is_down_and_release_it_later(
    client, app, make_account, clock, store, vip_service, vip_down, flask_cli
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    token = account.tokens[1]
    user_id = store.prescriber(account.npi).vip_user_id
    working = app.extensions["token_authority"].vip.transport
    client.post(
        f"/tokens/{token.id}/disable", data={"reason": "lost", "csrf_token": csrf_token(client)}
    )
    vip_down("unreachable")

    client.post(
        f"/tokens/{token.id}/confirm-lost",
        data={"acknowledge": "y", "csrf_token": csrf_token(client)},
    )

    saved = store.tokens(token.credential_id)[0]
    assert (saved.status, saved.vip_bound) == ("Lost", True)
    assert vip_service.binding(user_id, token.credential_id) is not None
    assert flask_cli(app, "vip", "release-pending").exit_code == 1  # still down

    app.extensions["token_authority"].vip.transport = working
    result = flask_cli(app, "vip", "release-pending")

    assert result.exit_code == 0, result.output
    assert "Bindings removed: 1. Still pending: 0." in result.output
    assert vip_service.binding(user_id, token.credential_id) is None
    assert store.tokens(token.credential_id)[0].vip_bound is False


def test_should_refuse_a_vip_server_whose_certificate_does_not_chain_to_our_ca(
    vip_certs, fake_vip, stranger_certs
):
    url = fake_vip(status_app("0000"), stranger_certs)

    with pytest.raises(requests.exceptions.SSLError):
        requests.post(
            f"{url}/QueryService_1_10",
            data=b"<x/>",
            cert=(str(vip_certs / "client.pem"), str(vip_certs / "client-key.pem")),
            verify=str(vip_certs / "ca.pem"),
            timeout=5,
        )


@pytest.mark.parametrize("client_cert", ["none", "stranger"])
def test_cant_reach_the_stand_in_without_a_certificate_from_its_ca(
    client_cert, vip_service, vip_certs, stranger_certs
):
    cert = (
        None
        if client_cert == "none"
        else (str(stranger_certs / "client.pem"), str(stranger_certs / "client-key.pem"))
    )

    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        requests.post(
            f"{vip_service.url}/QueryService_1_10",
            data=b"<x/>",
            cert=cert,
            verify=str(vip_certs / "ca.pem"),
            timeout=5,
        )


def test_should_log_no_code_secret_key_or_soap_body_at_debug_level(
    demo, enrol, client_request, client, vip_certs, caplog
):
    loggers = ("", "urllib3", "requests", "zeep", "wizard", "werkzeug", "wizard.vipsandbox")
    caplog.set_level(logging.DEBUG)
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)
    credential = enrol.reach("done")

    text = caplog.text
    assert "AuthenticateCredentials status=0000" in text, "the VIP calls were logged"
    assert enrol.code not in text
    assert credential.secret not in text
    assert "Envelope" not in text and "otp>" not in text
    key = (vip_certs / "client-key.pem").read_text()
    assert key.splitlines()[1] not in text


def test_should_prove_the_vip_settings_with_one_harmless_question(app, flask_cli):
    result = flask_cli(app, "vip", "check")

    assert result.exit_code == 0, result.output
    assert "works: the connection, the client certificate and the CA are good." in result.output
    assert "It answered 6003 (User does not exist) about a made-up user, as expected." in (
        result.output
    )


def test_should_say_why_vip_gave_no_usable_answer_to_the_check(app, flask_cli, vip_down):
    vip_down("unexpected-status")

    result = flask_cli(app, "vip", "check")

    assert result.exit_code == 1
    assert "gave no usable answer (unexpected-status 6005)" in result.output
