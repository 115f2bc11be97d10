"""The help-desk console: read-only live view by support code, the script, the funnel."""

from __future__ import annotations

import csv
import io
from functools import wraps

from flask import Response, abort, flash, g, redirect, render_template, request, session, url_for

from wizard.domain import passphrase as passphrase_rules
from wizard.domain import support as words
from wizard.domain.steps import TITLES, place, titles
from wizard.domain.support import CHANGES, normalise_support_code
from wizard.domain.tokens import PLATFORMS
from wizard.services import accounts, helpdesk, lockout, support
from wizard.services.lockout import Counter
from wizard.web.codes import valid_code
from wizard.web.forms import EmptyForm, add_error
from wizard.web.helpdesk import bp
from wizard.web.helpdesk.forms import AgentSetupForm, AgentSignInForm
from wizard.web.limits import sign_in_limit, support_lookup_limit
from wizard.web.session import background, now, sign_in_agent, sign_out

NOT_SIGNED_IN = "We could not sign you in with those details"
# The support codes this agent's session has looked up: the only ones its live panel may poll.
LOOKED_UP = "helpdesk_looked_up"


def agent_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("agent") is None:
            return redirect(url_for("helpdesk.sign_in"))
        return view(*args, **kwargs)

    return wrapped


@bp.get("/sign-in")
def sign_in():
    return render_template(
        "helpdesk/sign-in.html",
        title="Help desk sign in",
        form=AgentSignInForm(formdata=None),
        errors=[],
    )


@bp.post("/sign-in")
@sign_in_limit
def sign_in_post():
    form = AgentSignInForm()
    failed = form.validate_on_submit() and valid_code(form.code)
    if failed:
        attempt = helpdesk.sign_in(form.username.data, form.passphrase.data, form.code.data, now())
        if attempt.agent is not None:
            sign_in_agent(attempt.agent)
            return redirect(url_for("helpdesk.console"), 303)
        # The same words whether the name is unknown, paused or mistyped (no enumeration).
        add_error(form.username, NOT_SIGNED_IN)
    return render_template(
        "helpdesk/sign-in.html",
        title="Help desk sign in",
        form=form,
        errors=form.error_summary(),
        failed=failed,  # the pause notice only after an attempt that counted
    ), 422


@bp.post("/sign-out")
def sign_out_post():
    EmptyForm().validate_on_submit()
    sign_out()
    flash("You are signed out of the help desk.", "info")
    return redirect(url_for("helpdesk.sign_in"), 303)


def _setup_page(agent, token, form, status=200):
    # new_agent, not agent: the page header shows a signed-in agent, and this one is not yet.
    return render_template(
        "helpdesk/setup.html",
        title="Set up your help-desk account",
        new_agent=agent,
        token=token,
        form=form,
        errors=form.error_summary(),
        secret=helpdesk.pending_secret(agent),
        uri=helpdesk.otpauth_uri(agent),
    ), status


@bp.get("/setup/<token>")
def setup(token: str):
    agent = helpdesk.by_setup_token(token, now())
    if agent is None:
        abort(404)
    return _setup_page(agent, token, AgentSetupForm(formdata=None))


@bp.post("/setup/<token>")
@sign_in_limit
def setup_post(token: str):
    agent = helpdesk.by_setup_token(token, now())
    if agent is None:
        abort(404)
    form = AgentSetupForm()
    if not form.validate_on_submit() or not valid_code(form.code):
        return _setup_page(agent, token, form, 422)
    problem = passphrase_rules.problem(form.passphrase.data, name=agent.username)
    if problem:
        add_error(form.passphrase, problem)
    elif form.confirm.data != form.passphrase.data:
        add_error(form.confirm, "The passphrases do not match. Enter the same passphrase twice")
    elif not helpdesk.complete_setup(agent, form.passphrase.data, form.code.data, now()):
        add_error(form.code, "That code did not match. Enter the code your app shows now")
    if form.errors:
        return _setup_page(agent, token, form, 422)
    flash("Your help-desk account is ready. Sign in.", "success")
    return redirect(url_for("helpdesk.sign_in"), 303)


def _guides() -> dict[str, words.Guide]:
    return words.guides(lockout.policy(Counter.SIGN_IN), lockout.policy(Counter.CODE))


def _live_context(code: str) -> dict:
    row = support.find(code) if code else None
    prescriber = accounts.by_id(row.prescriber_id) if row else None
    platform = PLATFORMS.get(row.platform) if row else None
    step_titles = titles(key_fob=bool(platform and platform.hard))
    guides = _guides()
    return {
        "code": code,
        "row": row,
        "name": prescriber.name if prescriber else (row.name if row else ""),
        "npi": prescriber.npi if prescriber else (row.npi if row else ""),
        "guide": guides.get(row.last_error) if row and row.last_error else None,
        "resolved_at": support.resolved_at(row) if row and row.last_error else None,
        "sign_in_token": support.sign_in_token(row) if row else None,
        "guides": guides,
        "change": support.last_change(row) if row else None,
        "changes": CHANGES,
        "page_names": words.page_names(step_titles),
        "platform": platform,
        "step_titles": step_titles,
        "step_place": place,
    }


@bp.get("")
@agent_required
@support_lookup_limit
def console():
    """The console; with ?code=, a lookup: audited (once per lookup) and rate-limited."""
    typed = request.args.get("code")
    code = normalise_support_code(typed or "")
    context = _live_context(code)
    if typed is not None:
        helpdesk.record_view(g.agent, code or typed[:12], context["row"], now())
    if context["row"] is not None:
        session[LOOKED_UP] = [c for c in session.get(LOOKED_UP, []) if c != code][-9:] + [code]
    return render_template("helpdesk/console.html", title="Help desk", typed=typed, **context)


@bp.get("/live/<code>")
@agent_required
@background
def live(code: str):
    """The live panel alone, polled every second by the console: only for a code this
    session looked up (and so audited), so that polling is never an unaudited lookup."""
    code = normalise_support_code(code)
    if code not in session.get(LOOKED_UP, ()):
        abort(404)
    context = _live_context(code)
    if context["row"] is None:
        abort(404)
    return render_template("helpdesk/_live.html", **context)


@bp.get("/script")
@agent_required
def script():
    return render_template(
        "helpdesk/script.html",
        title="Help-desk script",
        script=words.script(lockout.policy(Counter.SIGN_IN), lockout.policy(Counter.CODE)),
        guides=_guides(),
    )


def _days() -> int:
    return 30 if request.args.get("days") == "30" else 7


@bp.get("/funnel")
@agent_required
def funnel():
    data = support.funnel(now(), _days())
    top = max(data.by_step.values(), default=0) or 1
    return render_template(
        "helpdesk/funnel.html",
        title="Enrollment funnel",
        data=data,
        top=top,
        step_titles=TITLES,
        guides=_guides(),
    )


@bp.get("/funnel.csv")
@agent_required
def funnel_csv():
    data = support.funnel(now(), _days())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "name", "value"])
    writer.writerow(["runs", "started", data.runs])
    for step, count in data.by_step.items():
        writer.writerow(["reached", step, count])
    writer.writerow(["completion", "rate", f"{data.completion_rate:.3f}"])
    for kind, count in data.failures.items():
        writer.writerow(["failures", kind, count])
    writer.writerow(["backup", "recommended", data.backup_shown])
    writer.writerow(["backup", "added", data.backup_added])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="funnel-{data.days}-days.csv"'},
    )
