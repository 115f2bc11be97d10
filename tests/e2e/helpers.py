"""Steps the browser tests share: signing in, reading the practice app, moving through the wizard.

Signing in lives in `sign_in` alone, so the day the real sign-in lands only that function changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import select

from wizard.domain.otp import OathSecret, code_at, time_step
from wizard.extensions import db
from wizard.services import sandbox, tokens
from wizard.store.models import Prescriber

PERIOD = 30  # seconds per TOTP step
VIP_ACCESS = "/sandbox/vip-access"
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
    1: "Get the VIP Access app",
    2: "Find your Credential ID",
    3: "Enter the security code",
    4: "Name and save your token",
    5: "Your token is saved",
}


def sign_in(page: Page) -> None:
    """Sign in as the demo prescriber; the page ends on the prescriber's account page.

    For now the sandbox shortcut on the home page (its button has been reworded once, hence
    the loose name). Switch to the real sign-in here, and only here. The real one takes a code
    from the demo's token, and a code's time step is accepted once per token, so signing in
    that way more than once per 30 seconds will need a token per test.
    """
    page.goto("/")
    page.get_by_role("button", name=re.compile("demo prescriber")).click()
    expect(page.get_by_text(re.compile(r"^Signed in as "))).to_be_visible()


@pytest.fixture
def restore_demo_tokens(live_server) -> Iterator[None]:
    """After the test, delete the tokens it added to the demo prescriber.

    Every test signs in as the same demo prescriber on one live server, and an account holds at
    most MAX_TOKENS (5) tokens that are not deleted. Deleting what a test added (with the token
    service, as the prescriber would from their account) keeps the demo at its two seeded
    tokens, so no test depends on the order or number of enrollments before it.
    Use it with `pytestmark = pytest.mark.usefixtures("restore_demo_tokens")`.
    """
    yield
    seeded = {t["credential_id"] for t in live_server.demo["tokens"]}
    with live_server.app.app_context():
        demo = db.session.scalar(
            select(Prescriber).where(Prescriber.npi == live_server.demo["npi"])
        )
        for token in tokens.not_deleted(demo):
            if token.credential_id not in seeded:
                tokens.delete(demo, token, datetime.now(UTC))
        db.session.remove()


@dataclass(frozen=True)
class PracticeApp:
    """The practice VIP Access app open in its own tab, as the prescriber's phone."""

    page: Page

    @classmethod
    def open(cls, context: BrowserContext) -> PracticeApp:
        """Open /sandbox/vip-access in a new tab of context: a new practice credential."""
        tab = context.new_page()
        tab.goto(VIP_ACCESS)
        expect(tab.locator("#credential-id")).to_have_text(re.compile(r"^[A-Z]{4} \d{4} \d{4}$"))
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
    page.get_by_role("link", name="Add a token").click()
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


def expect_on_step(page: Page, number: int) -> None:
    """The page shows step number: its URL, its heading, and the indicator's current step."""
    expect(page).to_have_url(re.compile(re.escape(STEP_PATHS[number]) + r"$"))
    expect(step_heading(page)).to_contain_text(STEP_HEADINGS[number])
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
