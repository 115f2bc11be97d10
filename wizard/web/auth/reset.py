"""Forgot passphrase: NPI, a code from an Active token and an administrator's reset code."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from wizard.domain import passphrase
from wizard.domain.otp import Outcome
from wizard.extensions import db, limiter
from wizard.services import accounts, audit, lockout
from wizard.services.lockout import Counter
from wizard.store.models import Prescriber
from wizard.web.auth import bp
from wizard.web.auth.forms import NewPassphraseForm, ResetForm, check_npi_shape
from wizard.web.auth.routes import rate_limit
from wizard.web.codes import VIP_UNAVAILABLE, locked_message, outage_status, valid_code
from wizard.web.forms import add_error
from wizard.web.session import flow, flow_end, flow_start, now

FLOW_SECONDS = 10 * 60
NOT_CHECKED = (
    "We could not check those details. Check your NPI, the security code and the reset code"
)


def _page(form, status=200):
    return render_template(
        "auth/forgot-passphrase.html",
        title="Reset your passphrase",
        form=form,
        errors=form.error_summary(),
        clear=request.args.get("clear") == "1",
    ), status


@bp.get("/forgot-passphrase")
def forgot_passphrase():
    return _page(ResetForm(formdata=None))


@bp.post("/forgot-passphrase")
@limiter.limit(rate_limit, methods=["POST"])
def forgot_passphrase_post():
    form = ResetForm()
    if not (form.validate_on_submit() and check_npi_shape(form) and valid_code(form.code)):
        return _page(form, 422)
    prescriber = accounts.by_npi(form.npi.data)
    reason = _refusal(prescriber, form)
    if reason:
        message, status = reason
        add_error(form.npi, message)
        return _page(form, status)
    flow_start("reset", prescriber_id=prescriber.id)
    return redirect(url_for("auth.new_passphrase"), 303)


def _refusal(prescriber: Prescriber | None, form: ResetForm) -> tuple[str, int] | None:
    """Why the reset is refused, and the page's status; every failure on a real account
    counts toward its lock (an unavailable VIP is no failure of theirs)."""
    if prescriber is None:
        return NOT_CHECKED, 422
    lock = lockout.state(prescriber, Counter.SIGN_IN, now())
    if lock.locked and not lock.for_good:
        return locked_message(lock, "resetting your passphrase"), 422
    if not accounts.reset_code_valid(prescriber, form.reset_code.data, now()):
        lockout.fail(
            prescriber,
            Counter.SIGN_IN,
            now(),
            action="passphrase.reset",
            outcome="wrong-reset-code",
            actor=audit.actor_of(prescriber),
        )
        return NOT_CHECKED, 422
    attempt = accounts.any_token_code(
        prescriber, form.code.data, now(), "passphrase.reset", resetting=True
    )
    if attempt.outcome == Outcome.UNAVAILABLE:
        return VIP_UNAVAILABLE, outage_status(attempt.reason)
    if not attempt.ok:
        return NOT_CHECKED, 422
    return None


def _resetting() -> Prescriber | None:
    record = flow("reset", FLOW_SECONDS)
    return db.session.get(Prescriber, record["prescriber_id"]) if record else None


def _new_page(form, status=200):
    return render_template(
        "auth/new-passphrase.html",
        title="Choose a new passphrase",
        form=form,
        errors=form.error_summary(),
        clear=request.args.get("clear") == "1",
    ), status


@bp.get("/forgot-passphrase/new")
def new_passphrase():
    if _resetting() is None:
        return redirect(url_for("auth.forgot_passphrase"), 303)
    return _new_page(NewPassphraseForm(formdata=None))


@bp.post("/forgot-passphrase/new")
def new_passphrase_post():
    prescriber = _resetting()
    if prescriber is None:
        return redirect(url_for("auth.forgot_passphrase"), 303)
    form = NewPassphraseForm()
    if not check_new_passphrase(form, prescriber.npi, prescriber.name):
        return _new_page(form, 422)
    accounts.set_passphrase(prescriber, form.passphrase.data, now(), "passphrase.reset")
    flow_end("reset")
    flash("Your passphrase is changed. Sign in with your new passphrase.", "success")
    return redirect(url_for("auth.sign_in_page"), 303)


def check_new_passphrase(form: NewPassphraseForm, npi: str, name: str) -> bool:
    """The passphrase rules, and that both entries match."""
    valid = form.validate_on_submit()
    if form.passphrase.data:
        # The rules are checked even when the second entry is missing: one round, all errors.
        problem = passphrase.problem(form.passphrase.data, npi=npi, name=name)
        if problem:
            add_error(form.passphrase, problem)
            return False
    if not valid:
        return False
    if form.confirm.data != form.passphrase.data:
        add_error(form.confirm, "The passphrases do not match. Enter the same passphrase twice")
        return False
    return True
