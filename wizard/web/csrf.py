"""The CSRF token on every page, and Flask-WTF's check made only where it can refuse.

CSRFProtect (wizard.extensions.csrf) checks every POST before its view; forms carry no check
of their own (wizard.web.forms.BaseForm).
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

# Signed tokens by (secret, the session's raw token), least recently used out first. Signing
# costs more than the rest of a page's token handling; a token that never expires
# (WTF_CSRF_TIME_LIMIT None) checks the same whenever it was signed, so one is enough.
_SIGNED: OrderedDict[tuple[str, str], str] = OrderedDict()
SIGNED_KEPT = 4096


def csrf_token() -> str:
    """Flask-WTF's token for this request, which a page asks for up to six times: its own
    lookup reads the configuration and the session each time."""
    token = g.get("page_csrf_token")
    if token is None:
        token = g.page_csrf_token = _signed()
    return token


def _signed() -> str:
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    key = (secret, session.get("csrf_token"))
    token = _SIGNED.get(key)
    if token is not None:
        _SIGNED.move_to_end(key)
        return token
    token = generate_csrf()  # makes the session's raw token when it has none yet
    _SIGNED[(secret, session["csrf_token"])] = token
    if len(_SIGNED) > SIGNED_KEPT:
        _SIGNED.popitem(last=False)
    return token


def init_app(app: Flask) -> None:
    """After CSRFProtect: templates and macros get csrf_token above, not Flask-WTF's own, and
    its check before every request returns at once for a method it never checks (it would
    first look the view and its blueprint up for exemptions)."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    hooks = app.before_request_funcs[None]
    (check,) = [hook for hook in hooks if hook.__name__ == "csrf_protect"]

    def csrf_protect() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"]:
            check()

    hooks[hooks.index(check)] = csrf_protect
