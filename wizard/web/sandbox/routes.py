"""The practice VIP Access app (the JSON API for test suites is in api.py)."""

from __future__ import annotations

import re

from flask import abort, current_app, redirect, render_template, request, url_for

from wizard.domain.credentials import SOFT_PREFIXES, grouped
from wizard.services import outbox, sandbox
from wizard.web.qr import qr_svg
from wizard.web.sandbox import bp
from wizard.web.session import background, now

_CREDENTIAL = re.compile(r"[A-Z0-9]{6,32}")


def _presses() -> int:
    """?presses=N: for an event-based token, the code N presses after the last used one."""
    raw = request.args.get("presses", "1")
    return min(int(raw), 1000) if raw.isdigit() and int(raw) > 0 else 1


def _current(credential_id: str) -> sandbox.CurrentCode | None:
    credential_id = credential_id.strip().upper()
    if not _CREDENTIAL.fullmatch(credential_id):
        return None
    return sandbox.current_code(credential_id, now(), _presses())


@bp.get("/vip-access")
def vip_access():
    """A new practice credential per visit, or the one named by ?credential=ID."""
    credential_id = request.args.get("credential") or ""
    if not credential_id.strip():
        kind = request.args.get("kind", "vip")
        issued = sandbox.issue(now(), kind=kind if kind in sandbox.KINDS else "vip")
        return redirect(url_for("sandbox.vip_access", credential=issued.credential_id))
    current = _current(credential_id)
    if current is None:
        abort(404)
    soft = current.credential_id[:4] in SOFT_PREFIXES
    return render_template(
        "sandbox/vip-access.html",
        title="Practice VIP Access app" if soft else "Practice key fob",
        soft=soft,
        current=current,
        presses=_presses(),
        grouped_id=grouped(current.credential_id),
        qr=qr_svg(
            current.otpauth_uri,
            "QR code to load this practice credential into an authenticator app",
        ),
    )


@bp.get("/vip-access/code")
@background
def code_fragment():
    """The code and countdown alone, polled by the practice app page."""
    current = _current(request.args.get("credential") or "")
    if current is None:
        abort(404)
    return render_template("sandbox/_code.html", current=current)


@bp.get("/mailbox")
def mailbox():
    """What the outbox holds, newest first: the mail prescribers would get (no secret is ever
    in a mail, so it can be shown here)."""
    return render_template(
        "sandbox/mailbox.html",
        title="Sandbox mailbox",
        mails=outbox.newest(50),
        delivering=bool(current_app.config.get("MAIL_URL")),
    )
