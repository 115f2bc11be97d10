"""Report a lost token (issue 4): NPI and passphrase (no code), choose, confirm; the token is
Lost at once and for good, and the page says what is left and what the DEA asks."""

from __future__ import annotations

import re

import pytest
from signing import (
    NOT_SIGNED_IN,
    account_maker,
    audit_events,
    page_text,
    pause,
    post,
    prescriber,
    share_compiled_templates,
    sign_in,
    token_row,
    tokens_with,
    unused_npi,
)
from sqlalchemy.exc import IntegrityError

from wizard.extensions import db
from wizard.services import enrollment, tokens
from wizard.services.enrollment import Availability, NewToken, SaveError
from wizard.services.tokens import TokenError
from wizard.store.models import Prescriber, Token

DEA_DUTY = (
    "The DEA requires you to report a lost, stolen or compromised token within one business day."
)
WRONG_PASSPHRASE = "not the right passphrase"


@pytest.fixture(autouse=True)
def _compiled_templates(app):
    share_compiled_templates(app)


@pytest.fixture
def make_account(request, app, clock):
    return account_maker(request.config, app, clock)


def give_passphrase(client, account, passphrase: str | None = None):
    return post(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": passphrase or account.passphrase},
    )


def report(client, token_id: int):
    """Choose the token and confirm; return the confirmation's response."""
    chosen = post(client, "/lost-token/choose", {"token": str(token_id)})
    assert chosen.status_code == 303, page_text(chosen)[:600]
    assert chosen.headers["Location"] == "/lost-token/confirm"
    return post(client, "/lost-token/confirm")


def test_should_report_a_token_lost_with_npi_and_passphrase_only(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost, kept = account.tokens

    page = client.get("/lost-token")
    assert page.status_code == 200
    assert DEA_DUTY in page_text(page)
    assert "You do not need a code: your token may be gone." in page_text(page)

    response = give_passphrase(client, account)
    assert response.status_code == 303
    assert response.headers["Location"] == "/lost-token/choose"

    choose = page_text(client.get("/lost-token/choose"))
    assert f"Token 1 ({lost.credential_id}, Active)" in choose
    assert f"Token 2 ({kept.credential_id}, Active)" in choose

    post(client, "/lost-token/choose", {"token": str(lost.id)})
    confirm = page_text(client.get("/lost-token/confirm"))
    assert "Report Token 1 as lost?" in confirm
    assert "This cannot be undone." in confirm
    assert token_row(app, lost.id).status == "Active"  # nothing happens before confirming

    response = post(client, "/lost-token/confirm")
    assert response.status_code == 303
    assert response.headers["Location"] == "/lost-token/done"
    assert token_row(app, lost.id).status == "Lost"
    assert token_row(app, kept.id).status == "Active"

    [event] = audit_events(app, "token.lost")
    assert (event.outcome, event.actor, event.token_id, event.prescriber_id) == (
        "success",
        f"prescriber:{account.npi}",
        lost.id,
        account.id,
    )
    assert event.client_address == "127.0.0.1"
    assert '"previous": "Active"' in event.detail

    done = page_text(client.get("/lost-token/done"))
    assert (
        f"Token 1 is reported lost It no longer works, and its Credential ID {lost.credential_id}"
        in done
    )
    assert re.search(rf"Your Active tokens Token 2 \( ?{kept.credential_id} ?\)", done)
    assert "add a replacement" in done
    assert "identity proofing again" not in done


def test_an_inactive_token_can_be_reported_lost_too(app, client, make_account):
    account = make_account(("Active", "Inactive", "Lost", "Deleted"))
    give_passphrase(client, account)
    choose = page_text(client.get("/lost-token/choose"))
    assert account.token("Inactive").credential_id in choose
    assert account.token("Lost").credential_id not in choose
    assert account.token("Deleted").credential_id not in choose

    report(client, account.token("Inactive").id)
    assert token_row(app, account.token("Inactive").id).status == "Lost"


@pytest.mark.parametrize("status", ["Lost", "Deleted"])
def test_cant_choose_a_token_that_is_already_lost_or_deleted(app, client, make_account, status):
    account = make_account(("Active", status))
    give_passphrase(client, account)
    response = post(client, "/lost-token/choose", {"token": str(account.token(status).id)})
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert token_row(app, account.token(status).id).status == status


def test_cant_choose_another_prescribers_token(app, client, make_account):
    account = make_account()
    other = make_account()
    give_passphrase(client, account)
    response = post(client, "/lost-token/choose", {"token": str(other.token().id)})
    assert response.status_code == 422
    assert token_row(app, other.token().id).status == "Active"
    assert client.get("/lost-token/confirm").headers["Location"] == "/lost-token"


def test_choosing_nothing_asks_for_a_token(client, account):
    give_passphrase(client, account)
    response = post(client, "/lost-token/choose", {})
    assert response.status_code == 422
    assert "Select the token that is lost" in page_text(response)


def test_the_last_token_lost_says_identity_proofing_must_be_repeated(app, client, account):
    app.config["HELP_DESK_TEXT"] = "Call Pat at the CalMHSA EPCS desk on 555-0100."
    give_passphrase(client, account)
    report(client, account.token().id)
    done = page_text(client.get("/lost-token/done"))
    assert "You have no Active token left." in done
    assert "You must complete identity proofing again" in done
    assert "Call Pat at the CalMHSA EPCS desk on 555-0100." in done
    assert "Your Active tokens" not in done


def test_a_wrong_passphrase_is_refused_and_counts_toward_the_lock(app, client, account, clock):
    for attempt in range(1, 6):
        response = give_passphrase(client, account, WRONG_PASSPHRASE)
        assert response.status_code == 422
        assert NOT_SIGNED_IN in page_text(response)
        assert prescriber(app, account.id).sign_in_failures == attempt
    assert [e.outcome for e in audit_events(app, "lost-token.passphrase")] == [
        "wrong-passphrase"
    ] * 5
    assert pause(app, f"prescriber:{account.npi}").locked_until is not None

    # Locked: neither this form nor sign-in lets the right passphrase through.
    assert give_passphrase(client, account).status_code == 422
    assert (
        post(client, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase}).status_code
        == 422
    )


def test_an_unknown_npi_gets_the_same_message(client, account):
    response = post(client, "/lost-token", {"npi": unused_npi(), "passphrase": account.passphrase})
    assert response.status_code == 422
    assert NOT_SIGNED_IN in page_text(response)


def test_signed_in_prescribers_skip_the_passphrase(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    response = client.get("/lost-token")
    assert response.status_code == 302
    assert response.headers["Location"] == "/lost-token/choose"

    report(client, account.tokens[1].id)
    assert token_row(app, account.tokens[1].id).status == "Lost"
    done = page_text(client.get("/lost-token/done"))
    assert "Token 2 is reported lost" in done
    body = client.get("/lost-token/done").get_data(as_text=True)
    assert 'href="/enroll">Add a replacement token</a>' in body


def test_the_steps_need_the_passphrase_first(client):
    for path in ("/lost-token/choose", "/lost-token/confirm", "/lost-token/done"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/lost-token"
    assert post(client, "/lost-token/confirm").headers["Location"] == "/lost-token"


def test_the_flow_ends_after_15_minutes(app, client, account, clock):
    give_passphrase(client, account)
    clock.advance(minutes=15, seconds=1)
    assert client.get("/lost-token/choose").headers["Location"] == "/lost-token"
    assert (
        post(client, "/lost-token/choose", {"token": str(account.token().id)}).headers["Location"]
        == "/lost-token"
    )
    assert token_row(app, account.token().id).status == "Active"


# --- Lost is for good ------------------------------------------------------------------------


def test_a_lost_token_can_never_be_enabled_again(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    sign_in(client, account, clock())
    report(client, lost.id)

    response = post(client, f"/tokens/{lost.id}/enable", {"code": lost.code(at=clock())})
    assert response.status_code == 422
    assert "This token is Lost." in page_text(response)
    assert post(client, f"/tokens/{lost.id}/delete", {}).status_code == 422
    assert token_row(app, lost.id).status == "Lost"

    with app.app_context():
        owner = db.session.get(Prescriber, account.id)
        token = db.session.get(Token, lost.id)
        for change in (
            lambda: tokens.enable(owner, token, clock()),
            lambda: tokens.delete(owner, token, clock()),
            lambda: tokens.report_lost(owner, token, clock()),
        ):
            with pytest.raises(TokenError, match="This token is Lost"):
                change()
    assert token_row(app, lost.id).status == "Lost"


def test_a_lost_credential_id_is_refused_by_the_wizard(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    sign_in(client, account, clock())
    report(client, lost.id)

    assert (
        post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"}).status_code
        == 303
    )
    response = post(client, "/enroll/credential-id", {"credential_id": lost.credential_id})
    assert response.status_code == 422
    assert "This token was reported lost, so it cannot be registered again." in page_text(response)


def test_a_lost_credential_id_is_refused_for_any_account(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    sign_in(client, account, clock())
    report(client, lost.id)

    someone_else = make_account()
    other_browser = app.test_client()
    sign_in(other_browser, someone_else, clock())
    post(other_browser, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    response = post(other_browser, "/enroll/credential-id", {"credential_id": lost.credential_id})
    assert response.status_code == 422
    assert "This token was reported lost, so it cannot be registered again." in page_text(response)

    with app.app_context():
        assert enrollment.availability(lost.credential_id) is Availability.LOST
        other = db.session.get(Prescriber, someone_else.id)
        with pytest.raises(SaveError):
            enrollment.register_token(other, NewToken(lost.credential_id, "Found it"), clock())
        owner = db.session.get(Prescriber, account.id)
        with pytest.raises(SaveError):
            enrollment.register_token(owner, NewToken(lost.credential_id, "Found it"), clock())
        # The database itself holds the line.
        db.session.add(
            Token(
                prescriber_id=someone_else.id,
                nickname="Sneaked in",
                nickname_key="sneaked in",
                credential_id=lost.credential_id,
                manufacturer="SYMANTEC",
                token_type="OTP SOFT TOKEN",
                model="VIP",
                status="Active",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert [t.status for t in tokens_with(app, lost.credential_id)] == ["Lost"]


def test_a_lost_token_no_longer_signs_in(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost, kept = account.tokens
    give_passphrase(client, account)
    report(client, lost.id)

    browser = app.test_client()
    assert (
        post(
            browser, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase}
        ).status_code
        == 303
    )
    offered = page_text(browser.get("/sign-in/code"))
    assert lost.credential_id not in offered
    refused = post(browser, "/sign-in/code", {"token": str(lost.id), "code": lost.code(at=clock())})
    assert refused.status_code == 422
    sign_in(browser, account, clock(), token=kept)


def test_signed_in_reporters_are_told_the_dea_duty_too(client, make_account, clock):
    """Skipping the passphrase page must not skip the one-business-day duty it states."""
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    seen = [page_text(client.get("/lost-token/choose"))]
    post(client, "/lost-token/choose", {"token": str(account.tokens[1].id)})
    seen.append(page_text(client.get("/lost-token/confirm")))
    post(client, "/lost-token/confirm")
    seen.append(page_text(client.get("/lost-token/done")))
    assert any("within one business day" in text for text in seen)
