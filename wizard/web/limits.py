"""Per-address request limits (Flask-Limiter), all in one place.

Each limit is shared by the forms of one kind, so that an address gains nothing by moving
from one form to another:
- sign_in_limit: every form that checks a passphrase, a sign-in code, a reset code, an
  Invitation ID or a help-desk setup (WIZARD_SIGN_IN_RATE_LIMIT);
- code_limit: every form of a signed-in prescriber that checks a one-time code: the wizard's
  security code, enabling a token, confirming the last Active token (WIZARD_CODE_RATE_LIMIT);
- credential_lookup_limit: the wizard's Credential ID step, which tells whether an ID is
  registered: per address and per prescriber (WIZARD_CREDENTIAL_ID_RATE_LIMIT,
  WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT);
- support_lookup_limit: a help-desk agent looking up a support code, per agent
  (WIZARD_HELPDESK_LOOKUP_RATE_LIMIT).
Limits count POSTs (GET and HEAD for the help-desk lookup) and are read from the config on each
request; a GET elsewhere skips Flask-Limiter's check altogether (no_limit_applies, init_app).
A new limit on a GET outside the help desk must change that filter.
A client address is an IPv4 address or an IPv6 /64, as for the sign-in pauses.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter

from wizard.extensions import client_address as address
from wizard.extensions import limiter

_inject_headers = Limiter._Limiter__inject_headers  # its after-request hook, name-mangled


def _prescriber() -> str:
    prescriber = g.get("signed_in")
    return f"prescriber:{prescriber.id}" if prescriber else f"address:{address()}"


def _agent() -> str:
    agent = g.get("agent")
    return f"agent:{agent.id}" if agent else f"address:{address()}"


def exempt() -> bool:
    """True when this request is exempt from the limits. The one place to add an exemption
    (none today)."""
    return False


@limiter.request_filter
def no_limit_applies() -> bool:
    """True for a request no limit counts: a GET or HEAD outside the help desk (whose console
    lookup is the one limited GET). Flask-Limiter would otherwise resolve the route's limits
    at every page read, only to find none."""
    return request.method in ("GET", "HEAD") and request.blueprint != "helpdesk"


def limits_before_views() -> bool:
    """Whether Flask-Limiter's check before the view has anything to count: limits for the
    whole application, default or blueprint limits, or an endpoint's hinted ones. Every limit
    here decorates its view and is counted by the decorator, so today it has none; asked at
    each request, so that a limit added later (as Flask-Limiter's RATELIMIT_APPLICATION or
    RATELIMIT_DEFAULT settings add one) is counted."""
    manager = limiter.limit_manager
    return bool(
        manager._application_limits
        or manager._default_limits
        or manager._blueprint_limits
        or manager._endpoint_hints
    )


def init_app(app: Flask) -> None:
    """Flask-Limiter checks before every request; for a request no limit counts, that check
    resolves the view's limits and runs every request filter only to find none (about 70 µs
    of a page read). It runs only where a limit may count: for a request some limit counts,
    and while some limit is counted before the view (limits_before_views)."""
    hooks = app.before_request_funcs[None]
    check = limiter._check_request_limit

    def check_where_limited() -> None:
        if not no_limit_applies() and limits_before_views():
            check()

    hooks[hooks.index(check)] = check_where_limited

    # Its after-request hook too (limit headers, deductions on the response): where no limit
    # was checked, it has nothing to do.
    afters = app.after_request_funcs[None]
    (inject,) = [f for f in afters if getattr(f, "func", None) is _inject_headers]

    def after_where_limited(response: Response) -> Response:
        return response if no_limit_applies() else inject(response)

    afters[afters.index(inject)] = after_where_limited


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _shared_per_address(setting: str, scope: str):
    """A limit per client address that every view it decorates counts against together."""

    def limit(view):
        return limiter.shared_limit(
            _setting(setting), scope=scope, key_func=address, methods=["POST"], exempt_when=exempt
        )(view)

    return limit


sign_in_limit = _shared_per_address("SIGN_IN_RATE_LIMIT", "sign-in")
code_limit = _shared_per_address("CODE_RATE_LIMIT", "code")


def credential_lookup_limit(view):
    by_address = limiter.limit(
        _setting("CREDENTIAL_ID_RATE_LIMIT"),
        key_func=address,
        methods=["POST"],
        exempt_when=exempt,
    )
    by_account = limiter.limit(
        _setting("CREDENTIAL_ID_ACCOUNT_RATE_LIMIT"),
        key_func=_prescriber,
        methods=["POST"],
        exempt_when=exempt,
    )
    return by_address(by_account(view))


def support_lookup_limit(view):
    """Only a lookup counts (a console GET or HEAD with ?code=), never the live panel's
    polling."""
    return limiter.limit(
        _setting("HELPDESK_LOOKUP_RATE_LIMIT"),
        key_func=_agent,
        methods=["GET", "HEAD"],  # Flask answers HEAD with the GET view: the lookup runs too
        exempt_when=lambda: exempt() or "code" not in request.args,
    )(view)
