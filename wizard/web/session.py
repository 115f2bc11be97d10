"""Who is signed in, the idle timeout, and the clock the views use."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.globals import request_ctx

from wizard.domain.activity import idle_expired, minute
from wizard.services import accounts, helpdesk

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from wizard.store.models import Prescriber

SEEN = "seen_minute"  # the minute of the last action (wizard.domain.activity)
ENDED_ELSEWHERE = (
    "You were signed out because of a change to your account: a token was reported lost, "
    "disabled or deleted, or the passphrase was reset. Sign in again to continue."
)


def now() -> datetime:
    return current_app.config["CLOCK"]()


def session_ready() -> bool:
    """False when this request failed before its session could be read (database down)."""
    try:
        return request_ctx.session is not None
    except AssertionError:  # Flask asserts the session was opened
        return False


def _rotate() -> None:
    """A new session id from this response on; the old one opens nothing."""
    current_app.session_interface.rotate(session._get_current_object())


def _fresh_session(keep: tuple[str, ...] = ()) -> None:
    """Everything else dropped, under a new session id (no session fixation)."""
    kept = {k: session[k] for k in keep if k in session}
    session.clear()
    session.update(kept)
    session[SEEN] = minute(now())
    _rotate()


def sign_in(prescriber: Prescriber, token_id: int | None = None) -> None:
    """Start a prescriber's signed-in session with the token it proved; an agent's session
    never carries over."""
    _fresh_session(keep=("enrol", "support_code"))
    session["prescriber_id"] = prescriber.id
    session["token_id"] = token_id
    session["generation"] = prescriber.session_generation


def signed_in_with() -> int | None:
    """The token this session signed in with."""
    return session.get("token_id")


def keep_session() -> None:
    """After a change that ended the prescriber's other sessions: this one stays signed in."""
    if signed_in() is not None and "prescriber_id" in session:
        session["generation"] = current_prescriber().session_generation


def current(prescriber: Prescriber | accounts.SignedIn | None, record: dict | None) -> bool:
    """True when a flow's record (or a session) began after the prescriber's last
    end-every-session change (a lost report, a new passphrase...)."""
    return (
        prescriber is not None
        and record is not None
        and record.get("generation", 0) == prescriber.session_generation
    )


def sign_in_agent(agent) -> None:
    """Start a help-desk agent's session; a prescriber's session never carries over."""
    _fresh_session()
    session["agent_id"] = agent.id


def sign_out() -> None:
    session.clear()
    _rotate()


def background(view):
    """Marks a view that the page calls by itself (a poll): its requests are not the user's
    actions, so they never keep an idle session alive."""
    view.background = True
    return view


def _background_request() -> bool:
    return getattr(_view(), "background", False)


def snapshot_only(view):
    """Marks a view that changes something but needs only the signed-in snapshot (the id,
    NPI and token count), never the prescriber's row: its request reads the snapshot as a
    page does, from a process's memory while the change mark holds. Such a view must check
    session_generation() in the transaction of its change, and answer a session found ended
    there with ended_elsewhere(): a change whose mark Redis did not take leaves the snapshot
    naming the old generation for up to a minute."""
    view.snapshot_only = True
    return view


def _view():
    return current_app.view_functions.get(request.endpoint or "")


def flow_start(name: str, **data) -> None:
    """Remember a short step-by-step task (pending sign-in, lost token…) in the session.

    A flow starts once something was proved (a passphrase, a reset code, an Invitation ID), so
    it starts under a new session id: an id planted in the browser beforehand (session
    fixation) never carries it."""
    session[name] = {**data, "at": now().timestamp()}
    _rotate()


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


def _seen_minute() -> int:
    if SEEN in session:
        return session[SEEN]
    return int(session.get("last_seen", 0) // 60)  # saved before this release, in seconds


def _load_prescriber() -> None:
    g.signed_in = None
    g.agent = None
    # A request inside an app context already pushed (a test, a warm-up) shares its `g`.
    g.pop("prescriber", None)
    prescriber_id = session.get("prescriber_id")
    agent_id = session.get("agent_id")
    if prescriber_id is None and agent_id is None:
        return
    if idle_expired(_seen_minute(), now(), current_app.config["SESSION_IDLE_MINUTES"]):
        sign_out()
        flash(
            f"You were signed out because there was no activity for "
            f"{current_app.config['SESSION_IDLE_MINUTES']} minutes. Sign in again to continue.",
            "info",
        )
        return
    if agent_id is not None:
        g.agent = helpdesk.by_id(agent_id)
    else:
        g.signed_in = _read_signed_in(prescriber_id)
        if g.signed_in is not None and not current(g.signed_in, session):
            g.signed_in = None
            sign_out()
            flash(ENDED_ELSEWHERE, "info")
            return
    if g.signed_in is None and g.agent is None:
        sign_out()
        return
    seen = minute(now())
    if session.get(SEEN) != seen and not _background_request():
        session[SEEN] = seen  # at most one write a minute for the idle timeout


def _read_signed_in(prescriber_id: int) -> accounts.SignedIn | None:
    """A GET only shows: the snapshot is read directly, or served from memory while the
    change mark read with the session is the one it was kept under; so does a view that
    checks the generation itself (snapshot_only). Any other request may change something and
    will load the row anyway: the snapshot is taken from it (one read, not two; on
    PostgreSQL one round trip fewer)."""
    if request.method in ("GET", "HEAD") or getattr(_view(), "snapshot_only", False):
        mark = getattr(session, "mark", None)
        found = accounts.signed_in(prescriber_id, mark)
        if found is not None and mark is not None and not current(found, session):
            # Kept in memory, and not of this session's generation: before anyone is signed
            # out, the database decides (a change whose mark Redis did not take would
            # otherwise sign out the very session that made it, on another server).
            found = accounts.signed_in(prescriber_id, mark, fresh=True)
        return found
    row = g.prescriber = accounts.by_id(prescriber_id)
    return None if row is None else accounts.snapshot(row)


def signed_in() -> accounts.SignedIn | None:
    """The signed-in prescriber as read at the request's start (name, NPI, token count)."""
    return g.get("signed_in")


def current_prescriber() -> Prescriber:
    """The signed-in prescriber's row, loaded when a view first asks: most pages need only
    signed_in(). Only for a view behind login_required."""
    row = g.get("prescriber")
    if row is None or row.id != g.signed_in.id:
        row = g.prescriber = accounts.by_id(g.signed_in.id)
    if row is None:  # removed since the request began
        abort(403)
    return row


def session_generation() -> int:
    """The generation of the prescriber's sessions this session was signed in under."""
    return session.get("generation", 0)


def ended_elsewhere() -> Response:
    """A view found the session ended by a change elsewhere: signed out and told why, as a
    request that finds it at its start is."""
    sign_out()
    flash(ENDED_ELSEWHERE, "info")
    return _to_sign_in()


def _to_sign_in() -> Response:
    return redirect(url_for("auth.sign_in_page", next=request.full_path.rstrip("?")))


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if signed_in() is None:
            return _to_sign_in()
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    app.before_request(_load_prescriber)
