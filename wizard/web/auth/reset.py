"""Forgot passphrase: NPI, a code from an Active token (or one reported lost in the last 30
days) and an administrator's reset code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for

from wizard.domain import passphrase
from wizard.domain.otp import Outcome
from wizard.services import accounts
from wizard.web.auth import bp
from wizard.web.auth.forms import NewPassphraseForm, ResetForm, check_npi_shape
from wizard.web.codes import VIP_UNAVAILABLE, outage_status, valid_code
from wizard.web.forms import add_error
from wizard.web.limits import sign_in_limit
from wizard.web.session import flow, flow_end, flow_start, now

if TYPE_CHECKING:
    from wizard.store.models import Prescriber

FLOW_SECONDS = 10 * 60
USED_MEANWHILE = (
    "Your reset code was used or replaced by a newer one, so your passphrase was not changed. "
    "Start again with your latest reset code."
)
NOT_CHECKED = (
    "We could not check those details. Check your NPI, the security code and the reset code"
)


def _page(form, status=200, failed=False):
    return render_template(
        "auth/forgot-passphrase.html",
        title="Reset your passphrase",
        form=form,
        errors=form.error_summary(),
        failed=failed,  # the pause notice only after an attempt that counted
        clear=request.args.get("clear") == "1",
    ), status


@bp.get("/forgot-passphrase")
def forgot_passphrase():
    return _page(ResetForm(formdata=None))


@bp.post("/forgot-passphrase")
@sign_in_limit
def forgot_passphrase_post():
    form = ResetForm()
    if not (form.validate_on_submit() and check_npi_shape(form) and valid_code(form.code)):
        return _page(form, 422)
    attempt = accounts.check_reset(form.npi.data, form.code.data, form.reset_code.data, now())
    if attempt.outcome == Outcome.UNAVAILABLE:
        # Only after a valid reset code: the outage tells nothing to someone without one.
        add_error(form.npi, VIP_UNAVAILABLE)
        return _page(form, outage_status(attempt.reason))
    if not attempt.ok:
        # The same words for an unknown NPI, a wrong code and a paused one: no answer may
        # tell which NPIs have accounts.
        add_error(form.npi, NOT_CHECKED)
        return _page(form, 422, failed=True)
    flow_start("reset", prescriber_id=attempt.prescriber.id, proof=attempt.proof)
    return redirect(url_for("auth.new_passphrase"), 303)


def _resetting() -> tuple[Prescriber | None, str]:
    """Whose passphrase this flow resets, and with which reset code (its digest); no one once
    that code is used or replaced."""
    record = flow("reset", FLOW_SECONDS) or {}
    proof = record.get("proof", "")
    return accounts.resetting(record.get("prescriber_id"), proof), proof


def _start_again():
    flow_end("reset")
    flash(USED_MEANWHILE, "info")
    return redirect(url_for("auth.forgot_passphrase"), 303)


def _back():
    return redirect(url_for("auth.forgot_passphrase"), 303)


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
    prescriber, _ = _resetting()
    if prescriber is None:
        return _start_again() if flow("reset", FLOW_SECONDS) else _back()
    return _new_page(NewPassphraseForm(formdata=None))


@bp.post("/forgot-passphrase/new")
def new_passphrase_post():
    prescriber, proof = _resetting()
    if prescriber is None:
        return _start_again() if flow("reset", FLOW_SECONDS) else _back()
    form = NewPassphraseForm()
    if not check_new_passphrase(form, prescriber.npi, prescriber.name):
        return _new_page(form, 422)
    if not accounts.reset_passphrase(prescriber, proof, form.passphrase.data, now()):
        return _start_again()
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
