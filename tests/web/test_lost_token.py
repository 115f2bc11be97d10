"""Report a lost token (issues 4 and 11): NPI and passphrase (no code), choose, confirm. The
token is suspended at once (NIST SP 800-63B §6.2): it no longer signs in; its owner can
reactivate it within 30 days with a code from it; after that, or when the owner confirms the
loss signed in with another token, it is Lost for good."""

from __future__ import annotations

import re

import pytest
from signing import (
    NOT_SIGNED_IN,
    WRONG_CODE,
    audit_events,
    pause,
    post,
    prescriber,
    sign_in,
    token_row,
    tokens_with,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from support.accounts import unused_npi
from support.pages import page_text

from wizard.extensions import db
from wizard.services import enrollment, tokens
from wizard.services.enrollment import Availability, NewToken, SaveError
from wizard.services.tokens import TokenError
from wizard.store.models import OutboxMail, Prescriber, Token

DEA_DUTY = (
    "The DEA requires you to report a lost, stolen or compromised token within one business day."
)
WRONG_PASSPHRASE = "not the right passphrase"


def give_passphrase(client, account, passphrase: str | None = None):
    return post(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": passphrase or account.passphrase},
    )


def report(client, token_id: int, **confirm):
    """Choose the token and confirm; return the confirmation's response."""
    chosen = post(client, "/lost-token/choose", {"token": str(token_id)})
    assert chosen.status_code == 303, page_text(chosen)[:600]
    assert chosen.headers["Location"] == "/lost-token/confirm"
    return post(client, "/lost-token/confirm", confirm)


def reactivate(client, token, code: str):
    return post(client, f"/lost-token/reactivate/{token.id}", {"code": code})


def mails(app, kind: str | None = None) -> list[OutboxMail]:
    with app.app_context():
        query = select(OutboxMail).order_by(OutboxMail.id)
        if kind:
            query = query.where(OutboxMail.kind == kind)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


# --- Reporting: suspended at once ------------------------------------------------------------


def test_should_suspend_a_token_reported_with_npi_and_passphrase_only(
    app, client, make_account, clock
):
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
    assert "suspends it at once" in choose

    post(client, "/lost-token/choose", {"token": str(lost.id)})
    confirm = page_text(client.get("/lost-token/confirm"))
    assert "Report Token 1 as lost?" in confirm
    assert "If you find it within 30 days, you can reactivate it" in confirm
    assert "This is your only Active token." not in confirm
    assert token_row(app, lost.id).status == "Active"  # nothing happens before confirming

    response = post(client, "/lost-token/confirm")
    assert response.status_code == 303
    assert response.headers["Location"] == "/lost-token/done"
    assert token_row(app, lost.id).status == "Suspended"
    assert token_row(app, lost.id).suspended_at == clock()
    assert token_row(app, kept.id).status == "Active"

    [event] = audit_events(app, "token.suspend")
    assert (event.outcome, event.actor, event.token_id, event.prescriber_id) == (
        "success",
        f"prescriber:{account.npi}",
        lost.id,
        account.id,
    )
    assert event.client_address == "127.0.0.1"
    assert '"previous": "Active"' in event.detail

    done = page_text(client.get("/lost-token/done"))
    assert "Token 1 is reported lost It is suspended: it no longer works." in done
    assert "reactivate it until April 2, 2025 at 3:00 PM UTC" in done
    assert "We sent a message about this to the mail address on your account." in done
    assert re.search(rf"Your Active tokens Token 2 \( ?{kept.credential_id} ?\)", done)
    assert "identity proofing again" not in done


def test_cant_lose_every_token_with_a_passphrase_alone(app, client, make_account, clock):
    """Someone who knows an NPI and a passphrase reports every token: each is only suspended,
    the prescriber is told by mail, and the prescriber gets every token back with codes."""
    account = make_account(("Active", "Active", "Inactive"))
    give_passphrase(client, account)
    for token in account.tokens:
        confirm = {"acknowledge": "y"} if token.id == account.tokens[1].id else {}
        assert report(client, token.id, **confirm).status_code == 303
    assert [token_row(app, t.id).status for t in account.tokens] == ["Suspended"] * 3
    assert len(mails(app, "token.suspend")) == 3

    prescriber_browser = app.test_client()
    give_passphrase(prescriber_browser, account)
    for token in account.tokens:  # each credential has its own codes
        assert reactivate(prescriber_browser, token, token.code(at=clock())).status_code == 303
    assert [token_row(app, t.id).status for t in account.tokens] == ["Active"] * 3
    assert audit_events(app, "token.lost") == []


def test_an_inactive_token_can_be_reported_lost_too(app, client, make_account):
    account = make_account(("Active", "Inactive", "Lost", "Deleted", "Suspended"))
    give_passphrase(client, account)
    choose = page_text(client.get("/lost-token/choose"))
    assert account.token("Inactive").credential_id in choose
    assert account.token("Lost").credential_id not in choose
    assert account.token("Deleted").credential_id not in choose
    assert f"{account.token('Suspended').credential_id}, Suspended" not in choose

    report(client, account.token("Inactive").id)
    assert token_row(app, account.token("Inactive").id).status == "Suspended"


@pytest.mark.parametrize("status", ["Lost", "Deleted", "Suspended"])
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


# --- The last Active token -------------------------------------------------------------------


def test_reporting_the_last_active_token_says_what_follows_and_asks_once_more(
    app, client, make_account
):
    app.config["HELP_DESK_TEXT"] = "Call Pat at the CalMHSA EPCS desk on 555-0100."
    account = make_account(("Active", "Inactive"))
    last = account.token()
    give_passphrase(client, account)
    post(client, "/lost-token/choose", {"token": str(last.id)})
    confirm = page_text(client.get("/lost-token/confirm"))
    assert "This is your only Active token." in confirm
    assert "you cannot sign in or prescribe controlled substances electronically" in confirm

    refused = post(client, "/lost-token/confirm")
    assert refused.status_code == 422
    assert "Confirm that you understand what follows" in page_text(refused)
    assert token_row(app, last.id).status == "Active"

    assert post(client, "/lost-token/confirm", {"acknowledge": "y"}).status_code == 303
    assert token_row(app, last.id).status == "Suspended"
    done = page_text(client.get("/lost-token/done"))
    assert "You have no Active token left." in done
    assert "Until you reactivate this token, you cannot sign in" in done
    assert "Call Pat at the CalMHSA EPCS desk on 555-0100." in done
    assert "Your Active tokens" not in done


# --- Passphrase and flow ---------------------------------------------------------------------


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
    assert token_row(app, account.tokens[1].id).status == "Suspended"
    done = page_text(client.get("/lost-token/done"))
    assert "Token 2 is reported lost" in done
    body = client.get("/lost-token/done").get_data(as_text=True)
    assert 'href="/enroll">Add a replacement token</a>' in body
    assert client.get("/tokens").status_code == 200  # the reporting session stays signed in


def test_the_steps_need_the_passphrase_first(client, account):
    for path in (
        "/lost-token/choose",
        "/lost-token/confirm",
        "/lost-token/done",
        f"/lost-token/reactivate/{account.token().id}",
        "/lost-token/reactivated",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/lost-token"
    assert post(client, "/lost-token/confirm").headers["Location"] == "/lost-token"
    refused = post(client, f"/lost-token/reactivate/{account.token().id}", {"code": "123456"})
    assert refused.headers["Location"] == "/lost-token"


def test_the_flow_ends_after_15_minutes(app, client, account, clock):
    give_passphrase(client, account)
    clock.advance(minutes=15, seconds=1)
    assert client.get("/lost-token/choose").headers["Location"] == "/lost-token"
    assert (
        post(client, "/lost-token/choose", {"token": str(account.token().id)}).headers["Location"]
        == "/lost-token"
    )
    assert token_row(app, account.token().id).status == "Active"


def test_cant_continue_a_lost_report_after_a_passphrase_reset(app, client, make_account, clock):
    """A flow started with the old passphrase ends when the passphrase is reset."""
    account = make_account(("Active", "Active"))
    give_passphrase(client, account)
    with app.app_context():
        owner = db.session.get(Prescriber, account.id)
        from wizard.services import accounts

        accounts.set_passphrase(owner, "a brand new passphrase 9", clock(), "passphrase.reset")
    assert client.get("/lost-token/choose").headers["Location"] == "/lost-token"
    assert report_refused(client, account.tokens[0].id)
    assert token_row(app, account.tokens[0].id).status == "Active"


def report_refused(client, token_id: int) -> bool:
    return post(client, "/lost-token/choose", {"token": str(token_id)}).headers.get("Location") == (
        "/lost-token"
    )


# --- Suspended: no sign-in, no change, no registration ---------------------------------------


def test_a_suspended_token_no_longer_signs_in(app, client, make_account, clock):
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


def test_cant_enable_delete_or_rename_a_suspended_token(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    sign_in(client, account, clock())
    report(client, lost.id)

    response = post(client, f"/tokens/{lost.id}/enable", {"code": lost.code(at=clock())})
    assert response.status_code == 422
    assert "This token is Suspended." in page_text(response)
    assert post(client, f"/tokens/{lost.id}/delete", {}).status_code == 422
    assert post(client, f"/tokens/{lost.id}/rename", {"nickname": "x"}).status_code == 422
    assert token_row(app, lost.id).status == "Suspended"

    with app.app_context():
        owner = db.session.get(Prescriber, account.id)
        token = db.session.get(Token, lost.id)
        for change in (
            lambda: tokens.enable(owner, token, clock()),
            lambda: tokens.delete(owner, token, clock()),
            lambda: tokens.disable(owner, token, clock()),
            lambda: tokens.suspend(owner, token, clock()),
        ):
            with pytest.raises(TokenError, match="This token is Suspended"):
                change()
    assert token_row(app, lost.id).status == "Suspended"


def test_a_suspended_credential_id_is_refused_by_the_wizard(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    sign_in(client, account, clock())
    report(client, lost.id)

    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    response = post(client, "/enroll/credential-id", {"credential_id": lost.credential_id})
    assert response.status_code == 422
    assert "This token was reported lost, so it cannot be registered again." in page_text(response)


def test_a_token_changed_meanwhile_is_not_changed_twice(app, make_account, clock):
    """Two reports at once: the second read the token as Active before the first committed;
    the conditional UPDATE finds it Suspended, so there is one suspension, one audit event
    and one mail."""
    account = make_account(("Active", "Active"))
    with app.app_context():
        owner = db.session.get(Prescriber, account.id)
        stale = db.session.get(Token, account.tokens[1].id)
        assert stale.status == "Active"
        with app.app_context():  # the first request, with a session of its own
            first = db.session.get(Prescriber, account.id)
            tokens.suspend(first, db.session.get(Token, stale.id), clock())
        with pytest.raises(TokenError, match="changed a moment ago"):
            tokens.suspend(owner, stale, clock())
    assert token_row(app, account.tokens[1].id).status == "Suspended"
    assert len(audit_events(app, "token.suspend")) == 1
    assert len(mails(app, "token.suspend")) == 1


# --- Reactivation ----------------------------------------------------------------------------


def test_should_reactivate_a_suspended_token_with_the_passphrase_and_a_code_from_it(
    app, client, make_account, clock
):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    give_passphrase(client, account)
    report(client, lost.id)
    clock.advance(days=29, hours=23)

    stranger = app.test_client()  # a new browser: the passphrase first, then the code
    give_passphrase(stranger, account)
    choose = page_text(stranger.get("/lost-token/choose"))
    assert "Found a token you reported lost?" in choose
    assert re.search(
        rf"Token 2 \( ?{lost.credential_id} ?\), until April 2, 2025 at 3:00 PM UTC", choose
    )

    page = page_text(stranger.get(f"/lost-token/reactivate/{lost.id}"))
    assert "Reactivate Token 2" in page
    assert "Enter the code the token shows now" in page

    response = reactivate(stranger, lost, lost.code(at=clock()))
    assert response.status_code == 303
    assert response.headers["Location"] == "/lost-token/reactivated"
    assert token_row(app, lost.id).status == "Active"
    assert token_row(app, lost.id).suspended_at is None
    assert "Token 2 works again" in page_text(stranger.get("/lost-token/reactivated"))
    assert [e.outcome for e in audit_events(app, "token.reactivate-code")] == ["success"]
    assert [e.token_id for e in audit_events(app, "token.reactivate")] == [lost.id]
    assert [m.kind for m in mails(app)] == ["token.suspend", "token.reactivate"]

    clock.advance(30)  # its code of now was spent on the reactivation
    sign_in(app.test_client(), account, clock(), token=lost)  # it signs in again


def test_cant_reactivate_with_a_code_from_another_token(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost, kept = account.tokens
    give_passphrase(client, account)
    report(client, lost.id)
    response = reactivate(client, lost, kept.code(at=clock()))
    assert response.status_code == 422
    assert WRONG_CODE in page_text(response)
    assert token_row(app, lost.id).status == "Suspended"
    # Counted as a sign-in (this NPI from this address), not on the account's code checks.
    assert pause(app, f"prescriber:{account.npi}").failures == 1
    assert prescriber(app, account.id).code_failures == 0


def test_cant_pause_the_prescribers_reactivation_with_the_passphrase_alone(
    app, client, make_account, clock
):
    """Someone with the stolen passphrase reports every token lost, then types wrong codes at
    the reactivation: only their own address pauses; the prescriber, token in hand,
    reactivates it from theirs."""
    account = make_account()
    token = account.token()
    thief = app.test_client()
    thief.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    give_passphrase(thief, account)
    report(thief, token.id, acknowledge="y")
    assert token_row(app, token.id).status == "Suspended"
    for _ in range(app.config["CODE_MAX_FAILURES"] + 1):
        refused = reactivate(thief, token, "000000")
    assert refused.status_code == 422
    assert "signing in is paused until" in page_text(refused)

    give_passphrase(client, account)
    response = reactivate(client, token, token.code(at=clock()))

    assert response.headers["Location"] == "/lost-token/reactivated"
    assert token_row(app, token.id).status == "Active"
    assert prescriber(app, account.id).code_failures == 0


def test_cant_reactivate_without_the_passphrase(app, client, make_account, clock):
    """Holding the token is not enough: the passphrase comes first."""
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    give_passphrase(client, account)
    report(client, lost.id)
    thief = app.test_client()
    refused = reactivate(thief, lost, lost.code(at=clock()))
    assert refused.headers["Location"] == "/lost-token"
    wrong = give_passphrase(thief, account, WRONG_PASSPHRASE)
    assert wrong.status_code == 422
    assert reactivate(thief, lost, lost.code(at=clock())).headers["Location"] == "/lost-token"
    assert token_row(app, lost.id).status == "Suspended"


def test_cant_reactivate_after_30_days(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    lost = account.tokens[1]
    give_passphrase(client, account)
    report(client, lost.id)
    clock.advance(days=30)

    browser = app.test_client()
    give_passphrase(browser, account)
    assert "Found a token you reported lost?" not in page_text(browser.get("/lost-token/choose"))
    assert reactivate(browser, lost, lost.code(at=clock())).headers["Location"] == "/lost-token"
    assert token_row(app, lost.id).status == "Lost"
    [event] = audit_events(app, "token.lost")
    assert (event.actor, event.token_id) == ("system", lost.id)
    assert '"reason": "expired"' in event.detail
    [mail] = mails(app, "token.lost")
    assert "not reactivated within 30 days" in " ".join(mail.body.split())


def test_a_suspension_ends_exactly_30_days_after_the_report(app, make_account, clock):
    account = make_account(("Active", "Suspended"))
    suspended = account.token("Suspended")
    with app.app_context():
        owner = db.session.get(Prescriber, account.id)
        token = db.session.get(Token, suspended.id)
        clock.advance(days=30, seconds=-1)
        tokens.settle(owner, clock())
        assert token.status == "Suspended"
        clock.advance(seconds=1)
        with pytest.raises(TokenError, match="more than 30 days ago"):
            tokens.reactivate(owner, token, clock())
        assert db.session.get(Token, suspended.id).status == "Lost"


def test_the_finalize_command_makes_old_suspensions_lost(app, runner, make_account, clock):
    recent = make_account(("Active", "Suspended"))
    clock.advance(days=10)
    old = make_account(("Active", "Suspended", "Suspended"))
    clock.advance(days=25)  # the first account's suspension is 35 days old, the second's 25
    result = runner.invoke(args=["tokens", "finalize-lost"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 suspended token now Lost for good."
    assert token_row(app, recent.token("Suspended").id).status == "Lost"
    assert [token_row(app, t.id).status for t in old.tokens] == ["Active", "Suspended", "Suspended"]
    clock.advance(days=5)
    assert runner.invoke(args=["tokens", "finalize-lost"]).output.strip() == (
        "2 suspended tokens now Lost for good."
    )


# --- Confirming the loss ---------------------------------------------------------------------


def test_should_confirm_the_loss_signed_in_with_another_token(app, client, make_account, clock):
    account = make_account(("Active", "Suspended"))
    lost = account.token("Suspended")
    sign_in(client, account, clock())
    page = page_text(client.get(f"/tokens/{lost.id}/confirm-lost"))
    assert "This cannot be undone." in page
    assert "you can reactivate it until April 2, 2025 at 3:00 PM UTC" in page

    refused = post(client, f"/tokens/{lost.id}/confirm-lost", {})
    assert refused.status_code == 422
    assert "Confirm that you understand the token can never be used again" in page_text(refused)
    assert token_row(app, lost.id).status == "Suspended"

    done = post(client, f"/tokens/{lost.id}/confirm-lost", {"acknowledge": "y"})
    assert done.status_code == 303
    assert "Token 2 is lost for good." in page_text(client.get("/tokens"))
    assert token_row(app, lost.id).status == "Lost"
    [event] = audit_events(app, "token.lost")
    assert (event.actor, '"reason": "confirmed"' in event.detail) == (
        f"prescriber:{account.npi}",
        True,
    )
    assert [m.kind for m in mails(app)] == ["token.lost"]


def test_cant_confirm_a_loss_from_a_session_signed_in_with_that_token(
    app, client, make_account, clock
):
    """A session signed in with a token, before it was reported, does not prove its loss."""
    account = make_account(("Active", "Active"))
    first = account.tokens[0]
    sign_in(client, account, clock(), token=first)
    report(client, first.id)
    refused = post(client, f"/tokens/{first.id}/confirm-lost", {"acknowledge": "y"})
    assert refused.status_code == 422
    assert "sign in with another of your tokens" in page_text(refused)
    assert token_row(app, first.id).status == "Suspended"


def test_a_lost_token_can_never_be_reactivated_or_registered_again(
    app, client, make_account, clock
):
    account = make_account(("Active", "Lost"))
    lost = account.token("Lost")
    sign_in(client, account, clock())
    response = post(client, f"/tokens/{lost.id}/reactivate", {"code": lost.code(at=clock())})
    assert response.status_code == 422
    assert "This token is Lost." in page_text(response)

    someone_else = make_account()
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


def test_the_signed_out_lost_token_page_says_a_found_token_can_be_reactivated(client):
    """A prescriber who found their token comes back here; the page must not say it is gone."""
    text = page_text(client.get("/lost-token"))
    assert "can never be used again" not in text
    assert "If you find it within 30 days, you can reactivate it with a code from it." in text
    assert "Found a token you reported lost?" in text


def test_an_empty_lost_token_form_does_not_warn_about_pauses(client, account):
    """Nothing was counted, so the pause notice would only alarm."""
    empty = post(client, "/lost-token", {"npi": "", "passphrase": ""})
    assert empty.status_code == 422
    assert "failed attempts in a row" not in page_text(empty)
    wrong = give_passphrase(client, account, WRONG_PASSPHRASE)
    assert "failed attempts in a row" in page_text(wrong)
