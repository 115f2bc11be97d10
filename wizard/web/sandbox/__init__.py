from flask import Blueprint, abort, current_app

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@bp.before_request
def sandbox_only():
    """Outside sandbox mode these pages do not exist."""
    if not current_app.config.get("SANDBOX"):
        abort(404)


from wizard.web.sandbox import routes  # noqa: E402,F401
