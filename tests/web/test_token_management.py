"""The token table (issue 5): columns, actions by status, disable, enable, delete, rename, the
last-token guard, the limit, htmx row swaps, other prescribers' tokens, audit and history."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from signing import (
    REUSED_CODE,
    WRONG_CODE,
    audit_events,
    post,
    prescriber,
    sign_in,
    token_row,
    tokens_with,
)
from sqlalchemy import event
from support.csrf import csrf_token
from support.pages import page_text

from wizard.extensions import db
from wizard.services import sandbox

HTMX = {"HX-Request": "true"}
ADDRESS = "203.0.113.7"
LAST_ONE = "I understand that without an Active token I must complete the entire identity proofing"


@pytest.fixture
def client(client):
    """The test client, calling from an address of its own (to find it in the audit log)."""
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


@pytest.fixture
def signed_in(client, make_account, clock):
    """signed_in(statuses): a fresh account, signed in with its first Active token; the clock
    is then moved to the next 30-second step so every token has an unused code."""

    def make(statuses=("Active", "Active")):
        account = make_account(statuses)
        sign_in(client, account, clock())
        clock.advance(30)
        return account

    return make


def rows(client, query: str = "") -> dict[int, dict]:
    """The token table: {token id: {"cells": [...], "actions": [...]}}."""
    body = client.get("/tokens" + query).get_data(as_text=True)
    found = {}
    for token_id, row in re.findall(r'<tr id="token-(\d+)"[^>]*>(.*?)</tr>', body, re.S):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        actions = re.findall(r"<a [^>]*>([A-Za-z ]+)<span", row)
        found[int(token_id)] = {"cells": cells[:7], "actions": actions}
    return found


def wrong(token, at) -> str:
    near = {token.code(at=at + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def disable(client, token_id, reason="temporary", **extra):
    return post(client, f"/tokens/{token_id}/disable", {"reason": reason, **extra})


def events(app, action):
    return [(e.outcome, e.token_id) for e in audit_events(app, action)]


# --- The table -------------------------------------------------------------------------------


def test_the_table_has_the_columns_prescribers_know(client, signed_in):
    signed_in()
    body = client.get("/tokens").get_data(as_text=True)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', body)
    assert headers == [
        "Token name",
        "Credential ID",
        "Manufacturer",
        "Issuer",
        "Type",
        "Model",
        "Status",
        "Actions",
    ]


def test_each_status_has_its_own_actions(client, signed_in):
    account = signed_in(("Active", "Inactive", "Lost", "Deleted", "Suspended"))
    table = rows(client)
    active, inactive, lost, deleted, suspended = account.tokens
    assert table[active.id]["cells"] == [
        "Token 1",
        active.credential_id,
        "SYMANTEC",
        "DRFIRST",
        "OTP SOFT TOKEN",
        "VIP",
        "Active",
    ]
    assert table[active.id]["actions"] == ["Disable", "Delete", "Rename", "History"]
    assert table[inactive.id]["actions"] == ["Enable", "Delete", "Rename", "History"]
    assert table[lost.id]["actions"] == ["History"]
    assert table[suspended.id]["actions"] == ["Reactivate", "Confirm lost", "History"]
    assert table[suspended.id]["cells"][6] == (
        "Suspended Reported lost. It can be reactivated until April 2, 2025 at 3:00 PM UTC."
    )
    assert deleted.id not in table  # hidden until asked for


def test_show_deleted_tokens_lists_them_with_no_actions(client, signed_in):
    account = signed_in(("Active", "Deleted"))
    body = client.get("/tokens").get_data(as_text=True)
    assert '<a href="/tokens?deleted=1">Show deleted tokens</a>' in body

    table = rows(client, "?deleted=1")
    deleted = account.token("Deleted")
    assert table[deleted.id]["cells"][6] == "Deleted"
    assert table[deleted.id]["actions"] == ["History"]
    assert '<a href="/tokens">Hide deleted tokens</a>' in client.get("/tokens?deleted=1").get_data(
        as_text=True
    )


def test_the_table_needs_sign_in(client):
    assert client.get("/tokens").headers["Location"] == "/sign-in?next=/tokens"
    assert client.get("/tokens/1/disable").headers["Location"] == "/sign-in?next=/tokens/1/disable"
    response = client.post("/tokens/1/disable", data={"csrf_token": csrf_token(client)})
    assert response.headers["Location"].startswith("/sign-in")


# --- Disable ---------------------------------------------------------------------------------


def test_disable_temporarily_makes_a_token_inactive(app, client, signed_in):
    account = signed_in()
    target = account.tokens[1]
    page = client.get(f"/tokens/{target.id}/disable")
    assert page.status_code == 200
    text = page_text(page)
    assert "Temporarily unavailable: I can enable it again later" in text
    assert "Lost, stolen or compromised: it is suspended at once" in text
    assert LAST_ONE not in text  # another Active token remains

    response = disable(client, target.id)
    assert response.status_code == 303
    assert response.headers["Location"] == "/tokens"
    assert "Token 2 is disabled. You can enable it again later." in page_text(client.get("/tokens"))
    assert token_row(app, target.id).status == "Inactive"
    assert rows(client)[target.id]["actions"] == ["Enable", "Delete", "Rename", "History"]

    [event] = audit_events(app, "token.disable")
    assert (event.outcome, event.actor, event.client_address, event.token_id) == (
        "success",
        f"prescriber:{account.npi}",
        ADDRESS,
        target.id,
    )
    assert '"reason": "temporary"' in event.detail


def test_disable_as_lost_suspends_the_token(app, client, signed_in, clock):
    account = signed_in()
    target = account.tokens[1]
    response = disable(client, target.id, "lost")
    assert response.status_code == 303
    assert "Token 2 is reported lost and suspended: it no longer works." in page_text(
        client.get("/tokens")
    )
    assert token_row(app, target.id).status == "Suspended"
    assert token_row(app, target.id).suspended_at == clock()
    assert events(app, "token.suspend") == [("success", target.id)]

    refused = post(client, f"/tokens/{target.id}/enable", {"code": target.code(at=clock())})
    assert refused.status_code == 422
    assert token_row(app, target.id).status == "Suspended"


def test_disable_asks_for_a_reason(app, client, signed_in):
    account = signed_in()
    response = post(client, f"/tokens/{account.tokens[1].id}/disable", {})
    assert response.status_code == 422
    assert "Select why you are disabling this token" in page_text(response)
    assert token_row(app, account.tokens[1].id).status == "Active"


@pytest.mark.parametrize("status", ["Inactive", "Lost", "Deleted"])
def test_only_an_active_token_can_be_disabled(app, client, signed_in, status):
    account = signed_in(("Active", status))
    token = account.token(status)
    response = disable(client, token.id)
    assert response.status_code == 422
    assert f"This token is {status}, so that cannot be done." in page_text(response)
    assert token_row(app, token.id).status == status


# --- Enable ----------------------------------------------------------------------------------


def test_enable_needs_a_current_code_from_that_token(app, client, signed_in, clock):
    account = signed_in(("Active", "Inactive"))
    target = account.token("Inactive")
    page = page_text(client.get(f"/tokens/{target.id}/enable"))
    assert "Enter the code this token shows now, to prove it still works." in page

    # A code from the other token does not prove this one.
    other = post(client, f"/tokens/{target.id}/enable", {"code": account.token().code(at=clock())})
    assert other.status_code == 422
    assert WRONG_CODE in page_text(other)
    assert token_row(app, target.id).status == "Inactive"

    response = post(client, f"/tokens/{target.id}/enable", {"code": target.code(at=clock())})
    assert response.status_code == 303
    assert "Token 2 is enabled." in page_text(client.get("/tokens"))
    assert token_row(app, target.id).status == "Active"
    assert events(app, "token.enable") == [("success", target.id)]
    [event] = audit_events(app, "token.enable")
    assert (event.actor, event.client_address) == (f"prescriber:{account.npi}", ADDRESS)


@pytest.mark.parametrize(
    ("code", "message"),
    [("", "Enter the security code"), ("12 34", "The security code is 6 digits")],
)
def test_enable_checks_the_shape_of_the_code(app, client, signed_in, code, message):
    account = signed_in(("Active", "Inactive"))
    response = post(client, f"/tokens/{account.token('Inactive').id}/enable", {"code": code})
    assert response.status_code == 422
    assert message in page_text(response)
    assert prescriber(app, account.id).code_failures == 0


def test_enable_refuses_a_replayed_code(app, client, signed_in, clock):
    account = signed_in(("Active", "Inactive"))
    target = account.token("Inactive")
    code = target.code(at=clock())
    assert post(client, f"/tokens/{target.id}/enable", {"code": code}).status_code == 303
    disable(client, target.id)

    replay = post(client, f"/tokens/{target.id}/enable", {"code": code})
    assert replay.status_code == 422
    assert REUSED_CODE in page_text(replay)
    assert token_row(app, target.id).status == "Inactive"


def test_five_wrong_enable_codes_lock_code_checks(app, client, signed_in, clock):
    account = signed_in(("Active", "Inactive"))
    target = account.token("Inactive")
    for _ in range(5):
        response = post(client, f"/tokens/{target.id}/enable", {"code": wrong(target, clock())})
        assert response.status_code == 422
    assert "Too many attempts did not match." in page_text(response)
    assert "paused until 15:15 UTC" in page_text(response)
    assert prescriber(app, account.id).code_locked_until == clock() + timedelta(minutes=15)
    assert [e.outcome for e in audit_events(app, "token.enable-code")] == ["wrong"] * 5
    assert len(audit_events(app, "code.lock")) == 1

    locked = post(client, f"/tokens/{target.id}/enable", {"code": target.code(at=clock())})
    assert locked.status_code == 422
    assert token_row(app, target.id).status == "Inactive"

    clock.advance(minutes=15)
    assert (
        post(client, f"/tokens/{target.id}/enable", {"code": target.code(at=clock())}).status_code
        == 303
    )
    assert prescriber(app, account.id).code_failures == 0


def test_a_failed_enable_is_audited_against_the_token(app, client, signed_in, clock):
    account = signed_in(("Active", "Inactive"))
    target = account.token("Inactive")
    post(client, f"/tokens/{target.id}/enable", {"code": wrong(target, clock())})
    [event] = audit_events(app, "token.enable-code")
    assert (event.outcome, event.actor, event.client_address) == (
        "wrong",
        f"prescriber:{account.npi}",
        ADDRESS,
    )
    assert event.token_id == target.id


@pytest.mark.parametrize("status", ["Active", "Lost", "Deleted"])
def test_only_an_inactive_token_can_be_enabled(app, client, signed_in, clock, status):
    account = signed_in(("Active", status) if status != "Active" else ("Active", "Active"))
    token = account.tokens[1]
    response = post(client, f"/tokens/{token.id}/enable", {"code": token.code(at=clock())})
    assert response.status_code == 422
    assert f"This token is {status}." in page_text(response)
    assert token_row(app, token.id).status == status


# --- Delete ----------------------------------------------------------------------------------


def test_delete_keeps_the_row_as_deleted(app, client, signed_in):
    account = signed_in()
    target = account.tokens[1]
    page = page_text(client.get(f"/tokens/{target.id}/delete"))
    assert "its Credential ID can be registered again later" in page
    response = post(client, f"/tokens/{target.id}/delete", {})
    assert response.status_code == 303
    assert response.headers["Location"] == "/tokens"
    assert "Token 2 is deleted." in page_text(client.get("/tokens"))
    assert token_row(app, target.id).status == "Deleted"
    assert target.id not in rows(client)
    assert rows(client, "?deleted=1")[target.id]["cells"][6] == "Deleted"
    assert events(app, "token.delete") == [("success", target.id)]


def test_an_inactive_token_can_be_deleted(app, client, signed_in):
    account = signed_in(("Active", "Inactive"))
    assert post(client, f"/tokens/{account.token('Inactive').id}/delete", {}).status_code == 303
    assert token_row(app, account.token("Inactive").id).status == "Deleted"


@pytest.mark.parametrize("status", ["Lost", "Deleted"])
def test_a_lost_or_deleted_token_cannot_be_deleted(app, client, signed_in, status):
    account = signed_in(("Active", status))
    response = post(client, f"/tokens/{account.token(status).id}/delete", {})
    assert response.status_code == 422
    assert f"This token is {status}, so that cannot be done." in page_text(response)


def test_a_deleted_credential_id_can_be_registered_again(app, client, signed_in, clock):
    account = signed_in()
    target = account.tokens[1]
    post(client, f"/tokens/{target.id}/delete", {})

    post(client, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    response = post(client, "/enroll/credential-id", {"credential_id": target.credential_id})
    assert response.status_code == 303, page_text(response)[:600]
    assert (
        post(client, "/enroll/security-code", {"code": target.code(at=clock())}).status_code == 303
    )
    assert post(client, "/enroll/name", {"nickname": "Back again"}).status_code == 303

    again = tokens_with(app, target.credential_id)
    assert [(t.status, t.nickname) for t in again] == [
        ("Deleted", "Token 2"),
        ("Active", "Back again"),
    ]


def test_a_credential_id_disabled_as_lost_is_never_registered_again(app, client, signed_in):
    account = signed_in(("Active", "Active", "Active"))
    target = account.tokens[2]
    disable(client, target.id, "lost")
    post(client, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    response = post(client, "/enroll/credential-id", {"credential_id": target.credential_id})
    assert response.status_code == 422
    assert "This token was reported lost, so it cannot be registered again." in page_text(response)


# --- The last Active token -------------------------------------------------------------------


def test_the_last_active_token_states_the_consequence(client, signed_in):
    account = signed_in(("Active", "Inactive"))
    for action in ("disable", "delete"):
        page = page_text(client.get(f"/tokens/{account.token().id}/{action}"))
        assert "This is your only Active token." in page
        assert "you must complete the entire identity proofing again" in page
        assert LAST_ONE in page


@pytest.mark.parametrize("action", ["disable", "delete"])
def test_the_last_active_token_needs_the_acknowledgement_and_a_code(
    app, client, signed_in, clock, action
):
    account = signed_in(("Active", "Inactive"))
    last = account.token()
    url = f"/tokens/{last.id}/{action}"
    base = {"reason": "temporary"} if action == "disable" else {}

    no_ack = post(client, url, {**base, "code": last.code(at=clock())})
    assert no_ack.status_code == 422
    assert "Confirm that you understand the consequence" in page_text(no_ack)

    no_code = post(client, url, {**base, "acknowledge": "y"})
    assert no_code.status_code == 422
    assert "Enter the security code" in page_text(no_code)

    bad_code = post(client, url, {**base, "acknowledge": "y", "code": wrong(last, clock())})
    assert bad_code.status_code == 422
    assert WRONG_CODE in page_text(bad_code)
    assert token_row(app, last.id).status == "Active"

    done = post(client, url, {**base, "acknowledge": "y", "code": last.code(at=clock())})
    assert done.status_code == 303
    assert token_row(app, last.id).status == ("Inactive" if action == "disable" else "Deleted")
    assert [e.outcome for e in audit_events(app, "token.confirm")] == ["wrong", "accepted"]


def test_the_last_active_tokens_code_cannot_be_replayed(app, client, make_account, clock):
    account = make_account(("Active",))
    last = account.token()
    sign_in(client, account, clock())  # spends this step's code
    response = post(
        client,
        f"/tokens/{last.id}/delete",
        {"acknowledge": "y", "code": last.code(at=clock())},
    )
    assert response.status_code == 422
    assert REUSED_CODE in page_text(response)
    assert token_row(app, last.id).status == "Active"


def test_the_last_active_token_reported_lost_needs_the_acknowledgement(app, client, signed_in):
    """A lost token cannot show a code, so none is asked; the consequence still is."""
    account = signed_in(("Active",))
    last = account.token()
    refused = disable(client, last.id, "lost")
    assert refused.status_code == 422
    assert "Confirm that you understand the consequence" in page_text(refused)
    assert disable(client, last.id, "lost", acknowledge="y").status_code == 303
    assert token_row(app, last.id).status == "Suspended"


# --- Rename ----------------------------------------------------------------------------------


def test_rename_in_place(app, client, signed_in):
    account = signed_in()
    target = account.tokens[0]
    form = client.get(f"/tokens/{target.id}/rename", headers=HTMX).get_data(as_text=True).strip()
    assert form.startswith(f'<tr id="token-{target.id}"')
    assert 'value="Token 1"' in form

    response = client.post(
        f"/tokens/{target.id}/rename",
        data={"nickname": "  Work iPhone  ", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True).strip()
    assert body.startswith('<div id="token-table"')
    assert ">Work iPhone</th>" in body
    assert (
        '<div id="tokens-status" hx-swap-oob="innerHTML">The token is renamed Work iPhone.</div>'
        in body
    )
    assert token_row(app, target.id).nickname == "Work iPhone"
    [event] = audit_events(app, "token.rename")
    assert (event.outcome, event.token_id, event.client_address) == ("success", target.id, ADDRESS)
    assert '"previous": "Token 1"' in event.detail


@pytest.mark.parametrize(
    ("nickname", "message"),
    [
        ("token 2", "You already have a token with this name. Choose another name."),
        ("x" * 41, "The name must be 40 characters or fewer"),
        ("   ", "Enter a name for this token"),
    ],
)
def test_rename_refuses_bad_names(app, client, signed_in, nickname, message):
    account = signed_in()
    response = post(client, f"/tokens/{account.tokens[0].id}/rename", {"nickname": nickname})
    assert response.status_code == 422
    assert message in page_text(response)
    assert token_row(app, account.tokens[0].id).nickname == "Token 1"


def test_rename_allows_40_characters_and_a_deleted_tokens_name(app, client, signed_in):
    account = signed_in(("Active", "Active", "Deleted"))
    assert (
        post(client, f"/tokens/{account.tokens[0].id}/rename", {"nickname": "y" * 40}).status_code
        == 303
    )
    assert (
        post(client, f"/tokens/{account.tokens[1].id}/rename", {"nickname": "Token 3"}).status_code
        == 303
    )
    assert token_row(app, account.tokens[1].id).nickname == "Token 3"


@pytest.mark.parametrize("status", ["Lost", "Deleted"])
def test_a_lost_or_deleted_token_cannot_be_renamed(app, client, signed_in, status):
    account = signed_in(("Active", status))
    response = post(client, f"/tokens/{account.token(status).id}/rename", {"nickname": "New"})
    assert response.status_code == 422
    assert f"This token is {status}, so that cannot be done." in page_text(response)


# --- The limit -------------------------------------------------------------------------------


def test_at_the_limit_the_table_says_why_there_is_no_add_button(client, signed_in):
    signed_in(("Active", "Active", "Inactive", "Lost", "Active", "Deleted"))
    body = client.get("/tokens").get_data(as_text=True)
    assert "You have 5 tokens, the most an account can hold." in page_text(client.get("/tokens"))
    assert "To add another, delete a token you no longer use." in page_text(client.get("/tokens"))
    assert 'class="button button--primary" href="/enroll">Add a token</a>' not in body


def test_deleted_tokens_do_not_count_toward_the_limit(client, signed_in):
    signed_in(("Active", "Active", "Inactive", "Lost", "Deleted", "Deleted"))
    body = client.get("/tokens").get_data(as_text=True)
    assert '<a class="button button--primary" href="/enroll">Add a token</a>' in body
    assert "the most an account can hold" not in body
    assert client.get("/enroll/get-app").status_code == 200
    assert "You have the most tokens" not in page_text(client.get("/enroll/get-app"))


def test_at_the_limit_the_wizard_refuses(app, client, signed_in):
    signed_in(("Active", "Active", "Active", "Active", "Active"))
    page = client.get("/enroll/get-app")
    assert page.status_code == 200
    assert "You have the most tokens an account can hold" in page_text(page)
    assert "An account can hold 5 tokens, counting Active, Inactive and lost ones." in page_text(
        page
    )
    refused = post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    assert refused.status_code == 409
    with app.app_context():
        issued = sandbox.issue(app.config["CLOCK"]())
    refused = post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
    assert refused.status_code == 409
    assert tokens_with(app, issued.credential_id) == []


def test_the_limit_is_configurable(app, client, signed_in):
    app.config["MAX_TOKENS"] = 2
    signed_in(("Active", "Inactive"))
    assert "You have 2 tokens, the most an account can hold." in page_text(client.get("/tokens"))
    assert "You have the most tokens" in page_text(client.get("/enroll/get-app"))


def test_deleting_a_token_at_the_limit_brings_the_add_button_back(client, signed_in):
    account = signed_in(("Active", "Active", "Active", "Active", "Active"))
    post(client, f"/tokens/{account.tokens[4].id}/delete", {})
    assert ">Add a token</a>" in client.get("/tokens").get_data(as_text=True)


def test_the_table_redrawn_after_a_delete_counts_the_tokens_again(client, signed_in):
    """The count read with the prescriber at the request's start is stale once the delete
    is committed: the table htmx gets back must not still say the account is full."""
    account = signed_in(("Active", "Active", "Active", "Active", "Active"))
    assert "the most an account can hold" in page_text(client.get("/tokens"))

    swapped = post(
        client,
        f"/tokens/{account.tokens[4].id}/delete",
        {},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/tokens"},
    )

    assert swapped.status_code == 200
    assert ">Add a token</a>" in swapped.get_data(as_text=True)
    assert "the most an account can hold" not in page_text(swapped)


def test_a_step_reads_its_session_and_prescriber_directly_and_nothing_more(
    app, client, signed_in, database
):
    """Two pooled connections taken and given back (the session, then the prescriber with
    the token count); no statement through SQLAlchemy's Connection or ORM."""
    signed_in(("Active",))
    client.get("/enroll/get-app")
    statements, checkouts, traced = [], [], []

    def note(_connection, _cursor, statement, *_rest):
        statements.append(statement)

    def taken(dbapi_connection, *_rest):
        checkouts.append(dbapi_connection)
        if database.backend == "sqlite":
            dbapi_connection.set_trace_callback(traced.append)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        event.listen(db.engine, "checkout", taken)
        try:
            assert client.get("/enroll/get-app").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
            event.remove(db.engine, "checkout", taken)
            for connection in checkouts:
                if database.backend == "sqlite":
                    connection.set_trace_callback(None)
    assert statements == []
    assert len(checkouts) == 2
    if database.backend == "sqlite":
        reads = [s for s in traced if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == 2, traced
        assert "FROM server_sessions" in reads[0]
        assert "FROM prescribers" in reads[1] and "count(tokens.id)" in reads[1]


# --- htmx ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["disable", "delete", "rename"])
def test_htmx_gets_only_the_row_with_the_actions_form(client, signed_in, action):
    account = signed_in()
    token = account.tokens[1]
    response = client.get(f"/tokens/{token.id}/{action}", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True).strip()
    assert body.startswith(f'<tr id="token-{token.id}" class="token-row token-row--editing">')
    assert body.endswith("</tr>")
    assert "<html" not in body and "<main" not in body
    assert f'hx-post="/tokens/{token.id}/{action}"' in body
    assert f'hx-target="#token-{token.id}"' in body
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_enable_form_is_a_row_too(client, signed_in):
    account = signed_in(("Active", "Inactive"))
    token = account.token("Inactive")
    body = client.get(f"/tokens/{token.id}/enable", headers=HTMX).get_data(as_text=True).strip()
    assert body.startswith(f'<tr id="token-{token.id}"')
    assert 'name="code"' in body


def test_without_htmx_the_action_is_a_page_of_its_own(client, signed_in):
    account = signed_in()
    body = client.get(f"/tokens/{account.tokens[1].id}/disable").get_data(as_text=True)
    assert body.lstrip().startswith("<!doctype html>")
    assert "Back to your tokens" in body


@pytest.mark.parametrize("action", ["disable", "delete", "rename"])
def test_an_action_on_a_page_of_its_own_posts_as_a_plain_form(client, signed_in, action):
    """Reached by its address with JavaScript on, the page has no row for htmx to swap: its
    form and Cancel must work as plain HTML, not wait for a target that is not there."""
    account = signed_in()
    body = client.get(f"/tokens/{account.tokens[1].id}/{action}").get_data(as_text=True)
    assert f'<form method="post" action="/tokens/{account.tokens[1].id}/{action}"' in body
    assert "hx-post" not in body and "hx-target" not in body


def changed_table(response) -> str:
    """The body of an htmx action's success: the whole table, put in place of the old one."""
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#token-table"
    assert response.headers["HX-Reswap"] == "outerHTML"
    body = response.get_data(as_text=True).strip()
    assert body.startswith('<div id="token-table"')
    assert "<html" not in body
    return body


def row_of(body: str, token_id: int) -> str:
    found = re.search(rf'<tr id="token-{token_id}" .*?</tr>', body, re.S)
    return found.group(0) if found else ""


def reminder_of(body: str) -> str:
    found = re.search(
        r'<div id="backup-reminder-region" hx-swap-oob="innerHTML">(.*?)\n</div>', body, re.S
    )
    assert found, "no backup reminder region out of band"
    return found.group(1)


def test_htmx_post_returns_the_whole_table_and_a_status_message(app, client, signed_in):
    account = signed_in()
    token = account.tokens[1]
    response = client.post(
        f"/tokens/{token.id}/disable",
        data={"reason": "temporary", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    body = changed_table(response)
    row = row_of(body, token.id)
    assert 'class="token-row token-row--inactive"' in row
    assert '<span class="tag tag--inactive">Inactive</span>' in row
    assert ">Enable<" in row and ">Disable<" not in row
    assert 'tabindex="-1" data-autofocus' in row, "focus stays on the changed row"
    assert "data-autofocus" not in row_of(body, account.tokens[0].id)
    assert (
        '<div id="tokens-status" hx-swap-oob="innerHTML">'
        "Token 2 is disabled. You can enable it again later.</div>"
    ) in body
    assert token_row(app, token.id).status == "Inactive"


def test_deleting_with_htmx_takes_the_row_away_and_focuses_the_message(client, signed_in):
    account = signed_in()
    token = account.tokens[1]
    response = client.post(
        f"/tokens/{token.id}/delete", data={"csrf_token": csrf_token(client)}, headers=HTMX
    )
    body = changed_table(response)
    assert row_of(body, token.id) == "", "a deleted row is hidden, as after a reload"
    assert row_of(body, account.tokens[0].id)
    assert body.startswith('<div id="token-table" data-focus="tokens-status">')
    assert "Token 2 is deleted." in body


def test_deleting_with_deleted_tokens_shown_keeps_the_row(client, signed_in):
    account = signed_in()
    token = account.tokens[1]
    response = client.post(
        f"/tokens/{token.id}/delete",
        data={"csrf_token": csrf_token(client)},
        headers={**HTMX, "HX-Current-URL": "http://localhost/tokens?deleted=1"},
    )
    body = changed_table(response)
    assert 'class="token-row token-row--deleted"' in row_of(body, token.id)
    assert "Hide deleted tokens" in body
    assert "data-focus" not in body.splitlines()[0]


def test_deleting_at_the_limit_with_htmx_brings_back_add_a_token(client, signed_in):
    account = signed_in(("Active",) * 5)
    page = client.get("/tokens").get_data(as_text=True)
    assert "the most an account can hold" in page and "button--primary" not in page
    response = client.post(
        f"/tokens/{account.tokens[4].id}/delete",
        data={"csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    body = changed_table(response)
    assert "the most an account can hold" not in body
    assert '<a class="button button--primary" href="/enroll">Add a token</a>' in body


def test_an_action_that_leaves_one_active_token_brings_the_backup_reminder(client, signed_in):
    account = signed_in()
    assert "You have no backup token" not in client.get("/tokens").get_data(as_text=True)
    response = client.post(
        f"/tokens/{account.tokens[1].id}/disable",
        data={"reason": "temporary", "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert "You have no backup token" in reminder_of(changed_table(response))


def test_enabling_a_second_active_token_takes_the_backup_reminder_away(client, signed_in, clock):
    account = signed_in(("Active", "Inactive"))
    assert "You have no backup token" in client.get("/tokens").get_data(as_text=True)
    token = account.tokens[1]
    response = client.post(
        f"/tokens/{token.id}/enable",
        data={"code": token.code(at=clock()), "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert reminder_of(changed_table(response)).strip() == ""


def test_htmx_post_with_an_error_returns_the_row_form_with_422(client, signed_in):
    account = signed_in()
    token = account.tokens[1]
    response = client.post(
        f"/tokens/{token.id}/disable", data={"csrf_token": csrf_token(client)}, headers=HTMX
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True).strip()
    assert body.startswith(f'<tr id="token-{token.id}" class="token-row token-row--editing">')
    assert "Select why you are disabling this token" in body


def test_the_row_endpoint_gives_the_plain_row_back(client, signed_in):
    account = signed_in()
    token = account.tokens[0]
    body = client.get(f"/tokens/{token.id}/row", headers=HTMX).get_data(as_text=True).strip()
    assert body.startswith(f'<tr id="token-{token.id}" class="token-row token-row--active">')
    assert "tokens-status" not in body
    plain = client.get(f"/tokens/{token.id}/row")
    assert plain.status_code == 302
    assert plain.headers["Location"] == "/tokens"


# --- Other prescribers' tokens ---------------------------------------------------------------


def test_another_prescribers_token_is_not_found(app, client, signed_in, make_account, clock):
    signed_in()
    other = make_account(("Active", "Inactive"))
    data = {"reason": "temporary", "nickname": "Mine now", "acknowledge": "y"}
    answers = {}
    for token in other.tokens:
        for path in ("disable", "enable", "delete", "rename", "history", "row"):
            url = f"/tokens/{token.id}/{path}"
            answers[f"GET {url}"] = client.get(url, headers=HTMX).status_code
            if path not in ("history", "row"):
                code = token.code(at=clock())
                answers[f"POST {url}"] = post(client, url, {**data, "code": code}).status_code
    assert set(answers.values()) == {404}, answers
    for token in other.tokens:
        assert (token_row(app, token.id).status, token_row(app, token.id).nickname) == (
            token.status,
            token.nickname,
        )
    assert client.get("/tokens/999999/history").status_code == 404


# --- Audit and history -----------------------------------------------------------------------


def test_history_lists_every_change_by_whom_and_from_where(app, client, signed_in, clock):
    account = signed_in()
    with app.app_context():
        issued = sandbox.issue(clock())
    post(client, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
    post(client, "/enroll/security-code", {"code": pyotp.TOTP(issued.secret).at(clock())})
    post(client, "/enroll/name", {"nickname": "Tablet"})
    [added] = tokens_with(app, issued.credential_id)

    clock.advance(minutes=1)
    disable(client, added.id)
    clock.advance(minutes=1)
    post(client, f"/tokens/{added.id}/enable", {"code": pyotp.TOTP(issued.secret).at(clock())})
    clock.advance(minutes=1)
    post(client, f"/tokens/{added.id}/rename", {"nickname": "Old tablet"})
    clock.advance(minutes=1)
    post(client, f"/tokens/{added.id}/delete", {})

    body = client.get(f"/tokens/{added.id}/history").get_data(as_text=True)
    history = [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(<td>.*?)</tr>", body, re.S)
    ]
    actor = f"prescriber:{account.npi}"
    assert [row[1:] for row in history] == [
        ["Added", actor, ADDRESS, "success"],
        ["Disabled", actor, ADDRESS, "success"],
        ["Enabled", actor, ADDRESS, "success"],
        ["Renamed", actor, ADDRESS, "success"],
        ["Deleted", actor, ADDRESS, "success"],
    ]
    assert [row[0] for row in history] == [
        "2025-03-03 15:00",
        "2025-03-03 15:01",
        "2025-03-03 15:02",
        "2025-03-03 15:03",
        "2025-03-03 15:04",
    ]
    assert "History of Old tablet" in page_text(client.get(f"/tokens/{added.id}/history"))


def test_history_shows_a_token_reported_lost(client, signed_in):
    account = signed_in()
    disable(client, account.tokens[1].id, "lost")
    page = page_text(client.get(f"/tokens/{account.tokens[1].id}/history"))
    assert f"Reported lost (suspended) prescriber:{account.npi} {ADDRESS} success" in page
