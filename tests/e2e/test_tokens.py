"""Issue 5: the token table. Disable (temporarily), enable with a code, delete and "Show deleted
tokens": with JavaScript each action's form opens in its row, and its result refreshes the
table, the limit notice or Add a token, and the backup reminder (the URL stays /tokens, focus
moves to the changed row, or to the status message when the row is gone, and the status region
says what happened); without JavaScript each goes through a confirmation page and back to
/tokens with the message. And the last Active token's guard.
"""

from __future__ import annotations

import re

from helpers import fresh_code, sign_in, token_row, wrong_code
from playwright.sync_api import Page, expect

TOKENS_URL = re.compile(r"/tokens$")
TEMPORARY = re.compile(r"^Temporarily unavailable")
CONSEQUENCE = "This is your only Active token."
ACKNOWLEDGE = re.compile(r"I understand that without an Active token")


def action(page: Page, verb: str, token) -> None:
    """Follow a row's action link: "Disable Token 2" (the name is there for screen readers)."""
    page.get_by_role("link", name=f"{verb} {token.nickname}", exact=True).click()


def expect_row_swapped(page: Page, token, status: str, message: str) -> None:
    """After an htmx action: still /tokens, the row in its new status, focus on its name,
    the status region saying what happened."""
    expect(page).to_have_url(TOKENS_URL)
    row = token_row(page, token)
    expect(row).to_contain_text(status)
    expect(row.get_by_role("rowheader")).to_be_focused()
    expect(page.locator("#tokens-status")).to_have_text(message)


def expect_row_gone(page: Page, token, message: str) -> None:
    """After an htmx delete: still /tokens, the row gone, focus on the status message."""
    expect(page).to_have_url(TOKENS_URL)
    expect(token_row(page, token)).to_have_count(0)
    status = page.locator("#tokens-status")
    expect(status).to_have_text(message)
    expect(status).to_be_focused()


def test_disable_enable_delete_and_show_deleted_with_javascript(page: Page, make_account) -> None:
    account = make_account(("Active", "Active"))
    signed_in_with, token = account.tokens
    sign_in(page, account, signed_in_with)
    page.get_by_role("link", name="Manage tokens").click()
    expect(page).to_have_url(TOKENS_URL)
    headers = page.get_by_role("columnheader")
    expect(headers).to_have_text(
        [
            "Token name",
            "Credential ID",
            "Manufacturer",
            "Issuer",
            "Type",
            "Model",
            "Status",
            "Actions",
        ]
    )
    page.wait_for_load_state()  # htmx is a deferred script
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    page.evaluate("window.sameDocument = true")  # gone if an action reloads the page

    # Cancel puts the row back as it was.
    action(page, "Disable", token)
    form_heading = page.get_by_role("heading", name=f"Disable {token.nickname}")
    expect(form_heading).to_be_focused()
    page.get_by_role("link", name="Cancel").click()
    expect(
        token_row(page, token).get_by_role("link", name=f"Disable {token.nickname}")
    ).to_be_visible()

    # Disable, temporarily.
    action(page, "Disable", token)
    expect(page).to_have_url(TOKENS_URL)
    expect(form_heading).to_be_focused()
    page.get_by_role("radio", name=TEMPORARY).check()
    page.get_by_role("button", name="Disable token").click()
    expect_row_swapped(
        page, token, "Inactive", f"{token.nickname} is disabled. You can enable it again later."
    )
    expect(
        token_row(page, token).get_by_role("link", name=f"Enable {token.nickname}")
    ).to_be_visible()

    # Enable, with a code from that token.
    action(page, "Enable", token)
    expect(page.get_by_role("heading", name=f"Enable {token.nickname}")).to_be_focused()
    page.get_by_label("Security code from this token").fill(fresh_code(token))
    page.get_by_role("button", name="Enable token").click()
    expect_row_swapped(page, token, "Active", f"{token.nickname} is enabled.")

    # Delete: the row goes, as after a reload; the message takes the focus.
    action(page, "Delete", token)
    expect(page.get_by_role("heading", name=f"Delete {token.nickname}")).to_be_focused()
    page.get_by_role("button", name="Delete token").click()
    expect_row_gone(page, token, f"{token.nickname} is deleted.")
    assert page.evaluate("window.sameDocument") is True, "an action loaded a whole page"

    # Deleted rows are hidden, until asked for; nothing is erased.
    page.reload()
    expect(token_row(page, token)).to_have_count(0)
    expect(token_row(page, signed_in_with)).to_contain_text("Active")
    page.get_by_role("link", name="Show deleted tokens").click()
    expect(page).to_have_url(re.compile(r"/tokens\?deleted=1$"))
    expect(token_row(page, token)).to_contain_text("Deleted")
    expect(page.get_by_role("link", name="Hide deleted tokens")).to_be_visible()


def test_disable_enable_delete_and_show_deleted_without_javascript(
    nojs_page: Page, make_account
) -> None:
    page = nojs_page
    account = make_account(("Active", "Active"))
    signed_in_with, token = account.tokens
    sign_in(page, account, signed_in_with)
    page.goto("/tokens")

    def confirmation_page(verb: str) -> None:
        action(page, verb, token)
        expect(page).to_have_url(re.compile(rf"/tokens/{token.id}/{verb.lower()}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{verb} a token")
        expect(page.locator("dl.summary")).to_contain_text(token.credential_id)

    def back_on_the_table(status: str, message: str) -> None:
        expect(page).to_have_url(TOKENS_URL)
        expect(page.get_by_role("status").filter(has_text=message)).to_be_visible()
        expect(token_row(page, token)).to_contain_text(status)

    confirmation_page("Disable")
    page.get_by_role("radio", name=TEMPORARY).check()
    page.get_by_role("button", name="Disable token").click()
    back_on_the_table("Inactive", f"{token.nickname} is disabled. You can enable it again later.")

    confirmation_page("Enable")
    page.get_by_label("Security code from this token").fill(fresh_code(token))
    page.get_by_role("button", name="Enable token").click()
    back_on_the_table("Active", f"{token.nickname} is enabled.")

    confirmation_page("Delete")
    page.get_by_role("button", name="Delete token").click()
    expect(page).to_have_url(TOKENS_URL)
    expect(
        page.get_by_role("status").filter(has_text=f"{token.nickname} is deleted.")
    ).to_be_visible()
    expect(token_row(page, token)).to_have_count(0)
    page.get_by_role("link", name="Show deleted tokens").click()
    expect(token_row(page, token)).to_contain_text("Deleted")

    # The one left is the last Active token: its page states the consequence and asks for
    # the acknowledgement and a code before anything happens.
    page.get_by_role("link", name="Hide deleted tokens").click()
    action(page, "Delete", signed_in_with)
    expect(page.get_by_text(CONSEQUENCE)).to_be_visible()
    expect(page.get_by_text("entire identity proofing again").first).to_be_visible()
    page.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "Confirm that you understand the consequence"
    )
    page.goto("/tokens")
    expect(token_row(page, signed_in_with)).to_contain_text("Active")


def test_the_last_active_token_needs_the_consequence_accepted_and_its_code(
    page: Page, make_account, live_server
) -> None:
    account = make_account(("Active", "Active"))
    last, signed_in_with = account.tokens
    sign_in(page, account, signed_in_with)
    page.goto("/tokens")

    # Disabling one of two Active tokens needs no code and no second confirmation.
    action(page, "Disable", signed_in_with)
    expect(page.get_by_text(CONSEQUENCE)).to_have_count(0)
    page.get_by_role("radio", name=TEMPORARY).check()
    page.get_by_role("button", name="Disable token").click()
    expect_row_swapped(
        page,
        signed_in_with,
        "Inactive",
        f"{signed_in_with.nickname} is disabled. You can enable it again later.",
    )

    # Now the other is the last Active token.
    action(page, "Delete", last)
    guard = token_row(page, last)
    expect(guard).to_contain_text(CONSEQUENCE)
    expect(guard).to_contain_text("you must complete the entire identity proofing again")
    page.get_by_role("button", name="Delete token").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text("Confirm that you understand the consequence")
    expect(summary).to_be_focused()
    expect(page).to_have_url(TOKENS_URL)

    page.get_by_label(ACKNOWLEDGE).check()
    page.get_by_label("Security code from this token").fill(
        wrong_code(live_server.app, last.credential_id)
    )
    page.get_by_role("button", name="Delete token").click()
    expect(summary).to_contain_text("That code did not match")
    expect(token_row(page, last)).to_contain_text(CONSEQUENCE)  # still asking, nothing deleted

    page.get_by_label(ACKNOWLEDGE).check()
    page.get_by_label("Security code from this token").fill(fresh_code(last))
    page.get_by_role("button", name="Delete token").click()
    expect_row_gone(page, last, f"{last.nickname} is deleted.")


def test_a_row_action_leaves_the_whole_page_true_with_javascript(
    page: Page, make_account, screenshot
) -> None:
    """Issue 14: deleting at the limit brings Add a token back; leaving one Active token
    brings the backup reminder, and enabling a second takes it away, all without a reload."""
    account = make_account(("Active", "Active", "Inactive", "Inactive", "Inactive"))
    signed_in_with, other, spare, *_ = account.tokens
    sign_in(page, account, signed_in_with)
    page.goto("/tokens")
    page.wait_for_load_state()
    page.evaluate("window.sameDocument = true")
    add = page.get_by_role("main").get_by_role("link", name="Add a token", exact=True)
    reminder = page.locator("#backup-reminder")
    limit = page.get_by_text("the most an account can hold")
    expect(limit).to_be_visible()
    expect(add).to_have_count(0)
    expect(reminder).to_have_count(0)

    action(page, "Delete", spare)
    page.get_by_role("button", name="Delete token").click()
    expect_row_gone(page, spare, f"{spare.nickname} is deleted.")
    expect(limit).to_have_count(0)
    expect(add).to_be_visible()

    action(page, "Disable", other)
    page.get_by_role("radio", name=TEMPORARY).check()
    page.get_by_role("button", name="Disable token").click()
    expect(reminder).to_contain_text("You have no backup token")
    screenshot("tokens-after-disable-1280")

    action(page, "Enable", other)
    page.get_by_label("Security code from this token").fill(fresh_code(other))
    page.get_by_role("button", name="Enable token").click()
    expect_row_swapped(page, other, "Active", f"{other.nickname} is enabled.")
    expect(reminder).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True, "an action loaded a whole page"
