"""Report a lost token: passphrase only (the token may be gone), choose, confirm. The token is
suspended at once; found again within 30 days, a current code from it reactivates it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, current_app, redirect, render_template, request, url_for
from wtforms import SelectChoice

from wizard.domain.tokens import Action
from wizard.services import accounts, tokens
from wizard.services.tokens import TokenError
from wizard.web.auth import bp
from wizard.web.auth.forms import ChooseTokenForm, SignInForm, check_npi_shape
from wizard.web.auth.routes import NOT_SIGNED_IN
from wizard.web.codes import code_message, code_status, valid_code
from wizard.web.forms import add_error
from wizard.web.limits import sign_in_limit
from wizard.web.session import (
    current,
    current_prescriber,
    flow,
    flow_start,
    flow_update,
    keep_session,
    now,
    signed_in,
)
from wizard.web.support import note_change
from wizard.web.tokens.forms import ReactivateForm, ReportLostForm

if TYPE_CHECKING:
    from wizard.store.models import Prescriber, Token

FLOW_SECONDS = 15 * 60


def _reporter() -> tuple[Prescriber | None, dict]:
    """The signed-in prescriber, or the one who gave NPI and passphrase on this flow (unless
    every session of theirs was ended since, by a passphrase reset for instance)."""
    record = flow("lost", FLOW_SECONDS) or {}
    if signed_in():
        prescriber = current_prescriber()
    else:
        prescriber = accounts.by_id(record["prescriber_id"]) if record else None
        if not current(prescriber, record):
            return None, {}
    tokens.settle(prescriber, now())
    return prescriber, record


def _remember(prescriber: Prescriber, **data) -> None:
    """Note data on the flow (started here for a signed-in prescriber)."""
    if not flow("lost", FLOW_SECONDS):
        flow_start("lost", prescriber_id=prescriber.id)
    flow_update("lost", generation=prescriber.session_generation, **data)


def _start_again():
    return redirect(url_for("auth.lost_token"), 303)


@bp.get("/lost-token")
def lost_token():
    if signed_in():
        return redirect(url_for("auth.lost_token_choose"))
    return render_template(
        "auth/lost-token.html",
        title="Report a lost token",
        form=SignInForm(formdata=None),
        errors=[],
    )


@bp.post("/lost-token")
@sign_in_limit
def lost_token_post():
    form = SignInForm()
    checked = form.validate_on_submit() and check_npi_shape(form)
    if checked:
        attempt = accounts.check_passphrase(
            form.npi.data, form.passphrase.data, now(), "lost-token.passphrase"
        )
        if attempt.ok:
            flow_start(
                "lost",
                prescriber_id=attempt.prescriber.id,
                generation=attempt.prescriber.session_generation,
            )
            return redirect(url_for("auth.lost_token_choose"), 303)
        add_error(form.npi, NOT_SIGNED_IN)
    return render_template(
        "auth/lost-token.html",
        title="Report a lost token",
        form=form,
        errors=form.error_summary(),
        failed=checked,  # the pause notice only after an attempt that counted
    ), 422


def _choose_form(prescriber: Prescriber, **kwargs) -> ChooseTokenForm:
    form = ChooseTokenForm(**kwargs)
    form.token.choices = [
        SelectChoice(t.id, f"{t.nickname} ({t.credential_id}, {t.status})")
        for t in tokens.reportable(prescriber)
    ]
    return form


def _choose_page(prescriber: Prescriber, form: ChooseTokenForm, status: int = 200):
    return render_template(
        "auth/lost-token-choose.html",
        title="Which token is lost?",
        form=form,
        errors=form.error_summary(),
        reporter=prescriber,
        suspended=tokens.allowing(prescriber, Action.REACTIVATE),
    ), status


@bp.get("/lost-token/choose")
def lost_token_choose():
    prescriber, _ = _reporter()
    if prescriber is None:
        return _start_again()
    return _choose_page(prescriber, _choose_form(prescriber, formdata=None))


@bp.post("/lost-token/choose")
def lost_token_choose_post():
    prescriber, _ = _reporter()
    if prescriber is None:
        return _start_again()
    form = _choose_form(prescriber)
    if not form.validate_on_submit():
        return _choose_page(prescriber, form, 422)
    _remember(prescriber, token_id=form.token.data)
    return redirect(url_for("auth.lost_token_confirm"), 303)


def _chosen(prescriber: Prescriber, record: dict) -> Token | None:
    token = tokens.own_token(prescriber, record.get("token_id"))
    return token if token in tokens.reportable(prescriber) else None


def _confirm_page(prescriber: Prescriber, token: Token, form, status: int = 200):
    return render_template(
        "auth/lost-token-confirm.html",
        title="Report this token as lost?",
        token=token,
        form=form,
        errors=form.error_summary(),
        last=tokens.is_last_active(prescriber, token),
    ), status


@bp.get("/lost-token/confirm")
def lost_token_confirm():
    prescriber, record = _reporter()
    token = _chosen(prescriber, record) if prescriber else None
    if token is None:
        return _start_again()
    return _confirm_page(prescriber, token, ReportLostForm(formdata=None))


@bp.post("/lost-token/confirm")
def lost_token_confirm_post():
    prescriber, record = _reporter()
    token = _chosen(prescriber, record) if prescriber else None
    if token is None:
        return _start_again()
    form = ReportLostForm()
    if not form.validate_on_submit():
        abort(400)
    if tokens.is_last_active(prescriber, token) and not form.acknowledge.data:
        add_error(form.acknowledge, "Confirm that you understand what follows")
        return _confirm_page(prescriber, token, form, 422)
    try:
        tokens.suspend(prescriber, token, now())
    except TokenError:
        return _start_again()
    # Every other session of the prescriber ends; a signed-in reporter stays signed in.
    keep_session()
    _remember(prescriber, token_id=None, reported_id=token.id)
    note_change("token-suspended")
    return redirect(url_for("auth.lost_token_done"), 303)


@bp.get("/lost-token/done")
def lost_token_done():
    prescriber, record = _reporter()
    reported = tokens.own_token(prescriber, record.get("reported_id")) if prescriber else None
    if reported is None:
        return _start_again()
    return render_template(
        "auth/lost-token-done.html",
        title="Token reported lost",
        token=reported,
        reactivate_by=tokens.reactivate_by(reported),
        remaining=accounts.active_tokens(prescriber),
        mailed=bool(prescriber.email),
        help_text=current_app.config["HELP_DESK_TEXT"],
    )


def _suspended(prescriber: Prescriber | None, token_id: int) -> Token | None:
    if prescriber is None:
        return None
    token = tokens.own_token(prescriber, token_id)
    return token if token in tokens.allowing(prescriber, Action.REACTIVATE) else None


def _reactivate_page(token: Token, form, status: int = 200):
    return render_template(
        "auth/lost-token-reactivate.html",
        title=f"Reactivate {token.nickname}",
        token=token,
        form=form,
        errors=form.error_summary(),
        reactivate_by=tokens.reactivate_by(token),
        clear=request.args.get("clear") == "1",
    ), status


@bp.get("/lost-token/reactivate/<int:token_id>")
def lost_token_reactivate(token_id: int):
    prescriber, _ = _reporter()
    token = _suspended(prescriber, token_id)
    if token is None:
        return _start_again()
    return _reactivate_page(token, ReactivateForm(formdata=None))


@bp.post("/lost-token/reactivate/<int:token_id>")
@sign_in_limit
def lost_token_reactivate_post(token_id: int):
    """The passphrase was given on this flow (or at sign-in); a current code from this very
    token proves it is in hand again."""
    prescriber, _ = _reporter()
    token = _suspended(prescriber, token_id)
    if token is None:
        return _start_again()
    form = ReactivateForm()
    if not (form.validate_on_submit() and valid_code(form.code)):
        return _reactivate_page(token, form, 422)
    by_owner = signed_in() is not None
    confirm = tokens.confirm_with_code if by_owner else tokens.confirm_signed_out
    check = confirm(prescriber, token, form.code.data, now(), "token.reactivate-code")
    if not check.accepted:
        kind = "" if by_owner else "sign-in"
        add_error(form.code, code_message(check.lock, check.outcome, kind))
        return _reactivate_page(token, form, code_status(check.outcome, check.reason))
    try:
        tokens.reactivate(prescriber, token, now())
    except TokenError as error:
        add_error(form.code, str(error))
        return _reactivate_page(token, form, 422)
    _remember(prescriber, reactivated_id=token.id)
    note_change("token-reactivated")
    return redirect(url_for("auth.lost_token_reactivated"), 303)


@bp.get("/lost-token/reactivated")
def lost_token_reactivated():
    prescriber, record = _reporter()
    token = tokens.own_token(prescriber, record.get("reactivated_id")) if prescriber else None
    if token is None:
        return _start_again()
    return render_template(
        "auth/lost-token-reactivated.html",
        title=f"{token.nickname} works again",
        token=token,
        mailed=bool(prescriber.email),
    )
