"""The token table: each action confirms on its own row (htmx) or page (no JavaScript)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from htmx_flask import make_response as htmx_response

from wizard.authority import AuthorityUnavailable
from wizard.domain.tokens import Action, allows
from wizard.services import tokens
from wizard.services.tokens import Reason, TokenError
from wizard.web.codes import code_message, code_status, outage_status, valid_code
from wizard.web.forms import add_error
from wizard.web.htmx import render_page, wants_partial
from wizard.web.limits import code_limit
from wizard.web.session import (
    current_prescriber,
    keep_session,
    login_required,
    now,
    signed_in_with,
)
from wizard.web.support import note_change
from wizard.web.tokens import bp
from wizard.web.tokens.forms import (
    ConfirmLostForm,
    DeleteForm,
    DisableForm,
    EnableForm,
    ReactivateForm,
    RenameForm,
)

if TYPE_CHECKING:
    from wizard.store.models import Token

EVENT_NAMES = {
    "token.add": "Added",
    "token.disable": "Disabled",
    "token.enable": "Enabled",
    "token.delete": "Deleted",
    "token.suspend": "Reported lost (suspended)",
    "token.reactivate": "Reactivated",
    "token.lost": "Lost for good",
    "token.rename": "Renamed",
}


def _token(token_id: int) -> Token:
    """The signed-in prescriber's token, or 404 (never another account's)."""
    tokens.settle(current_prescriber(), now())
    token = tokens.own_token(current_prescriber(), token_id)
    if token is None:
        abort(404)
    return token


def _table(show_deleted: bool) -> dict:
    """What the token table and its tools show (suspensions past 30 days made Lost first)."""
    prescriber = current_prescriber()
    tokens.settle(prescriber, now())
    rows = prescriber.tokens if show_deleted else tokens.not_deleted(prescriber)
    return {"rows": rows, "show_deleted": show_deleted, "at_limit": tokens.at_limit(prescriber)}


@bp.get("")
@login_required
def index():
    show_deleted = request.args.get("deleted") == "1"
    return render_template("tokens/index.html", title="Manage your tokens", **_table(show_deleted))


@bp.get("/<int:token_id>/row")
@login_required
def row(token_id: int):
    """One row again (Cancel on an inline form)."""
    token = _token(token_id)
    if not wants_partial():
        return redirect(url_for("tokens.index"))
    return render_template("tokens/_row.html", token=token)


@bp.get("/<int:token_id>/history")
@login_required
def history(token_id: int):
    token = _token(token_id)
    return render_template(
        "tokens/history.html",
        title=f"History of {token.nickname}",
        token=token,
        events=tokens.history(token),
        event_names=EVENT_NAMES,
    )


VIP_DOWN = "We could not reach Symantec VIP, so nothing was changed. Wait a minute, then try again."


def _action_page(name: str, token: Token, form, status: int = 200, **context):
    return render_page(
        f"tokens/{name}.html",
        status=status,
        reswap="outerHTML",
        token=token,
        form=form,
        errors=context.pop("errors", None) or form.error_summary(),
        last=tokens.is_last_active(current_prescriber(), token),
        reactivate_by=tokens.reactivate_by(token),
        clear=request.args.get("clear") == "1",
        title=context.pop("title", ""),
        **context,
    )


def _done(token: Token, message: str):
    """htmx: the whole table again (a row's change can end the limit notice or the backup
    reminder), with the status message; plain post: back to the table."""
    if not wants_partial():
        flash(message, "success")
        return redirect(url_for("tokens.index"), 303)
    query = parse_qs(urlsplit(request.htmx.current_url or "").query)
    table = _table(show_deleted=query.get("deleted") == ["1"])
    shown = token in table["rows"]
    body = render_template(
        "tokens/_changed.html",
        message=message,
        focus_id=token.id if shown else None,
        focus_status=not shown,  # the row is gone: the message takes the focus
        **table,
    )
    return htmx_response(body, retarget="#token-table", reswap="outerHTML")


def _last_token_refusal(form, token: Token, needs_code: bool) -> int | None:
    """For the last Active token: the stated consequence accepted, and a code from it.
    None when confirmed; else the status of the page that says what is missing."""
    if not tokens.is_last_active(current_prescriber(), token):
        return None
    if not form.acknowledge.data:
        add_error(form.acknowledge, "Confirm that you understand the consequence")
        return 422
    if not needs_code:
        return None
    if not valid_code(form.code):
        return 422
    check = tokens.confirm_with_code(
        current_prescriber(), token, form.code.data, now(), "token.confirm"
    )
    if not check.accepted:
        add_error(form.code, code_message(check.lock, check.outcome))
        return code_status(check.outcome, check.reason)
    return None


def _proved_then(name: str, title: str, token: Token, form, change):
    """Enable and reactivate: the status allows it, then a current code from this very token,
    then the change. Returns the refusal's response, or None once the change is made."""
    if not allows(token.status, Action(name)):
        return _refuse(name, token, form, TokenError(f"This token is {token.status}."), title)
    if not (form.validate_on_submit() and valid_code(form.code)):
        return _action_page(name, token, form, 422, title=title)
    check = tokens.confirm_with_code(
        current_prescriber(), token, form.code.data, now(), f"token.{name}-code"
    )
    if not check.accepted:
        add_error(form.code, code_message(check.lock, check.outcome))
        status = code_status(check.outcome, check.reason)
        return _action_page(name, token, form, status, title=title)
    try:
        change(current_prescriber(), token, now())
    except TokenError as error:
        return _refuse(name, token, form, error, title)
    return None


def _refuse(name: str, token: Token, form, error: TokenError, title: str):
    """No field is at fault: the summary points at the token's status (its row, in place)."""
    status_id = f"token-{token.id}" if wants_partial() else "token-status"
    return _action_page(name, token, form, 422, title=title, errors=[(status_id, str(error))])


def _vip_down(name: str, token: Token, form, error: AuthorityUnavailable, title: str):
    add_error(next(iter(form)), VIP_DOWN)
    return _action_page(name, token, form, outage_status(error.reason), title=title)


@bp.get("/<int:token_id>/disable")
@login_required
def disable(token_id: int):
    token = _token(token_id)
    return _action_page("disable", token, DisableForm(formdata=None), title="Disable a token")


@bp.post("/<int:token_id>/disable")
@code_limit
@login_required
def disable_post(token_id: int):
    token = _token(token_id)
    form = DisableForm()
    if not form.validate_on_submit():
        return _action_page("disable", token, form, 422, title="Disable a token")
    reason = Reason(form.reason.data)
    refused = _last_token_refusal(form, token, needs_code=reason is Reason.TEMPORARY)
    if refused:
        return _action_page("disable", token, form, refused, title="Disable a token")
    change = tokens.suspend if reason is Reason.LOST else tokens.disable
    try:
        change(current_prescriber(), token, now())
    except TokenError as error:
        return _refuse("disable", token, form, error, "Disable a token")
    keep_session()
    if reason is Reason.LOST:
        note_change("token-suspended")
        return _done(token, f"{token.nickname} is reported lost and suspended: it no longer works.")
    return _done(token, f"{token.nickname} is disabled. You can enable it again later.")


@bp.get("/<int:token_id>/reactivate")
@login_required
def reactivate(token_id: int):
    token = _token(token_id)
    form = ReactivateForm(formdata=None)
    return _action_page("reactivate", token, form, title="Reactivate a token")


@bp.post("/<int:token_id>/reactivate")
@login_required
@code_limit
def reactivate_post(token_id: int):
    """Signed in, the passphrase is proven: a current code from this token proves it is found."""
    token = _token(token_id)
    refused = _proved_then(
        "reactivate", "Reactivate a token", token, ReactivateForm(), tokens.reactivate
    )
    if refused:
        return refused
    note_change("token-reactivated")
    return _done(token, f"{token.nickname} is reactivated and works again.")


@bp.get("/<int:token_id>/confirm-lost")
@login_required
def confirm_lost(token_id: int):
    token = _token(token_id)
    form = ConfirmLostForm(formdata=None)
    return _action_page("confirm-lost", token, form, title="Confirm a token is lost")


@bp.post("/<int:token_id>/confirm-lost")
@login_required
def confirm_lost_post(token_id: int):
    token = _token(token_id)
    form = ConfirmLostForm()
    title = "Confirm a token is lost"
    if not form.validate_on_submit():
        return _action_page("confirm-lost", token, form, 422, title=title)
    if not form.acknowledge.data:
        add_error(form.acknowledge, "Confirm that you understand the token can never be used again")
        return _action_page("confirm-lost", token, form, 422, title=title)
    try:
        tokens.confirm_lost(current_prescriber(), token, now(), signed_in_with())
    except TokenError as error:
        return _refuse("confirm-lost", token, form, error, title)
    note_change("token-lost")
    return _done(token, f"{token.nickname} is lost for good.")


@bp.get("/<int:token_id>/enable")
@login_required
def enable(token_id: int):
    token = _token(token_id)
    return _action_page("enable", token, EnableForm(formdata=None), title="Enable a token")


@bp.post("/<int:token_id>/enable")
@code_limit
@login_required
def enable_post(token_id: int):
    token = _token(token_id)
    refused = _proved_then("enable", "Enable a token", token, EnableForm(), tokens.enable)
    return refused or _done(token, f"{token.nickname} is enabled.")


@bp.get("/<int:token_id>/delete")
@login_required
def delete(token_id: int):
    token = _token(token_id)
    return _action_page("delete", token, DeleteForm(formdata=None), title="Delete a token")


@bp.post("/<int:token_id>/delete")
@code_limit
@login_required
def delete_post(token_id: int):
    token = _token(token_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        return _action_page("delete", token, form, 422, title="Delete a token")
    refused = _last_token_refusal(form, token, needs_code=True)
    if refused:
        return _action_page("delete", token, form, refused, title="Delete a token")
    try:
        tokens.delete(current_prescriber(), token, now())
    except TokenError as error:
        return _refuse("delete", token, form, error, "Delete a token")
    except AuthorityUnavailable as error:
        return _vip_down("delete", token, form, error, "Delete a token")
    keep_session()
    return _done(token, f"{token.nickname} is deleted.")


@bp.get("/<int:token_id>/rename")
@login_required
def rename(token_id: int):
    token = _token(token_id)
    form = RenameForm(formdata=None, nickname=token.nickname)
    return _action_page("rename", token, form, title="Rename a token")


@bp.post("/<int:token_id>/rename")
@login_required
def rename_post(token_id: int):
    token = _token(token_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _action_page("rename", token, form, 422, title="Rename a token")
    try:
        tokens.rename(current_prescriber(), token, form.nickname.data, now())
    except TokenError as error:
        add_error(form.nickname, str(error))
        return _action_page("rename", token, form, 422, title="Rename a token")
    except AuthorityUnavailable as error:
        return _vip_down("rename", token, form, error, "Rename a token")
    return _done(token, f"The token is renamed {token.nickname}.")
