"""One error page per status; a failed request never leaves half a change behind."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from wizard.extensions import db
from wizard.web.session import session_ready

log = logging.getLogger("wizard.errors")

MESSAGES = {
    400: ("Your request could not be read", "Go back, reload the page and try again."),
    403: ("You cannot open this page", "Sign in with an account that may see it."),
    404: ("Page not found", "Check the address, or start again from the home page."),
    405: ("That action is not available here", "Go back and use the buttons on the page."),
    413: ("That was too much to send", "Go back and enter less text."),
    429: ("Too many attempts", "Wait a minute, then try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you entered was saved. Try again in a few minutes.",
    ),
    503: (
        "The service is unavailable",
        "We cannot reach our database right now. Nothing was saved. Try again in a few minutes.",
    ),
}


def render_error(status: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    return (
        render_template(
            "error.html" if session_ready() else "error-plain.html",
            status=status,
            title=title or default_title,
            message=message or default_message,
        ),
        status,
    )


def _rollback() -> None:
    """Drop the failed request's half-done changes (even when the database is gone)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - nothing more can be undone without a database
        log.warning("rollback failed: the database is unreachable")


def _store_errors() -> tuple[type[Exception], ...]:
    """The errors that mean a store is out of reach: the database, and Redis when sessions or
    rate-limit counts live there (several app servers)."""
    try:
        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow
    except ImportError:  # one server without Redis: the redis package is optional
        return (OperationalError,)
    return (OperationalError, RedisDown, RedisSlow)


def init_app(app: Flask) -> None:
    unavailable = _store_errors()

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        _rollback()
        return render_error(
            400,
            "This form has expired",
            "For your security, forms stop working when the page is too old or was opened "
            "in another session. Nothing was saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        _rollback()
        # A store failure while opening the session surfaces as a 500 wrapping it.
        if isinstance(getattr(error, "original_exception", None), unavailable):
            log.error("store unavailable: %s", type(error.original_exception).__name__)
            return render_error(503)
        return render_error(error.code or 500)

    for kind in unavailable:

        @app.errorhandler(kind)
        def store_down(error):
            log.error("store unavailable: %s", type(getattr(error, "orig", error)).__name__)
            _rollback()
            return render_error(503)

    @app.errorhandler(Exception)
    def unexpected(error):
        log.exception("unhandled error")
        _rollback()
        return render_error(500)
