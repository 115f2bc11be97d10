"""Page objects for the wizard, finding everything by role and label as a person would.

Each takes a Playwright page and the sandbox client (which knows the wizard's address and
gives codes). Methods wait for the page they lead to, so a test reads as the steps it takes.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from wizard.testing.client import Agent, Prescriber, SandboxClient, Token

STEP_2 = re.compile(r"Step 2 of 5")
APP_PLATFORMS = ("iPhone", "Android", "Windows", "Mac")
KEY_FOBS = {  # kind: the option in "Which token are you adding?"
    "onespan": "OneSpan Digipass GO 6 or GO 7 key fob",
    "symantec-hard": "Symantec VIP key fob or card",
}
SUPPORT_CODE = re.compile(r"Your support code is ([A-Z0-9]{3}-[A-Z0-9]{3})")


def support_code(page: Page) -> str:
    """The support code in a prescriber's page footer, for the help desk."""
    text = page.get_by_role("contentinfo").inner_text()
    found = SUPPORT_CODE.search(text)
    assert found, f"no support code in the footer: {text!r}"
    return found.group(1)


class _Page:
    def __init__(self, page: Page, sandbox: SandboxClient) -> None:
        self.page = page
        self.sandbox = sandbox

    def _goto(self, path: str) -> None:
        self.page.goto(f"{self.sandbox.url}{path}")

    def heading(self) -> Locator:
        return self.page.get_by_role("heading", level=1)


class SignInPage(_Page):
    """/sign-in: NPI and passphrase, then a code from one of the prescriber's Active tokens."""

    def sign_in(self, prescriber: Prescriber, token: Token | None = None) -> SignInPage:
        """Sign in with token (the first Active one unless given) and a fresh code from it."""
        token = token or prescriber.token
        self.enter_passphrase(prescriber)
        self.page.get_by_role("radio", name=f"{token.name} ({token.credential_id})").check()
        self.page.get_by_label("Security code").fill(self.sandbox.fresh_code(token))
        self.page.get_by_role("button", name="Sign in").click()
        self.expect_signed_in(prescriber)
        return self

    def enter_passphrase(self, prescriber: Prescriber) -> SignInPage:
        """The first step alone: ends on the code step."""
        self._goto("/sign-in")
        self.page.get_by_label("NPI", exact=True).fill(prescriber.npi)
        self.page.get_by_label("Passphrase", exact=True).fill(prescriber.passphrase)
        self.page.get_by_role("button", name="Continue").click()
        expect(self.heading()).to_have_text("Enter a code from your token")
        return self

    def expect_signed_in(self, prescriber: Prescriber) -> None:
        expect(self.page.get_by_role("banner")).to_contain_text(f"Signed in as {prescriber.name}")

    def sign_out(self) -> SignInPage:
        self.page.get_by_role("banner").get_by_role("button", name="Sign out").click()
        expect(self.heading()).to_have_text("Sign in")
        return self


class EnrollmentWizard(_Page):
    """The five steps of adding a token, for a signed-in prescriber."""

    def add_app_token(self, platform: str, name: str) -> Token:
        """A new VIP Access app credential on platform (iPhone, Android, Windows or Mac),
        added and saved as name; returns the saved token."""
        credential = self.sandbox.new_credential("vip-app")
        self.start().choose_app(platform).enter_credential_id(credential.credential_id)
        self.enter_code(self.sandbox.fresh_code(credential)).name_and_save(name)
        return Token(credential.credential_id, name, "Active", credential.kind)

    def add_key_fob(self, kind: str, name: str) -> Token:
        """A new key fob (onespan or symantec-hard), added and saved as name."""
        credential = self.sandbox.new_credential(kind)
        self.start().choose_key_fob(kind).enter_credential_id(credential.credential_id)
        self.enter_code(self.sandbox.fresh_code(credential)).name_and_save(name)
        return Token(credential.credential_id, name, "Active", credential.kind)

    def start(self) -> EnrollmentWizard:
        """Step 1, from the beginning (an unfinished run is started over)."""
        self._goto("/enroll")
        if not re.search(r"Step 1 of 5", self.heading().inner_text()):
            self.page.get_by_role("button", name="Start over").click()
        expect(self.heading()).to_contain_text("Step 1 of 5")
        return self

    def choose_app(self, platform: str) -> EnrollmentWizard:
        """Step 1 for the VIP Access app on platform; ends on step 2."""
        if platform not in APP_PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(APP_PLATFORMS)}")
        option = re.compile(rf"^VIP Access app on an? {platform}\b")
        self.page.get_by_role("radio", name=option).check()
        self.page.get_by_role("button", name="Show me how").click()
        self.page.get_by_label(re.compile("different device from the one I use")).check()
        return self._continue_to(STEP_2)

    def choose_key_fob(self, kind: str) -> EnrollmentWizard:
        """Step 1 for a key fob (onespan or symantec-hard); ends on step 2."""
        self.page.get_by_role("radio", name=KEY_FOBS[kind], exact=True).check()
        self.page.get_by_role("button", name="Show me how").click()
        return self._continue_to(STEP_2)

    def enter_credential_id(self, credential_id: str) -> EnrollmentWizard:
        """Step 2: the Credential ID (or a key fob's serial number); ends on step 3."""
        self.page.get_by_label(re.compile(r"^(Credential ID|Serial number)")).fill(credential_id)
        return self._continue_to(re.compile(r"Step 3 of 5"))

    def enter_code(self, code: str) -> EnrollmentWizard:
        """Step 3: the security code; ends on step 4."""
        self.page.get_by_label("Security code").fill(code)
        self.page.get_by_role("button", name="Check code").click()
        expect(self.heading()).to_contain_text("Step 4 of 5")
        return self

    def name_and_save(self, name: str) -> EnrollmentWizard:
        """Step 4: the token's name, saved; ends on step 5."""
        self.page.get_by_label("Token name").fill(name)
        self.page.get_by_role("button", name="Save token").click()
        expect(self.heading()).to_contain_text("Your token is saved")
        return self

    def _continue_to(self, heading: re.Pattern) -> EnrollmentWizard:
        self.page.get_by_role("button", name="Continue").click()
        expect(self.heading()).to_contain_text(heading)
        return self


class TokenTable(_Page):
    """/tokens: the prescriber's tokens and what each status allows."""

    def open(self) -> TokenTable:
        self._goto("/tokens")
        expect(self.heading()).to_have_text("Manage your tokens")
        return self

    def row(self, token: Token | str) -> Locator:
        """The table row of a token (by its Credential ID)."""
        credential_id = token if isinstance(token, str) else token.credential_id
        table = self.page.get_by_role("table")
        return table.get_by_role("row").filter(
            has=self.page.get_by_role("cell", name=credential_id, exact=True)
        )

    def status(self, token: Token | str) -> Locator:
        """The status cell of a token's row: expect(table.status(t)).to_have_text("Active")."""
        statuses = "Active|Inactive|Lost|Suspended|Deleted"
        return self.row(token).get_by_role("cell", name=re.compile(rf"^({statuses})$"))

    def names(self) -> list[str]:
        """Token names in the table's order."""
        return [n.strip() for n in self.page.get_by_role("rowheader").all_inner_texts()]


class LostTokenFlow(_Page):
    """/lost-token: a prescriber reports a token lost with NPI and passphrase alone (it is
    suspended at once), and reactivates it within 30 days with a current code from it."""

    def report(self, prescriber: Prescriber, token: Token) -> LostTokenFlow:
        """Report token lost (accepting what follows when it is the last Active one); ends on
        the page that confirms it."""
        self._choose_page(prescriber)
        option = re.compile(rf"^{re.escape(token.name)} \({token.credential_id}, ")
        self.page.get_by_role("radio", name=option).check()
        self.page.get_by_role("button", name="Continue").click()
        expect(self.heading()).to_have_text(f"Report {token.name} as lost?")
        acknowledge = self.page.get_by_role("checkbox", name=re.compile(r"^I understand"))
        if acknowledge.count():  # the last Active token: the page asks once more
            acknowledge.check()
        self.page.get_by_role("button", name="Report it lost").click()
        expect(self.heading()).to_have_text(f"{token.name} is reported lost")
        return self

    def reactivate(self, prescriber: Prescriber, token: Token) -> LostTokenFlow:
        """Reactivate a token reported lost with a fresh code from it; ends on the page that
        says it works again."""
        self._choose_page(prescriber)
        self.page.get_by_role("link", name=f"Reactivate {token.name}", exact=True).click()
        expect(self.heading()).to_have_text(f"Reactivate {token.name}")
        self.page.get_by_label("Security code").fill(self.sandbox.fresh_code(token))
        self.page.get_by_role("button", name="Reactivate token").click()
        expect(self.heading()).to_have_text(f"{token.name} works again")
        return self

    def _choose_page(self, prescriber: Prescriber) -> None:
        """/lost-token, with NPI and passphrase unless signed in: "Which token is lost?"."""
        self._goto("/lost-token")
        if self.page.get_by_label("NPI", exact=True).count():  # not signed in
            self.page.get_by_label("NPI", exact=True).fill(prescriber.npi)
            self.page.get_by_label("Passphrase", exact=True).fill(prescriber.passphrase)
            self.page.get_by_role("button", name="Continue").click()
        expect(self.heading()).to_have_text("Which token is lost?")


class HelpDeskConsole(_Page):
    """The help desk's read-only live view, in the agent's own browser context."""

    def sign_in(self, agent: Agent | None = None) -> HelpDeskConsole:
        """Sign in as agent (a new one from the sandbox unless given); ends on the console."""
        agent = agent or self.sandbox.new_agent()
        self._goto("/helpdesk/sign-in")
        self.page.get_by_label("Username").fill(agent.username)
        self.page.get_by_label("Passphrase", exact=True).fill(agent.passphrase)
        self.page.get_by_label("Code from your authenticator app").fill(
            self.sandbox.agent_code(agent)
        )
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.heading()).to_have_text("Live view")
        return self

    def look_up(self, code: str) -> HelpDeskConsole:
        """Show the live view of the prescriber who read out this support code."""
        self.page.get_by_role("textbox", name="Support code").fill(code)
        self.page.get_by_role("button", name="Show").click()
        expect(self.live_view()).to_be_visible()
        return self

    def watch(self, prescriber_page: Page) -> HelpDeskConsole:
        """look_up with the support code shown on the prescriber's page."""
        return self.look_up(support_code(prescriber_page))

    def live_view(self) -> Locator:
        return self.page.get_by_role("region", name=re.compile(r"^Support code "))

    def field(self, name: str) -> Locator:
        """A value of the live view: "Prescriber", "Now on", "Token picked to sign in",
        "Device type", "Wizard step" or "Credential ID" ("Serial number" for a key fob). It
        refreshes every second: use expect(...), which waits."""
        return self.live_view().get_by_label(name, exact=True)
