"""Issue 12: what the sandbox API refuses, and to whom.

- Bad input gets a 4xx JSON answer naming the problem, never a 500, and changes nothing.
- No CSRF token: a POST must be JSON, which a cross-site form cannot send; a browser's
  cross-site request is refused outright.
- With sandbox mode off the API does not exist (404, as any unknown page).
- Accounts made by the API skip the per-address limits (sign-in, and the code limit once
  signed in) in sandbox mode only, and nobody else does.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing import post
from sqlalchemy import event, func, select

from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.models import (
    AuditEvent,
    HelpdeskAgent,
    OathCredential,
    Prescriber,
    SignInThrottle,
    Token,
)

API = "/sandbox/api"
POSTS = ["/prescribers", "/credentials", "/agents", "/reset"]
GETS = ["/openapi.json", "/otp/SYMC12345678", "/agents/qa-0000000000/otp"]
INVITATION = "K7FQ-3QXM-ZP2D-9HRT"  # the shape of an Invitation ID, issued to no one


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Prescriber, OathCredential, HelpdeskAgent)
        }


def assert_refused(response, status: int, error: str, field: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error and body["message"].endswith(".")
    if field:
        assert body["field"] == field


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "content_type, data",
    [
        ("application/x-www-form-urlencoded", "kind=vip-app"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("text/plain", '{"kind": "vip-app"}'),
        (None, '{"kind": "vip-app"}'),
    ],
)
def test_cant_post_anything_but_json(client, app, path, content_type, data):
    before = counts(app)
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post(f"{API}{path}", data=data, headers=headers)

    assert_refused(response, 415, "unsupported-media-type")
    assert counts(app) == before


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("body", ["{", "[]", '"text"', "42", "null", b"\xff\xfe"])
def test_cant_post_a_body_that_is_not_a_json_object(client, path, body):
    response = client.post(f"{API}{path}", data=body, content_type="application/json")
    assert_refused(response, 400, "invalid-json")


@pytest.mark.parametrize("path", POSTS)
def test_cant_post_a_body_over_4096_bytes(client, app, path):
    before = counts(app)
    body = json.dumps({"kind": "vip-app", "x": "a" * 5000})

    response = client.post(f"{API}{path}", data=body, content_type="application/json")

    assert_refused(response, 413, "too-large")
    assert counts(app) == before


@pytest.mark.parametrize(
    "path, body, error, field",
    [
        ("/prescribers", {"token": "yubikey"}, "invalid-field", "token"),
        ("/prescribers", {"token": None}, "missing-field", "token"),
        ("/prescribers", {"token": ["vip-app"]}, "invalid-field", "token"),
        ("/prescribers", {"tokens": 0}, "unknown-field", "tokens"),
        ("/credentials", {}, "missing-field", "kind"),
        ("/credentials", {"kind": "vip"}, "invalid-field", "kind"),
        ("/credentials", {"kind": 1}, "invalid-field", "kind"),
        ("/credentials", {"kind": "vip-app", "prefix": "SYDC"}, "unknown-field", "prefix"),
        ("/agents", {"username": "me"}, "unknown-field", "username"),
        ("/reset", {"everything": True}, "unknown-field", "everything"),
    ],
)
def test_cant_post_unknown_or_bad_fields(client, app, path, body, error, field):
    before = counts(app)

    response = client.post(f"{API}{path}", json=body)

    assert_refused(response, 422, error, field)
    assert counts(app) == before


@pytest.mark.parametrize(
    "query, field",
    [
        ("fresh=2", "fresh"),
        ("fresh=yes", "fresh"),
        ("presses=0", "presses"),
        ("presses=1001", "presses"),
        ("presses=-1", "presses"),
        ("presses=" + "9" * 5000, "presses"),
        ("presses=%EF%BC%91", "presses"),  # a full-width digit
        ("fresh=1&presses=2", "presses"),
    ],
)
def test_cant_ask_for_a_code_with_bad_parameters(client, query, field):
    issued = client.post(f"{API}/credentials", json={"kind": "symantec-hard"}).get_json()
    response = client.get(f"{API}/otp/{issued['credential_id']}?{query}")
    assert_refused(response, 422, "invalid-parameter", field)


@pytest.mark.parametrize("credential_id", ["SYMC00000000", "nope", "SYMC%2E%2E", "A" * 300])
def test_should_answer_404_json_for_credentials_the_sandbox_did_not_issue(client, credential_id):
    assert_refused(client.get(f"{API}/otp/{credential_id}"), 404, "unknown-credential")


@pytest.mark.parametrize(
    "method, path, status, error",
    [
        ("GET", "/nothing-here", 404, "not-found"),
        ("GET", "/otp/..%2F..", 404, "not-found"),
        ("POST", "/otp/SYMC12345678", 405, "method-not-allowed"),
        ("GET", "/reset", 405, "method-not-allowed"),
        ("DELETE", "/prescribers", 405, "method-not-allowed"),
    ],
)
def test_should_answer_unknown_calls_in_json(client, method, path, status, error):
    assert_refused(client.open(f"{API}{path}", method=method), status, error)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=8,
)


@pytest.mark.parametrize("path", POSTS)
def test_hostile_json_bodies_get_a_clear_answer_and_never_a_500(client, path):
    allowed = {"/prescribers": "token", "/credentials": "kind"}.get(path)
    bodies = st.one_of(
        json_values,
        st.fixed_dictionaries({allowed: json_values}) if allowed else st.just({}),
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def check(body):
        response = client.post(
            f"{API}{path}", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code in (200, 201, 400, 413, 422), (body, response.status_code)
        assert response.mimetype == "application/json"

    check()


# --- Cross-site use, without CSRF tokens -------------------------------------------------------


@pytest.mark.parametrize("path", POSTS)
def test_should_need_no_csrf_token_for_json(client, path):
    response = client.post(
        f"{API}{path}", json={"kind": "vip-app"} if path == "/credentials" else {}
    )
    assert response.status_code in (200, 201)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
@pytest.mark.parametrize(
    "method, path", [*(("POST", p) for p in POSTS), *(("GET", p) for p in GETS)]
)
def test_cant_call_the_api_from_another_sites_page(client, app, site, method, path):
    before = counts(app)
    response = client.open(
        f"{API}{path}",
        method=method,
        json={} if method == "POST" else None,
        headers={"Sec-Fetch-Site": site, "Origin": "https://ehr.example.org"},
    )
    assert_refused(response, 403, "cross-site")
    assert counts(app) == before


def test_a_cross_site_form_cant_make_an_account(client, app):
    """What an attacker's page can send without a CORS preflight: a form post."""
    before = counts(app)
    response = client.post(
        f"{API}/prescribers",
        data={"token": "vip-app"},
        headers={"Origin": "https://attacker.example"},
    )
    assert response.status_code == 415
    assert counts(app) == before


def test_should_send_no_cors_headers(client):
    response = client.open(
        f"{API}/prescribers",
        method="OPTIONS",
        headers={"Origin": "https://attacker.example", "Access-Control-Request-Method": "POST"},
    )
    assert not any(h.lower().startswith("access-control-") for h in response.headers.keys())


# --- Sandbox mode off ---------------------------------------------------------------------------


@pytest.fixture
def sandbox_off(make_app):
    return make_app(WIZARD_SANDBOX="0")


def test_the_api_does_not_exist_with_sandbox_mode_off(sandbox_off):
    client = sandbox_off.test_client()
    rules = [r for r in sandbox_off.url_map.iter_rules() if r.rule.startswith(API)]
    assert len(rules) >= 7
    for rule in rules:
        path = rule.rule.replace("<credential_id>", "SYMC12345678").replace("<username>", "qa-x")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={"kind": "vip-app"})
            assert response.status_code == 404, (method, path)
            assert response.mimetype == "text/html", "as any page that does not exist"
    with sandbox_off.app_context():
        for model in (Prescriber, OathCredential, HelpdeskAgent, AuditEvent):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


# --- The per-address sign-in limit ---------------------------------------------------------------


@pytest.fixture
def limited(make_app):
    """Sandbox mode with a per-address limit of 3 sign-in posts a minute."""
    return make_app(WIZARD_SIGN_IN_RATE_LIMIT="3 per minute")


def api_prescriber(app) -> dict:
    return app.test_client().post(f"{API}/prescribers", json={}).get_json()


def passphrase_posts(app, npi: str, passphrase: str, times: int = 5) -> list[int]:
    browser = app.test_client()
    return [
        post(browser, "/sign-in", {"npi": npi, "passphrase": passphrase}).status_code
        for _ in range(times)
    ]


def test_api_prescribers_skip_the_per_address_limit_in_sandbox_mode(limited):
    made = api_prescriber(limited)
    assert 429 not in passphrase_posts(limited, made["npi"], made["passphrase"])


def test_api_prescribers_skip_the_limit_at_the_code_step_and_the_lost_token_page(limited):
    made = api_prescriber(limited)
    browser = limited.test_client()
    post(browser, "/sign-in", {"npi": made["npi"], "passphrase": made["passphrase"]})
    codes = [post(browser, "/sign-in/code", {"code": "12"}).status_code for _ in range(4)]
    lost = [
        post(browser, "/lost-token", {"npi": made["npi"], "passphrase": "wrong"}).status_code
        for _ in range(4)
    ]
    assert 429 not in codes + lost


def test_api_prescribers_still_meet_the_account_lock(limited):
    made = api_prescriber(limited)
    statuses = passphrase_posts(limited, made["npi"], "not the passphrase", times=6)
    assert 429 not in statuses
    with limited.app_context():
        pause = db.session.scalar(
            select(SignInThrottle).where(SignInThrottle.account == f"prescriber:{made['npi']}")
        )
        assert pause is not None and pause.locked_until is not None


def test_other_prescribers_keep_the_per_address_limit_in_sandbox_mode(limited):
    with limited.app_context():
        demo = sandbox.seed_demo(limited.config["CLOCK"]())
    assert passphrase_posts(limited, demo["npi"], demo["passphrase"])[-1] == 429


def test_unknown_npis_keep_the_per_address_limit(limited):
    assert passphrase_posts(limited, "1245319599", "whatever it is")[-1] == 429


def test_an_api_prescribers_npi_does_not_lift_the_limit_on_invitations(limited):
    made = api_prescriber(limited)
    browser = limited.test_client()
    statuses = [
        post(
            browser, "/start", {"npi": made["npi"], "invitation": "K7FQ-3QXM-ZP2D-9HRT"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses[-1] == 429


def test_api_prescribers_keep_the_limit_once_sandbox_mode_is_off(make_app, tmp_path):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    on = make_app(WIZARD_DATABASE_URL=database, WIZARD_SIGN_IN_RATE_LIMIT="3 per minute")
    made = api_prescriber(on)
    off = make_app(
        WIZARD_DATABASE_URL=database, WIZARD_SANDBOX="0", WIZARD_SIGN_IN_RATE_LIMIT="3 per minute"
    )
    assert passphrase_posts(off, made["npi"], made["passphrase"])[-1] == 429


def test_api_agents_skip_the_limit_at_the_help_desk_sign_in(limited):
    agent = limited.test_client().post(f"{API}/agents", json={}).get_json()
    browser = limited.test_client()
    statuses = [
        post(
            browser,
            "/helpdesk/sign-in",
            {"username": agent["username"], "passphrase": "wrong", "code": "000000"},
        ).status_code
        for _ in range(5)
    ]
    assert 429 not in statuses


def signed_in_api_prescriber(app):
    """A browser signed in as a prescriber the API made, with its token's code."""
    made = api_prescriber(app)
    credential_id = made["tokens"][0]["credential_id"]
    code = app.test_client().get(f"{API}/otp/{credential_id}").get_json()["code"]
    browser = app.test_client()
    post(browser, "/sign-in", {"npi": made["npi"], "passphrase": made["passphrase"]})
    with app.app_context():
        token = db.session.scalar(select(Token.id).where(Token.credential_id == credential_id))
    assert post(browser, "/sign-in/code", {"token": token, "code": code}).status_code == 303
    return browser


def test_api_prescribers_skip_the_other_per_address_limits_too(make_app):
    """The exemption is a request filter: it lifts every per-address limit for an account the
    API made, the code limit included (a suite enrolls many tokens from one address), while
    anyone else posting from that address is still counted."""
    limited = make_app(WIZARD_CODE_RATE_LIMIT="2 per minute")
    browser = signed_in_api_prescriber(limited)

    theirs = [post(browser, "/enroll/security-code", {"code": "123456"}) for _ in range(3)]
    anyone = [
        post(limited.test_client(), "/enroll/security-code", {"code": "123456"}) for _ in range(3)
    ]

    assert 429 not in [r.status_code for r in theirs]
    assert [r.status_code for r in anyone][-1] == 429


def test_a_signed_in_accounts_exemption_is_read_once_a_session(make_app):
    """Whether the API made an account never changes: a suite signed in posts at every step,
    and the sandbox table is read at the first of them only."""
    app = make_app(WIZARD_CODE_RATE_LIMIT="2 per minute")
    browser = signed_in_api_prescriber(app)
    with app.app_context():
        engine = db.engine
    asked = []

    def note(conn, cursor, statement, *args):
        if "sandbox_accounts" in statement:
            asked.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        statuses = [
            post(browser, "/enroll/security-code", {"code": "123456"}).status_code for _ in range(4)
        ]
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert 429 not in statuses
    assert len(asked) == 1
