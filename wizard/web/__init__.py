"""Blueprints, security headers, error pages and the htmx helpers."""

from __future__ import annotations

from flask import Flask, g

from wizard.domain.mail import us_time
from wizard.domain.tokens import SUSPENSION, allowed_actions, needs_backup
from wizard.services import accounts, lockout
from wizard.services.lockout import Counter
from wizard.web.csrf import csrf_token
from wizard.web.session import current_prescriber, signed_in


def init_app(app: Flask) -> None:
    from wizard.web import csrf, errors, htmx, limits, parts, security, session, support
    from wizard.web.auth import bp as auth_bp
    from wizard.web.enrol import bp as enrol_bp
    from wizard.web.enrol.indicator import step_indicator
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
    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    htmx.init_app(app)
    session.init_app(app)
    support.init_app(app)
    # Registered last, so it runs first: the other hooks see the response htmx gets.
    app.after_request(htmx.redirect_for_htmx)
    app.jinja_env.globals.update(
        qr_svg=qr_svg,
        fixed_url=fixed_url,
        # The pieces every page repeats, in Python (wizard/web/parts.py).
        text_field=parts.text_field,
        field_error=parts.field_error,
        error_summary=parts.error_summary,
        csrf=parts.csrf_field,
        button=parts.button,
        start_over=parts.start_over,
        flashes=parts.flashes,
        step_indicator=step_indicator,
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
            "csrf_token": csrf_token,
        }


def _needs_backup_reminder() -> bool:
    return signed_in() is not None and needs_backup(accounts.active_count(current_prescriber()))
