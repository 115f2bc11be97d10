"""Issue 2: the practice VIP Access app, its JSON API and the CLI show the same code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from helpers import PERIOD, VIP_ACCESS, PracticeApp
from playwright.sync_api import Page, expect

FLASK = Path(sys.executable).with_name("flask")
UNKNOWN_ID = "ZZZZ99999999"  # ZZZZ is no prefix the sandbox issues


def cli(live_server, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `flask --app wizard ARGS` against the live server's database and keys."""
    config = live_server.app.config
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    environ.update(
        WIZARD_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        WIZARD_SEED_KEY=config["SEED_KEY"],
        WIZARD_SECRET_KEY=config["SECRET_KEY"],
        WIZARD_SANDBOX="1",
    )
    return subprocess.run(  # noqa: S603 - our own flask with fixed arguments
        [str(FLASK), "--app", "wizard", *args],
        env=environ,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_practice_app_api_and_cli_show_the_same_code(page: Page, live_server) -> None:
    page.goto(VIP_ACCESS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice VIP Access app")
    app = PracticeApp(page)
    shown_id, credential_id = app.shown_id, app.credential_id
    assert re.fullmatch(r"SYMC \d{4} \d{4}", shown_id), shown_id
    expect(page).to_have_url(re.compile(rf"\?credential={credential_id}$"))

    for _attempt in range(3):  # a code read across a 30-second boundary is read again
        before = time.time()
        page.reload()
        page_code = page.locator("#security-code").inner_text().strip()
        countdown = int(page.locator("#countdown").inner_text())
        response = page.request.get(f"/sandbox/api/otp/{credential_id}")
        after = time.time()
        if int(before) // PERIOD == int(after) // PERIOD:
            break
    else:
        raise AssertionError("three readings in a row straddled a 30-second boundary")

    assert re.fullmatch(r"\d{6}", page_code), page_code
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["credential_id"] == credential_id
    assert body["code"] == page_code
    left_after, left_before = PERIOD - int(after) % PERIOD, PERIOD - int(before) % PERIOD
    assert left_after <= body["valid_for_seconds"] <= left_before
    assert left_after <= countdown <= left_before

    run = cli(live_server, "sandbox", "otp", credential_id, "--at", str(int(before)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == page_code


def test_api_answers_404_json_for_an_unknown_credential(page: Page) -> None:
    response = page.request.get(f"/sandbox/api/otp/{UNKNOWN_ID}")
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "unknown-credential"


def test_practice_app_answers_404_for_an_unknown_credential(page: Page) -> None:
    response = page.goto(f"{VIP_ACCESS}?credential={UNKNOWN_ID}")
    assert response is not None
    assert response.status == 404


def test_cli_refuses_an_unknown_credential(live_server) -> None:
    run = cli(live_server, "sandbox", "otp", UNKNOWN_ID)
    assert run.returncode != 0
    assert UNKNOWN_ID in run.stderr


def test_each_visit_issues_a_new_practice_credential(page: Page) -> None:
    first = PracticeApp.open(page.context)
    second = PracticeApp.open(page.context)
    assert first.credential_id != second.credential_id
