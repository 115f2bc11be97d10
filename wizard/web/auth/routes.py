"""Sign in with NPI and passphrase, then a code from one of your tokens; sign out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from wizard.domain.otp import Outcome
from wizard.domain.urls import local_path
from wizard.services import accounts, sandbox
from wizard.web.auth import bp
from wizard.web.auth.forms import SignInForm, TokenCodeForm, check_npi_shape
from wizard.web.codes import code_message, code_status, valid_code
from wizard.web.forms import EmptyForm, add_error
from wizard.web.limits import sign_in_limit
from wizard.web.session import (
    current,
    flow,
    flow_end,
    flow_start,
    now,
    sign_in,
    sign_out,
    signed_in,
)
from wizard.web.support import note_error, note_person, note_sign_in_token

if TYPE_CHECKING:
    from wizard.store.models import Prescriber

CODE_STEP_SECONDS = 5 * 60
SIGN_IN_ERRORS = {Outcome.REUSED: "reused-code", Outcome.UNAVAILABLE: "vip-unavailable"}
# Deliberately vague: it must not tell which NPIs have accounts.
NOT_SIGNED_IN = "We could not sign you in with those details"


def safe_next(target: str | None) -> str | None:
    """Follow next= only to a path on this site."""
    return local_path(target)


def errors_of(form) -> list[tuple[str, str]]:
    return form.error_summary()


@bp.get("/sign-in")
def sign_in_page():
    if signed_in():
        return redirect(url_for("main.home"))
    form = SignInForm(formdata=None)
    return render_template("auth/sign-in.html", title="Sign in", form=form, errors=[])


@bp.post("/sign-in")
@sign_in_limit
def sign_in_post():
    form = SignInForm()
    checked = form.validate_on_submit() and check_npi_shape(form)
    if checked:
        attempt = accounts.check_passphrase(
            form.npi.data, form.passphrase.data, now(), "sign-in.passphrase"
        )
        if attempt.ok:
            flow_start(
                "pending",
                prescriber_id=attempt.prescriber.id,
                generation=attempt.prescriber.session_generation,
                next=safe_next(request.args.get("next")),
            )
            return redirect(url_for("auth.sign_in_code"), 303)
        add_error(form.npi, NOT_SIGNED_IN)
        add_error(form.passphrase, NOT_SIGNED_IN)
    # A missing field or a mistyped NPI is not an attempt: nothing was checked or counted.
    note_error("sign-in-failed" if checked else "sign-in-incomplete")
    return render_template(
        "auth/sign-in.html", title="Sign in", form=form, errors=errors_of(form), failed=checked
    ), 422


def _pending() -> tuple[dict | None, Prescriber | None]:
    record = flow("pending", CODE_STEP_SECONDS)
    prescriber = accounts.by_id(record["prescriber_id"]) if record else None
    if not current(prescriber, record):
        return None, None  # a passphrase reset or a lost report since the passphrase step
    return record, prescriber


def _code_form(prescriber: Prescriber, **kwargs) -> TokenCodeForm:
    form = TokenCodeForm(**kwargs)
    tokens = accounts.active_tokens(prescriber)
    form.token.choices = [SelectChoice(t.id, f"{t.nickname} ({t.credential_id})") for t in tokens]
    if len(tokens) == 1 and form.token.data is None:
        form.token.data = tokens[0].id
    return form


def _code_page(prescriber, form, status=200, **context):
    note_person(prescriber.name, prescriber.npi, prescriber.id)  # the passphrase was right
    tokens = accounts.active_tokens(prescriber)
    practice = sandbox.issued_here([t.credential_id for t in tokens])
    lock = context.get("lock")
    paused = bool(tokens and lock and lock.locked)  # the form is gone: the notice says why
    return render_template(
        "auth/sign-in-code.html",
        title="Enter a code from your token",
        form=form,
        errors=[] if paused else form.error_summary(),
        account=prescriber,
        tokens=tokens,
        practice=[t for t in tokens if t.credential_id in practice],
        clear=request.args.get("clear") == "1",
        **context,
    ), status


def _expired():
    flash("Your sign-in took more than 5 minutes, so we stopped it. Start again.", "info")
    return redirect(url_for("auth.sign_in_page"), 303)


@bp.get("/sign-in/code")
def sign_in_code():
    record, prescriber = _pending()
    if prescriber is None:
        return _expired()
    form = _code_form(prescriber, formdata=None)
    last = accounts.last_sign_in_token(prescriber)
    tokens = accounts.active_tokens(prescriber)
    if tokens:  # one radio is always chosen: the token used last time, else the first
        form.token.data = (last or tokens[0]).id
    return _code_page(prescriber, form, last_used=last if len(tokens) > 1 else None)


@bp.post("/sign-in/code")
@sign_in_limit
def sign_in_code_post():
    record, prescriber = _pending()
    if prescriber is None:
        return _expired()
    form = _code_form(prescriber)
    valid = form.validate_on_submit()
    if form.token.data is not None and not form.token.errors:
        note_sign_in_token(form.token.data)  # one of the choices: this prescriber's own
    if not valid or not valid_code(form.code):
        return _code_page(prescriber, form, 422)
    attempt = accounts.check_token_code(
        prescriber, form.token.data, form.code.data, now(), "sign-in.code"
    )
    if not attempt.ok:
        add_error(form.code, code_message(attempt.lock, attempt.outcome, "sign-in"))
        note_error(
            "locked" if attempt.lock.locked else SIGN_IN_ERRORS.get(attempt.outcome, "wrong-code")
        )
        if attempt.lock.locked:
            flow_end("pending")
        status = code_status(attempt.outcome, attempt.reason)
        return _code_page(prescriber, form, status, lock=attempt.lock)
    target = record.get("next")
    flow_end("pending")
    sign_in(prescriber, form.token.data)
    return redirect(target or url_for("main.home"), 303)


@bp.post("/sign-out")
def sign_out_post():
    EmptyForm().validate_on_submit()
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in_page"), 303)
