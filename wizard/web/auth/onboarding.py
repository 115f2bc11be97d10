"""First-time onboarding: Invitation ID and NPI, confirm name, create a passphrase."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from wizard.services import invitations
from wizard.services.invitations import InvitationError, Problem
from wizard.web.auth import bp
from wizard.web.auth.forms import InvitationForm, NewPassphraseForm, check_npi_shape
from wizard.web.auth.reset import check_new_passphrase
from wizard.web.forms import EmptyForm, add_error
from wizard.web.limits import sign_in_limit
from wizard.web.session import flow, flow_end, flow_start, flow_update, now, sign_in
from wizard.web.support import note_error, note_person

FLOW_SECONDS = 30 * 60
KEPT = "invite_kept"  # a well-formed Invitation ID typed with a mistyped NPI (its hash)


def _problem_message(lookup: invitations.Lookup) -> str:
    if lookup.problem is Problem.USED:
        return (
            "This invitation has already been used. If you created your passphrase, sign in. "
            "Otherwise ask your organization's EPCS administrator for a new invitation"
        )
    if lookup.problem is Problem.EXPIRED:
        expired = lookup.invitation.expires_at
        return (
            f"This invitation expired on {expired:%B} {expired.day}, {expired.year}. Ask your "
            "organization's EPCS administrator for a new invitation"
        )
    return (
        "We could not find an invitation with that Invitation ID and NPI. Check both and try again"
    )


def _invitation():
    record = flow("invite", FLOW_SECONDS)
    invitation = invitations.get(record["invitation_id"]) if record else None
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now():
        return None, record
    return invitation, record


def _again():
    return redirect(url_for("auth.start"), 303)


def _start_page(form: InvitationForm, kept: bool, status: int = 200):
    return render_template(
        "auth/start.html",
        title="Set up your EPCS account",
        form=form,
        errors=form.error_summary(),
        kept=kept,
    ), status


@bp.get("/start")
def start():
    kept = flow(KEPT, FLOW_SECONDS) is not None
    return _start_page(InvitationForm(formdata=None, kept=kept), kept)


@bp.post("/start")
@sign_in_limit
def start_post():
    kept = flow(KEPT, FLOW_SECONDS)
    form = InvitationForm(kept=kept is not None)
    if form.invitation.data:
        code_hash = invitations.keepable(form.invitation.data)
    else:
        code_hash = kept["code_hash"] if kept else None
    valid = form.validate_on_submit()
    if check_npi_shape(form) and valid:  # both checked: every mistake is named at once
        flow_end(KEPT)
        lookup = invitations.find_kept(code_hash, form.npi.data, now())
        if lookup.problem is None:
            flow_start("invite", invitation_id=lookup.invitation.id, confirmed=False)
            return redirect(url_for("auth.start_confirm"), 303)
        # Which of the two was wrong is not told, so both are typed again.
        add_error(form.invitation, _problem_message(lookup))
        keep = False
    else:
        # Only the NPI was wrong: keep the Invitation ID, as its hash on the server.
        keep = code_hash is not None and not form.invitation.errors
        if keep:
            flow_start(KEPT, code_hash=code_hash)
        else:
            flow_end(KEPT)
    note_error("invitation")
    form.invitation.flags.required = not keep
    return _start_page(form, keep, 422)


@bp.get("/start/confirm")
def start_confirm():
    invitation, _ = _invitation()
    if invitation is None:
        return _again()
    note_person(invitation.name, invitation.npi)
    return render_template(
        "auth/start-confirm.html",
        title="Is this you?",
        invitation=invitation,
        form=EmptyForm(formdata=None),
    )


@bp.post("/start/confirm")
def start_confirm_post():
    invitation, _ = _invitation()
    if invitation is None:
        return _again()
    if not EmptyForm().validate_on_submit():
        abort(400)
    if request.form.get("answer") != "yes":
        flow_end("invite")
        return render_template("auth/start-not-you.html", title="This invitation is not yours")
    if not invitation.identity_proofed:
        return redirect(url_for("auth.start_proofing"), 303)
    flow_update("invite", confirmed=True)
    return redirect(url_for("auth.start_passphrase"), 303)


@bp.get("/start/identity-proofing")
def start_proofing():
    invitation, _ = _invitation()
    if invitation is None:
        return _again()
    return render_template(
        "auth/start-proofing.html",
        title="Complete identity proofing first",
        invitation=invitation,
    )


def _passphrase_page(invitation, form, status=200):
    note_person(invitation.name, invitation.npi)
    if status == 422:
        note_error("passphrase-rejected")
    return render_template(
        "auth/start-passphrase.html",
        title="Create your passphrase",
        form=form,
        errors=form.error_summary(),
        invitation=invitation,
        clear=request.args.get("clear") == "1",
    ), status


@bp.get("/start/passphrase")
def start_passphrase():
    invitation, record = _invitation()
    if invitation is None or not record.get("confirmed") or not invitation.identity_proofed:
        return _again()
    return _passphrase_page(invitation, NewPassphraseForm(formdata=None))


@bp.post("/start/passphrase")
def start_passphrase_post():
    invitation, record = _invitation()
    if invitation is None or not record.get("confirmed") or not invitation.identity_proofed:
        return _again()
    form = NewPassphraseForm()
    if not check_new_passphrase(form, invitation.npi, invitation.name):
        return _passphrase_page(invitation, form, 422)
    try:
        prescriber = invitations.redeem(invitation, form.passphrase.data, now())
    except InvitationError as error:
        add_error(form.passphrase, str(error))
        return _passphrase_page(invitation, form, 422)
    flow_end("invite")
    sign_in(prescriber)
    return redirect(url_for("enrol.start"), 303)
