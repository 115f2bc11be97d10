"""Step 2 of the wizard: the Credential ID (or a key fob's serial number)."""

from __future__ import annotations

from flask import session

from wizard.authority import AuthorityUnavailable
from wizard.domain import steps
from wizard.domain.credentials import (
    normalise_onespan,
    normalise_soft,
    normalise_symantec_hard,
    recognize,
)
from wizard.domain.steps import Progress, Step
from wizard.services import enrollment
from wizard.services.enrollment import Availability
from wizard.web.codes import outage_status
from wizard.web.enrol import bp
from wizard.web.enrol.forms import CredentialForm
from wizard.web.enrol.lookalikes import hint
from wizard.web.enrol.routes import (
    go_to,
    guarded,
    platform_of,
    render_step,
    store_progress,
)
from wizard.web.forms import add_error
from wizard.web.limits import credential_lookup_limit
from wizard.web.session import current_prescriber, now
from wizard.web.support import note_error

UNKNOWN_SERIAL = "This token is not known to your organization yet. Contact the help desk."
UNKNOWN_CREDENTIAL = (
    "We could not find this Credential ID with Symantec. Check each character against the "
    "VIP Access app, then enter it again."
)
CHECK_UNAVAILABLE = (
    "We could not reach Symantec VIP to check this Credential ID, so nothing was saved. "
    "Wait a minute, then select Continue again."
)

NORMALISERS = {
    "onespan": normalise_onespan,
    "symantec-hard": normalise_symantec_hard,
}


def _credential_page(progress: Progress, form: CredentialForm, status=200, lookalike=None):
    platform = platform_of(progress)
    if platform.hard:
        form.credential_id.label.text = "Serial number (S/N)"
    return render_step(
        Step.CREDENTIAL_ID, progress, status, form=form, platform=platform, lookalike=lookalike
    )


@bp.get("/credential-id")
@guarded(Step.CREDENTIAL_ID)
def credential_id(progress: Progress):
    form = CredentialForm(formdata=None, credential_id=progress.credential_id)
    return _credential_page(progress, form)


@bp.post("/credential-id")
@credential_lookup_limit
@guarded(Step.CREDENTIAL_ID)
def save_credential_id(progress: Progress):
    form = CredentialForm()
    platform = platform_of(progress)
    normalised, lookalike = None, None
    status = 422
    if form.validate_on_submit():
        normalised = NORMALISERS.get(platform.key, normalise_soft)(form.credential_id.data)
        if normalised.error:
            problem = ("credential-format", normalised.error)
            lookalike = hint(recognize(form.credential_id.data), platform)
        else:
            try:
                problem = _credential_problem(normalised.value, platform.hard)
            except AuthorityUnavailable as error:
                problem, status = (
                    ("vip-unavailable", CHECK_UNAVAILABLE),
                    outage_status(error.reason),
                )
            if problem and problem[0] == "credential-unknown":
                lookalike = hint(recognize(normalised.value), platform)  # an NPI, say
        if lookalike:
            problem = ("credential-lookalike", lookalike.message)
        if problem:
            add_error(form.credential_id, problem[1])
            note_error(problem[0])
    if form.errors or normalised is None or normalised.error:
        return _credential_page(progress, form, status, lookalike)
    if progress.credential_id != normalised.value:
        progress.verified_at = None  # a code checked for another credential proves nothing here
    progress.credential_id = normalised.value
    steps.advance(progress, Step.SECURITY_CODE)
    store_progress(progress)
    session["enrol_lookalikes"] = normalised.corrected_lookalikes
    return go_to(Step.SECURITY_CODE)


def _credential_problem(credential_id: str, hard: bool) -> tuple[str, str] | None:
    """(support error kind, message) when the credential cannot be added; None when it can."""
    state = enrollment.availability(credential_id, current_prescriber(), now())
    if state is Availability.LOST:
        return "credential-lost", (
            "This token was reported lost, so it cannot be registered again. Reinstall the "
            "VIP Access app to get a new Credential ID, then enter the new one."
        )
    if state is Availability.MINE:
        mine = enrollment.own_live_token(current_prescriber(), credential_id)
        named = f" as \u201c{mine.nickname}\u201d" if mine else ""  # unless deleted just now
        return "credential-mine", f"This token is already on your account{named}."
    if state is Availability.TAKEN:
        return "credential-taken", (
            "This Credential ID is already registered to another EPCS account. Check that "
            "you are reading it from your own VIP Access app. If it is yours, call the help desk."
        )
    if state is Availability.UNKNOWN:
        return "credential-unknown", UNKNOWN_SERIAL if hard else UNKNOWN_CREDENTIAL
    return None
