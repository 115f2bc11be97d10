"""The enrollment wizard: one view to show each step, one to take its form. This module holds
what every step shares, and step 1; steps 2 to 5 are in credential.py, code.py and save.py."""

from __future__ import annotations

from functools import wraps

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from wizard.domain import steps
from wizard.domain.credentials import grouped
from wizard.domain.lockout import duration_words
from wizard.domain.steps import CODE_FRESH_FOR, Progress, Step
from wizard.domain.tokens import PLATFORMS, Platform
from wizard.domain.urls import allowed_return
from wizard.services import enrollment
from wizard.services.tokens import limit_reached
from wizard.web.enrol import bp
from wizard.web.enrol.forms import DeviceForm, GetAppForm
from wizard.web.forms import EmptyForm, add_error
from wizard.web.htmx import render_page, wants_partial
from wizard.web.qr import qr_svg
from wizard.web.session import current_prescriber, login_required, now, signed_in
from wizard.web.support import note_error, note_page
from wizard.web.urls import fixed_url

ENDPOINTS = {
    Step.GET_APP: "enrol.get_app",
    Step.CREDENTIAL_ID: "enrol.credential_id",
    Step.SECURITY_CODE: "enrol.security_code",
    Step.NAME: "enrol.name",
    Step.DONE: "enrol.done",
}

CODE_TOO_OLD = (
    f"Your code was checked more than {duration_words(CODE_FRESH_FOR)} ago. For your security, "
    "enter the code the app shows now."
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
            held = signed_in().held_tokens
            if step is not Step.DONE and progress.token_id is None and limit_reached(held):
                return render_template("enrol/limit.html", title="You have the most tokens"), (
                    200 if request.method == "GET" else 409
                )
            if not steps.may_show(progress, step, now()):
                target = steps.allowed(progress, now())
                if target is Step.SECURITY_CODE and progress.verified_at is not None:
                    progress.verified_at = None
                    store_progress(progress)
                    note_error("code-expired")
                    flash(CODE_TOO_OLD, "info")
                return redirect(url_for(ENDPOINTS[target]), 303)
            return view(progress, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def go_to(step: Step):
    """After a valid post: htmx gets the next step at once, a plain post a 303 redirect."""
    if wants_partial():
        return current_app.view_functions[ENDPOINTS[step]]()
    return redirect(url_for(ENDPOINTS[step]), 303)


def platform_of(progress: Progress) -> Platform:
    """The device the run is for (the app on an iPhone until one is chosen)."""
    return PLATFORMS.get(progress.platform) or PLATFORMS["iphone"]


def render_step(step: Step, progress: Progress, status: int = 200, **context):
    note_page(step)
    forms = [f for f in context.values() if hasattr(f, "error_summary")]
    errors = context.pop("errors", None) or [e for form in forms for e in form.error_summary()]
    # The device shown on step 1 (chosen, not yet saved) names step 2 already.
    key_fob = (context.get("platform") or platform_of(progress)).hard
    titles = steps.titles(key_fob=key_fob)
    return render_page(
        f"enrol/{step}.html",
        status=status,
        push_url=fixed_url(ENDPOINTS[step]) if status == 200 else False,
        step=step,
        progress=progress,
        errors=errors,
        title=titles[step],
        step_caption=steps.caption(step),
        key_fob=key_fob,
        grouped=grouped,
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
            enrollment.refuse_return(current_prescriber(), target, now())
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
        app_form.platform.errors = []  # hidden: the device radios carry its message
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


from wizard.web.enrol import code, credential, save  # noqa: E402,F401 - steps 2 to 5
