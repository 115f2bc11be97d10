"""The enrollment wizard: one view to show each step, one to take its form."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from wizard.authority import AuthorityUnavailable
from wizard.domain import steps
from wizard.domain.credentials import (
    grouped,
    normalise_onespan,
    normalise_soft,
    normalise_symantec_hard,
    recognize,
)
from wizard.domain.otp import Outcome
from wizard.domain.steps import Backup, Progress, Step
from wizard.domain.tokens import (
    ISSUER,
    PLATFORMS,
    Status,
    needs_backup,
    suggest_nickname,
)
from wizard.domain.urls import allowed_return
from wizard.services import enrollment
from wizard.services.enrollment import Availability, NewToken, SaveError
from wizard.services.tokens import at_limit
from wizard.web.codes import (
    code_message,
    code_status,
    outage_status,
    valid_code,
)
from wizard.web.enrol import bp
from wizard.web.enrol.forms import CodeForm, CredentialForm, DeviceForm, GetAppForm, NameForm
from wizard.web.enrol.lookalikes import hint
from wizard.web.forms import EmptyForm, add_error
from wizard.web.htmx import render_page, wants_partial
from wizard.web.limits import code_limit, credential_lookup_limit
from wizard.web.qr import qr_svg
from wizard.web.session import login_required, now
from wizard.web.support import note_error, note_page, record_backup_accepted

ENDPOINTS = {
    Step.GET_APP: "enrol.get_app",
    Step.CREDENTIAL_ID: "enrol.credential_id",
    Step.SECURITY_CODE: "enrol.security_code",
    Step.NAME: "enrol.name",
    Step.DONE: "enrol.done",
}

UNKNOWN_SERIAL = "This token is not known to your organization yet. Contact the help desk."
CHECK_UNAVAILABLE = (
    "We could not reach Symantec VIP to check this Credential ID, so nothing was saved. "
    "Wait a minute, then select Continue again."
)
SAVE_UNAVAILABLE = (
    "We could not reach Symantec VIP to register your token, so nothing was saved. "
    "Wait a minute, then select Save again."
)
UNKNOWN_CREDENTIAL = (
    "We could not find this Credential ID with Symantec. Check each character against the "
    "VIP Access app, then enter it again."
)


def load_progress() -> Progress:
    return Progress.from_dict(session.get("enrol"))


def store_progress(progress: Progress) -> None:
    session["enrol"] = progress.to_dict()


def guarded(step: Step):
    """Show a step only when the steps before it are done; else go to the furthest allowed."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            progress = load_progress()
            if step is not Step.DONE and progress.token_id is None and at_limit(g.prescriber):
                return render_template("enrol/limit.html", title="You have the most tokens"), (
                    200 if request.method == "GET" else 409
                )
            if not steps.may_show(progress, step, now()):
                target = steps.allowed(progress, now())
                if target is Step.SECURITY_CODE and progress.verified_at is not None:
                    progress.verified_at = None
                    store_progress(progress)
                    note_error("code-expired")
                    flash(
                        "Your code was checked more than 10 minutes ago. For your security, "
                        "enter the code the app shows now.",
                        "info",
                    )
                return redirect(url_for(ENDPOINTS[target]), 303)
            return view(progress, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def go_to(step: Step):
    """After a valid post: htmx gets the next step at once, a plain post a 303 redirect."""
    if wants_partial():
        return current_app.view_functions[ENDPOINTS[step]]()
    return redirect(url_for(ENDPOINTS[step]), 303)


def render_step(step: Step, progress: Progress, status: int = 200, **context):
    note_page(step)
    forms = [f for f in context.values() if hasattr(f, "error_summary")]
    errors = context.pop("errors", None) or [e for form in forms for e in form.error_summary()]
    # The device shown on step 1 (chosen, not yet saved) names step 2 already.
    titles = steps.titles(key_fob=(context.get("platform") or _platform(progress)).hard)
    return render_page(
        f"enrol/{step}.html",
        status=status,
        push_url=url_for(ENDPOINTS[step]) if status == 200 else False,
        step=step,
        progress=progress,
        errors=errors,
        title=titles[step],
        step_number=steps.number(step),
        grouped=grouped,
        step_titles=titles,
        platforms=PLATFORMS,
        **context,
    )


@bp.get("")
@login_required
def start():
    """Entry point, also from an EHR: ?return_to= an allowed URL to go back to at the end."""
    target = request.args.get("return_to")
    if target is not None:
        allowed = allowed_return(target, current_app.config["RETURN_ORIGINS"])
        if allowed:
            session["return_to"] = allowed
        else:
            enrollment.refuse_return(g.prescriber, target, now())
    if load_progress().token_id is not None:
        session.pop("enrol", None)  # the last run ended with a saved token: a new run begins
    return redirect(url_for(ENDPOINTS[steps.allowed(load_progress(), now())]))


@bp.post("/start-over")
@login_required
def start_over():
    if not EmptyForm().validate_on_submit():
        abort(400)
    session.pop("enrol", None)
    flash("We cleared what you entered. Start again from the first step.", "info")
    return go_to(Step.GET_APP)


# Step 1: get the app --------------------------------------------------------


def _get_app_page(progress: Progress, device_form: DeviceForm, app_form: GetAppForm, status=200):
    platform = PLATFORMS.get(app_form.platform.data or "")
    qr = (
        qr_svg(platform.url, f"QR code linking to {platform.app_name}")
        if platform and not platform.hard
        else None
    )
    return render_step(
        Step.GET_APP,
        progress,
        status,
        device_form=device_form,
        app_form=app_form,
        platform=platform,
        qr=qr,
    )


@bp.get("/get-app")
@guarded(Step.GET_APP)
def get_app(progress: Progress):
    chosen = request.args.get("device")
    submitted = chosen is not None or "show" in request.args
    device_form = DeviceForm(request.args if submitted else None)
    status = 200
    if submitted and not device_form.validate():
        status, chosen = 422, None
        note_error("device-not-chosen")
    elif chosen and chosen != progress.device_shown:
        progress.device_shown = chosen  # remembered for when the prescriber comes back
        store_progress(progress)
    chosen = chosen or progress.device_shown or progress.platform or None
    if device_form.device.data is None and chosen:
        device_form.device.data = chosen
    app_form = GetAppForm(
        formdata=None,
        platform=chosen,
        different_device=progress.device_confirmed and chosen == progress.platform,
    )
    return _get_app_page(progress, device_form, app_form, status)


@bp.post("/get-app")
@guarded(Step.GET_APP)
def save_get_app(progress: Progress):
    app_form = GetAppForm()
    device_form = DeviceForm(formdata=None, device=app_form.platform.data)
    app_form.validate_on_submit()
    platform = PLATFORMS.get(app_form.platform.data or "")
    if platform is None:
        add_error(device_form.device, "Select the token you are adding")
        app_form.platform.data = None
        app_form.different_device.errors = []  # its box is shown once a device is chosen
    elif platform.hard:
        app_form.different_device.errors = []  # a key fob is a separate device by nature
    if app_form.errors or device_form.device.errors:
        note_error("device-not-chosen" if device_form.device.errors else "device-not-confirmed")
        return _get_app_page(progress, device_form, app_form, 422)
    if progress.platform != app_form.platform.data:
        progress.nickname = ""  # the suggestion follows the device
    progress.platform = progress.device_shown = app_form.platform.data
    progress.device_confirmed = True
    steps.advance(progress, Step.CREDENTIAL_ID)
    store_progress(progress)
    return go_to(Step.CREDENTIAL_ID)


# Step 2: the Credential ID --------------------------------------------------


NORMALISERS = {
    "onespan": normalise_onespan,
    "symantec-hard": normalise_symantec_hard,
}


def _platform(progress: Progress):
    return PLATFORMS.get(progress.platform) or PLATFORMS["iphone"]


def _credential_page(progress: Progress, form: CredentialForm, status=200, lookalike=None):
    platform = _platform(progress)
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
    platform = _platform(progress)
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
    state = enrollment.availability(credential_id, g.prescriber, now())
    mine = next(
        (
            t
            for t in g.prescriber.tokens
            if t.credential_id == credential_id and t.status != Status.DELETED
        ),
        None,
    )
    if state is Availability.LOST:
        return "credential-lost", (
            "This token was reported lost, so it cannot be registered again. Reinstall the "
            "VIP Access app to get a new Credential ID, then enter the new one."
        )
    if state is Availability.TAKEN and mine is not None:
        return (
            "credential-mine",
            f"This token is already on your account as \u201c{mine.nickname}\u201d.",
        )
    if state is Availability.TAKEN:
        return "credential-taken", (
            "This Credential ID is already registered to another EPCS account. Check that "
            "you are reading it from your own VIP Access app. If it is yours, call the help desk."
        )
    if state is Availability.UNKNOWN:
        return "credential-unknown", UNKNOWN_SERIAL if hard else UNKNOWN_CREDENTIAL
    return None


# Step 3: the security code --------------------------------------------------


def _code_page(progress: Progress, form: CodeForm, status: int = 200, **context):
    lock = enrollment.code_lock(g.prescriber, now())
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
        platform=_platform(progress),
        clear=request.args.get("clear") == "1",
        lookalikes=session.get("enrol_lookalikes", False),
        **context,
    )


@bp.get("/security-code")
@guarded(Step.SECURITY_CODE)
def security_code(progress: Progress):
    return _code_page(progress, CodeForm(formdata=None))


@bp.post("/security-code")
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
        g.prescriber,
        progress.credential_id,
        form.code.data,
        now(),
        second=form.next_code.data if progress.resync else None,
    )
    if check.outcome == Outcome.OUT_OF_SYNC:
        progress.resync = True
        store_progress(progress)
        note_error("out-of-sync")
        return _code_page(progress, CodeForm(formdata=None), 422, resync_needed=True)
    if not check.accepted:
        add_error(form.code, _code_message(check, _platform(progress).hard))
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
            "enter it straight away."
        )
    return code_message(check.lock, check.outcome)


# Step 4: name and save ------------------------------------------------------


def _summary(progress: Progress, nickname: str) -> list[tuple[str, str, str | None]]:
    """(label, value, change link) rows of the check-your-answers list."""
    platform = _platform(progress)
    return [
        ("Token", platform.label, url_for("enrol.get_app")),
        (
            "Serial number" if platform.hard else "Credential ID",
            progress.credential_id,
            url_for("enrol.credential_id"),
        ),
        ("Token name", nickname, "#nickname"),
        ("Manufacturer", platform.manufacturer, None),
        ("Issuer", ISSUER, None),
        ("Type", platform.token_type.value, None),
        ("Model", platform.model, None),
    ]


def _name_page(progress: Progress, form: NameForm, status: int = 200):
    if status == 422:
        note_error("nickname")
    return render_step(
        Step.NAME, progress, status, form=form, summary=_summary(progress, form.nickname.data or "")
    )


@bp.get("/name")
@guarded(Step.NAME)
def name(progress: Progress):
    nickname = progress.nickname or suggest_nickname(
        progress.platform, enrollment.live_nicknames(g.prescriber)
    )
    return _name_page(progress, NameForm(formdata=None, nickname=nickname))


@bp.post("/name")
@guarded(Step.NAME)
def save_name(progress: Progress):
    form = NameForm()
    # A taken name is found by register_token, after it has recognized a second save of the
    # same token (another tab, a double click) as the first one.
    if not form.validate_on_submit():
        return _name_page(progress, form, 422)
    progress.nickname = form.nickname.data
    try:
        platform = _platform(progress)
        new = NewToken(
            progress.credential_id,
            progress.nickname,
            platform.manufacturer,
            platform.token_type,
            platform.model,
        )
        token = enrollment.register_token(g.prescriber, new, now())
    except SaveError as error:
        add_error(form.nickname, str(error))
        return _name_page(progress, form, 422)
    except AuthorityUnavailable as error:
        add_error(form.nickname, SAVE_UNAVAILABLE)
        note_error("vip-unavailable")
        return _name_page(progress, form, outage_status(error.reason))
    progress.token_id = token.id
    progress.backup = Backup.SHOWN if needs_backup(enrollment.active_count(g.prescriber)) else ""
    steps.advance(progress, Step.DONE)
    store_progress(progress)
    return go_to(Step.DONE)


# Step 5: done, and the backup recommendation --------------------------------


@bp.get("/done")
@guarded(Step.DONE)
def done(progress: Progress):
    token = next((t for t in g.prescriber.tokens if t.id == progress.token_id), None)
    return_to = session.get("return_to")
    return render_step(
        Step.DONE,
        progress,
        return_to=return_to,
        return_host=urlsplit(return_to).netloc if return_to else None,
        token=token,
        form=EmptyForm(formdata=None),
        active=enrollment.active_count(g.prescriber),
    )


@bp.post("/backup")
@guarded(Step.DONE)
def backup(progress: Progress):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    choice = request.form.get("choice")
    if choice == "add":
        record_backup_accepted()
        previous = progress.platform
        fresh = Progress(is_backup_run=True, previous_platform=previous)
        store_progress(fresh)
        return go_to(Step.GET_APP)
    if choice == "not-now" and progress.backup == Backup.SHOWN:
        progress.backup = Backup.CONFIRM_DECLINE
    elif choice == "decline" and progress.backup == Backup.CONFIRM_DECLINE:
        enrollment.decide_backup(g.prescriber, "declined", now())
        progress.backup = Backup.DECLINED
    store_progress(progress)
    return go_to(Step.DONE)
