"""Issue 11: a lost report suspends the token; the prescriber reactivates it with a code from
it, from the lost-token pages or from the token table; reporting the last Active token asks
once more. With and without JavaScript; screenshots at 1280 and 390 px
(test-results/screenshots/suspend-<width>-<name>.png)."""

from __future__ import annotations

import re

import pytest
from helpers import enter_passphrase, fresh_code, sign_in, token_row
from playwright.sync_api import Page, expect

WIDTHS = {"1280": "page", "390": "phone_page"}  # the phone page is 390 x 844, touch
BROWSERS = {"javascript": "page", "no-javascript": "nojs_page"}


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def report_signed_out(page: Page, account, token, *, last: bool = False) -> None:
    page.goto("/lost-token")
    enter_passphrase(page, account)
    expect(heading(page)).to_have_text("Which token is lost?")
    page.get_by_role("radio", name=f"{token.nickname} ({token.credential_id}, Active)").check()
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text(f"Report {token.nickname} as lost?")
    if last:
        page.get_by_label(re.compile("^I understand that until I reactivate")).check()
    page.get_by_role("button", name="Report it lost").click()
    expect(heading(page)).to_have_text(f"{token.nickname} is reported lost")


@pytest.mark.parametrize("browser_kind", BROWSERS)
def test_report_suspend_then_reactivate_from_the_lost_token_pages(
    browser_kind: str, request: pytest.FixtureRequest, make_account
) -> None:
    page: Page = request.getfixturevalue(BROWSERS[browser_kind])
    account = make_account(("Active", "Active"))
    lost, kept = account.tokens

    report_signed_out(page, account, lost)
    expect(page.get_by_text("It is suspended: it no longer works.")).to_be_visible()

    # Signing in now offers only the other token.
    page.goto("/sign-in")
    enter_passphrase(page, account)
    expect(page.get_by_role("radio", name=re.compile(lost.credential_id))).to_have_count(0)

    # Found it: the lost-token pages again, the passphrase, then a code from it.
    page.goto("/lost-token")
    enter_passphrase(page, account)
    expect(page.get_by_role("heading", name="Found a token you reported lost?")).to_be_visible()
    page.get_by_role("link", name=f"Reactivate {lost.nickname}").click()
    expect(heading(page)).to_have_text(f"Reactivate {lost.nickname}")
    page.get_by_label("Security code").fill(fresh_code(kept))  # the other token's code
    page.get_by_role("button", name="Reactivate token").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not match")
    page.get_by_label("Security code").fill(fresh_code(lost))
    page.get_by_role("button", name="Reactivate token").click()
    expect(heading(page)).to_have_text(f"{lost.nickname} works again")

    page.get_by_role("link", name="Sign in").click()
    enter_passphrase(page, account)
    expect(page.get_by_role("radio", name=re.compile(lost.credential_id))).to_have_count(1)


@pytest.mark.parametrize("browser_kind", BROWSERS)
def test_reporting_the_last_active_token_asks_once_more(
    browser_kind: str, request: pytest.FixtureRequest, make_account
) -> None:
    page: Page = request.getfixturevalue(BROWSERS[browser_kind])
    account = make_account(("Active", "Inactive"))
    last = account.tokens[0]
    page.goto("/lost-token")
    enter_passphrase(page, account)
    page.get_by_role("radio", name=f"{last.nickname} ({last.credential_id}, Active)").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This is your only Active token.")).to_be_visible()
    page.get_by_role("button", name="Report it lost").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Confirm that you understand what follows")
    if browser_kind == "javascript":
        summary.get_by_role("link").click()
        expect(
            page.get_by_label(re.compile("^I understand that until I reactivate"))
        ).to_be_focused()
    page.get_by_label(re.compile("^I understand that until I reactivate")).check()
    page.get_by_role("button", name="Report it lost").click()
    expect(heading(page)).to_have_text(f"{last.nickname} is reported lost")
    expect(page.get_by_text("You have no Active token left.")).to_be_visible()


@pytest.mark.parametrize("browser_kind", BROWSERS)
def test_reactivate_and_confirm_lost_from_the_token_table(
    browser_kind: str, request: pytest.FixtureRequest, make_account
) -> None:
    page: Page = request.getfixturevalue(BROWSERS[browser_kind])
    account = make_account(("Active", "Suspended", "Suspended"))
    signed_in_with, found, gone = account.tokens
    sign_in(page, account, signed_in_with)
    page.goto("/tokens")
    expect(token_row(page, found)).to_contain_text("Suspended")
    expect(token_row(page, found)).to_contain_text("It can be reactivated until")

    page.get_by_role("link", name=f"Reactivate {found.nickname}", exact=True).click()
    page.get_by_label("Security code").fill(fresh_code(found))
    page.get_by_role("button", name="Reactivate token").click()
    expect(page).to_have_url(re.compile(r"/tokens$"))
    expect(token_row(page, found)).to_contain_text("Active")
    expect(page.locator("#tokens-status, .notice")).to_contain_text(
        [f"{found.nickname} is reactivated and works again."]
    )

    page.get_by_role("link", name=f"Confirm lost {gone.nickname}", exact=True).click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_label(re.compile("^I understand that this token can never be used")).check()
    page.get_by_role("button", name="Confirm it is lost").click()
    expect(token_row(page, gone)).to_contain_text("Lost")
    expect(token_row(page, gone).get_by_role("link", name=re.compile("^Reactivate"))).to_have_count(
        0
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_suspension_pages(
    width: str, request: pytest.FixtureRequest, screenshot, make_account, live_server
) -> None:
    page: Page = request.getfixturevalue(WIDTHS[width])
    account = make_account(("Active", "Inactive", "Suspended"))
    last, _inactive, suspended = account.tokens

    def shot(name: str) -> None:
        page.wait_for_load_state()
        screenshot(f"suspend-{width}-{name}", page)

    sign_in(page, account, last)
    page.goto("/tokens")
    shot("1-table-with-suspended")
    page.get_by_role("link", name=f"Reactivate {suspended.nickname}", exact=True).click()
    expect(page.get_by_role("button", name="Reactivate token")).to_be_visible()
    shot("2-inline-reactivate")
    page.goto(f"/tokens/{suspended.id}/confirm-lost")
    shot("3-confirm-lost-page")
    page.goto("/sandbox/mailbox")
    expect(heading(page)).to_have_text("Sandbox mailbox")
    shot("4-mailbox")
    page.get_by_role("button", name="Sign out").click()

    page.goto("/lost-token")
    enter_passphrase(page, account)
    expect(page.get_by_role("heading", name="Found a token you reported lost?")).to_be_visible()
    shot("5-choose-with-suspended")
    page.get_by_role("radio", name=f"{last.nickname} ({last.credential_id}, Active)").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Report it lost").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot("6-confirm-last-token-error")
    page.get_by_label(re.compile("^I understand that until I reactivate")).check()
    page.get_by_role("button", name="Report it lost").click()
    shot("7-done-no-active-left")

    page.goto("/lost-token/choose")
    page.get_by_role("link", name=f"Reactivate {suspended.nickname}").click()
    shot("8-reactivate")
    page.get_by_label("Security code").fill(fresh_code(suspended))
    page.get_by_role("button", name="Reactivate token").click()
    expect(heading(page)).to_have_text(f"{suspended.nickname} works again")
    shot("9-reactivated")
