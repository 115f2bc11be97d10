"""Issue 14 in the browser: navigation and alignment, look-alike serials, /start keeping the
Invitation ID, the key fob's step 2, the Done page's one primary button, the sandbox's links on
the sign-in code page, step 1 remembering the device, and the help desk's resolved problem.
Screenshots of every page changed, at 1280 and 390 px wide:
test-results/screenshots/polish-<width>-<name>.png. Look at them."""

from __future__ import annotations

import re

import pytest
from helpdesk_browser import look_up, ready_agent, support_code
from helpers import (
    PracticeApp,
    choose_device,
    confirm_and_continue,
    enter_code,
    enter_credential_id,
    enter_passphrase,
    fresh_code,
    sign_in,
    start_enrolment,
    step_heading,
    wrong_code,
)
from playwright.sync_api import BrowserContext, Page, expect

WIDTHS = {"1280": "page", "390": "phone_page"}
NAV = "Your account"
CHECK_DIGIT = "its last digit (the check digit) does not match the other nine"
KEPT = "We kept the Invitation ID you entered"


def left(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["x"]


def to_step_2(page: Page, device: str = "iPhone") -> None:
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Add a token").click()
    expect(step_heading(page)).to_contain_text("Step 1 of 5")
    if device in ("iPhone", "Android"):
        choose_device(page, device)
        confirm_and_continue(page)
    else:
        page.get_by_role("radio", name=re.compile(device)).check()
        page.get_by_role("button", name=re.compile(r"^Show me")).click()
        page.get_by_role("button", name="Continue").click()
        expect(step_heading(page)).to_contain_text("Find the serial number")


def save_a_practice_token(page: Page) -> None:
    """From step 2: a new practice credential, its code, then Save token."""
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)
    enter_code(page, phone.code())
    page.bring_to_front()
    page.get_by_role("button", name="Save token").click()


def test_the_token_table_lines_up_with_the_header_and_the_nav_marks_it(page: Page, account) -> None:
    sign_in(page, account)
    nav = page.get_by_role("navigation", name=NAV)
    expect(nav.get_by_role("link")).to_have_text(["Account", "Tokens", "Add a token", "Help"])
    expect(nav.locator("[aria-current=page]")).to_have_text("Account")
    on_account = left(page, ".site-header__name")
    nav.get_by_role("link", name="Tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your tokens")
    expect(nav.locator("[aria-current=page]")).to_have_text("Tokens")
    assert page.viewport_size["width"] == 1280
    header = left(page, ".site-header__name")
    assert header == on_account, "the header moved sideways between Account and Tokens"
    for part in ("h1", ".site-nav__link", ".token-table", ".site-footer p"):
        assert abs(left(page, part) - header) <= 1, f"{part} starts left of the header"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_key_fob_serial_typed_as_a_credential_id_links_to_the_key_fob(
    javascript: bool, page: Page, nojs_page: Page, account
) -> None:
    page = page if javascript else nojs_page
    sign_in(page, account)
    to_step_2(page)
    page.get_by_label("Credential ID").fill("3315511111")
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text("This looks like the serial number of a OneSpan key fob")
    if javascript:
        expect(summary).to_be_focused()
    page.get_by_role("link", name="Add a OneSpan key fob instead").click()
    expect(step_heading(page)).to_contain_text("Get your key fob ready")
    expect(page.get_by_role("radio", name=re.compile("OneSpan"))).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text("Find the serial number")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_start_keeps_the_invitation_id_when_only_the_npi_was_mistyped(
    javascript: bool, page: Page, nojs_page: Page, invite
) -> None:
    page = page if javascript else nojs_page
    invitation = invite()
    page.goto("/start")
    page.get_by_label("Invitation ID").fill(invitation.code)
    mistyped = invitation.npi[:-1] + str((int(invitation.npi[-1]) + 1) % 10)
    page.get_by_label("NPI", exact=True).fill(mistyped)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text(CHECK_DIGIT)
    expect(page.get_by_text(KEPT)).to_be_visible()
    expect(page.get_by_label("Invitation ID")).to_have_value("")
    expect(page.get_by_label("NPI", exact=True)).to_have_value(mistyped)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this you?")


def test_the_onespan_serial_fits_its_label(page: Page) -> None:
    page.goto("/static/img/digipass-back.svg")
    boxes = page.evaluate(
        """() => {
            const box = el => {
                const b = el.getBBox();
                return [b.x, b.y, b.x + b.width, b.y + b.height];
            };
            const texts = [...document.querySelectorAll("text")];
            const serial = texts.find(t => t.textContent.startsWith("S/N"));
            const label = document.querySelectorAll("rect")[1];
            return {serial: box(serial), label: box(label)};
        }"""
    )
    (sx1, sy1, sx2, sy2), (lx1, ly1, lx2, ly2) = boxes["serial"], boxes["label"]
    assert lx1 < sx1 and sx2 < lx2 and ly1 < sy1 and sy2 < ly2, boxes


def test_step_1_remembers_the_device_shown(page: Page, account) -> None:
    sign_in(page, account)
    start_enrolment(page)
    choose_device(page, "Android")
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Help").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help")
    page.get_by_role("navigation", name=NAV).get_by_role("link", name="Add a token").click()
    expect(page.get_by_role("radio", name=re.compile("Android"))).to_be_checked()
    expect(page.get_by_role("heading", name="Symantec VIP Access")).to_be_visible()


def test_the_sign_in_code_page_links_to_the_practice_app(
    page: Page, context: BrowserContext, account
) -> None:
    page.goto("/sign-in")
    enter_passphrase(page, account)
    token = account.token()
    with context.expect_page() as opened:
        page.get_by_role("link", name=re.compile(f"Practice app of .{token.nickname}")).click()
    app = opened.value
    expect(app.locator("#credential-id")).to_have_text(
        re.compile(re.escape(token.credential_id[:4]) + r" \d{4} \d{4}")
    )
    expect(app.locator("#security-code")).to_have_text(re.compile(r"^\d{6}$"))


def test_the_help_desk_sees_the_problem_resolved_once_done_is_reached(
    live_server, page: Page, context: BrowserContext, new_context, account, screenshot
) -> None:
    sign_in(page, account)
    code = support_code(page)
    start_enrolment(page)
    choose_device(page, "iPhone")
    confirm_and_continue(page)
    phone = PracticeApp.open(context)
    page.bring_to_front()
    page.get_by_label("Credential ID").fill(phone.shown_id)
    page.get_by_role("button", name="Continue").click()
    enter_code(page, wrong_code(live_server.app, phone.credential_id))
    expect(page.get_by_role("alert")).to_contain_text("That code did not match")

    agent_page = new_context().new_page()
    ready_agent(live_server.app, agent_page)
    look_up(agent_page, code)
    problem = agent_page.locator("#live-error")
    expect(problem).to_contain_text("What to say")
    expect(agent_page.locator("#live-sign-in-token")).to_contain_text(account.token().nickname)

    enter_code(page, phone.code())
    page.get_by_role("button", name="Save token").click()
    expect(step_heading(page)).to_contain_text("Your token is saved")
    expect(problem).to_contain_text("Resolved", timeout=3000)  # the panel polls every second
    expect(problem).not_to_contain_text("What to say")
    screenshot("polish-1280-helpdesk-resolved", agent_page)


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_pages_issue_14_changed(
    width: str,
    request: pytest.FixtureRequest,
    screenshot,
    make_account,
    invite,
    live_server,
    new_context,
) -> None:
    page: Page = request.getfixturevalue(WIDTHS[width])
    account = make_account(("Active", "Inactive"))
    first = account.token()

    def shot(name: str, on: Page | None = None) -> None:
        (on or page).wait_for_load_state()
        screenshot(f"polish-{width}-{name}", on or page)

    page.goto("/start")
    page.get_by_label("Invitation ID").fill(invite().code)
    page.get_by_label("NPI", exact=True).fill("1234567890")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(KEPT)).to_be_visible()
    shot("start-npi-mistyped")

    page.goto("/sign-in")
    enter_passphrase(page, account)
    expect(page.get_by_role("link", name=re.compile("Practice app of"))).to_be_visible()
    shot("sign-in-code-sandbox")
    page.get_by_role("radio", name=re.compile(first.nickname)).check()
    page.get_by_label("Security code").fill(fresh_code(first))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name=NAV)).to_be_visible()
    shot("account")
    page.goto("/tokens")
    shot("tokens")
    page.goto("/help")
    shot("help")

    to_step_2(page)
    page.get_by_label("Credential ID").fill("FT12345678")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Add a Symantec key fob or card instead")).to_be_visible()
    shot("credential-id-lookalike")
    page.goto("/enroll/get-app?device=onespan&show=1")
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text("Find the serial number")
    shot("serial-number-onespan")
    page.get_by_label("Serial number (S/N)").fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("the code the key fob shows")
    shot("serial-number-lookalike")

    # Done, with the backup recommended: one primary button.
    page.goto("/enroll/get-app?device=iphone&show=1")
    page.get_by_label(re.compile("different device")).check()
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text("Find your Credential ID")
    save_a_practice_token(page)
    expect(step_heading(page)).to_contain_text("Your token is saved")
    expect(page.locator("main .button--primary")).to_have_count(1)
    shot("done")

    # A new prescriber's first token: Done recommends a backup, with one primary button.
    page.get_by_role("button", name="Sign out").click()
    invitation = invite()
    page.goto("/start")
    page.get_by_label("Invitation ID").fill(invitation.code)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Yes, this is me").click()
    page.get_by_label("New passphrase").fill("amber canyon ledger 2041")
    page.get_by_label("Enter the passphrase again").fill("amber canyon ledger 2041")
    page.get_by_role("button", name="Create passphrase and continue").click()
    choose_device(page, "iPhone")
    confirm_and_continue(page)
    save_a_practice_token(page)
    expect(page.get_by_role("heading", name="Add a backup token")).to_be_visible()
    expect(page.locator("main .button--primary")).to_have_text(["Add a backup token"])
    shot("done-backup")
    page.get_by_role("button", name="Not now").click()
    expect(page.get_by_role("heading", name=re.compile("do not want a backup"))).to_be_visible()
    expect(page.locator("main .button--primary")).to_have_text(["Add a backup token"])
    shot("done-backup-not-now")

    # The help desk: setup (no signed-in agent yet), the live view, the script.
    agent_page = new_context(viewport=page.viewport_size).new_page()
    from helpdesk_browser import new_agent, set_up, sign_in_agent

    agent, path = new_agent(live_server.app)
    agent_page.goto(path)
    expect(agent_page.get_by_text("Help desk:")).to_have_count(0)
    shot("helpdesk-setup", agent_page)
    set_up(agent_page, agent, path)
    sign_in_agent(agent_page, agent)
    look_up(agent_page, support_code(page))
    shot("helpdesk-live", agent_page)
    agent_page.get_by_role("link", name="Script").click()
    shot("helpdesk-script", agent_page)
