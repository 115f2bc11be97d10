"""Issue 3, step 2: find the Credential ID; typed forms, normalisation, and who holds it."""

import pytest

PREFIXES = ["SYMC", "SYMZ", "SYDC", "VSMT", "VSST"]
LOST = (
    "This token was reported lost, so it cannot be registered again. Reinstall the "
    "VIP Access app to get a new Credential ID, then enter the new one."
)
ANOTHER_ACCOUNT = (
    "This Credential ID is already registered to another EPCS account. Check that you are "
    "reading it from your own VIP Access app. If it is yours, call the help desk."
)
UNKNOWN = (
    "We could not find this Credential ID with Symantec. Check each character against the "
    "VIP Access app, then enter it again."
)


@pytest.fixture
def at_step_2(demo, enrol):
    enrol.reach("credential-id")
    return demo


def post_credential(client_request, typed: str, status: int = 422):
    return client_request.post(
        "/enroll/credential-id", {"credential_id": typed}, _expected_status=status
    )


def assert_credential_error(page, message: str) -> None:
    assert page.text(".error-summary h2") == "There is a problem"
    assert page.error_summary == [("#credential_id", message)]
    field = page.select_one("#credential_id")
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"].split() == ["credential_id-hint", "credential_id-error"]
    assert message in page.text("#credential_id-error")


def test_should_explain_where_the_credential_id_is(client_request, at_step_2):
    page = client_request.get("/enroll/credential-id")

    assert "Find your Credential ID" in page.h1
    assert "Token Serial Number (S/N)" in page.text("main")
    picture = page.select_one("figure img")
    assert picture["src"].endswith(".svg")
    assert "Credential ID" in picture["alt"] and "Security Code" in picture["alt"]
    field = page.select_one("#credential_id")
    assert field["name"] == "credential_id"
    assert field.get("value", "") == ""
    assert field.get("aria-invalid") is None
    assert page.select_one('form[action="/enroll/credential-id"]')["method"] == "post"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter the Credential ID shown in the VIP Access app"),
        ("   ", "Enter the Credential ID shown in the VIP Access app"),
        (" - ", "Enter the Credential ID shown in the VIP Access app"),
    ],
)
def test_should_ask_for_a_credential_id(client_request, at_step_2, typed, message):
    page = post_credential(client_request, typed)
    assert_credential_error(page, message)


@pytest.mark.parametrize(
    "typed, kind",
    [
        ("ABCD12345678", "prefix"),
        ("12345678", "prefix"),
        ("SYMX12345678", "prefix"),
        ("AVX12345678", "prefix"),  # AVT… is a key fob: see test_enrol_lookalikes.py
        ("SYMC1234567", "length"),
        ("SYMC123456789", "length"),
        ("SYMC 1234 567", "length"),
        ("SYMCABCDEFGH", "length"),
        ("SYMC1234567８", "length"),
    ],
)
def test_should_name_the_accepted_forms_for_a_credential_id_it_cannot_read(
    client_request, at_step_2, typed, kind
):
    page = post_credential(client_request, typed)

    message = page.error_summary[0][1]
    assert_credential_error(page, message)
    for prefix in PREFIXES:
        assert prefix in message
    assert "8 digits" in message
    if kind == "length":
        assert "12 characters" in message
    assert page.select_one("#credential_id")["value"] == typed.strip(), "what was typed stays"
    client_request.get("/enroll/security-code", _expected_redirect="/enroll/credential-id")


@pytest.mark.parametrize(
    "typed",
    [
        "SYMC10101010",
        "symc10101010",
        "SYMC 1010 1010",
        "  SYMC 1010 1010  ",
        "SYMC-1010-1010",
        "sYmC-1O1O-1O1O",
        "SYMCIOIOIOIO",
        "symclolololo",
        "SYMC 1o1o lOlO",
    ],
)
def test_should_accept_the_credential_id_as_people_type_it(client_request, at_step_2, vip, typed):
    vip.add("SYMC10101010")

    post_credential(client_request, typed, 303)

    page = client_request.get("/enroll/security-code")
    assert page.text("#credential-read") == "SYMC10101010"
    lookalikes = "We read the letter O as zero and the letters I and L as one"
    typed_letters = any(ch in typed.upper()[4:] for ch in "OIL")
    assert (lookalikes in page.text("main")) is typed_letters


def test_should_show_the_normalised_credential_id_when_going_back(client_request, at_step_2, vip):
    vip.add("SYMC10101010")
    post_credential(client_request, "symc-1o1o-1o1o", 303)

    page = client_request.get("/enroll/credential-id")

    assert page.select_one("#credential_id")["value"] == "SYMC10101010"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_should_accept_every_vip_access_prefix(client_request, at_step_2, vip, prefix):
    credential = vip.issue(prefix=prefix)
    post_credential(client_request, credential.credential_id.lower(), 303)


@pytest.mark.parametrize(
    "seeded, nickname", [("Active", "iPhone token app"), ("Inactive", "Old Android")]
)
def test_should_say_when_the_credential_is_already_on_your_account(
    client_request, at_step_2, seeded, nickname
):
    token = next(t for t in at_step_2["tokens"] if t["status"] == seeded)

    page = post_credential(client_request, token["credential_id"].lower())

    assert_credential_error(
        page, f"This token is already on your account as \u201c{nickname}\u201d."
    )


@pytest.mark.parametrize("status", ["Active", "Inactive"])
def test_should_reveal_nothing_about_another_account_holding_the_credential(
    client_request, at_step_2, vip, store, status
):
    credential = vip.issue()
    store.add_other_prescriber(credential.credential_id, status)

    page = post_credential(client_request, credential.credential_id)

    assert_credential_error(page, ANOTHER_ACCOUNT)
    for secret in ("Jordan", "Other", "1245319599", "work phone", status):
        assert secret not in page.html
    client_request.get("/enroll/security-code", _expected_redirect="/enroll/credential-id")


@pytest.mark.parametrize("owner", ["mine", "another account"])
def test_cant_register_a_credential_reported_lost(client_request, at_step_2, vip, store, owner):
    if owner == "mine":
        credential_id = at_step_2["tokens"][0]["credential_id"]
        store.set_status(credential_id, "Lost")
    else:
        credential_id = vip.issue().credential_id
        store.add_other_prescriber(credential_id, "Lost")

    page = post_credential(client_request, credential_id)

    assert_credential_error(page, LOST)
    assert "Jordan" not in page.html


def test_should_say_when_no_one_knows_the_credential(client_request, at_step_2):
    page = post_credential(client_request, "VSMT98765432")
    assert_credential_error(page, UNKNOWN)


def test_should_accept_a_credential_whose_token_was_deleted_elsewhere(
    client_request, at_step_2, vip, store
):
    credential = vip.issue()
    store.add_other_prescriber(credential.credential_id, "Deleted")

    post_credential(client_request, credential.credential_id, 303)


def test_should_go_to_the_security_code_with_htmx(client_request, at_step_2, vip):
    credential = vip.issue()

    page = client_request.post(
        "/enroll/credential-id",
        {"credential_id": credential.credential_id},
        _htmx=True,
        _expected_status=200,
    )

    assert page.headers["HX-Push-Url"] == "/enroll/security-code"
    assert "Enter the security code" in page.h1
    assert page.text("#credential-read") == credential.credential_id
