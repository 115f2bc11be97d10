"""Screenshots of the pages around the wizard at desktop and phone widths: sign-in, the code
step, the account page, the token table with an inline action open, the lost-token pages and
the onboarding pages. test-results/screenshots/<area>-<width>-<name>.png. Look at them."""

from __future__ import annotations

import pytest
from helpers import choose_token, enter_passphrase, fresh_code
from playwright.sync_api import Page, expect

WIDTHS = {"1280": "page", "390": "phone_page"}  # the phone page is 390 x 844, touch


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_account_pages(
    width: str, request: pytest.FixtureRequest, screenshot, make_account, invite
) -> None:
    page: Page = request.getfixturevalue(WIDTHS[width])
    assert page.viewport_size is not None and page.viewport_size["width"] == int(width)
    account = make_account(("Active", "Active", "Inactive"))
    kept, lost, _inactive = account.tokens

    def shot(area: str, name: str) -> None:
        page.wait_for_load_state()
        screenshot(f"{area}-{width}-{name}", page)

    def heading(text: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text(text)

    # Report a lost token (signed out: NPI and passphrase only).
    page.goto("/lost-token")
    heading("Report a lost token")
    shot("lost", "1-passphrase")
    enter_passphrase(page, account)
    heading("Which token is lost?")
    shot("lost", "2-choose")
    page.get_by_role("radio", name=f"{lost.nickname} ({lost.credential_id}, Active)").check()
    page.get_by_role("button", name="Continue").click()
    heading(f"Report {lost.nickname} as lost?")
    shot("lost", "3-confirm")
    page.get_by_role("button", name="Report it lost").click()
    heading(f"{lost.nickname} is reported lost")
    shot("lost", "4-done")

    # Sign in, with a failed passphrase first.
    page.goto("/sign-in")
    heading("Sign in")
    shot("auth", "sign-in")
    enter_passphrase(page, account, "not the passphrase at all")
    expect(page.get_by_role("alert")).to_contain_text("We could not sign you in")
    shot("auth", "sign-in-error")
    enter_passphrase(page, account)
    heading("Enter a code from your token")
    shot("auth", "sign-in-code")
    choose_token(page, kept).check()
    page.get_by_label("Security code").fill(fresh_code(kept))
    page.get_by_role("button", name="Sign in").click()
    heading(account.name)
    shot("account", "dashboard")

    # The token table, then one row's action open in place (the last Active token's guard).
    page.get_by_role("link", name="Manage tokens").click()
    heading("Manage your tokens")
    shot("tokens", "table")
    page.get_by_role("link", name=f"Delete {kept.nickname}", exact=True).click()
    expect(page.get_by_text("This is your only Active token.")).to_be_visible()
    shot("tokens", "inline-delete-last-token")
    page.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    shot("tokens", "inline-delete-error")

    # Onboarding with an invitation (after signing out).
    page.get_by_role("button", name="Sign out").click()
    invitation = invite()
    page.goto("/start")
    heading("Set up your EPCS account")
    shot("onboarding", "1-start")
    page.get_by_label("Invitation ID").fill(invitation.code)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    heading("Is this you?")
    shot("onboarding", "2-confirm")
    page.get_by_role("button", name="Yes, this is me").click()
    heading("Create your passphrase")
    shot("onboarding", "3-passphrase")
    page.get_by_label("New passphrase").fill("short")
    page.get_by_role("button", name="Create passphrase and continue").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    shot("onboarding", "3-passphrase-error")
