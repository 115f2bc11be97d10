"""Help-desk agents in the browser tests: made as `flask helpdesk add` makes them (the service),
set up by driving the setup page with an authenticator (pyotp on the key the page shows), and
signed in at /helpdesk/sign-in.

(Named apart from tests/web's helpdesk_helpers: both folders are on sys.path.)
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from wizard.extensions import db
from wizard.services import helpdesk

AGENT_PASSPHRASE = "teal harbour crossing 77"
PERIOD = 30
SUPPORT_CODE = re.compile(r"^[A-HJKMNP-Z2-9]{3}-[A-HJKMNP-Z2-9]{3}$")


@dataclass
class BrowserAgent:
    """An agent and their authenticator app. Each 30-second step is accepted once, so every code
    is of a step after the last one used (the server accepts one step either side of now)."""

    username: str
    passphrase: str
    secret: str = ""
    last_step: int = -1
    steps: list[int] = field(default_factory=list)

    def next_code(self) -> str:
        now_step = int(time.time()) // PERIOD
        step = max(self.last_step + 1, now_step)
        if step > now_step + 1:  # two codes used in this step and the next: wait for one
            time.sleep((step - 1) * PERIOD - time.time() + 0.5)
        self.last_step = step
        return pyotp.TOTP(self.secret).at(step * PERIOD)


def new_agent(app: Flask) -> tuple[BrowserAgent, str]:
    """An agent as `flask --app wizard helpdesk add` makes one; returns it and its setup path."""
    username = f"agent.{secrets.token_hex(4)}"
    with app.app_context():
        try:
            token = helpdesk.add(username, datetime.now(UTC))
        finally:
            db.session.remove()
    return BrowserAgent(username, AGENT_PASSPHRASE), f"/helpdesk/setup/{token}"


def set_up(page: Page, agent: BrowserAgent, path: str) -> None:
    """The setup page: read the key as text, choose the passphrase, confirm with a code."""
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your help-desk account")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    agent.secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("New passphrase").fill(agent.passphrase)
    page.get_by_label("Enter the passphrase again").fill(agent.passphrase)
    page.get_by_label("Code from your authenticator app").fill(agent.next_code())
    page.get_by_role("button", name="Finish setup").click()
    expect(page.get_by_text("Your help-desk account is ready. Sign in.")).to_be_visible()


def sign_in_agent(page: Page, agent: BrowserAgent) -> None:
    page.goto("/helpdesk/sign-in")
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Passphrase", exact=True).fill(agent.passphrase)
    page.get_by_label("Code from your authenticator app").fill(agent.next_code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Live view")


def ready_agent(app: Flask, page: Page) -> BrowserAgent:
    """A new agent, set up and signed in on page (the agent's own browser)."""
    agent, path = new_agent(app)
    set_up(page, agent, path)
    sign_in_agent(page, agent)
    return agent


def support_code(page: Page) -> str:
    """The support code in the prescriber's page footer."""
    code = page.locator("footer .support-code").inner_text().strip()
    assert SUPPORT_CODE.match(code), code
    return code


def look_up(page: Page, code: str) -> None:
    """The console: type the support code and show the live view."""
    page.get_by_role("textbox", name="Support code").fill(code)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name=f"Support code {code}")).to_be_visible()


def live_field(page: Page, name: str) -> Locator:
    """The live view's value in a row: "Prescriber", "Now on", "Device type", "Wizard step" or
    "Credential ID"."""
    ids = {
        "Prescriber": "#live-person",
        "Now on": "#live-page",
        "Device type": "#live-device",
        "Wizard step": "#live-step",
        "Credential ID": "#live-credential",
    }
    return page.locator(ids[name])
