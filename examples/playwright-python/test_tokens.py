"""A prescriber's tokens, as another team tests them with the wizard's testing kit.

Each test makes a prescriber of its own through the sandbox API, so the suite runs again and
again against one sandbox, and four at a time, without a reset.
"""

from playwright.sync_api import Page, expect

from wizard.testing import EnrollmentWizard, HelpDeskConsole, LostTokenFlow, SignInPage, TokenTable


def test_prescriber_adds_an_app_token(signed_in_page: Page, sandbox) -> None:
    token = EnrollmentWizard(signed_in_page, sandbox).add_app_token("iPhone", "My iPhone")
    table = TokenTable(signed_in_page, sandbox).open()
    expect(table.status(token)).to_have_text("Active")
    assert "My iPhone" in table.names()


def test_prescriber_signs_in_with_the_new_app_token(signed_in_page: Page, sandbox, prescriber):
    token = EnrollmentWizard(signed_in_page, sandbox).add_app_token("Android", "My Android")
    SignInPage(signed_in_page, sandbox).sign_out().sign_in(prescriber, token)
    expect(signed_in_page.get_by_role("heading", level=1)).to_have_text(prescriber.name)


def test_prescriber_adds_a_key_fob_as_a_backup(signed_in_page: Page, sandbox, prescriber):
    fob = EnrollmentWizard(signed_in_page, sandbox).add_key_fob("onespan", "Desk key fob")
    expect(signed_in_page.get_by_text("You have 2 Active tokens")).to_be_visible()
    table = TokenTable(signed_in_page, sandbox).open()
    expect(table.status(fob)).to_have_text("Active")
    expect(table.status(prescriber.token)).to_have_text("Active")


def test_prescriber_reports_a_token_lost_and_reactivates_it(page: Page, sandbox, prescriber):
    lost = LostTokenFlow(page, sandbox).report(prescriber, prescriber.token)
    expect(page.get_by_text("You have no Active token left.")).to_be_visible()
    lost.reactivate(prescriber, prescriber.token)
    SignInPage(page, sandbox).sign_in(prescriber, prescriber.token)
    expect(TokenTable(page, sandbox).open().status(prescriber.token)).to_have_text("Active")


def test_help_desk_sees_the_prescribers_step(signed_in_page: Page, sandbox, new_context):
    EnrollmentWizard(signed_in_page, sandbox).start().choose_app("iPhone")
    console = HelpDeskConsole(new_context().new_page(), sandbox).sign_in()
    console.watch(signed_in_page)
    expect(console.field("Wizard step")).to_have_text("2 of 5: Find your Credential ID")
