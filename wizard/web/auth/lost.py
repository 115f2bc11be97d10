"""Report a lost token: passphrase only (the token may be gone), choose, confirm."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, url_for

from wizard.extensions import db
from wizard.services import accounts, tokens
from wizard.store.models import Prescriber
from wizard.web.auth import bp
from wizard.web.auth.forms import ChooseTokenForm, SignInForm, check_npi_shape
from wizard.web.auth.routes import NOT_SIGNED_IN
from wizard.web.forms import EmptyForm, add_error
from wizard.web.limits import sign_in_limit
from wizard.web.session import flow, flow_start, flow_update, now

FLOW_SECONDS = 15 * 60


def _reporter() -> tuple[Prescriber | None, dict]:
    """The signed-in prescriber, or the one who gave NPI and passphrase on this flow."""
    record = flow("lost", FLOW_SECONDS) or {}
    if g.get("prescriber"):
        return g.prescriber, record
    prescriber = db.session.get(Prescriber, record["prescriber_id"]) if record else None
    return prescriber, record


def _start_again():
    return redirect(url_for("auth.lost_token"), 303)


@bp.get("/lost-token")
def lost_token():
    if g.get("prescriber"):
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
    if form.validate_on_submit() and check_npi_shape(form):
        attempt = accounts.check_passphrase(
            form.npi.data, form.passphrase.data, now(), "lost-token.passphrase"
        )
        if attempt.ok:
            flow_start("lost", prescriber_id=attempt.prescriber.id)
            return redirect(url_for("auth.lost_token_choose"), 303)
        add_error(form.npi, NOT_SIGNED_IN)
    return render_template(
        "auth/lost-token.html",
        title="Report a lost token",
        form=form,
        errors=form.error_summary(),
    ), 422


def _choose_form(prescriber: Prescriber, **kwargs) -> ChooseTokenForm:
    form = ChooseTokenForm(**kwargs)
    form.token.choices = [
        (t.id, f"{t.nickname} ({t.credential_id}, {t.status})")
        for t in tokens.reportable(prescriber)
    ]
    return form


@bp.get("/lost-token/choose")
def lost_token_choose():
    prescriber, _ = _reporter()
    if prescriber is None:
        return _start_again()
    form = _choose_form(prescriber, formdata=None)
    return render_template(
        "auth/lost-token-choose.html",
        title="Which token is lost?",
        form=form,
        errors=[],
        reporter=prescriber,
    )


@bp.post("/lost-token/choose")
def lost_token_choose_post():
    prescriber, _ = _reporter()
    if prescriber is None:
        return _start_again()
    form = _choose_form(prescriber)
    if not form.validate_on_submit():
        return render_template(
            "auth/lost-token-choose.html",
            title="Which token is lost?",
            form=form,
            errors=form.error_summary(),
            reporter=prescriber,
        ), 422
    if not flow("lost", FLOW_SECONDS):
        flow_start("lost", prescriber_id=prescriber.id)
    flow_update("lost", token_id=form.token.data)
    return redirect(url_for("auth.lost_token_confirm"), 303)


def _chosen(prescriber: Prescriber, record: dict):
    token = tokens.own_token(prescriber, record.get("token_id"))
    return token if token in tokens.reportable(prescriber) else None


@bp.get("/lost-token/confirm")
def lost_token_confirm():
    prescriber, record = _reporter()
    token = _chosen(prescriber, record) if prescriber else None
    if token is None:
        return _start_again()
    return render_template(
        "auth/lost-token-confirm.html",
        title="Report this token as lost?",
        token=token,
        form=EmptyForm(formdata=None),
    )


@bp.post("/lost-token/confirm")
def lost_token_confirm_post():
    prescriber, record = _reporter()
    token = _chosen(prescriber, record) if prescriber else None
    if token is None:
        return _start_again()
    if not EmptyForm().validate_on_submit():
        abort(400)
    tokens.report_lost(prescriber, token, now())
    flow_update("lost", token_id=None, reported_id=token.id)
    return redirect(url_for("auth.lost_token_done"), 303)


@bp.get("/lost-token/done")
def lost_token_done():
    prescriber, record = _reporter()
    reported = tokens.own_token(prescriber, record.get("reported_id")) if prescriber else None
    if reported is None:
        return _start_again()
    remaining = accounts.active_tokens(prescriber)
    return render_template(
        "auth/lost-token-done.html",
        title="Token reported lost",
        token=reported,
        remaining=remaining,
        help_text=current_app.config["HELP_DESK_TEXT"],
    )
