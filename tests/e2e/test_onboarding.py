"""Issue 4: a new prescriber's invitation, from /start to the account page, with and without
JavaScript: Invitation ID and NPI, "Is this you?", a passphrase, the wizard for the first token,
the backup recommendation declined twice, and the reminder on the account page."""

from __future__ import annotations

import re

from helpers import (
    PracticeApp,
    choose_device,
    confirm_and_continue,
    enter_credential_id,
    expect_on_step,
    finish_enrolment,
)
from playwright.sync_api import Page, expect

PASSPHRASE = "quiet orchard lantern 58"


def start_with_invitation(page: Page, invitation) -> None:
    """/start: Invitation ID and NPI, then "Is this you?" answered yes."""
    page.goto("/start")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your EPCS account")
    page.get_by_label("Invitation ID").fill(invitation.code)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Is this you?")
    details = page.locator("dl.summary")
    for text in (invitation.name, invitation.npi, invitation.organisation):
        expect(details).to_contain_text(text)
    page.get_by_role("button", name="Yes, this is me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your passphrase")


def first_token_and_backup_declined(page: Page, invitation, device: str) -> str:
    """From step 1 of the wizard to the account page; returns the new Credential ID."""
    expect_on_step(page, 1)
    expect(page.get_by_text(f"Signed in as {invitation.name}")).to_be_visible()
    choose_device(page, device)
    confirm_and_continue(page)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)
    finish_enrolment(page, phone, "My first token")

    # One Active token: the backup recommendation, and a second confirmation to skip it.
    backup = page.get_by_role("region", name="Add a backup token")
    expect(backup).to_contain_text("You have 1 Active token.")
    expect(backup).to_contain_text("entire identity proofing again")
    backup.get_by_role("button", name="Not now").click()
    confirm = page.get_by_role("region", name="Are you sure you do not want a backup?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Skip the backup for now").click()
    expect(page.get_by_text("You chose not to add a backup for now.")).to_be_visible()
    expect_on_step(page, 5)

    page.get_by_role("link", name="Go to your account").click()
    expect(page).to_have_url(re.compile(r"/$"))
    return phone.credential_id


def expect_account_page(page: Page, invitation, credential_id: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(invitation.name)
    grant = page.get_by_role("row").filter(has_text=invitation.organisation)
    expect(grant).to_contain_text(invitation.dea)
    token = page.get_by_role("row").filter(has_text=credential_id)
    expect(token).to_contain_text("My first token")
    expect(token).to_contain_text("Active")
    reminder = page.locator("#backup-reminder")
    expect(reminder).to_contain_text("You have no backup token.")
    expect(reminder.get_by_role("link", name="Add a backup token")).to_be_visible()


def test_onboarding_from_invitation_to_account_with_javascript(page: Page, invite) -> None:
    invitation = invite()
    start_with_invitation(page, invitation)

    passphrase = page.get_by_label("New passphrase")
    again = page.get_by_label("Enter the passphrase again")
    passphrase.fill(PASSPHRASE)
    again.fill(PASSPHRASE)
    expect(passphrase).to_have_attribute("type", "password")
    page.get_by_role("switch", name="Show passphrase").click()  # both fields, in place
    expect(passphrase).to_have_attribute("type", "text")
    expect(again).to_have_attribute("type", "text")
    expect(passphrase).to_have_value(PASSPHRASE)
    expect(page.get_by_role("switch", name="Hide passphrase")).to_have_attribute(
        "aria-checked", "true"
    )
    page.get_by_role("button", name="Create passphrase and continue").click()

    credential_id = first_token_and_backup_declined(page, invitation, "iPhone")
    expect_account_page(page, invitation, credential_id)


def test_onboarding_from_invitation_to_account_without_javascript(nojs_page: Page, invite) -> None:
    page = nojs_page
    invitation = invite(name="Dr. Kim Plainform")
    start_with_invitation(page, invitation)

    # Without JavaScript the toggle is a link that reloads the page with the fields shown.
    page.get_by_role("link", name="Show passphrase").click()
    expect(page).to_have_url(re.compile(r"/start/passphrase\?clear=1$"))
    expect(page.get_by_label("New passphrase")).to_have_attribute("type", "text")
    expect(page.get_by_label("Enter the passphrase again")).to_have_attribute("type", "text")
    page.get_by_label("New passphrase").fill(PASSPHRASE)
    page.get_by_label("Enter the passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create passphrase and continue").click()

    credential_id = first_token_and_backup_declined(page, invitation, "Android")
    expect_account_page(page, invitation, credential_id)

    # The invitation worked once; used again it says so.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/start")
    page.get_by_label("Invitation ID").fill(invitation.code)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("This invitation has already been used.")
