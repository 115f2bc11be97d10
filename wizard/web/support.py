"""Support codes on the prescriber's pages, and what each request tells the help desk."""

from __future__ import annotations

from flask import Flask, Response, g, request, session

from wizard.domain.steps import Progress
from wizard.domain.support import new_support_code
from wizard.services import support
from wizard.web.session import now, session_ready, signed_in

# Every page of these blueprints is a prescriber's and shows the support code: a new route
# cannot be forgotten. The help desk's own pages and the sandbox's are not.
PRESCRIBER_BLUEPRINTS = frozenset({"auth", "main", "tokens", "enrol"})
# Not a page anyone reads: a health check, a redirect, an htmx fragment without a footer.
NOT_PAGES = frozenset({"main.healthz", "auth.sign_out_post", "tokens.row"})

# What the help desk's live view calls each page, by endpoint (every token page is "tokens").
PAGES = {
    "auth.sign_in_page": "sign-in",
    "auth.sign_in_post": "sign-in",
    "auth.sign_in_code": "sign-in-code",
    "auth.sign_in_code_post": "sign-in-code",
    "auth.start": "start",
    "auth.start_post": "start",
    "auth.start_confirm": "start-confirm",
    "auth.start_confirm_post": "start-confirm",
    "auth.start_proofing": "start-proofing",
    "auth.start_passphrase": "start-passphrase",
    "auth.start_passphrase_post": "start-passphrase",
    "main.home": "dashboard",
    "main.help": "help",
    "auth.lost_token": "lost-token",
    "auth.lost_token_post": "lost-token",
    "auth.lost_token_choose": "lost-token",
    "auth.lost_token_choose_post": "lost-token",
    "auth.lost_token_confirm": "lost-token",
    "auth.lost_token_confirm_post": "lost-token",
    "auth.lost_token_done": "lost-token",
    "auth.lost_token_reactivate": "lost-token",
    "auth.lost_token_reactivate_post": "lost-token",
    "auth.lost_token_reactivated": "lost-token",
    "auth.forgot_passphrase": "forgot-passphrase",
    "auth.forgot_passphrase_post": "forgot-passphrase",
    "auth.new_passphrase": "forgot-passphrase",
    "auth.new_passphrase_post": "forgot-passphrase",
    "enrol.start": "get-app",
    "enrol.get_app": "get-app",
    "enrol.save_get_app": "get-app",
    "enrol.credential_id": "credential-id",
    "enrol.save_credential_id": "credential-id",
    "enrol.security_code": "security-code",
    "enrol.save_security_code": "security-code",
    "enrol.name": "name",
    "enrol.save_name": "name",
    "enrol.done": "done",
    "enrol.backup": "done",
}


def note_error(kind: str) -> None:
    """Tell the help desk what just went wrong (a kind from wizard.domain.support.GUIDES)."""
    g.support_error = kind


def note_change(kind: str) -> None:
    """Tell the help desk what the prescriber just changed (a kind from
    wizard.domain.support.CHANGES), such as a token reported lost."""
    g.support_change = kind


def note_page(page: str) -> None:
    """The page actually shown (a wizard step can answer a post to the step before)."""
    g.support_page = page


def note_person(name: str, npi: str, prescriber_id: int | None = None) -> None:
    """Who this is, when known before they are signed in (an invitation, the code step)."""
    g.support_person = (name, npi)
    g.support_prescriber_id = prescriber_id


def note_sign_in_token(token_id: int) -> None:
    """The token the prescriber picked on the code step of signing in (one of their own)."""
    g.support_token = token_id


def record_backup_accepted() -> None:
    """The prescriber chose "Add a backup token": the run that recommended it adopted it."""
    code = session.get("support_code")
    if code:
        support.mark_backup(code, "accepted")


def _welcome() -> bool:
    """The public welcome page: nothing there to follow, and no session to start."""
    return request.endpoint == "main.home" and signed_in() is None


def _tracked() -> bool:
    return request.blueprint in PRESCRIBER_BLUEPRINTS and request.endpoint not in NOT_PAGES


def _page_name() -> str | None:
    if request.blueprint == "tokens" and request.endpoint not in NOT_PAGES:
        return "tokens"
    return PAGES.get(request.endpoint or "")


def support_code() -> str | None:
    """This browser session's support code, made on its first tracked page."""
    if not _tracked() or not session_ready():
        return None
    if _welcome():
        return session.get("support_code")
    if "support_code" not in session:
        session["support_code"] = new_support_code()
    return session["support_code"]


def _record(response: Response) -> Response:
    page = g.get("support_page") or _page_name()
    if not page or response.status_code >= 500 or not session_ready():
        return response
    code = session.get("support_code")
    if not code:
        return response
    news = g.get("support_error") or g.get("support_change") or g.get("support_token")
    if 300 <= response.status_code < 400 and not news:
        return response  # the page it leads to tells the story
    if page == "dashboard" and _welcome():
        return response
    progress = Progress.from_dict(session.get("enrol"))
    prescriber = signed_in()
    name, npi = g.get("support_person") or (
        (prescriber.name, prescriber.npi) if prescriber else ("", "")
    )
    furthest = str(progress.furthest) if page in support.WIZARD_STEPS else ""
    backup = str(progress.backup)
    summary = "|".join([page, furthest, progress.platform, progress.credential_id, backup, npi])
    if not news and session.get("support_seen") == summary:
        return response  # nothing new for the help desk: spare the write
    session["support_seen"] = summary
    seen = support.Seen(
        page=page,
        error=g.get("support_error", ""),
        change=g.get("support_change", ""),
        prescriber_id=prescriber.id if prescriber else g.get("support_prescriber_id"),
        sign_in_token=g.get("support_token"),
        name=name,
        npi=npi,
        platform=progress.platform,
        credential_id=progress.credential_id,
        furthest=furthest,
        backup=backup,
    )
    support.record(code, seen, now())
    return response


def init_app(app: Flask) -> None:
    app.after_request(_record)

    @app.context_processor
    def support_context():
        return {"support_code": support_code()}
