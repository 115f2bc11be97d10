"""Changes that end a prescriber's other sessions (issue 11, section 4): a passphrase reset, a
lost report, and disabling or deleting a token. Two browsers (test clients) signed in as one
prescriber; the one that acts stays signed in, except after a reset or a signed-out report,
where no one is signed in to begin with."""

from __future__ import annotations

import pytest
from signing import post, sign_in
from support.pages import page_text

from wizard.services import accounts

ENDED = "You were signed out because of a change to your account"


@pytest.fixture
def two_browsers(app, make_account, clock):
    """(account, here, there): an account with three Active tokens, signed in twice, with its
    first and second tokens; the clock then moves on so every token has an unused code."""
    account = make_account(("Active", "Active", "Active"))
    here, there = app.test_client(), app.test_client()
    sign_in(here, account, clock(), token=account.tokens[0])
    sign_in(there, account, clock(), token=account.tokens[1])
    clock.advance(30)
    return account, here, there


def signed_in(client) -> bool:
    return client.get("/tokens").status_code == 200


def test_disabling_a_token_ends_the_other_sessions_and_keeps_this_one(two_browsers):
    account, here, there = two_browsers
    response = post(here, f"/tokens/{account.tokens[2].id}/disable", {"reason": "temporary"})
    assert response.status_code == 303
    assert signed_in(here)
    ended = there.get("/tokens")
    assert ended.headers["Location"].startswith("/sign-in")
    assert ENDED in page_text(there.get(ended.headers["Location"]))
    assert not signed_in(there)


def test_deleting_a_token_ends_the_other_sessions_and_keeps_this_one(two_browsers):
    account, here, there = two_browsers
    htmx = post(here, f"/tokens/{account.tokens[2].id}/delete", {}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert signed_in(here)
    assert not signed_in(there)


def test_a_lost_report_from_a_signed_in_session_ends_the_others(two_browsers):
    account, here, there = two_browsers
    post(here, "/lost-token/choose", {"token": str(account.tokens[1].id)})
    assert post(here, "/lost-token/confirm").status_code == 303
    assert signed_in(here)
    assert not signed_in(there)


def test_a_lost_report_from_the_disable_form_ends_the_others(two_browsers):
    account, here, there = two_browsers
    response = post(here, f"/tokens/{account.tokens[1].id}/disable", {"reason": "lost"})
    assert response.status_code == 303
    assert signed_in(here)
    assert not signed_in(there)


def test_a_signed_out_lost_report_ends_every_session(app, two_browsers):
    account, here, there = two_browsers
    reporter = app.test_client()
    post(reporter, "/lost-token", {"npi": account.npi, "passphrase": account.passphrase})
    post(reporter, "/lost-token/choose", {"token": str(account.tokens[0].id)})
    assert post(reporter, "/lost-token/confirm").status_code == 303
    assert "is reported lost" in page_text(reporter.get("/lost-token/done"))
    assert not signed_in(here)
    assert not signed_in(there)


def test_a_passphrase_reset_ends_every_session(app, two_browsers, clock):
    account, here, there = two_browsers
    with app.app_context():
        code = accounts.issue_reset_code(account.npi, clock())
    resetter = app.test_client()
    started = post(
        resetter,
        "/forgot-passphrase",
        {"npi": account.npi, "code": account.tokens[2].code(at=clock()), "reset_code": code},
    )
    assert started.status_code == 303, page_text(started)[:500]
    new = "a completely new passphrase 4"
    done = post(resetter, "/forgot-passphrase/new", {"passphrase": new, "confirm": new})
    assert done.headers["Location"] == "/sign-in"
    assert not signed_in(here)
    assert not signed_in(there)


def test_a_sign_in_half_done_before_a_reset_cannot_be_finished(app, make_account, clock):
    """The passphrase step was passed with the old passphrase: the code step now refuses."""
    account = make_account(("Active", "Active"))
    halfway = app.test_client()
    post(halfway, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
    with app.app_context():
        from wizard.extensions import db
        from wizard.store.models import Prescriber

        accounts.set_passphrase(
            db.session.get(Prescriber, account.id), "another new passphrase 5", clock(), "reset"
        )
    token = account.tokens[1]
    response = post(
        halfway, "/sign-in/code", {"token": str(token.id), "code": token.code(at=clock())}
    )
    assert response.headers["Location"] == "/sign-in"
    assert not signed_in(halfway)


@pytest.mark.parametrize("change", ["enable", "rename"])
def test_enabling_or_renaming_leaves_the_other_sessions_alone(app, make_account, clock, change):
    account = make_account(("Active", "Active", "Inactive"))
    here, there = app.test_client(), app.test_client()
    sign_in(here, account, clock(), token=account.tokens[0])
    sign_in(there, account, clock(), token=account.tokens[1])
    clock.advance(30)
    inactive = account.tokens[2]
    data = {"code": inactive.code(at=clock())} if change == "enable" else {"nickname": "Spare"}
    assert post(here, f"/tokens/{inactive.id}/{change}", data).status_code == 303
    assert signed_in(here)
    assert signed_in(there)
