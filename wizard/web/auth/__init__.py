from flask import Blueprint, abort, g, request

bp = Blueprint("auth", __name__)

# What a help-desk agent's browser may still open here: signing in as a prescriber, which
# starts a new session without the agent.
AGENT_MAY_OPEN = {
    "auth.sign_in_page",
    "auth.sign_in_post",
    "auth.sign_in_code",
    "auth.sign_in_code_post",
    "auth.sign_out_post",
}


@bp.before_request
def prescribers_only():
    """An agent's session never acts for a prescriber (DEA: only the registrant manages
    their own credentials)."""
    if g.get("agent") is not None and request.endpoint not in AGENT_MAY_OPEN:
        abort(403)


from wizard.web.auth import lost, onboarding, reset, routes  # noqa: E402,F401
