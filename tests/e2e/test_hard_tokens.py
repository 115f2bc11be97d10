"""Issue 5: hard tokens in the wizard. A sandbox OneSpan Digipass GO key fob (serial typed with
its printed dashes), and a Symantec event-based (HOTP) key fob pressed too often, put back in
step with two codes in a row."""

from __future__ import annotations

import re

from helpers import (
    STEP_PATHS,
    PracticeApp,
    enter_code,
    expect_on_step,
    show_me,
    sign_in,
    start_enrolment,
    step_heading,
)
from playwright.sync_api import Page, expect

DEA_CONFIRMATION = re.compile("different device from the one I use to prescribe")


def choose_key_fob(page: Page, label: str, heading: str) -> None:
    """Step 1 for a key fob: the option, "Show me how", then Continue (no DEA checkbox: a key
    fob is a device of its own). Ends on step 2, "Find the serial number"."""
    start_enrolment(page)
    page.get_by_role("radio", name=label).check()
    show_me(page).click()
    expect(step_heading(page)).to_contain_text("Get your key fob ready")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_label(DEA_CONFIRMATION)).to_have_count(0)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[2]) + "$"))
    expect(step_heading(page)).to_contain_text("Find the serial number")


def save_with_name(page: Page, name: str, details: tuple[str, ...]) -> None:
    """Step 4: the suggested name, the summary of what is saved, then Save."""
    expect_on_step(page, 4)
    expect(page.get_by_label("Token name")).to_have_value(name)
    summary = page.locator("dl.summary")
    for text in details:
        expect(summary).to_contain_text(text)
    page.get_by_role("button", name="Save token").click()
    expect_on_step(page, 5)


def test_adds_a_sandbox_onespan_key_fob(page: Page, account) -> None:
    sign_in(page, account)
    fob = PracticeApp.open(page.context, kind="onespan")
    serial = fob.credential_id  # 10 digits
    page.bring_to_front()

    choose_key_fob(page, "OneSpan Digipass GO 6 or GO 7 key fob", "OneSpan Digipass GO 6 or GO 7")
    expect(
        page.get_by_role("img", name=re.compile("back of a OneSpan Digipass GO"))
    ).to_be_visible()
    expect(page.get_by_text("Hold the button for 6 seconds")).to_be_visible()
    page.get_by_label("Serial number (S/N)").fill(f"{serial[:2]}-{serial[2:9]}-{serial[9]}")
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 3)
    expect(page.locator("#credential-read")).to_have_text(serial)
    expect(page.get_by_text("Press the button on the key fob")).to_be_visible()

    code = fob.code()
    page.bring_to_front()
    enter_code(page, code)
    save_with_name(page, "OneSpan key fob", ("ONESPAN", "OTP HARD TOKEN", "DIGIPASS GO", serial))
    expect(page.get_by_text(f"OneSpan key fob ({serial}) is now Active")).to_be_visible()

    page.goto("/tokens")
    row = page.get_by_role("row").filter(has_text=serial)
    for text in (
        "OneSpan key fob",
        "ONESPAN",
        "DRFIRST",
        "OTP HARD TOKEN",
        "DIGIPASS GO",
        "Active",
    ):
        expect(row).to_contain_text(text)


def test_resynchronises_an_hotp_key_fob_pressed_too_often(nojs_page: Page, account) -> None:
    """Pressed 30 times without use: beyond the look-ahead of 10, so the wizard asks for two
    codes in a row (look-ahead 100) and continues when they follow each other."""
    page = nojs_page
    sign_in(page, account)
    fob = PracticeApp.open(page.context, kind="symantec-hard")
    serial = fob.credential_id
    page.bring_to_front()

    def pressed(times: int) -> str:
        """The code the key fob shows after `times` more presses (the sandbox's API)."""
        response = page.request.get(f"/sandbox/api/otp/{serial}?presses={times}")
        assert response.ok, f"{response.url} answered {response.status}"
        return response.json()["code"]

    codes = {n: pressed(n) for n in (30, 31, 32, 33)}

    choose_key_fob(page, "Symantec VIP key fob or card", "Symantec VIP key fob or card")
    page.get_by_label("Serial number (S/N)").fill(serial.lower())
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 3)
    expect(page.locator("#credential-read")).to_have_text(serial)

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        enter_code(page, codes[30])
    assert posted.value.status == 422
    expect(page.get_by_role("alert").filter(has_text="out of step")).to_contain_text(
        "Your key fob is out of step with our records."
    )
    expect_on_step(page, 3)
    first, following = page.get_by_label("First code"), page.get_by_label("Next code")
    expect(first).to_be_visible()
    expect(following).to_be_visible()

    # The prescriber presses twice more, as the page asks.
    first.fill(codes[31])
    following.fill(codes[32])
    page.get_by_role("button", name="Check code").click()
    save_with_name(
        page, "Symantec key fob", ("SYMANTEC", "OTP HARD TOKEN", "VIP HARD TOKEN", serial)
    )

    # Back in step: the next press after the two accepted codes is the 33rd.
    assert pressed(1) == codes[33]
