"""Steps the browser tests share: signing in, reading the practice app, moving through the wizard.

Every test signs in as its own fresh prescriber (the `account` and `make_account` fixtures in
conftest.py) through the real sign-in, never as the shared sandbox demo prescriber.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, expect

from wizard.domain.otp import OathSecret, code_at, time_step
from wizard.services import sandbox

PERIOD = 30  # seconds per TOTP step
VIP_ACCESS = "/sandbox/vip-access"
SHOWN_IDS = {  # how the practice page shows each kind's Credential ID or serial number
    "vip": re.compile(r"^[A-Z]{4} \d{4} \d{4}$"),
    "onespan": re.compile(r"^\d{10}$"),
    "symantec-hard": re.compile(r"^FT\d{8}$"),
}
WRONG_CODE_MESSAGE = (
    "That code did not match. Wait for the next code and enter it within 30 seconds. "
    "If it keeps failing, check that your phone sets its time automatically."
)
STEP_TITLES = {
    1: "Get the app or key fob",
    2: "Find your Credential ID",
    3: "Enter the security code",
    4: "Name and save",
    5: "Done",
}
STEP_PATHS = {
    1: "/enroll/get-app",
    2: "/enroll/credential-id",
    3: "/enroll/security-code",
    4: "/enroll/name",
    5: "/enroll/done",
}
STEP_HEADINGS = {
    1: "Get the app or key fob",
    2: "Find your Credential ID",
    3: "Enter the security code",
    4: "Name and save your token",
    5: "Your token is saved",
}


def sign_in(page: Page, account: Any, token: Any = None) -> None:
    """Sign in through /sign-in as a prescriber from the `account` fixture: NPI and passphrase,
    then a current code from token (the account's first Active token unless given).

    The page ends signed in, where the sign-in leads (the account page, or its ?next=).
    A token's code is accepted once per 30-second step: sign in with another token of the same
    account, or another account, rather than twice with one token.
    """
    token = token or account.token()
    page.goto("/sign-in")
    enter_passphrase(page, account)
    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a code from your token")
    choose_token(page, token).check()
    page.get_by_label("Security code").fill(fresh_code(token))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {account.name}")).to_be_visible()


def enter_passphrase(page: Page, account: Any, passphrase: str | None = None) -> None:
    """The sign-in page's first step (or the lost-token page's): NPI, passphrase, Continue."""
    page.get_by_label("NPI", exact=True).fill(account.npi)
    page.get_by_label("Passphrase", exact=True).fill(passphrase or account.passphrase)
    page.get_by_role("button", name="Continue").click()


def choose_token(page: Page, token: Any) -> Locator:
    """The radio for token at the sign-in code step: "Token 1 (SYMC12345678)"."""
    return page.get_by_role("radio", name=f"{token.nickname} ({token.credential_id})")


def fresh_code(token: Any) -> str:
    """The code token shows now, not one about to change: with 2 seconds or less left in the
    30-second step, wait for the next one, as a careful prescriber would."""
    left = PERIOD - time.time() % PERIOD
    if left <= 2:
        time.sleep(left + 0.5)
    return token.code()


@dataclass(frozen=True)
class PracticeApp:
    """The practice VIP Access app open in its own tab, as the prescriber's phone."""

    page: Page

    @classmethod
    def open(cls, context: BrowserContext, kind: str = "vip") -> PracticeApp:
        """Open /sandbox/vip-access in a new tab of context: a new practice credential.

        kind "onespan" is a OneSpan key fob (a 10-digit serial, codes every 30 seconds) and
        "symantec-hard" a Symantec key fob whose button gives the next code (HOTP, FT serial).
        """
        tab = context.new_page()
        tab.goto(VIP_ACCESS if kind == "vip" else f"{VIP_ACCESS}?kind={kind}")
        expect(tab.locator("#credential-id")).to_have_text(SHOWN_IDS[kind])
        return cls(tab)

    @property
    def shown_id(self) -> str:
        """The Credential ID as the app shows it, grouped: "SYMC 1234 5678"."""
        return self.page.locator("#credential-id").inner_text().strip()

    @property
    def credential_id(self) -> str:
        """The Credential ID without spaces: "SYMC12345678"."""
        return self.shown_id.replace(" ", "")

    def code(self) -> str:
        """The security code the app shows now, read fresh (not a code about to change).

        With 2 seconds or less left on the current code, wait for the next one, as a careful
        prescriber would, so the code is still current when the server checks it.
        """
        if PERIOD - time.time() % PERIOD <= 2:
            time.sleep(PERIOD - time.time() % PERIOD + 0.5)
        self.page.reload()  # the server renders the code of this very second
        text = self.page.locator("#security-code").inner_text().strip()
        assert re.fullmatch(r"\d{6}", text), f"the practice app shows {text!r}, not 6 digits"
        return text


def wrong_code(app: Flask, credential_id: str) -> str:
    """A 6-digit code that no time step near now accepts for credential_id (checked with its
    seed in the live server's database), so "wrong" never turns out right by chance."""
    with app.app_context():
        oath = OathSecret(sandbox.secret_of(credential_id))
    now = datetime.now(UTC)
    step = time_step(now, oath.period)
    near = {code_at(oath, step + k) for k in range(-3, 4)}
    return next(c for c in ("000000", "123456", "999999", "111111") if c not in near)


def start_enrolment(page: Page) -> None:
    """From the signed-in account page, follow "Add a token" to step 1."""
    page.get_by_role("main").get_by_role("link", name="Add a token").click()
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[1]) + r"$"))
    expect(step_heading(page)).to_contain_text(STEP_HEADINGS[1])


def step_heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def choose_device(page: Page, device: str = "iPhone") -> None:
    """Step 1, first half: pick the device (a word of its option) and show its app."""
    page.get_by_role("radio", name=re.compile(rf"\b{device}\b")).check()
    show_me(page).click()
    expect(
        page.get_by_label(re.compile("different device from the one I use to prescribe"))
    ).to_be_visible()


def show_me(page: Page) -> Locator:
    """Step 1's button that shows the chosen device's app ("Show me the app", "Show me how")."""
    return page.get_by_role("button", name=re.compile(r"^Show me"))


def confirm_and_continue(page: Page) -> None:
    """Step 1, second half: confirm the DEA rule and continue to step 2."""
    page.get_by_label(re.compile("different device from the one I use to prescribe")).check()
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text(STEP_HEADINGS[2])


def enter_credential_id(page: Page, typed: str) -> None:
    """Step 2: type the Credential ID and continue to step 3."""
    page.get_by_label("Credential ID").fill(typed)
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text(STEP_HEADINGS[3])


def enter_code(page: Page, code: str) -> None:
    """Step 3: enter a security code and check it (whatever the outcome)."""
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Check code").click()


def reach_security_code(page: Page, app: PracticeApp) -> None:
    """From the signed-in account page to step 3 for the practice app's credential."""
    start_enrolment(page)
    choose_device(page)
    confirm_and_continue(page)
    enter_credential_id(page, app.shown_id)


def expect_on_step(page: Page, number: int, heading: str | None = None) -> None:
    """The page shows step number: its URL, its heading (the step's own, or heading: step 1
    names the device once one is shown), and the indicator's current step."""
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[number]) + r"$"))
    expect(step_heading(page)).to_contain_text(heading or STEP_HEADINGS[number])
    current = page.get_by_role("navigation", name="Steps to add a token").locator("[aria-current]")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("aria-current", "step")
    expect(current).to_contain_text(STEP_TITLES[number])


def focused(page: Page) -> str:
    """What has focus: tag, id and the first words of its text, e.g. "H1#step-heading: Step 2…"."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return "nothing";
            const text = (el.innerText || "").replace(/\\s+/g, " ").trim().slice(0, 60);
            return `${el.tagName}${el.id ? "#" + el.id : ""}: ${text}`;
        }"""
    )


def tab_to(page: Page, target: Locator, *, shift: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until target has focus: the keyboard's way to reach it."""
    key = "Shift+Tab" if shift else "Tab"
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} never reached {target}; focus: {focused(page)}")


def finish_enrolment(page: Page, phone: PracticeApp, name: str) -> None:
    """From step 3: a fresh code from phone, then the token's name, saved: step 5 shows it."""
    code = phone.code()
    page.bring_to_front()
    enter_code(page, code)
    expect_on_step(page, 4)
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Save token").click()
    expect_on_step(page, 5)
    expect(page.get_by_text(f"{name} ({phone.credential_id}) is now Active")).to_be_visible()


def token_row(page: Page, token: Any) -> Locator:
    """The table row of token (by its Credential ID), on the account page or the token table."""
    return page.get_by_role("row").filter(has_text=token.credential_id)
