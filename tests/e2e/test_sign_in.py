"""Issue 4: signing in, adding a second token, the lockout, a lost token and the idle timeout.

Every test has its own fresh prescriber (the `account` and `make_account` fixtures), so the
lockout counters and the one-code-per-30-second-step rule never meet another test's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from helpers import (
    PracticeApp,
    choose_device,
    choose_token,
    confirm_and_continue,
    enter_code,
    enter_credential_id,
    enter_passphrase,
    expect_on_step,
    finish_enrolment,
    fresh_code,
    reach_security_code,
    sign_in,
    start_enrolment,
    token_row,
    wrong_code,
)
from playwright.sync_api import Page, expect

NOT_SIGNED_IN = "We could not sign you in with those details"
PAUSED = re.compile(r"Signing in is paused until \d\d:\d\d UTC\.")


def error_summary(page: Page):
    return page.get_by_role("alert").filter(has_text="There is a problem")


def test_signs_in_and_adds_a_second_token_through_the_wizard(page: Page, account) -> None:
    first = account.token()
    sign_in(page, account)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(account.name)
    expect(page.get_by_text(account.npi)).to_be_visible()
    expect(token_row(page, first)).to_contain_text("Active")
    expect(page.get_by_text("You have no backup token.")).to_be_visible()

    start_enrolment(page)
    choose_device(page, "Android")
    confirm_and_continue(page)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)
    finish_enrolment(page, phone, "Backup Android")

    # Two Active tokens: no backup recommendation any more.
    expect(
        page.get_by_text("You have 2 Active tokens, so a lost token will not stop you prescribing.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Add a backup token")).to_have_count(0)

    page.get_by_role("link", name="Go to your account").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(token_row(page, first)).to_contain_text("Active")
    new_row = page.get_by_role("row").filter(has_text=phone.credential_id)
    expect(new_row).to_contain_text("Backup Android")
    expect(new_row).to_contain_text("Active")
    expect(page.get_by_text("You have no backup token.")).to_have_count(0)


def test_five_wrong_codes_at_sign_in_pause_signing_in(page: Page, account, live_server) -> None:
    token = account.token()
    bad = wrong_code(live_server.app, token.credential_id)
    page.goto("/sign-in")
    enter_passphrase(page, account)
    expect(page).to_have_url(re.compile(r"/sign-in/code$"))

    for attempt in range(1, 6):
        choose_token(page, token).check()
        page.get_by_label("Security code").fill(bad)
        page.get_by_role("button", name="Sign in").click()
        if attempt < 5:
            expect(error_summary(page)).to_contain_text("That code did not match")
            expect(page.get_by_text(PAUSED)).to_have_count(0)

    expect(page.get_by_role("alert").filter(has_text=PAUSED)).to_be_visible()
    expect(page.get_by_label("Security code")).to_have_count(0)  # nothing more to try here
    expect(page.get_by_text(f"Signed in as {account.name}")).to_have_count(0)

    # While paused, even the right passphrase does not reach the code step again.
    page.get_by_role("link", name="Back to sign in").click()
    enter_passphrase(page, account)
    expect(error_summary(page)).to_contain_text(NOT_SIGNED_IN)
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def test_five_wrong_codes_in_the_wizard_pause_adding_a_token(
    nojs_page: Page, account, live_server
) -> None:
    page = nojs_page
    sign_in(page, account)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    reach_security_code(page, phone)
    bad = wrong_code(live_server.app, phone.credential_id)

    for attempt in range(1, 6):
        enter_code(page, bad)
        if attempt < 5:
            expect(error_summary(page)).to_contain_text("That code did not match")
            expect(page.get_by_text(f"{5 - attempt} more tr")).to_be_visible()

    paused = page.get_by_role("alert").filter(has_text="Adding a token is paused until")
    expect(paused).to_contain_text(re.compile(r"paused until \d\d:\d\d UTC"))
    expect(page.get_by_label("Security code")).to_have_count(0)
    expect_on_step(page, 3)


def test_reports_a_token_lost_then_signs_in_with_the_other(page: Page, make_account) -> None:
    account = make_account(("Active", "Active"))
    lost, kept = account.tokens

    page.goto("/sign-in")
    page.get_by_role("link", name="Report a lost token").click()
    expect(page).to_have_url(re.compile(r"/lost-token$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a lost token")
    expect(page.get_by_text("within one business day")).to_be_visible()
    enter_passphrase(page, account)  # no code: the token may be gone

    expect(page.get_by_role("heading", level=1)).to_have_text("Which token is lost?")
    page.get_by_role("radio", name=f"{lost.nickname} ({lost.credential_id}, Active)").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Report {lost.nickname} as lost?")
    expect(page.get_by_text("If you find it within 30 days, you can reactivate it")).to_be_visible()
    page.get_by_role("button", name="Report it lost").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"{lost.nickname} is reported lost")
    remaining = page.get_by_role("list").filter(has_text=kept.credential_id)
    expect(remaining).to_contain_text(kept.nickname)
    expect(remaining).not_to_contain_text(lost.credential_id)

    # Signing in now offers only the other token.
    page.goto("/sign-in")
    enter_passphrase(page, account)
    expect(choose_token(page, lost)).to_have_count(0)
    choose_token(page, kept).check()
    page.get_by_label("Security code").fill(fresh_code(kept))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {account.name}")).to_be_visible()
    expect(token_row(page, lost)).to_contain_text("Suspended")
    expect(token_row(page, kept)).to_contain_text("Active")


def test_an_idle_session_is_signed_out_and_the_next_page_says_so(
    page: Page, make_account, live_server
) -> None:
    """The live server reads its clock from config: moved past the idle limit for one
    navigation, then put back (no waiting 15 minutes, no sleeping)."""
    account = make_account(("Active", "Active"))
    sign_in(page, account, account.tokens[0])
    page.goto("/tokens")
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your tokens")

    config = live_server.app.config
    idle = config["SESSION_IDLE_MINUTES"]
    real_clock = config["CLOCK"]
    # The idle time counts whole minutes: past it by more than one, whenever the last page was.
    config["CLOCK"] = lambda: datetime.now(UTC) + timedelta(minutes=idle + 1, seconds=1)
    try:
        page.goto("/tokens")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)tokens$"))
        expect(page.get_by_role("status")).to_contain_text(
            f"You were signed out because there was no activity for {idle} minutes."
        )
    finally:
        config["CLOCK"] = real_clock
    expect(page.get_by_text("Signed in as")).to_have_count(0)

    # Signing in again (with the other token: the first one's code is spent) goes back there.
    enter_passphrase(page, account)
    second = account.tokens[1]
    choose_token(page, second).check()
    page.get_by_label("Security code").fill(fresh_code(second))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/tokens$"))
    expect(page.get_by_text(f"Signed in as {account.name}")).to_be_visible()


def test_signs_in_as_the_sandbox_demo_prescriber_and_adds_a_token(page: Page, live_server) -> None:
    """As a trainee would: the welcome page gives the demo sign-in and links to the practice
    app of the demo's Active token, whose code completes the sign-in."""
    from wizard.extensions import db
    from wizard.services import tokens as token_service
    from wizard.services.accounts import by_npi

    page.goto("/")
    npi = page.locator(".panel dd.mono").nth(0).inner_text()
    passphrase = page.locator(".panel dd.mono").nth(1).inner_text()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=re.compile("practice VIP Access app of the token")).click()
    demo_phone = opened.value
    page.bring_to_front()
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("NPI", exact=True).fill(npi)
    page.get_by_label("Passphrase", exact=True).fill(passphrase)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("radio", name=re.compile("iPhone token app")).check()
    if int(demo_phone.locator("#countdown").inner_text()) <= 2:
        demo_phone.wait_for_timeout(3000)  # as a careful trainee would: wait for a fresh code
    demo_phone.reload()
    code = demo_phone.locator("#security-code").inner_text()
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Dr. Alex Demo")).to_be_visible()

    start_enrolment(page)
    choose_device(page, "Android")
    confirm_and_continue(page)
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)
    try:
        finish_enrolment(page, phone, "Trainee Android")
        page.get_by_role("link", name="Go to your account").click()
        expect(page.get_by_role("row").filter(has_text=phone.credential_id)).to_contain_text(
            "Active"
        )
    finally:
        # Leave the shared demo prescriber as seeded for the other tests.
        with live_server.app.app_context():
            demo = by_npi(npi)
            added = next((t for t in demo.tokens if t.credential_id == phone.credential_id), None)
            if added is not None:
                token_service.delete(demo, added, datetime.now(UTC))
            db.session.remove()
