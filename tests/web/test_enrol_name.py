"""Issue 3, step 4: name and save; one token however often Save is pressed; fresh codes only."""

import json

import pytest
from sqlalchemy import select

from wizard.store.models import OathCredential

DUPLICATE = "You already have a token with this name. Choose another name."
STALE = "more than 10 minutes ago"


@pytest.fixture
def at_step_4(demo, enrol):
    """Signed in; device, credential and a matching code done. Returns the credential."""
    return enrol.reach("name")


def save(client_request, nickname: str, status: int = 422, **kwargs):
    return client_request.post(
        "/enroll/name", {"nickname": nickname}, _expected_status=status, **kwargs
    )


def added(store, credential) -> list:
    """The token.add audit events for credential."""
    return [
        e
        for e in store.audit("token.add")
        if json.loads(e.detail).get("credential_id") == credential.credential_id
    ]


def summary(page) -> dict[str, str]:
    return {
        row.select_one("dt").text: row.select("dd")[0].text for row in page.select(".summary__row")
    }


@pytest.mark.parametrize(
    "device, suggestion",
    [
        ("iphone", "iPhone VIP Access"),
        ("android", "Android VIP Access"),
        ("windows", "Windows VIP Access"),
        ("mac", "Mac VIP Access"),
    ],
)
def test_should_suggest_a_name_from_the_device(client_request, demo, enrol, device, suggestion):
    enrol.reach("name", device=device)

    page = client_request.get("/enroll/name")

    assert "Name and save" in page.h1
    assert page.select_one("#nickname")["value"] == suggestion


def test_should_suggest_a_name_not_yet_taken(client_request, demo, enrol):
    enrol.reach("name")
    enrol.save("IPHONE VIP ACCESS")
    client_request.post("/enroll/start-over", _expected_redirect="/enroll/get-app")
    enrol.reach("name")

    page = client_request.get("/enroll/name")

    assert page.select_one("#nickname")["value"] == "iPhone VIP Access 2"


def test_should_show_what_will_be_saved_with_change_links(client_request, at_step_4):
    page = client_request.get("/enroll/name")

    rows = summary(page)
    assert rows["Credential ID"] == at_step_4.credential_id
    assert rows["Token name"] == "iPhone VIP Access"
    assert rows["Manufacturer"] == "SYMANTEC"
    assert rows["Issuer"] == "DRFIRST"
    assert rows["Type"] == "OTP SOFT TOKEN"
    assert rows["Model"] == "VIP"
    changes = {a["href"] for a in page.select(".summary__action a")}
    assert {"/enroll/get-app", "/enroll/credential-id"} <= changes
    assert page.select_one('form[action="/enroll/name"]')["method"] == "post"


def test_should_save_the_token_as_active_and_audit_it(client_request, at_step_4, store, clock):
    save(client_request, "  Work iPhone  ", 303, _expected_redirect="/enroll/done")

    [token] = store.tokens(at_step_4.credential_id)
    assert token.status == "Active"
    assert token.nickname == "Work iPhone"
    assert token.manufacturer == "SYMANTEC"
    assert token.issuer == "DRFIRST"
    assert token.token_type == "OTP SOFT TOKEN"
    assert token.model == "VIP"
    assert token.prescriber_id == store.prescriber().id
    assert token.created_at == clock()
    [event] = added(store, at_step_4)
    assert event.outcome == "success"
    assert event.token_id == token.id
    assert event.prescriber_id == token.prescriber_id


def test_should_record_the_verified_code_as_used(client_request, app, at_step_4, enrol, store):
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")

    oath = store.one(
        select(OathCredential).where(OathCredential.credential_id == at_step_4.credential_id)
    )
    assert oath.last_step == int(app.config["CLOCK"]().timestamp()) // 30
    with app.app_context():
        verdict = app.extensions["token_authority"].verify(
            at_step_4.credential_id, enrol.code, app.config["CLOCK"]()
        )
    assert verdict.outcome == "reused"


@pytest.mark.parametrize(
    "nickname, message",
    [
        ("", "Enter a name for this token"),
        ("    ", "Enter a name for this token"),
        ("\u200b", "Enter a name for this token"),  # a zero-width space shows nothing
        (" \u200b\ufeff\u00a0 ", "Enter a name for this token"),
        ("x" * 41, "The name must be 40 characters or fewer"),
        ("iPhone token app", DUPLICATE),
        ("IPHONE TOKEN APP", DUPLICATE),
        ("  iphone Token App ", DUPLICATE),
        ("old android", DUPLICATE),
    ],
)
def test_should_explain_a_name_it_cannot_take(client_request, at_step_4, store, nickname, message):
    page = save(client_request, nickname)

    assert page.text(".error-summary h2") == "There is a problem"
    assert page.error_summary == [("#nickname", message)]
    field = page.select_one("#nickname")
    assert field["aria-invalid"] == "true"
    assert "nickname-error" in field["aria-describedby"].split()
    assert message in page.text("#nickname-error")
    assert store.tokens(at_step_4.credential_id) == []
    client_request.get("/enroll/done", _expected_redirect="/enroll/name")


def test_should_take_a_name_of_exactly_40_characters(client_request, at_step_4, store):
    save(client_request, "n" * 40, 303, _expected_redirect="/enroll/done")
    assert store.tokens(at_step_4.credential_id)[0].nickname == "n" * 40


def test_should_take_the_name_of_a_deleted_token(client_request, demo, at_step_4, store):
    store.set_status(demo["tokens"][0]["credential_id"], "Deleted")
    save(client_request, "iPhone token app", 303, _expected_redirect="/enroll/done")


def test_should_allow_a_name_another_prescriber_uses(client_request, at_step_4, vip, store):
    store.add_other_prescriber(vip.issue().credential_id)
    save(client_request, "Jordan's work phone", 303, _expected_redirect="/enroll/done")


def test_should_save_one_token_when_save_is_pressed_twice(client_request, at_step_4, store):
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")

    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")
    save(client_request, "Another name", 303, _expected_redirect="/enroll/done")

    assert len(store.tokens(at_step_4.credential_id)) == 1
    assert len(added(store, at_step_4)) == 1
    page = client_request.get("/enroll/done")
    assert "Work iPhone" in page.text("main")


def test_should_save_one_token_when_htmx_posts_save_twice(client_request, at_step_4, store):
    first = save(client_request, "Work iPhone", 200, _htmx=True)
    second = client_request.client.post(
        "/enroll/name",
        data={"nickname": "Work iPhone"},
        headers={"HX-Request": "true", "X-CSRFToken": client_request.csrf_token()},
    )

    assert "Your token is saved" in first.h1
    assert second.status_code < 400
    assert len(store.tokens(at_step_4.credential_id)) == 1


def test_should_save_one_token_from_two_browsers(
    app, auth, client_request, csrf_token, at_step_4, vip, store, clock
):
    """Two signed-in browsers of the same prescriber, each with its own verified code."""
    other = app.test_client()
    auth.login(other)

    def token() -> str:
        return csrf_token(other, "/")

    other.post(
        "/enroll/get-app",
        data={"platform": "iphone", "different_device": "y", "csrf_token": token()},
    )
    other.post(
        "/enroll/credential-id",
        data={"credential_id": at_step_4.credential_id, "csrf_token": token()},
    )
    clock.advance(seconds=30)
    verified = other.post(
        "/enroll/security-code", data={"code": vip.code(at_step_4), "csrf_token": token()}
    )
    assert verified.headers["Location"] == "/enroll/name"

    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")
    second = other.post("/enroll/name", data={"nickname": "Work iPhone", "csrf_token": token()})

    assert len(store.tokens(at_step_4.credential_id)) == 1
    assert len(added(store, at_step_4)) == 1
    assert (second.status_code, second.headers.get("Location")) == (303, "/enroll/done"), (
        "the second browser's Save should show the token saved, not an error"
    )


def test_should_ask_for_a_fresh_code_when_the_code_is_over_10_minutes_old(
    client_request, at_step_4, store, clock
):
    clock.advance(minutes=10, seconds=1)

    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/security-code")

    assert store.tokens(at_step_4.credential_id) == []
    page = client_request.get("/enroll/security-code")
    assert STALE in page.text("main")
    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")


def test_should_send_an_old_code_back_to_the_code_step_when_showing_the_name(
    client_request, at_step_4, clock
):
    clock.advance(minutes=11)
    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")
    page = client_request.get("/enroll/security-code")
    assert STALE in page.text("main")


def test_should_save_with_a_fresh_code_after_an_old_one(
    client_request, at_step_4, enrol, store, clock
):
    clock.advance(minutes=10, seconds=1)
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/security-code")

    enrol.enter_code()
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")

    assert len(store.tokens(at_step_4.credential_id)) == 1


def test_should_still_save_a_code_verified_exactly_10_minutes_ago(
    client_request, at_step_4, store, clock
):
    clock.advance(minutes=10)
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/done")
    assert len(store.tokens(at_step_4.credential_id)) == 1


def test_should_not_save_a_code_checked_for_another_credential(
    client_request, at_step_4, enrol, vip, store
):
    other = vip.issue()
    client_request.post(
        "/enroll/credential-id",
        {"credential_id": other.credential_id},
        _expected_redirect="/enroll/security-code",
    )

    client_request.get("/enroll/name", _expected_redirect="/enroll/security-code")
    save(client_request, "Work iPhone", 303, _expected_redirect="/enroll/security-code")
    assert store.tokens(other.credential_id) == []
    assert store.tokens(at_step_4.credential_id) == []


def test_should_show_the_done_step_with_htmx(client_request, at_step_4):
    page = save(client_request, "Work iPhone", 200, _htmx=True)

    assert page.headers["HX-Push-Url"] == "/enroll/done"
    assert "<html" not in page.html
    assert "Your token is saved" in page.h1
