"""Issue 2, security baseline: CSRF, headers, the session cookie, idle sign-out, logs."""

import base64
import hashlib
import logging
import re

import pytest
from flask import Flask, Response
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from wizard.extensions import csrf, db
from wizard.store.models import Token
from wizard.web.security import CSP, add_security_headers

EXPIRED = "This form has expired"


def assert_security_headers(response) -> None:
    where = f"{response.request.method} {response.request.path} ({response.status_code})"
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], f"{where}: CSP {csp!r}"
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: CSP {csp!r}"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"{where}: CSP {csp!r}"
    for directive in ("script-src", "style-src"):
        assert directives.get(directive, ["'self'"]) == ["'self'"], f"{where}: CSP {csp!r}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }, where


# --- CSRF -------------------------------------------------------------------------------------


DEVICE = {"platform": "iphone", "different_device": "y"}


def assert_expired_page(page) -> None:
    assert page.h1 == EXPIRED
    assert "Nothing was saved" in page.text("main")


def test_cant_post_a_form_without_a_csrf_token(client_request, demo):
    page = client_request.post("/enroll/get-app", DEVICE, _csrf=False, _expected_status=400)

    assert_expired_page(page)
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


def test_cant_post_to_any_form_without_a_csrf_token(app, client_request, demo):
    """Forms carry no token check of their own: the one before every view must cover every
    POST route there is, a new one included (the sandbox's JSON API alone is exempt)."""
    routes = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("sandbox_api.")
    )
    assert len(routes) > 20
    for route in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", "1", route)
        page = client_request.post(path, {"nickname": "x"}, _csrf=False, _expected_status=400)
        assert page.h1 == EXPIRED, route


def test_should_not_enter_the_csrf_check_for_a_page_read(client_request, demo, monkeypatch):
    """It would look the view and its blueprint up for exemptions before finding nothing to
    check in a GET."""
    entered = []
    real = csrf.protect
    monkeypatch.setattr(csrf, "protect", lambda **kw: entered.append(1) or real(**kw))
    client_request.get("/enroll/get-app")
    assert entered == []
    client_request.post("/enroll/get-app", DEVICE, _csrf=False, _expected_status=400)
    assert entered == [1]


def test_cant_save_a_token_without_a_csrf_token(client_request, demo, enrol, store):
    enrol.reach("name")
    tokens_before = store.count(Token)

    page = client_request.post(
        "/enroll/name", {"nickname": "My phone"}, _csrf=False, _expected_status=400
    )

    assert_expired_page(page)
    assert store.count(Token) == tokens_before
    assert store.tokens(enrol.credential.credential_id) == []


def test_cant_post_with_a_token_from_before_signing_in(client_request, auth):
    stale = client_request.csrf_token()
    auth.login()

    page = client_request.post("/enroll/get-app", DEVICE, _csrf=stale, _expected_status=400)

    assert_expired_page(page)


def test_cant_post_with_a_token_from_another_session(app, client_request, csrf_token, demo):
    foreign = csrf_token(app.test_client(), "/")

    page = client_request.post("/enroll/get-app", DEVICE, _csrf=foreign, _expected_status=400)

    assert_expired_page(page)


def test_cant_post_with_a_made_up_token(client_request, demo):
    page = client_request.post("/enroll/get-app", DEVICE, _csrf="made-up", _expected_status=400)
    assert_expired_page(page)


def test_cant_send_an_htmx_post_without_the_csrf_header(client_request, demo):
    page = client_request.post(
        "/enroll/get-app", DEVICE, _htmx=True, _csrf=False, _expected_status=400
    )
    assert EXPIRED in page.html


def test_should_accept_the_csrf_token_as_an_htmx_header(client_request, demo):
    client_request.post("/enroll/get-app", DEVICE, _htmx=True, _expected_status=200)


def test_should_sign_a_session_s_csrf_token_once_and_no_other_session_s(
    app, client_request, demo, monkeypatch
):
    from wizard.web import csrf as csrf_module

    signed = []
    monkeypatch.setattr(csrf_module, "generate_csrf", lambda: signed.append(1) or generate_csrf())
    first = client_request.get("/enroll/get-app").select_one('meta[name="csrf-token"]')["content"]
    again = client_request.get("/help")
    assert again.select_one('meta[name="csrf-token"]')["content"] == first
    assert len(signed) <= 1  # none when this session's was already signed and kept
    # The kept token is the session's: accepted.
    client_request.post(
        "/enroll/get-app", DEVICE, _csrf=first, _expected_redirect="/enroll/credential-id"
    )

    other = app.test_client()
    page = other.get("/sign-in").get_data(as_text=True)
    assert first not in page


def test_should_keep_a_bounded_number_of_signed_csrf_tokens(app, monkeypatch):
    from wizard.web import csrf as csrf_module

    monkeypatch.setattr(csrf_module, "SIGNED_KEPT", 2)
    monkeypatch.setattr(csrf_module, "_SIGNED", csrf_module.OrderedDict())
    tokens = [
        app.test_client().get("/sign-in").get_data(as_text=True).split('csrf-token" content="')[1]
        for _ in range(3)
    ]
    assert len(set(tokens)) == 3
    assert list(csrf_module._SIGNED.values()) == [t.split('"')[0] for t in tokens[1:]]


def test_should_sign_the_csrf_token_at_each_request_when_tokens_expire(
    app, client_request, demo, monkeypatch
):
    from wizard.web import csrf as csrf_module

    signed = []
    monkeypatch.setattr(csrf_module, "generate_csrf", lambda: signed.append(1) or generate_csrf())
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    client_request.get("/enroll/get-app")
    client_request.get("/enroll/get-app")
    assert len(signed) == 2


def test_cant_sign_in_without_a_csrf_token(client, client_request, demo_seeded):
    page = client_request.post(
        "/sign-in",
        {"npi": demo_seeded["npi"], "passphrase": demo_seeded["passphrase"]},
        _csrf=False,
        _expected_status=400,
    )
    assert_expired_page(page)
    assert client.get("/sign-in/code").status_code in (302, 303)


def test_should_put_the_csrf_token_in_the_page_meta_and_body_headers(client_request, demo):
    page = client_request.get("/enroll/get-app")
    token = page.select_one('meta[name="csrf-token"]')["content"]
    assert token
    assert token in page.select_one("body")["hx-headers"]
    assert page.select_one('input[name="csrf_token"]') is None or all(
        i["value"] == token for i in page.select('input[name="csrf_token"]')
    )


# --- Security headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", "/"),
        ("GET", "/healthz"),
        ("GET", "/static/css/app.css"),
        ("GET", "/static/js/app.js"),
        ("GET", "/no-such-page"),
        ("GET", "/enroll/get-app"),
        ("GET", "/sandbox/api/otp/SYMC00000000"),
        ("POST", "/enroll/get-app"),
        ("POST", "/sign-in"),
        ("DELETE", "/"),
    ],
)
def test_should_send_security_headers_on_every_response(client, method, url):
    response = client.open(url, method=method)
    assert_security_headers(response)


def test_should_send_security_headers_on_every_response_of_an_enrolment(client, demo, enrol):
    enrol.reach("done")
    client.get("/enroll/done", headers={"HX-Request": "true"})
    client.get("/sandbox/vip-access")

    assert len(client.responses) > 10
    for response in client.responses:
        assert_security_headers(response)


def test_should_keep_pages_that_show_credential_ids_out_of_caches(client, demo, enrol):
    enrol.reach("security-code")
    response = client.get("/enroll/security-code")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_should_keep_a_header_a_view_set_itself_and_add_the_rest(app):
    with app.test_request_context("/"):
        response = add_security_headers(
            Response(headers={"X-Frame-Options": "SAMEORIGIN", "cache-control": "max-age=60"})
        )
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == ["max-age=60"]
    assert response.headers.getlist("Referrer-Policy") == ["same-origin"]
    assert response.headers.getlist("Content-Security-Policy") == [CSP]


# --- The session cookie -----------------------------------------------------------------------


def session_cookie_header(response, name: str = "wizard_session") -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def cookie_attributes(header: str) -> dict[str, str]:
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_should_set_the_session_cookie_http_only_and_same_site_lax(client):
    header = session_cookie_header(client.get("/sign-in"))
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert "secure" not in attributes  # development serves plain http on 127.0.0.1


def test_should_mark_the_session_cookie_secure_in_production(make_app):
    """__Host-: browsers take the cookie only from this very host, over HTTPS, for every path,
    so a sibling subdomain or a plain-HTTP neighbor cannot plant a session id of its own."""
    production = make_app(WIZARD_ENV="production", WIZARD_SANDBOX="0")
    response = production.test_client().get("/sign-in", base_url="https://wizard.example.org")
    attributes = cookie_attributes(session_cookie_header(response, "__Host-wizard_session"))
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert "domain" not in attributes


def test_should_keep_only_a_random_id_in_the_session_cookie(app, client, demo, enrol):
    enrol.reach("name")
    value = client.get_cookie("wizard_session").value

    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", value), value
    for chunk in value.split("."):
        decoded = base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4))
        for word in (b"prescriber", b"enrol", b"csrf", enrol.credential.credential_id.encode()):
            assert word not in decoded
    key = "session:" + hashlib.sha256(value.encode()).hexdigest()
    with app.app_context():
        stored = db.session.execute(
            text("SELECT data FROM server_sessions WHERE session_id = :key"), {"key": key}
        ).scalar_one()
        ids = db.session.execute(text("SELECT session_id FROM server_sessions")).scalars().all()
    assert enrol.credential.credential_id.encode() in stored, "the progress lives on the server"
    assert all(value not in stored_id for stored_id in ids), "keyed by a hash, not the id"


def test_should_not_store_the_code_in_the_server_side_session(app, client, demo, enrol):
    enrol.reach("name")
    with app.app_context():
        rows = db.session.execute(text("SELECT data FROM server_sessions")).scalars().all()
    assert rows
    for data in rows:
        assert enrol.code.encode() not in data


def test_should_give_a_new_session_id_at_sign_in(client, auth):
    client.get("/sign-in")
    before = client.get_cookie("wizard_session").value

    auth.login()

    after = client.get_cookie("wizard_session").value
    assert after != before, "the session id must rotate at sign-in (session fixation)"


def test_cant_use_the_session_id_from_before_sign_in_afterwards(app, client, auth):
    client.get("/sign-in")
    before = client.get_cookie("wizard_session").value
    auth.login()

    attacker = app.test_client()
    attacker.set_cookie("wizard_session", before)

    assert attacker.get("/enroll/get-app").status_code in (302, 303)


def test_should_sign_out_after_the_idle_time(client, demo, clock):
    assert client.get("/enroll/get-app").status_code == 200
    clock.advance(minutes=16)  # the idle time counts whole minutes: at most one minute more

    response = client.get("/enroll/get-app")

    assert response.status_code in (302, 303)
    assert "/enroll/" not in response.headers["Location"].split("?")[0]
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert "no activity for 15 minutes" in home.get_data(as_text=True)


def test_should_stay_signed_in_while_active(client, demo, clock):
    for _ in range(4):
        clock.advance(minutes=14)
        assert client.get("/enroll/get-app").status_code == 200


def test_should_honour_the_idle_minutes_setting(make_app, clock, auth_for):
    app: Flask = make_app(WIZARD_SESSION_IDLE_MINUTES="5")
    client = app.test_client()
    auth_for(client, app).login()
    clock.advance(minutes=6)
    assert client.get("/enroll/get-app").status_code in (302, 303)


# --- Logs -------------------------------------------------------------------------------------


def test_should_log_no_code_seed_passphrase_or_session_id(
    caplog, client, client_request, demo, enrol, vip
):
    caplog.set_level(logging.DEBUG)
    enrol.reach("security-code")
    client_request.post(
        "/enroll/security-code", {"code": vip.wrong_code(enrol.credential)}, _expected_status=422
    )
    enrol.enter_code()
    enrol.save()

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "audit" in logged, "the events are logged"
    secrets_seen = [
        enrol.code,
        enrol.credential.secret,
        demo["passphrase"],
        client.get_cookie("wizard_session").value,
        *(t["secret"] for t in demo["tokens"]),
    ]
    for secret in secrets_seen:
        assert secret not in logged


def test_the_practice_apps_poll_is_not_activity(client, demo, clock):
    """Its code refreshes every second: counted as activity, the idle sign-out would never come."""
    token = demo["tokens"][0]["credential_id"]
    assert client.get("/enroll/get-app").status_code == 200
    for _ in range(16):
        clock.advance(minutes=1)
        assert client.get(f"/sandbox/vip-access/code?credential={token}").status_code == 200
    response = client.get("/enroll/get-app")
    assert response.status_code in (302, 303), "signed out after 15 idle minutes"


def test_a_request_that_changes_nothing_writes_no_session(app, client, demo):
    """What a request stores is what it read: written back after another request of the same
    browser changed the session (wizard progress saved), it would undo that change."""
    token = demo["tokens"][0]["credential_id"]
    client.get("/enroll/get-app")

    def stored():
        with app.app_context():
            rows = db.session.execute(text("SELECT session_id, data, expiry FROM server_sessions"))
            return sorted(tuple(row) for row in rows)

    before = stored()
    for url in (f"/sandbox/vip-access/code?credential={token}", "/static/css/app.css"):
        assert client.get(url).status_code == 200
        assert stored() == before, url
