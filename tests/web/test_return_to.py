"""Entry from an EHR (issue 4): /enroll?return_to=URL on the allow-list gives a "Return to …"
button at the end of the wizard; anything else is ignored and audited."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pyotp
import pytest
from signing import (
    audit_events,
    code_step,
    passphrase_step,
    post,
    sign_in,
)
from support.pages import page_text

from wizard.config import from_environment
from wizard.services import sandbox

EHR = "https://ehr.example.org"


@pytest.fixture
def ehr_app(app):
    app.config["RETURN_ORIGINS"] = (EHR,)
    return app


def add_token(app, client, clock) -> None:
    """Walk the wizard with a fresh sandbox credential, up to the Done page."""
    with app.app_context():
        issued = sandbox.issue(clock())
    steps = [
        ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
        ("/enroll/credential-id", {"credential_id": issued.credential_id}),
        ("/enroll/security-code", {"code": pyotp.TOTP(issued.secret).at(clock())}),
        ("/enroll/name", {"nickname": "EHR phone"}),
    ]
    for url, data in steps:
        response = post(client, url, data)
        assert response.status_code == 303, f"{url}: {page_text(response)[:600]}"


def return_links(client) -> list[tuple[str, str]]:
    body = client.get("/enroll/done").get_data(as_text=True)
    return re.findall(r'<a class="button[^"]*" href="([^"]+)"[^>]*>(Return to [^<]+)</a>', body)


def test_should_offer_to_return_to_an_allowed_ehr_after_the_wizard(ehr_app, client, account, clock):
    sign_in(client, account, clock())
    target = f"{EHR}/patients/42/epcs?tab=tokens"
    response = client.get("/enroll?return_to=" + quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/enroll/get-app"

    add_token(ehr_app, client, clock)
    body = client.get("/enroll/done").get_data(as_text=True)
    assert return_links(client) == [(target.replace("&", "&amp;"), "Return to ehr.example.org")]
    assert "Go to your account" in body
    assert audit_events(ehr_app, "enrollment.return-to") == []


def test_the_return_to_survives_signing_in_first(ehr_app, client, account, clock):
    target = f"{EHR}/epcs"
    response = client.get("/enroll?return_to=" + quote(target, safe=""))
    assert response.status_code == 302
    query = response.headers["Location"].removeprefix("/sign-in")
    assert query.startswith("?next=")

    assert passphrase_step(client, account.npi, account.passphrase, query).status_code == 303
    token = account.token()
    signed_in = code_step(client, token.id, token.code(at=clock()))
    assert signed_in.status_code == 303
    assert client.get(signed_in.headers["Location"]).headers["Location"] == "/enroll/get-app"

    add_token(ehr_app, client, clock)
    assert return_links(client) == [(target, "Return to ehr.example.org")]


REFUSED = [
    "https://evil.example/phish",
    "javascript:alert(document.cookie)",
    "//evil.example/phish",
    "http://ehr.example.org/plain-http",  # another origin: the scheme differs
    "https://ehr.example.org.evil.example/x",
    "https://ehr.example.org@evil.example/x",
    "https://ehr.example.org:8443/x",
    "/tokens",
    "data:text/html,hello",
]


def test_a_return_to_off_the_allow_list_is_ignored_and_audited(ehr_app, client, account, clock):
    sign_in(client, account, clock())
    for target in REFUSED:
        response = client.get("/enroll?return_to=" + quote(target, safe=""))
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/enroll/get-app", target

    refused = audit_events(ehr_app, "enrollment.return-to")
    assert [json.loads(e.detail)["target"] for e in refused] == REFUSED
    for event in refused:
        assert (event.outcome, event.actor, event.prescriber_id, event.client_address) == (
            "refused",
            f"prescriber:{account.npi}",
            account.id,
            "127.0.0.1",
        )

    # Had any of them been kept, the Done page would offer to go there.
    add_token(ehr_app, client, clock)
    assert return_links(client) == []
    assert "Go to your account" in page_text(client.get("/enroll/done"))


def test_no_return_to_is_allowed_without_an_allow_list(app, client, account, clock):
    assert app.config["RETURN_ORIGINS"] == ()
    sign_in(client, account, clock())
    client.get("/enroll?return_to=" + quote(f"{EHR}/epcs", safe=""))
    [event] = audit_events(app, "enrollment.return-to")
    assert event.outcome == "refused"
    add_token(app, client, clock)
    assert return_links(client) == []


def test_the_audit_keeps_the_refused_address_without_its_query(ehr_app, client, account, clock):
    sign_in(client, account, clock())
    client.get("/enroll?return_to=" + quote("https://evil.example/x?session=secret", safe=""))
    [event] = audit_events(ehr_app, "enrollment.return-to")
    assert "https://evil.example/x" in event.detail
    assert "secret" not in event.detail


def test_wizard_return_origins_is_read_from_the_environment(tmp_path):
    config = from_environment(
        str(tmp_path),
        {
            "WIZARD_SECRET_KEY": "k" * 32,
            "WIZARD_SEED_KEY": "A" * 43 + "=",
            "WIZARD_RETURN_ORIGINS": " https://ehr.example.org/ ,https://other.example.com,, ",
        },
    )
    assert config["RETURN_ORIGINS"] == ("https://ehr.example.org", "https://other.example.com")
