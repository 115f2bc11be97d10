"""The token table: each action confirms on its own row (htmx) or page (no JavaScript)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from htmx_flask import make_response as htmx_response

from wizard.domain.tokens import Status
from wizard.services import tokens
from wizard.services.tokens import Reason, TokenError
from wizard.store.models import Token
from wizard.web.codes import code_message, valid_code
from wizard.web.forms import add_error
from wizard.web.htmx import render_page, wants_partial
from wizard.web.session import login_required, now
from wizard.web.tokens import bp
from wizard.web.tokens.forms import DeleteForm, DisableForm, EnableForm, RenameForm

EVENT_NAMES = {
    "token.add": "Added",
    "token.disable": "Disabled",
    "token.enable": "Enabled",
    "token.delete": "Deleted",
    "token.lost": "Reported lost",
    "token.rename": "Renamed",
}


def _token(token_id: int) -> Token:
    """The signed-in prescriber's token, or 404 (never another account's)."""
    token = tokens.own_token(g.prescriber, token_id)
    if token is None:
        abort(404)
    return token


def _table(show_deleted: bool) -> dict:
    """What the token table and its tools show."""
    rows = [t for t in g.prescriber.tokens if show_deleted or t.status != Status.DELETED]
    return {"rows": rows, "show_deleted": show_deleted, "at_limit": tokens.at_limit(g.prescriber)}


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


def _action_page(name: str, token: Token, form, status: int = 200, **context):
    return render_page(
        f"tokens/{name}.html",
        status=status,
        token=token,
        form=form,
        errors=form.error_summary(),
        last=tokens.is_last_active(g.prescriber, token),
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


def _last_token_confirmed(form, token: Token, needs_code: bool) -> bool:
    """For the last Active token: the stated consequence accepted, and a code from it."""
    if not tokens.is_last_active(g.prescriber, token):
        return True
    if not form.acknowledge.data:
        add_error(form.acknowledge, "Confirm that you understand the consequence")
        return False
    if not needs_code:
        return True
    if not valid_code(form.code):
        return False
    check = tokens.confirm_with_code(g.prescriber, token, form.code.data, now(), "token.confirm")
    if not check.accepted:
        add_error(form.code, code_message(check.lock, check.outcome))
        return False
    return True


def _refuse(name: str, token: Token, form, error: TokenError, title: str):
    add_error(next(iter(form)), str(error))
    return _action_page(name, token, form, 422, title=title)


@bp.get("/<int:token_id>/disable")
@login_required
def disable(token_id: int):
    token = _token(token_id)
    return _action_page("disable", token, DisableForm(formdata=None), title="Disable a token")


@bp.post("/<int:token_id>/disable")
@login_required
def disable_post(token_id: int):
    token = _token(token_id)
    form = DisableForm()
    if not form.validate_on_submit():
        return _action_page("disable", token, form, 422, title="Disable a token")
    reason = Reason(form.reason.data)
    if not _last_token_confirmed(form, token, needs_code=reason is Reason.TEMPORARY):
        return _action_page("disable", token, form, 422, title="Disable a token")
    try:
        tokens.disable(g.prescriber, token, reason, now())
    except TokenError as error:
        return _refuse("disable", token, form, error, "Disable a token")
    if reason is Reason.LOST:
        return _done(token, f"{token.nickname} is reported lost and no longer works.")
    return _done(token, f"{token.nickname} is disabled. You can enable it again later.")


@bp.get("/<int:token_id>/enable")
@login_required
def enable(token_id: int):
    token = _token(token_id)
    return _action_page("enable", token, EnableForm(formdata=None), title="Enable a token")


@bp.post("/<int:token_id>/enable")
@login_required
def enable_post(token_id: int):
    token = _token(token_id)
    form = EnableForm()
    if token.status != Status.INACTIVE:
        return _refuse(
            "enable", token, form, TokenError(f"This token is {token.status}."), "Enable a token"
        )
    if not (form.validate_on_submit() and valid_code(form.code)):
        return _action_page("enable", token, form, 422, title="Enable a token")
    check = tokens.confirm_with_code(
        g.prescriber, token, form.code.data, now(), "token.enable-code"
    )
    if not check.accepted:
        add_error(form.code, code_message(check.lock, check.outcome))
        return _action_page("enable", token, form, 422, title="Enable a token")
    tokens.enable(g.prescriber, token, now())
    return _done(token, f"{token.nickname} is enabled.")


@bp.get("/<int:token_id>/delete")
@login_required
def delete(token_id: int):
    token = _token(token_id)
    return _action_page("delete", token, DeleteForm(formdata=None), title="Delete a token")


@bp.post("/<int:token_id>/delete")
@login_required
def delete_post(token_id: int):
    token = _token(token_id)
    form = DeleteForm()
    if not form.validate_on_submit() or not _last_token_confirmed(form, token, needs_code=True):
        return _action_page("delete", token, form, 422, title="Delete a token")
    try:
        tokens.delete(g.prescriber, token, now())
    except TokenError as error:
        return _refuse("delete", token, form, error, "Delete a token")
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
        tokens.rename(g.prescriber, token, form.nickname.data, now())
    except TokenError as error:
        add_error(form.nickname, str(error))
        return _action_page("rename", token, form, 422, title="Rename a token")
    return _done(token, f"The token is renamed {token.nickname}.")
