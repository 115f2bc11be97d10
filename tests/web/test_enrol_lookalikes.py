"""Issue 14: another kind of number typed where a Credential ID or a key fob's serial is asked
for gets a message that names what it looks like, and a link to the step 1 choice that fits."""

from __future__ import annotations

import pytest

APP_PATH_HINTS = [
    (
        "FT12345678",
        "This looks like the serial number of a Symantec key fob or card, not a Credential ID.",
        ("Add a Symantec key fob or card instead", "/enroll/get-app?device=symantec-hard"),
    ),
    (
        "AVT123456789",
        "This looks like the serial number of a Symantec key fob or card, not a Credential ID.",
        ("Add a Symantec key fob or card instead", "/enroll/get-app?device=symantec-hard"),
    ),
    (
        "3315511111",
        "This looks like the serial number of a OneSpan key fob, not a Credential ID.",
        ("Add a OneSpan key fob instead", "/enroll/get-app?device=onespan"),
    ),
    (
        "33-1551111-1",
        "This looks like the serial number of a OneSpan key fob, not a Credential ID.",
        ("Add a OneSpan key fob instead", "/enroll/get-app?device=onespan"),
    ),
    (
        "UBHE12345678",
        "This looks like the Credential ID of a YubiKey, which cannot be added here. Use the "
        "VIP Access app, or a key fob your organization gave you.",
        ("Choose another token", "/enroll/get-app"),
    ),
    (
        "VSMB12345678",
        "This looks like the Credential ID of a VIP hardware token, which cannot be added here. "
        "Use the VIP Access app, or a key fob your organization gave you.",
        ("Choose another token", "/enroll/get-app"),
    ),
    (
        "123 456",
        "This looks like a security code, not a Credential ID. The Credential ID is at the top "
        "of the VIP Access app: 4 letters then 8 digits.",
        None,
    ),
    (
        "1234567893",
        "This looks like an NPI, not a Credential ID. The Credential ID is at the top of the "
        "VIP Access app: 4 letters then 8 digits.",
        None,
    ),
    (
        "AB1234563",
        "This looks like a DEA number, not a Credential ID. The Credential ID is at the top of "
        "the VIP Access app: 4 letters then 8 digits.",
        None,
    ),
]


def post_serial(client_request, typed: str):
    return client_request.post(
        "/enroll/credential-id", {"credential_id": typed}, _expected_status=422
    )


def assert_hint(page, message: str, link: tuple[str, str] | None) -> None:
    assert page.error_summary == [("#credential_id", message)]
    assert message in page.text("#credential_id-error")
    found = page.select(".lookalike a")
    if link is None:
        assert found == []
    else:
        assert [(a.text, a["href"]) for a in found] == [link]


@pytest.mark.parametrize("typed, message, link", APP_PATH_HINTS)
def test_should_name_what_was_typed_instead_of_a_credential_id(
    client_request, demo, enrol, typed, message, link
):
    enrol.reach("credential-id")
    page = post_serial(client_request, typed)
    assert_hint(page, message, link)


@pytest.mark.parametrize(
    "device, typed, message, link",
    [
        (
            "onespan",
            "SYMC12345678",
            "This looks like a Credential ID from the VIP Access app, not a OneSpan serial number.",
            ("Add the VIP Access app instead", "/enroll/get-app"),
        ),
        (
            "onespan",
            "FT12345678",
            "This looks like the serial number of a Symantec key fob or card, not a OneSpan "
            "serial number.",
            ("Add a Symantec key fob or card instead", "/enroll/get-app?device=symantec-hard"),
        ),
        (
            "symantec-hard",
            "3315511111",
            "This looks like the serial number of a OneSpan key fob, not a Symantec serial number.",
            ("Add a OneSpan key fob instead", "/enroll/get-app?device=onespan"),
        ),
        (
            "symantec-hard",
            "sydc 1234 5678",
            "This looks like a Credential ID from the VIP Access app, not a Symantec serial "
            "number.",
            ("Add the VIP Access app instead", "/enroll/get-app"),
        ),
        (
            "onespan",
            "123456",
            "This looks like the code the key fob shows, not its serial number. The serial "
            "number is printed on the back of the key fob.",
            None,
        ),
        (
            "symantec-hard",
            "AB1234563",
            "This looks like a DEA number, not a Symantec serial number. The serial number is "
            "printed on the back of the key fob.",
            None,
        ),
    ],
)
def test_should_name_what_was_typed_instead_of_a_key_fobs_serial(
    client_request, demo, enrol, device, typed, message, link
):
    enrol.reach("credential-id", device=device)
    page = post_serial(client_request, typed)
    assert_hint(page, message, link)


def test_should_say_an_npi_typed_as_a_onespan_serial_is_an_npi(client_request, demo, enrol):
    """Ten digits are a well-formed OneSpan serial; an NPI among them is still not one."""
    enrol.reach("credential-id", device="onespan")
    page = post_serial(client_request, "1245319599")
    assert_hint(
        page,
        "This looks like an NPI, not a OneSpan serial number. The serial number is printed "
        "on the back of the key fob.",
        None,
    )


def test_should_keep_the_format_message_for_text_that_looks_like_nothing(
    client_request, demo, enrol
):
    enrol.reach("credential-id")
    page = post_serial(client_request, "SYMX12345678")
    assert page.error_summary[0][1].startswith("A Credential ID starts with 4 letters")
    assert page.select(".lookalike") == []


def test_the_link_leads_to_the_key_fob_it_names(client_request, demo, enrol):
    enrol.reach("credential-id")
    page = post_serial(client_request, "FT12345678")
    link = page.select_one(".lookalike a")["href"]
    chosen = client_request.get(link)
    assert "Get your key fob ready" in chosen.h1
    assert chosen.select_one('input[name="platform"]')["value"] == "symantec-hard"


def test_the_help_desk_sees_a_look_alike_as_its_own_problem(app, client_request, demo, enrol):
    from wizard.store.models import SupportSession

    enrol.reach("credential-id")
    post_serial(client_request, "3315511111")
    with app.app_context():
        from wizard.extensions import db

        row = db.session.query(SupportSession).one()
        assert row.last_error == "credential-lookalike"
