"""Issue 7, accessibility: axe-core on every page and every wizard step, with and without
errors shown; an enrollment with the keyboard alone; the wizard at 390 px and at 200% zoom.

axe runs through axe-playwright-python with JavaScript on (it cannot run without it), after
htmx has settled, so it sees what a user sees after each swap. Every test fails on a serious
or critical violation; every violation of any impact is written to
test-results/accessibility/axe-summary.txt and printed at the end of this module, by page.
Screenshots: test-results/screenshots/a11y-<390|zoom200>-<step>.png.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from helpers import (
    PracticeApp,
    choose_device,
    choose_token,
    confirm_and_continue,
    enter_code,
    enter_credential_id,
    enter_passphrase,
    expect_on_step,
    fresh_code,
    show_me,
    sign_in,
    start_enrolment,
    step_heading,
    wrong_code,
)
from playwright.sync_api import BrowserContext, Locator, Page, expect

from wizard.extensions import db
from wizard.services import accounts, helpdesk

AXE = Axe()
SERIOUS = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")
PASSPHRASE = "quiet orchard lantern 58"
AGENT_PASSPHRASE = "steady harbour compass 19"
DEA_CONFIRMATION = re.compile("different device from the one I use to prescribe")

# Every page checked in this module, in order: label -> its violations.
FINDINGS: dict[str, list[Violation]] = {}
URLS: dict[str, str] = {}  # label -> the path axe looked at, for the report


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    elements: tuple[str, ...]  # "selector  <html…>"

    def describe(self) -> str:
        shown = "\n      ".join(self.elements[:5])
        more = f"\n      … and {len(self.elements) - 5} more" if len(self.elements) > 5 else ""
        return f"[{self.impact}] {self.rule}: {self.help}\n      {shown}{more}"


@dataclass
class Auditor:
    """axe for one test: check(page, label) after each page or swap; assert_clean() at the end."""

    labels: list[str] = field(default_factory=list)

    def check(self, page: Page, label: str) -> None:
        settle(page)
        response = AXE.run(page).response
        FINDINGS[label] = [
            Violation(
                v["id"],
                v.get("impact") or "unknown",
                v["help"],
                tuple(
                    f"{' '.join(map(str, node['target']))}  {' '.join(node['html'].split())[:140]}"
                    for node in v["nodes"]
                ),
            )
            for v in response["violations"]
        ]
        url = urlsplit(page.url)
        URLS[label] = url.path + (f"?{url.query}" if url.query else "")
        self.labels.append(label)

    def assert_clean(self) -> None:
        assert self.labels, "no page was checked"
        serious = [
            f"{label} ({URLS[label]}):\n    {v.describe()}"
            for label in self.labels
            for v in FINDINGS[label]
            if v.impact in SERIOUS
        ]
        assert not serious, "serious or critical axe violations:\n" + "\n".join(serious)


def settle(page: Page) -> None:
    """The page loaded (htmx is a deferred script) and no htmx request or swap in flight."""
    page.wait_for_load_state()
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


@pytest.fixture
def axe() -> Auditor:
    return Auditor()


@pytest.fixture(scope="module", autouse=True)
def axe_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module: the violations by impact and page on the terminal, and every element
    in violation in test-results/accessibility/axe-summary.txt."""
    yield
    if not FINDINGS:
        return
    totals: Counter[str] = Counter()
    rules: dict[tuple[str, str, str], set[str]] = {}
    short = [f"axe-core: {len(FINDINGS)} pages and states checked (JavaScript on)"]
    full = list(short)
    for label, violations in FINDINGS.items():
        by_impact = Counter(v.impact for v in violations)
        totals.update(by_impact)
        counts = ", ".join(f"{by_impact[i]} {i}" for i in IMPACTS if by_impact[i]) or "none"
        names = ", ".join(sorted({v.rule for v in violations}))
        short.append(f"  {label} [{URLS[label]}]: {counts}{f' ({names})' if names else ''}")
        full.append(short[-1])
        full.extend(f"    {v.describe()}" for v in violations)
        for v in violations:
            rules.setdefault((v.impact, v.rule, v.help), set()).update(
                e.split("  ", 1)[0] for e in v.elements
            )
    tally = "Violations (a rule on a page), by impact: " + ", ".join(
        f"{totals[i]} {i}" for i in IMPACTS
    )
    short.append(tally)
    full.append(tally)
    for (impact, rule, help_text), elements in sorted(rules.items()):
        pages = sum(1 for vs in FINDINGS.values() for v in vs if v.rule == rule)
        where = ", ".join(sorted(elements))
        line = f"  [{impact}] {rule} on {pages} pages: {help_text}; elements: {where}"
        short.append(line)
        full.append(line)
    folder = request.config.rootpath / "test-results" / "accessibility"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "axe-summary.txt").write_text("\n".join(full) + "\n")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            for line in short:
                reporter.write_line(line)
            reporter.write_line(f"(every element: {folder / 'axe-summary.txt'})")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def alert(page: Page) -> Locator:
    return page.get_by_role("alert").filter(has_text="There is a problem")


def in_app(live_server: Any, work: Callable[[], Any]) -> Any:
    with live_server.app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


# --- Pages without an account, sign-in, passphrase reset, lost token, error pages ------------


def test_signed_out_pages_sign_in_reset_lost_token_and_errors(
    page: Page, axe: Auditor, make_account, live_server
) -> None:
    account = make_account(("Active", "Active", "Inactive"))
    first, second, inactive = account.tokens

    page.goto("/")
    expect(heading(page)).to_be_visible()
    axe.check(page, "welcome")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    axe.check(page, "error: 404")

    # Sign in: the passphrase, wrong then right; the code step, wrong.
    page.goto("/sign-in")
    axe.check(page, "sign-in")
    enter_passphrase(page, account, "not the passphrase at all")
    expect(page.get_by_role("alert")).to_contain_text("We could not sign you in")
    expect(page.get_by_role("alert")).to_be_focused()  # a full page, not a swap: focus on load
    axe.check(page, "sign-in (error)")
    enter_passphrase(page, account)
    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    axe.check(page, "sign-in code")
    choose_token(page, first).check()
    page.get_by_label("Security code").fill(wrong_code(live_server.app, first.credential_id))
    page.get_by_role("button", name="Sign in").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "sign-in code (error)")

    # A form posted with a stale CSRF token: 400, "This form has expired".
    page.goto("/sign-in")
    page.locator("input[name=csrf_token]").evaluate("el => { el.value = 'stale'; }")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        enter_passphrase(page, account)
    assert posted.value.status == 400
    axe.check(page, "error: 400 form expired (CSRF)")

    # Forgot passphrase: empty, then valid, then the new passphrase too short.
    reset_code = in_app(
        live_server, lambda: accounts.issue_reset_code(account.npi, datetime.now(UTC))
    )
    page.goto("/forgot-passphrase")
    axe.check(page, "forgot passphrase")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "forgot passphrase (error)")
    page.get_by_label("NPI", exact=True).fill(account.npi)
    page.get_by_label(re.compile("^Security code")).fill(fresh_code(second))
    page.get_by_label("Reset code").fill(reset_code)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/forgot-passphrase/new$"))
    axe.check(page, "new passphrase")
    page.get_by_label("New passphrase").fill("short")
    page.get_by_role("button", name="Save passphrase").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "new passphrase (error)")

    # Report a lost token while signed out.
    page.goto("/lost-token")
    axe.check(page, "lost token: passphrase")
    enter_passphrase(page, account, "not the passphrase at all")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check(page, "lost token: passphrase (error)")
    enter_passphrase(page, account)
    expect(page).to_have_url(re.compile(r"/lost-token/choose$"))
    axe.check(page, "lost token: choose")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "lost token: choose (error)")
    page.get_by_role("radio", name=re.compile(re.escape(inactive.credential_id))).check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/lost-token/confirm$"))
    axe.check(page, "lost token: confirm")
    page.get_by_role("button", name="Report it lost").click()
    expect(page).to_have_url(re.compile(r"/lost-token/done$"))
    axe.check(page, "lost token: done")

    axe.assert_clean()


# --- The account page, the token table and its inline actions --------------------------------


def test_account_and_token_pages_with_inline_actions(
    page: Page, axe: Auditor, make_account
) -> None:
    account = make_account(("Active", "Inactive"))
    active, inactive = account.tokens
    sign_in(page, account, active)
    axe.check(page, "dashboard")

    page.get_by_role("link", name="Manage tokens").click()
    expect(page).to_have_url(re.compile(r"/tokens$"))
    axe.check(page, "tokens: table")

    # Delete the only Active token: the guard opens in the row; submitting it bare is an error.
    page.get_by_role("link", name=f"Delete {active.nickname}", exact=True).click()
    expect(page.get_by_text("This is your only Active token.")).to_be_visible()
    axe.check(page, "tokens: inline delete, last Active token")
    page.get_by_role("button", name="Delete token").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "tokens: inline delete (error)")
    page.get_by_role("link", name="Cancel").click()

    # Enable the Inactive token: the code form in the row, then without a code.
    page.get_by_role("link", name=f"Enable {inactive.nickname}", exact=True).click()
    expect(page.get_by_role("button", name="Enable token")).to_be_visible()
    axe.check(page, "tokens: inline enable")
    page.get_by_role("button", name="Enable token").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "tokens: inline enable (error)")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name=f"Rename {inactive.nickname}", exact=True).click()
    expect(page.get_by_role("button", name=re.compile("^(Rename|Save)"))).to_be_visible()
    axe.check(page, "tokens: inline rename")

    # The same actions as whole pages (how they work without JavaScript), and the history.
    for action, token in (
        ("disable", active),
        ("delete", active),
        ("enable", inactive),
        ("rename", inactive),
    ):
        page.goto(f"/tokens/{token.id}/{action}")
        axe.check(page, f"tokens: {action} page")
    page.goto(f"/tokens/{active.id}/history")
    expect(heading(page)).to_contain_text(active.nickname)
    axe.check(page, "tokens: history")
    page.goto("/tokens?deleted=1")
    axe.check(page, "tokens: table with deleted")
    page.goto("/help")
    axe.check(page, "help")

    axe.assert_clean()


def test_suspension_reactivation_and_mailbox_pages(page: Page, axe: Auditor, make_account) -> None:
    """Issue 11: a suspended token in the table, reactivating and confirming the loss (in the
    row and as pages), the lost-token pages with a suspended token, the sandbox mailbox."""
    account = make_account(("Active", "Inactive", "Suspended"))
    last, _inactive, suspended = account.tokens
    sign_in(page, account, last)
    page.goto("/tokens")
    axe.check(page, "tokens: table with a suspended token")
    page.get_by_role("link", name=f"Reactivate {suspended.nickname}", exact=True).click()
    page.get_by_role("button", name="Reactivate token").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "tokens: inline reactivate (error)")
    page.goto(f"/tokens/{suspended.id}/reactivate")
    axe.check(page, "tokens: reactivate page")
    page.goto(f"/tokens/{suspended.id}/confirm-lost")
    page.get_by_role("button", name="Confirm it is lost").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "tokens: confirm lost page (error)")

    page.goto("/lost-token/choose")
    axe.check(page, "lost token: choose, with a suspended token")
    page.get_by_role("radio", name=re.compile(re.escape(last.credential_id))).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Report it lost").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "lost token: confirm, last Active token (error)")
    page.goto(f"/lost-token/reactivate/{suspended.id}")
    page.get_by_role("button", name="Reactivate token").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "lost token: reactivate (error)")
    page.get_by_label("Security code").fill(fresh_code(suspended))
    page.get_by_role("button", name="Reactivate token").click()
    expect(heading(page)).to_have_text(f"{suspended.nickname} works again")
    axe.check(page, "lost token: reactivated")

    page.goto("/sandbox/mailbox")
    axe.check(page, "sandbox: mailbox")
    axe.assert_clean()


def test_token_limit_page(page: Page, axe: Auditor, make_account) -> None:
    account = make_account(("Active",) * 5)
    sign_in(page, account)
    page.goto("/enroll")
    expect(heading(page)).to_contain_text("the most tokens")
    axe.check(page, "wizard: token limit reached")
    axe.assert_clean()


# --- Onboarding, then every wizard step with and without errors, and the backup question ----


def open_invitation(page: Page, invitation) -> None:
    page.goto("/start")
    page.get_by_label("Invitation ID").fill(invitation.code)
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text("Is this you?")


def test_onboarding_and_every_wizard_step_with_and_without_errors(
    page: Page, axe: Auditor, invite, live_server
) -> None:
    # Two invitations that stop early: not proofed yet, and "this is not me".
    open_invitation(page, invite(name="Dr. Lee Unproofed", proofed=False))
    page.get_by_role("button", name="Yes, this is me").click()
    expect(page).to_have_url(re.compile(r"/start/identity-proofing$"))
    axe.check(page, "onboarding: identity proofing first")
    open_invitation(page, invite(name="Dr. Pat Other"))
    page.get_by_role("button", name="No, this is not me").click()
    axe.check(page, "onboarding: not you")

    invitation = invite()
    page.goto("/start")
    axe.check(page, "onboarding: start")
    page.get_by_label("Invitation ID").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_label("NPI", exact=True).fill(invitation.npi)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check(page, "onboarding: start (error)")
    open_invitation(page, invitation)
    axe.check(page, "onboarding: is this you?")
    page.get_by_role("button", name="Yes, this is me").click()
    expect(heading(page)).to_have_text("Create your passphrase")
    axe.check(page, "onboarding: passphrase")
    page.get_by_label("New passphrase").fill("short")
    page.get_by_role("button", name="Create passphrase and continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "onboarding: passphrase (error)")
    page.get_by_label("New passphrase").fill(PASSPHRASE)
    page.get_by_label("Enter the passphrase again").fill(PASSPHRASE)
    page.get_by_role("button", name="Create passphrase and continue").click()

    # Step 1: no choice made; the app shown; the DEA confirmation missing.
    expect_on_step(page, 1)
    axe.check(page, "wizard 1: get the app")
    show_me(page).click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 1 (error: no token chosen)")
    choose_device(page, "iPhone")
    axe.check(page, "wizard 1: app and QR code shown")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 1 (error: not confirmed)")
    confirm_and_continue(page)

    # Step 2: a Credential ID of the wrong shape.
    expect_on_step(page, 2)
    axe.check(page, "wizard 2: Credential ID")
    page.get_by_label("Credential ID").fill("SYMC12")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 2 (error)")

    phone = PracticeApp.open(page.context)
    axe.check(phone.page, "practice app: VIP Access")
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)

    # Step 3: a wrong code, then the right one.
    expect_on_step(page, 3)
    axe.check(page, "wizard 3: security code")
    enter_code(page, wrong_code(live_server.app, phone.credential_id))
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 3 (error: wrong code)")
    code = phone.code()
    page.bring_to_front()
    enter_code(page, code)

    # Step 4: the name emptied, then saved.
    expect_on_step(page, 4)
    axe.check(page, "wizard 4: name and save")
    page.get_by_label("Token name").fill("")
    page.get_by_role("button", name="Save token").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 4 (error: no name)")
    page.get_by_label("Token name").fill("My first token")
    page.get_by_role("button", name="Save token").click()

    # Step 5: the only Active token, so the backup recommendation; "Not now"; skipped.
    expect_on_step(page, 5)
    expect(page.get_by_role("region", name="Add a backup token")).to_be_visible()
    axe.check(page, "wizard 5: done, backup recommended")
    page.get_by_role("button", name="Not now").click()
    expect(
        page.get_by_role("region", name="Are you sure you do not want a backup?")
    ).to_be_visible()
    axe.check(page, "wizard 5: confirm declining the backup")
    page.get_by_role("button", name="Skip the backup for now").click()
    expect(page.get_by_text("You chose not to add a backup for now.")).to_be_visible()
    axe.check(page, "wizard 5: backup declined")
    page.get_by_role("link", name="Go to your account").click()
    expect(page.locator("#backup-reminder")).to_be_visible()
    axe.check(page, "dashboard with the no-backup reminder")

    axe.assert_clean()


# --- Key fobs: steps 1 to 3, and the two-code resynchronisation of an HOTP key fob ----------


def test_key_fob_steps_and_hotp_resync(page: Page, axe: Auditor, account, live_server) -> None:
    sign_in(page, account)

    start_enrolment(page)
    page.get_by_role("radio", name="OneSpan Digipass GO 6 or GO 7 key fob").check()
    show_me(page).click()
    expect(step_heading(page)).to_contain_text("Get your key fob ready")
    axe.check(page, "wizard 1: key fob (OneSpan)")
    page.get_by_role("button", name="Continue").click()
    expect(step_heading(page)).to_contain_text("Find the serial number")
    axe.check(page, "wizard 2: key fob serial number (OneSpan)")
    page.get_by_label("Serial number (S/N)").fill("12-34")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 2: key fob serial number (error)")
    fob = PracticeApp.open(page.context, kind="onespan")
    axe.check(fob.page, "practice app: OneSpan key fob")
    page.bring_to_front()
    page.get_by_label("Serial number (S/N)").fill(fob.credential_id)
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 3)
    axe.check(page, "wizard 3: key fob code")
    enter_code(page, wrong_code(live_server.app, fob.credential_id))
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 3: key fob code (error)")

    # Start again with an event-based Symantec key fob pressed 30 times without use.
    page.get_by_role("button", name="Start over").click()
    expect_on_step(page, 1)
    page.get_by_role("radio", name="Symantec VIP key fob or card").check()
    show_me(page).click()
    expect(step_heading(page)).to_contain_text("Get your key fob ready")
    axe.check(page, "wizard 1: key fob (Symantec)")
    hard = PracticeApp.open(page.context, kind="symantec-hard")
    axe.check(hard.page, "practice app: Symantec key fob")
    serial = hard.credential_id
    page.bring_to_front()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Serial number (S/N)").fill(serial)
    page.get_by_role("button", name="Continue").click()
    expect_on_step(page, 3)
    code = page.request.get(f"/sandbox/api/otp/{serial}?presses=30").json()["code"]
    enter_code(page, code)
    expect(page.get_by_label("Next code")).to_be_visible()
    axe.check(page, "wizard 3: HOTP resync (two codes)")
    page.get_by_role("button", name="Check code").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "wizard 3: HOTP resync (error)")

    axe.assert_clean()


# --- The help desk -----------------------------------------------------------------------------


def test_help_desk_pages(page: Page, axe: Auditor, live_server, make_account, new_context) -> None:
    username = f"agent-{datetime.now(UTC).strftime('%H%M%S%f')}"
    setup_token = in_app(live_server, lambda: helpdesk.add(username, datetime.now(UTC)))
    page.goto(f"/helpdesk/setup/{setup_token}")
    axe.check(page, "help desk: account setup")
    page.get_by_role("button", name="Finish setup").click()
    expect(alert(page)).to_be_visible()
    axe.check(page, "help desk: account setup (error)")

    # Finish the setup with the previous 30-second step's code (the window allows one step
    # either side), so the current step's code is still unused for signing in.
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("New passphrase").fill(AGENT_PASSPHRASE)
    page.get_by_label("Enter the passphrase again").fill(AGENT_PASSPHRASE)
    page.get_by_label("Code from your authenticator app").fill(
        totp.at(datetime.now(UTC) - timedelta(seconds=30))
    )
    page.get_by_role("button", name="Finish setup").click()
    expect(page).to_have_url(re.compile(r"/helpdesk/sign-in$"))
    axe.check(page, "help desk: sign-in")

    def agent_sign_in(passphrase: str, code: str) -> None:
        page.get_by_label("Username").fill(username)
        page.get_by_label("Passphrase", exact=True).fill(passphrase)
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Sign in").click()

    agent_sign_in("not the passphrase", "000000")
    expect(alert(page)).to_be_visible()
    axe.check(page, "help desk: sign-in (error)")
    agent_sign_in(AGENT_PASSPHRASE, totp.now())
    expect(page).to_have_url(re.compile(r"/helpdesk$"))
    axe.check(page, "help desk: console")

    page.get_by_label("Support code").fill("ZZZ-ZZZ")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#code-error")).to_be_visible()
    axe.check(page, "help desk: console (code not found)")

    # A prescriber elsewhere reads out the support code from the foot of their page.
    prescriber = new_context().new_page()
    sign_in(prescriber, make_account())
    support_code = prescriber.locator(".support-code").inner_text().strip()
    page.get_by_label("Support code").fill(support_code)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#live")).to_be_visible()
    axe.check(page, "help desk: live view")

    page.goto("/helpdesk/script")
    axe.check(page, "help desk: script")
    page.goto("/helpdesk/funnel")
    axe.check(page, "help desk: funnel")

    axe.assert_clean()


# --- Keyboard only -----------------------------------------------------------------------------


def focus_report(page: Page) -> dict:
    """What has focus, and whether it shows a focus indicator (outline or box shadow)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            const text = (el.getAttribute('aria-label') || el.innerText || el.value || '')
                .replace(/\\s+/g, ' ').trim().slice(0, 50);
            return {
                tag: el.tagName, id: el.id, type: el.type || '', text,
                visible: outline || style.boxShadow !== 'none',
            };
        }"""
    )


@dataclass
class Keyboard:
    """Drives the page with Tab, Shift+Tab, Space and Enter (and typing), nothing else."""

    page: Page
    seen: list[dict] = field(default_factory=list)

    def tab_to(self, target: Locator, *, shift: bool = False, limit: int = 40) -> None:
        for _ in range(limit):
            if target.evaluate("el => el === document.activeElement"):
                return
            self.page.keyboard.press("Shift+Tab" if shift else "Tab")
            self.seen.append(focus_report(self.page))
        raise AssertionError(f"{limit} presses never reached {target}: {self.seen[-3:]}")

    def tab_until(self, test: str, *, limit: int = 40) -> dict:
        """Tab until document.activeElement passes the JS predicate `test` (el => bool)."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            report = focus_report(self.page)
            self.seen.append(report)
            if self.page.evaluate(f"({test})(document.activeElement)"):
                return report
        raise AssertionError(f"{limit} presses of Tab never reached {test}: {self.seen[-3:]}")

    def press(self, key: str) -> None:
        assert key in ("Space", "Enter", " "), key
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def invisible_focus(self) -> list[dict]:
        return [r for r in self.seen if not r["visible"] and r["tag"] not in ("BODY", "H1")]


def expect_step_focused(page: Page, number: int, heading: str | None = None) -> None:
    """After a swap focus is on the new step's heading, and the live region names the step."""
    expect_on_step(page, number, heading)
    expect(page.locator("#step-heading")).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text(f"Step {number} of 5")


def test_keyboard_only_enrollment(page: Page, account) -> None:
    sign_in(page, account)  # the enrollment itself is by keyboard only, from the account page
    phone = PracticeApp.open(page.context)
    page.bring_to_front()
    page.wait_for_load_state()
    keys = Keyboard(page)

    keys.tab_to(page.get_by_role("main").get_by_role("link", name="Add a token"))
    keys.press("Enter")
    expect_on_step(page, 1)
    page.wait_for_load_state()

    # Step 1: Tab into the device radios (the first one takes focus), Space chooses it.
    chosen = keys.tab_until("el => el.type === 'radio'")
    keys.press("Space")
    expect(page.locator("input[type=radio]:checked")).to_have_count(1)
    keys.tab_to(show_me(page))
    keys.press("Enter")
    # The swapped step 1 names what was chosen (the first radio: the app on an iPhone).
    expect_step_focused(page, 1, heading="Get the VIP Access app")
    keys.tab_to(page.get_by_label(DEA_CONFIRMATION))
    keys.press("Space")
    expect(page.get_by_label(DEA_CONFIRMATION)).to_be_checked()
    keys.tab_to(page.get_by_role("button", name="Continue"))
    keys.press("Enter")

    # Step 2: the Credential ID typed, Continue.
    expect_step_focused(page, 2)
    keys.tab_to(page.get_by_label("Credential ID"))
    keys.type(phone.shown_id)
    keys.tab_to(page.get_by_role("button", name="Continue"))
    keys.press("Enter")

    # Step 3: the code typed, shown in clear with the switch (Space), then Check code.
    expect_step_focused(page, 3)
    code = phone.code()
    page.bring_to_front()
    keys.tab_to(page.get_by_label("Security code"))
    keys.type(code)
    switch = page.get_by_role("switch")
    keys.tab_to(switch)
    keys.press("Space")
    expect(page.get_by_label("Security code")).to_have_attribute("type", "text")
    keys.tab_to(page.get_by_role("button", name="Check code"))
    keys.press("Enter")

    # Step 4: the suggested name kept; to Save, back with Shift+Tab, and forward again.
    expect_step_focused(page, 4)
    save = page.get_by_role("button", name="Save token")
    keys.tab_to(save)
    keys.tab_to(page.get_by_label("Token name"), shift=True)
    keys.tab_to(save)
    keys.press("Enter")

    expect_step_focused(page, 5)
    expect(page.get_by_text(f"({phone.credential_id}) is now Active")).to_be_visible()
    assert chosen["type"] == "radio"
    unseen = keys.invisible_focus()
    assert not unseen, f"focus without a visible indicator: {unseen}"


# --- Screenshots at 390 px and at 200% zoom ----------------------------------------------------

# 200% browser zoom on a 1280 x 800 window halves the CSS viewport: the page lays itself out in
# 640 x 400 CSS pixels, each drawn as 2 x 2 device pixels. So zoom is emulated by a 640 CSS-px
# viewport (which is what triggers the reflow a zoomed user sees) at device_scale_factor 2 (so
# the screenshot is as sharp and as large as the zoomed window). A 1280 CSS-px viewport at
# device_scale_factor 2 would only be a high-density screen: the same layout, nothing reflowed.
VIEWS = {
    "390": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "zoom200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("view", VIEWS)
def test_wizard_screenshots_at_390_px_and_200_percent_zoom(
    view: str, new_context: Callable[..., BrowserContext], make_account, screenshot, live_server
) -> None:
    context = new_context(**VIEWS[view])
    page = context.new_page()
    account = make_account()
    sign_in(page, account)
    overflow: list[str] = []

    def shot(name: str) -> Path:
        settle(page)
        # WCAG 1.4.10 reflow: no sideways scrolling at this width.
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if wide > 0:
            overflow.append(f"{name}: {wide} px wider than the viewport")
        return screenshot(f"a11y-{view}-{name}", page)

    start_enrolment(page)
    shot("1-get-app")
    choose_device(page, "iPhone")
    shot("1-app-shown")
    page.get_by_role("button", name="Continue").click()
    expect(alert(page)).to_be_visible()
    shot("1-error")
    confirm_and_continue(page)
    shot("2-credential-id")
    phone = PracticeApp.open(context)
    page.bring_to_front()
    enter_credential_id(page, phone.shown_id)
    shot("3-security-code")
    enter_code(page, wrong_code(live_server.app, phone.credential_id))
    expect(alert(page)).to_be_visible()
    shot("3-error")
    code = phone.code()
    page.bring_to_front()
    enter_code(page, code)
    expect_on_step(page, 4)
    shot("4-name")
    page.get_by_role("button", name="Save token").click()
    expect_on_step(page, 5)
    shot("5-done")
    assert not overflow, "pages scroll sideways: " + "; ".join(overflow)
