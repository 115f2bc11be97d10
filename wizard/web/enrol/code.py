"""Step 3 of the wizard: a security code from the token proves it is in hand."""

from __future__ import annotations

from flask import request, session

from wizard.domain import steps
from wizard.domain.otp import Outcome
from wizard.domain.steps import Progress, Step
from wizard.services import enrollment
from wizard.web.codes import code_message, code_status, valid_code
from wizard.web.enrol import bp
from wizard.web.enrol.credential import UNKNOWN_CREDENTIAL, UNKNOWN_SERIAL
from wizard.web.enrol.forms import CodeForm
from wizard.web.enrol.routes import go_to, guarded, platform_of, render_step, store_progress
from wizard.web.forms import add_error
from wizard.web.limits import code_limit
from wizard.web.session import (
    ended_elsewhere,
    now,
    session_generation,
    signed_in,
    snapshot_only,
)
from wizard.web.support import note_error


def _code_page(progress: Progress, form: CodeForm, status: int = 200, **context):
    lock = enrollment.code_lock(signed_in().id, now())
    if progress.resync:
        form.code.label.text = "First code"
    if lock.locked and form.code.errors:
        # The form is replaced by the notice: the summary points there instead.
        context["errors"] = [("lock-notice", form.code.errors[0])]
    return render_step(
        Step.SECURITY_CODE,
        progress,
        status,
        form=form,
        lock=lock,
        platform=platform_of(progress),
        clear=request.args.get("clear") == "1",
        lookalikes=session.get("enrol_lookalikes", False),
        **context,
    )


@bp.get("/security-code")
@guarded(Step.SECURITY_CODE)
def security_code(progress: Progress):
    return _code_page(progress, CodeForm(formdata=None))


@bp.post("/security-code")
@snapshot_only
@code_limit
@guarded(Step.SECURITY_CODE)
def save_security_code(progress: Progress):
    form = CodeForm()
    if not progress.resync:
        del form.next_code  # asked for only when a key fob has run ahead: not on this page
    shapes_ok = form.validate_on_submit() and valid_code(form.code)
    if progress.resync:
        shapes_ok = valid_code(form.next_code, "the next code") and shapes_ok
    if not shapes_ok:
        note_error("code-format")
        return _code_page(progress, form, 422)
    check = enrollment.check_code(
        signed_in(),
        progress.credential_id,
        form.code.data,
        now(),
        second=form.next_code.data if progress.resync else None,
        generation=session_generation(),
    )
    if check.outcome == "ended":
        return ended_elsewhere()
    if check.outcome == Outcome.OUT_OF_SYNC:
        progress.resync = True
        store_progress(progress)
        note_error("out-of-sync")
        return _code_page(progress, CodeForm(formdata=None), 422, resync_needed=True)
    if not check.accepted:
        add_error(form.code, _code_message(check, platform_of(progress).hard))
        note_error(CODE_ERRORS.get(str(check.outcome), "wrong-code"))
        status = code_status(check.outcome, check.reason)
        return _code_page(progress, form, status, failures_left=check.lock.left)
    progress.verified_at = now().timestamp()
    progress.resync = False
    steps.advance(progress, Step.NAME)
    store_progress(progress)
    return go_to(Step.NAME)


CODE_ERRORS = {
    "locked": "locked",
    "reused": "reused-code",
    "unknown": "credential-unknown",
    "unavailable": "vip-unavailable",
}


def _code_message(check: enrollment.CodeCheck, hard: bool) -> str:
    if check.outcome == Outcome.UNKNOWN:
        return UNKNOWN_SERIAL if hard else UNKNOWN_CREDENTIAL
    if hard and check.outcome == Outcome.WRONG and not check.lock.locked:
        return (
            "That code did not match. Press the button on the token for a new code and "
            "enter it right away."
        )
    return code_message(check.lock, check.outcome)
