"""Issue 12: with two or more Active tokens the sign-in code step preselects one (the token of
the last sign-in, else the first), says which was used last time, and any may be chosen.

Before the change, nothing was chosen with two Active tokens: a prescriber (or a test suite)
who did not pick one was told to select a token.
"""

from __future__ import annotations

import re

from signing import code_step, passphrase_step, post

from wizard.extensions import db
from wizard.services import tokens
from wizard.store.models import Prescriber


def radios(html: str) -> dict[int, bool]:
    """The token radios of the code step: {token id: checked}."""
    found = {}
    for tag in re.findall(r'<input[^>]*name="token"[^>]*>', html):
        found[int(re.search(r'value="(\d+)"', tag).group(1))] = " checked" in tag
    return found


def code_page(client, account) -> str:
    passphrase_step(client, account.npi, account.passphrase)
    response = client.get("/sign-in/code")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sign_in_with(client, account, token, at) -> None:
    passphrase_step(client, account.npi, account.passphrase)
    assert code_step(client, token.id, token.code(at=at)).status_code == 303


def test_should_preselect_the_first_of_two_active_tokens_when_none_was_used(app, make_account):
    account = make_account(("Active", "Active"))
    first, second = account.tokens

    assert radios(code_page(app.test_client(), account)) == {first.id: True, second.id: False}


def test_should_preselect_the_token_used_at_the_last_sign_in(app, make_account, clock):
    account = make_account(("Active", "Active", "Active"))
    first, second, third = account.tokens
    sign_in_with(app.test_client(), account, second, clock())

    html = code_page(app.test_client(), account)

    assert radios(html) == {first.id: False, second.id: True, third.id: False}
    hint = re.search(r'<p class="hint" id="token-hint">([^<]+)</p>', html)
    assert hint and hint.group(1) == f"You signed in with {second.nickname} last time."
    assert re.search(r'<fieldset class="fieldset" aria-describedby="token-hint">', html)


def test_should_fall_back_to_the_first_when_the_last_used_token_is_no_longer_active(
    app, make_account, clock
):
    account = make_account(("Active", "Active", "Active"))
    first, second, third = account.tokens
    sign_in_with(app.test_client(), account, third, clock())
    with app.app_context():
        prescriber = db.session.get(Prescriber, account.id)
        token = next(t for t in prescriber.tokens if t.id == third.id)
        tokens.disable(prescriber, token, clock())

    html = code_page(app.test_client(), account)

    assert radios(html) == {first.id: True, second.id: False}
    assert "last time" not in html


def test_should_sign_in_with_the_preselected_token_or_another(app, make_account, clock):
    account = make_account(("Active", "Active"))
    first, second = account.tokens
    client = app.test_client()
    code_page(client, account)

    assert code_step(client, second.id, second.code(at=clock())).status_code == 303


def test_should_still_ask_for_a_token_when_a_post_names_none(app, make_account, clock):
    account = make_account(("Active", "Active"))
    client = app.test_client()
    code_page(client, account)

    response = post(client, "/sign-in/code", {"code": account.tokens[0].code(at=clock())})

    assert response.status_code == 422
    assert "Select the token you are using" in response.get_data(as_text=True)
