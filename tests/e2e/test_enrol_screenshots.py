"""Screenshots of every wizard step, and the error states of steps 1 to 3, at desktop and phone
widths: test-results/screenshots/enrol-<width>-step<N>-<name>.png. Look at them."""

from __future__ import annotations

import re

import pytest
from helpers import (
    PracticeApp,
    choose_device,
    enter_code,
    expect_on_step,
    sign_in,
    start_enrolment,
    step_heading,
    wrong_code,
)
from playwright.sync_api import Page, expect

WIDTHS = {"1280": "page", "390": "phone_page"}  # the phone page is 390 x 844, touch


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_every_step(
    width: str, request: pytest.FixtureRequest, screenshot, live_server, account
) -> None:
    page: Page = request.getfixturevalue(WIDTHS[width])
    assert page.viewport_size is not None and page.viewport_size["width"] == int(width)

    def shot(name: str, target: Page = page, area: str = "enrol") -> None:
        target.wait_for_load_state()
        screenshot(f"{area}-{width}-{name}", target)

    sign_in(page, account)
    shot("account")
    start_enrolment(page)
    shot("step1-choose-device")

    choose_device(page, "iPhone")
    shot("step1-get-app")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Continue").click()
    assert posted.value.status == 422
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_focused()
    shot("step1-get-app-error")

    page.get_by_label(re.compile("different device from the one I use to prescribe")).check()
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 2)
    expect(step_heading(page)).to_be_focused()
    shot("step2-credential-id")

    phone = PracticeApp.open(page.context)
    shot("vip-access", phone.page, area="sandbox")
    page.bring_to_front()
    page.get_by_label("Credential ID").fill("SYMC 1234")  # too short
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_focused()
    shot("step2-credential-id-error")

    page.get_by_label("Credential ID").fill(phone.shown_id)
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 3)
    shot("step3-security-code")

    enter_code(page, wrong_code(live_server.app, phone.credential_id))
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_focused()
    shot("step3-security-code-error")

    code = phone.code()
    page.bring_to_front()
    enter_code(page, code)
    expect_on_step(page, 4)
    page.get_by_label("Token name").fill(f"Screenshot {width} {phone.credential_id[-4:]}")
    shot("step4-name")

    page.get_by_role("button", name="Save token").click()
    expect_on_step(page, 5)
    shot("step5-done")
