"""Issue 3: adding a VIP Access soft token in Chromium, with and without JavaScript.

Each test signs in through /sign-in as its own fresh prescriber (the `account` fixture) and
enrols a new practice credential from /sandbox/vip-access, so no test depends on another.
"""

from __future__ import annotations

import re

from helpers import (
    STEP_HEADINGS,
    STEP_PATHS,
    STEP_TITLES,
    WRONG_CODE_MESSAGE,
    PracticeApp,
    choose_device,
    confirm_and_continue,
    enter_code,
    enter_credential_id,
    expect_on_step,
    focused,
    reach_security_code,
    show_me,
    sign_in,
    start_enrolment,
    step_heading,
    tab_to,
    wrong_code,
)
from playwright.sync_api import Page, Response, expect


def is_post_to(number: int):
    return lambda r: r.request.method == "POST" and r.url.endswith(STEP_PATHS[number])


def expect_swapped_to(page: Page, response: Response, number: int) -> None:
    """After an htmx post: the next step swapped in, its URL pushed, focus on its heading,
    the live region announcing it, and the indicator marking it current."""
    assert response.status == 200, f"{response.url} answered {response.status}"
    assert response.headers.get("hx-push-url") == STEP_PATHS[number]
    expect_on_step(page, number)
    expect(step_heading(page)).to_be_focused()
    assert page.evaluate("document.activeElement.tagName") == "H1", focused(page)
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text(f"Step {number} of 5: {STEP_TITLES[number]}")


def test_enrols_a_token_with_javascript(page: Page, live_server, account) -> None:
    sign_in(page, account)
    start_enrolment(page)
    expect_on_step(page, 1)
    page.wait_for_load_state()  # htmx is a deferred script
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    page.evaluate("window.sameDocument = true")  # gone if any step reloads the whole page

    # Step 1: the device, its app, and the DEA rule.
    choose_device(page, "iPhone")
    expect(
        page.get_by_text("The app is free: if it asks you to pay, it is the wrong app.")
    ).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile("QR code linking to VIP Access for iPhone"))
    ).to_be_visible()
    page.get_by_label(re.compile("different device from the one I use to prescribe")).check()
    with page.expect_response(is_post_to(1)) as posted:
        page.get_by_role("button", name="Continue").click()
    expect_swapped_to(page, posted.value, 2)

    # Step 2: the Credential ID, read from the practice app in a second tab, typed with spaces.
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    page.get_by_label("Credential ID").fill(phone.shown_id)
    with page.expect_response(is_post_to(2)) as posted:
        page.get_by_role("button", name="Continue").click()
    expect_swapped_to(page, posted.value, 3)
    expect(page.locator("#credential-read")).to_have_text(phone.credential_id)

    # Step 3: a wrong code first: 422, the same step in place, focus on the error summary.
    code_field = page.get_by_label("Security code")
    expect(code_field).to_have_attribute("type", "password")
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    expect(code_field).to_have_attribute("inputmode", "numeric")
    expect(code_field).not_to_have_attribute("maxlength", re.compile(".*"))
    with page.expect_response(is_post_to(3)) as posted:
        enter_code(page, wrong_code(live_server.app, phone.credential_id))
    assert posted.value.status == 422
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[3]) + "$"))
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text(WRONG_CODE_MESSAGE)
    expect(summary).to_be_focused()
    expect(page.locator(".field-error")).to_have_text(f"Error: {WRONG_CODE_MESSAGE}")
    expect(page.get_by_label("Security code")).to_have_value("")  # the code is never shown again
    expect_on_step(page, 3)

    # ...then the right one, read fresh from the phone.
    code = phone.code()
    page.bring_to_front()
    with page.expect_response(is_post_to(3)) as posted:
        enter_code(page, f"{code[:3]} {code[3:]}")  # spaces are allowed
    expect_swapped_to(page, posted.value, 4)

    # Step 4: the suggested name and the summary, then Save.
    nickname = page.get_by_label("Token name")
    expect(nickname).to_have_value(re.compile(r"^iPhone VIP Access( \d+)?$"))
    name = f"Test iPhone {phone.credential_id[-4:]}"
    nickname.fill(name)
    details = page.locator("dl.summary")
    for text in ("SYMANTEC", "DRFIRST", "OTP SOFT TOKEN", "VIP", phone.credential_id):
        expect(details).to_contain_text(text)
    with page.expect_response(is_post_to(4)) as posted:
        page.get_by_role("button", name="Save token").click()
    expect_swapped_to(page, posted.value, 5)
    expect(page.get_by_text(f"{name} ({phone.credential_id}) is now Active")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True, "a step loaded a whole page"

    # The token is on the account, Active.
    page.get_by_role("link", name="Go to your account").click()
    row = page.get_by_role("row").filter(has_text=phone.credential_id)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Active")


def test_enrols_a_token_without_javascript(nojs_page: Page, account) -> None:
    page = nojs_page
    sign_in(page, account)
    start_enrolment(page)
    expect_on_step(page, 1)

    choose_device(page, "Android")
    expect(page).to_have_url(re.compile(r"/enroll/get-app\?device=android(&show=1)?$"))
    expect(page.get_by_role("heading", name="Symantec VIP Access")).to_be_visible()
    with page.expect_response(is_post_to(1)) as posted:
        confirm_and_continue(page)
    assert posted.value.status == 303
    expect_on_step(page, 2)

    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id.lower())
    expect_on_step(page, 3)
    expect(page.locator("#credential-read")).to_have_text(phone.credential_id)

    with page.expect_response(is_post_to(3)) as posted:
        enter_code(page, "12345")  # too short
    assert posted.value.status == 422
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    expect_on_step(page, 3)

    enter_code(page, phone.code())
    expect_on_step(page, 4)
    expect(page.get_by_label("Token name")).to_have_value(
        re.compile(r"^Android VIP Access( \d+)?$")
    )
    name = f"No-JS Android {phone.credential_id[-4:]}"
    page.get_by_label("Token name").fill(name)
    with page.expect_response(is_post_to(4)) as posted:
        page.get_by_role("button", name="Save token").click()
    assert posted.value.status == 303
    expect_on_step(page, 5)
    expect(page.get_by_text(f"{name} ({phone.credential_id}) is now Active")).to_be_visible()
    # Without JavaScript nothing announces or moves focus: the page load itself does that.
    expect(page.locator("#announcer")).to_have_text("")


def test_reload_and_back_resume_where_the_prescriber_was(page: Page, account) -> None:
    sign_in(page, account)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    reach_security_code(page, phone)

    page.reload()
    expect_on_step(page, 3)
    expect(page.locator("#credential-read")).to_have_text(phone.credential_id)

    page.go_back()
    expect_on_step(page, 2)
    expect(page.get_by_label("Credential ID")).to_have_value(phone.credential_id)

    # A later step asked for too early sends the prescriber to the furthest allowed one.
    page.goto(STEP_PATHS[4])
    expect_on_step(page, 3)


def test_show_clear_text_toggles_the_code_field_with_javascript(page: Page, account) -> None:
    sign_in(page, account)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    reach_security_code(page, phone)

    field = page.get_by_label("Security code")
    field.fill("123 456")
    expect(field).to_have_attribute("type", "password")
    toggle = page.get_by_role("switch", name="Show clear text")
    expect(toggle).to_have_attribute("aria-checked", "false")
    toggle.click()
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_value("123 456")  # toggled in place: what was typed stays
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[3]) + "$"))
    toggle = page.get_by_role("switch", name="Hide clear text")
    expect(toggle).to_have_attribute("aria-checked", "true")
    toggle.press("Space")
    expect(field).to_have_attribute("type", "password")


def test_show_clear_text_works_without_javascript(nojs_page: Page, account) -> None:
    page = nojs_page
    sign_in(page, account)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    reach_security_code(page, phone)

    field = page.get_by_label("Security code")
    expect(field).to_have_attribute("type", "password")
    page.get_by_role("link", name="Show clear text").click()
    expect(field).to_have_attribute("type", "text")
    page.get_by_role("link", name="Hide clear text").click()
    expect(field).to_have_attribute("type", "password")
    expect_on_step(page, 3)


def test_steps_1_and_2_work_with_the_keyboard_alone(page: Page, screenshot, account) -> None:
    sign_in(page, account)
    phone = PracticeApp.open(page.context)
    shown_id = phone.shown_id
    phone.page.close()
    start_enrolment(page)

    # Step 1: Tab into the device radios, Space to pick iPhone, Enter on "Show me the app".
    iphone = page.get_by_role("radio", name=re.compile(r"\biPhone\b"))
    tab_to(page, iphone)
    page.keyboard.press("Space")
    expect(iphone).to_be_checked()
    tab_to(page, show_me(page))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="VIP Access for iPhone")).to_be_visible()
    expect(step_heading(page)).to_be_focused()

    confirm = page.get_by_label(re.compile("different device from the one I use to prescribe"))
    tab_to(page, confirm)
    page.keyboard.press("Space")
    expect(confirm).to_be_checked()
    continue_button = page.get_by_role("button", name="Continue")
    tab_to(page, continue_button)
    screenshot("enrol-1280-keyboard-focus-continue", page, full_page=False)
    page.keyboard.press("Enter")
    expect_on_step(page, 2)
    expect(step_heading(page)).to_be_focused()

    # Step 2: Tab to the field, type the ID as the app shows it, Enter submits.
    field = page.get_by_label("Credential ID")
    tab_to(page, field)
    page.keyboard.type(shown_id)
    page.keyboard.press("Enter")
    expect_on_step(page, 3)
    expect(step_heading(page)).to_be_focused()
    expect(page.locator("#credential-read")).to_have_text(shown_id.replace(" ", ""))
    assert STEP_HEADINGS[3] in focused(page)


def test_show_me_the_app_without_a_device_asks_for_one(page: Page, account) -> None:
    sign_in(page, account)
    start_enrolment(page)
    with page.expect_response(lambda r: "/enroll/get-app" in r.url) as shown:
        show_me(page).click()
    assert shown.value.status == 422
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text(re.compile(r"Select the (device|token)"))
    expect(summary).to_be_focused()


def test_credential_id_errors_name_the_accepted_forms_and_the_owner(page: Page, account) -> None:
    sign_in(page, account)
    start_enrolment(page)
    choose_device(page)
    confirm_and_continue(page)

    field = page.get_by_label("Credential ID")
    field.fill("SYMC 1234")
    with page.expect_response(is_post_to(2)) as posted:
        page.get_by_role("button", name="Continue").click()
    assert posted.value.status == 422
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[2]) + "$"))
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("SYMC12345678")
    expect(field).to_have_value("SYMC 1234")  # what was typed stays for correcting
    expect(field).to_have_attribute("aria-invalid", "true")

    # The prescriber's own Active token: named back, nothing else.
    mine = account.token()
    field.fill(mine.credential_id)
    page.get_by_role("button", name="Continue").click()
    expect(summary).to_contain_text(
        f"This token is already on your account as \u201c{mine.nickname}\u201d."
    )
    expect_on_step(page, 2)
