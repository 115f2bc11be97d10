"""Issue 10: the wizard with Symantec VIP, in Chromium. The live server here is configured
for VIP at the stand-in (real mutual TLS): the practice app's credential is registered there,
enrolled through the wizard, and afterwards the wizard holds the token and no seed, and the
stand-in holds the binding. Signing in is checked by VIP too."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from helpers import (
    PracticeApp,
    enter_code,
    expect_on_step,
    finish_enrolment,
    reach_security_code,
    sign_in,
    token_row,
)
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select
from support.accounts import account_maker, real_time

from wizard.authority.vip.transport import Transport, VipSettings
from wizard.extensions import db
from wizard.store.models import OathCredential, Prescriber, Token


@pytest.fixture(scope="module")
def vip_live(serve_wizard, vip_service):
    """The wizard on a free port, configured for VIP at the stand-in, demo seeded there."""
    with serve_wizard("vip-live", **vip_service.environ()) as live:
        yield live


@pytest.fixture
def vip_contexts(browser, browser_context_args, vip_live):
    """vip_contexts(**options): a browser context whose pages open the VIP live server."""
    made: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        made.append(
            browser.new_context(**{**browser_context_args, "base_url": vip_live.url, **options})
        )
        return made[-1]

    yield make
    for context in made:
        context.close()


@pytest.fixture
def vip_context(vip_contexts) -> BrowserContext:
    return vip_contexts()


@pytest.fixture
def vip_account(vip_live):
    """A fresh prescriber whose token is bound to their VIP user at the stand-in."""
    return account_maker(vip_live.app, real_time)()


def held(app: Flask, credential_id: str) -> tuple[Token | None, int, str | None]:
    """(the wizard's token, how many seeds it keeps for it, the owner's VIP user id)."""
    with app.app_context():
        try:
            token = db.session.scalar(select(Token).where(Token.credential_id == credential_id))
            seeds = len(
                db.session.scalars(
                    select(OathCredential).where(OathCredential.credential_id == credential_id)
                ).all()
            )
            owner = db.session.get(Prescriber, token.prescriber_id) if token else None
            db.session.expunge_all()
            return token, seeds, owner.vip_user_id if owner else None
        finally:
            db.session.remove()


def test_enrols_the_practice_apps_credential_through_vip(
    vip_context: BrowserContext, vip_live, vip_account, vip_service, screenshot
) -> None:
    page = vip_context.new_page()
    sign_in(page, vip_account)  # its code is checked by VIP
    phone = PracticeApp.open(vip_context)
    page.bring_to_front()

    reach_security_code(page, phone)
    finish_enrolment(page, phone, "My iPhone")
    screenshot("vip-enrolled", page)

    token, seeds, user_id = held(vip_live.app, phone.credential_id)
    assert (token.status, token.vip_bound, seeds) == ("Active", True, 0)
    binding = vip_service.binding(user_id, phone.credential_id)
    assert binding is not None and binding["friendly_name"] == "My iPhone"
    page.goto("/tokens")
    expect(token_row(page, token)).to_contain_text("Active")


def test_signs_in_through_vip_without_javascript(vip_contexts, vip_account) -> None:
    page = vip_contexts(java_script_enabled=False).new_page()

    sign_in(page, vip_account)

    expect(page.get_by_role("heading", level=1)).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_keeps_step_3_with_a_clear_message_when_vip_is_unreachable(
    vip_context: BrowserContext, vip_live, vip_account, vip_certs, screenshot, width
) -> None:
    page = vip_context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, vip_account)
    phone = PracticeApp.open(vip_context)
    page.bring_to_front()
    reach_security_code(page, phone)
    code = phone.code()
    page.bring_to_front()
    authorities = vip_live.app.extensions["token_authority"]
    working = authorities.vip.transport
    authorities.vip.transport = Transport(
        VipSettings(
            "https://127.0.0.1:9/vipuserservices",  # nothing listens on the discard port
            str(vip_certs / "client.pem"),
            str(vip_certs / "client-key.pem"),
            str(vip_certs / "ca.pem"),
            timeout=1,
        )
    )
    try:
        enter_code(page, code)
        message = page.locator("#code-error")
        expect(message).to_contain_text("We could not reach Symantec VIP")
    finally:
        authorities.vip.transport = working
    expect_on_step(page, 3)
    expect(page.get_by_role("alert")).to_contain_text(re.compile("does not count against you"))
    screenshot(f"vip-unreachable-{width}", page)
