"""Who is signed in, the idle timeout, and the clock the views use."""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import (
    Flask,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.globals import request_ctx

from wizard.extensions import db
from wizard.store.models import HelpdeskAgent, Prescriber


def now() -> datetime:
    return current_app.config["CLOCK"]()


def session_ready() -> bool:
    """False when this request failed before its session could be read (database down)."""
    try:
        return request_ctx.session is not None
    except AssertionError:  # Flask asserts the session was opened
        return False


def _fresh_session(keep: tuple[str, ...] = ()) -> None:
    """Everything else dropped, under a new session id (no session fixation)."""
    kept = {k: session[k] for k in keep if k in session}
    # Flask-Session regenerates only a non-empty session; make sure this one is.
    session["rotated_at"] = now().timestamp()
    current_app.session_interface.regenerate(session)
    session.clear()
    session.update(kept)
    session["last_seen"] = now().timestamp()


def sign_in(prescriber: Prescriber) -> None:
    """Start a prescriber's signed-in session; an agent's session never carries over."""
    _fresh_session(keep=("enrol", "support_code"))
    session["prescriber_id"] = prescriber.id


def sign_in_agent(agent) -> None:
    """Start a help-desk agent's session; a prescriber's session never carries over."""
    _fresh_session()
    session["agent_id"] = agent.id


def sign_out() -> None:
    session.clear()


def flow_start(name: str, **data) -> None:
    """Remember a short step-by-step task (pending sign-in, lost token…) in the session."""
    session[name] = {**data, "at": now().timestamp()}


def flow(name: str, max_age_seconds: int) -> dict | None:
    """The task's record while it is younger than max_age_seconds; None (and forgotten) after."""
    record = session.get(name)
    if not record:
        return None
    if now().timestamp() - record.get("at", 0) > max_age_seconds:
        session.pop(name, None)
        return None
    return record


def flow_update(name: str, **data) -> None:
    session[name] = {**session.get(name, {}), **data}


def flow_end(name: str) -> None:
    session.pop(name, None)


def _load_prescriber() -> None:
    g.prescriber = None
    g.agent = None
    prescriber_id = session.get("prescriber_id")
    agent_id = session.get("agent_id")
    if prescriber_id is None and agent_id is None:
        return
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if now().timestamp() - session.get("last_seen", 0) > idle:
        sign_out()
        flash(
            f"You were signed out because there was no activity for "
            f"{current_app.config['SESSION_IDLE_MINUTES']} minutes. Sign in again to continue.",
            "info",
        )
        return
    if agent_id is not None:
        g.agent = db.session.get(HelpdeskAgent, agent_id)
    else:
        g.prescriber = db.session.get(Prescriber, prescriber_id)
    if g.prescriber is None and g.agent is None:
        sign_out()
        return
    # Activity is the prescriber's own pages: not static files, and not the sandbox's practice
    # app, whose code polls every second and would otherwise keep the session alive forever.
    if not request.path.startswith("/static/") and request.blueprint != "sandbox":
        session["last_seen"] = now().timestamp()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("prescriber") is None:
            return redirect(url_for("auth.sign_in_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    app.before_request(_load_prescriber)
