"""Sandbox mode: accounts made by the sandbox API skip the per-address limits.

A request filter lifts every limit on the request: the sign-in limit, and for an account
signed in, the code and Credential ID limits too (docs/SANDBOX-API.md, "The rate limits").

Test suites sign their own accounts in many times a minute from one address. The rule
(sandbox mode on, an account the API made) is sandbox_accounts.exempt_from_sign_in_limit;
this only finds which account a request is about: the NPI or help-desk username typed, else
the prescriber or agent signed in (or at the sign-in code step). Account lockout still applies.

For the account signed in, the answer is kept in its session: whether the API made an account
never changes (accounts are never removed), and a signed-in suite posts at every step.
"""

from __future__ import annotations

from flask import current_app, g, request, session

from wizard.domain.identifiers import clean_npi
from wizard.extensions import limiter
from wizard.services import sandbox_accounts

# Forms where the NPI typed is not yet an account's (an invitation's): never exempt.
NOT_AN_ACCOUNT = {"auth.start_post"}
# [kind, id, made by the API] for the account this session is signed in with.
KEPT = "sandbox_made"


@limiter.request_filter
def sandbox_account_request() -> bool:
    if request.method != "POST" or not current_app.config.get("SANDBOX"):
        return False
    if "sandbox_account" not in g:  # asked once per limit on the route: one query a request
        g.sandbox_account = _sandbox_account()
    return g.sandbox_account


def _sandbox_account() -> bool:
    if request.endpoint in NOT_AN_ACCOUNT:
        return False
    npi = clean_npi(request.form.get("npi", ""))
    username = (request.form.get("username") or "").strip().lower()
    if not npi and not username:
        signed = _signed_in_as()
        if signed is not None:
            return _kept_answer(*signed)
    # An account typed, or the sign-in code step (NPI and passphrase done).
    pending = (session.get("pending") or {}).get("prescriber_id")
    return sandbox_accounts.exempt_from_sign_in_limit(
        npi=npi or None,
        prescriber_id=None if npi else pending,
        username=username or None,
    )


def _signed_in_as() -> tuple[str, int] | None:
    if session.get("prescriber_id") is not None:
        return "prescriber", session["prescriber_id"]
    if session.get("agent_id") is not None:
        return "agent", session["agent_id"]
    return None


def _kept_answer(kind: str, account_id: int) -> bool:
    kept = session.get(KEPT)
    if kept is not None and kept[:2] == [kind, account_id]:
        return kept[2]
    made = sandbox_accounts.exempt_from_sign_in_limit(
        prescriber_id=account_id if kind == "prescriber" else None,
        agent_id=account_id if kind == "agent" else None,
    )
    session[KEPT] = [kind, account_id, made]
    return made
