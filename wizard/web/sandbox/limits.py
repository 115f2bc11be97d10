"""Sandbox mode: accounts made by the sandbox API skip the per-address limits.

A request filter lifts every limit on the request: the sign-in limit, and for an account
signed in, the code and Credential ID limits too (docs/SANDBOX-API.md, "The rate limits").

Test suites sign their own accounts in many times a minute from one address. The rule
(sandbox mode on, an account the API made) is sandbox_accounts.exempt_from_sign_in_limit;
this only finds which account a request is about: the NPI or help-desk username typed, else
the prescriber or agent signed in (or at the sign-in code step). Account lockout still applies.
"""

from __future__ import annotations

from flask import current_app, g, request, session

from wizard.domain.identifiers import clean_npi
from wizard.extensions import limiter
from wizard.services import sandbox_accounts

# Forms where the NPI typed is not yet an account's (an invitation's): never exempt.
NOT_AN_ACCOUNT = {"auth.start_post"}


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
    # Signed in, or at the sign-in code step (NPI and passphrase done).
    prescriber_id = session.get("prescriber_id") or (session.get("pending") or {}).get(
        "prescriber_id"
    )
    return sandbox_accounts.exempt_from_sign_in_limit(
        npi=npi or None,
        prescriber_id=None if npi else prescriber_id,
        username=username or None,
        agent_id=None if username else session.get("agent_id"),
    )
