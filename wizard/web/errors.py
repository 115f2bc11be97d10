"""One error page per status; a failed request never leaves half a change behind."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, render_template
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from wizard.authority import AuthorityUnavailable
from wizard.extensions import db, limiter
from wizard.web.codes import outage_status
from wizard.web.sandbox.jsonapi import http_error_response, is_api_request
from wizard.web.session import session_ready

log = logging.getLogger("wizard.errors")

MESSAGES = {
    400: ("Your request could not be read", "Go back, reload the page and try again."),
    403: ("You cannot open this page", "Sign in with an account that may see it."),
    404: ("Page not found", "Check the address, or start again from the home page."),
    405: ("That action is not available here", "Go back and use the buttons on the page."),
    413: (
        "That was too much to send",
        "Our forms take a few short answers, and this was far longer. Nothing was saved. "
        "Go back and enter less text.",
    ),
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


def _seconds_left() -> int:
    """Seconds until the limit that was hit lets this address try again (at least 1)."""
    limit = limiter.current_limit
    seconds = limit.reset_at - time.time() if limit is not None else 60
    return max(math.ceil(seconds), 1)


def _in_words(seconds: int) -> str:
    minutes = max(round(seconds / 60), 1)  # the window's end, to the nearest minute
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def rollback() -> None:
    """Drop the failed request's half-done changes (even when the database is gone)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - nothing more can be undone without a database
        log.warning("rollback failed: the database is unreachable")


def store_errors(app: Flask | None = None) -> tuple[type[Exception], ...]:
    """The errors that mean a store is out of reach: the database, and Redis when sessions or
    rate-limit counts live there (several app servers)."""
    config = (app or current_app).config
    if not config.get("SESSION_REDIS_URL") and not str(
        config.get("RATELIMIT_STORAGE_URI", "")
    ).startswith("redis"):
        return (OperationalError,)  # no Redis here: its client (6 MB) stays unloaded
    try:
        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow
    except ImportError:  # one server without Redis: the redis package is optional
        return (OperationalError,)
    return (OperationalError, RedisDown, RedisSlow)


def init_app(app: Flask) -> None:
    unavailable = store_errors(app)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        rollback()
        return render_error(
            400,
            "This form has expired",
            "For your security, forms stop working when the page is too old or was opened "
            "in another session. Nothing was saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(RateLimitExceeded)
    def too_many(error):
        rollback()
        seconds = _seconds_left()
        body, status = render_error(
            429,
            message=(
                "For your security, we pause a form after many attempts from one network in "
                f"a short time. Wait {_in_words(seconds)}, then try again. What you saved "
                "before is kept."
            ),
        )
        # Only a refused request says when to come back: counting headers on every limited
        # POST would cost the counts' store two more round trips each (extensions.limiter).
        return body, status, {"Retry-After": str(seconds)}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        rollback()
        if is_api_request():  # an unknown API path or method: answered in JSON
            return http_error_response(error)
        # A store failure while opening the session surfaces as a 500 wrapping it.
        if isinstance(getattr(error, "original_exception", None), unavailable):
            log.error("store unavailable: %s", type(error.original_exception).__name__)
            return render_error(503)
        return render_error(error.code or 500)

    for kind in unavailable:

        @app.errorhandler(kind)
        def store_down(error):
            log.error("store unavailable: %s", type(getattr(error, "orig", error)).__name__)
            rollback()
            return render_error(503)

    @app.errorhandler(AuthorityUnavailable)
    def vendor_down(error: AuthorityUnavailable):
        # Pages that can stay where they were handle this themselves; this is the rest.
        log.warning("VIP unavailable (%s) during %s", error.reason, error.operation)
        rollback()
        return render_error(
            outage_status(error.reason),
            "Symantec VIP is unavailable",
            "We cannot reach Symantec VIP right now. Nothing was saved. Try again in a few "
            "minutes.",
        )

    @app.errorhandler(Exception)
    def unexpected(error):
        log.exception("unhandled error")
        rollback()
        return render_error(500)
