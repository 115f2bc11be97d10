"""Home page and health check."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from wizard.extensions import db, limiter
from wizard.services import accounts, sandbox, tokens
from wizard.web.forms import EmptyForm
from wizard.web.main import bp
from wizard.web.session import current_prescriber, now, signed_in


@bp.get("/")
def home():
    if signed_in() is None:
        return render_template(
            "main/welcome.html",
            title="Add a token for EPCS",
            demo=sandbox.demo_summary() if current_app.config.get("SANDBOX") else None,
        )
    prescriber = current_prescriber()
    tokens.settle(prescriber, now())  # a suspension past 30 days shows as Lost
    return render_template(
        "main/dashboard.html",
        title="Your EPCS account",
        prescriber=prescriber,
        tokens=tokens.not_deleted(prescriber),
        active=accounts.active_count(prescriber),
        form=EmptyForm(),
    )


@bp.get("/help", endpoint="help")
def help_page():
    """What to do when stuck: open to everyone, signed in or not."""
    return render_template("main/help.html", title="Help")


@bp.get("/healthz")
def healthz():
    """200 when the database (and Redis, where sessions or rate-limit counts live) answers,
    503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: database unavailable")
        return jsonify(status="unavailable", database="unreachable"), 503
    if not _redis_answers():
        current_app.logger.warning("health check: Redis unavailable")
        return jsonify(status="unavailable", database="ok", redis="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _redis_answers() -> bool:
    try:
        current_app.session_interface.store.ping()
    except Exception:  # noqa: BLE001 - any failure to answer is "unreachable"
        return False
    return limiter.storage.check()
