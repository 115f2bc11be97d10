"""Blueprints, security headers, error pages and the htmx helpers."""

from __future__ import annotations

from collections import OrderedDict

import flask
from flask import Flask, current_app, g
from flask_wtf.csrf import generate_csrf

from wizard.domain.mail import us_time
from wizard.domain.tokens import SUSPENSION, allowed_actions, needs_backup
from wizard.services import accounts, lockout
from wizard.services.lockout import Counter
from wizard.web.session import current_prescriber, signed_in


def init_app(app: Flask) -> None:
    from wizard.web import errors, htmx, limits, security, session, support
    from wizard.web.auth import bp as auth_bp
    from wizard.web.enrol import bp as enrol_bp
    from wizard.web.enrol.indicator import step_indicator
    from wizard.web.forms import field_error, text_field
    from wizard.web.helpdesk import bp as helpdesk_bp
    from wizard.web.main import bp as main_bp
    from wizard.web.navigation import navigation
    from wizard.web.qr import qr_svg
    from wizard.web.sandbox import bp as sandbox_bp
    from wizard.web.sandbox import limits as _sandbox_limits  # noqa: F401 - its request filter
    from wizard.web.sandbox.api import api as sandbox_api_bp
    from wizard.web.tokens import bp as tokens_bp
    from wizard.web.urls import fixed_url

    limits.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    htmx.init_app(app)
    session.init_app(app)
    support.init_app(app)
    # Registered last, so it runs first: the other hooks see the response htmx gets.
    app.after_request(htmx.redirect_for_htmx)
    app.jinja_env.globals["qr_svg"] = qr_svg
    app.jinja_env.globals["fixed_url"] = fixed_url
    # Flask-WTF's own, replaced: macros (imported without the page's context) see this one too.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals.update(
        text_field=text_field, field_error=field_error, step_indicator=step_indicator
    )
    app.jinja_env.globals.update(
        allowed_actions=allowed_actions,
        us_time=us_time,
        suspension=SUSPENSION,
        # The pauses that messages name: lock_policy("sign_in").first_pause is "15 minutes".
        lock_policy=lambda counter: lockout.policy(Counter(counter)),
    )
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(enrol_bp)
    app.register_blueprint(sandbox_bp)
    app.register_blueprint(sandbox_api_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(helpdesk_bp)

    @app.context_processor
    def page_context():
        return {
            "sandbox": app.config.get("SANDBOX"),
            "prescriber": signed_in(),
            "agent": g.get("agent"),
            # Called by the page frame only: a partial never counts the tokens.
            "backup_reminder": _needs_backup_reminder,
            "navigation": navigation,
            "csrf_token": csrf_token,  # over Flask-WTF's context processor
        }


def csrf_token() -> str:
    """Flask-WTF's token for this request, which a page asks for up to six times: its own
    lookup reads the configuration and the session each time."""
    token = g.get("page_csrf_token")
    if token is None:
        token = g.page_csrf_token = _signed_csrf_token()
    return token


# Signed tokens by (secret, the session's raw token), least recently used out first. Signing
# costs more than the rest of a page's token handling; a token that never expires
# (WTF_CSRF_TIME_LIMIT None) checks the same whenever it was signed, so one is enough.
_SIGNED: OrderedDict[tuple[str, str], str] = OrderedDict()
SIGNED_KEPT = 4096


def _signed_csrf_token() -> str:
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    session = flask.session  # not the module-level name: the submodule wizard.web.session
    token = _SIGNED.get((secret, session.get("csrf_token")))
    if token is not None:
        _SIGNED.move_to_end((secret, session["csrf_token"]))
        return token
    token = generate_csrf()  # makes the session's raw token when it has none yet
    _SIGNED[(secret, session["csrf_token"])] = token
    if len(_SIGNED) > SIGNED_KEPT:
        _SIGNED.popitem(last=False)
    return token


def _needs_backup_reminder() -> bool:
    return signed_in() is not None and needs_backup(accounts.active_count(current_prescriber()))
