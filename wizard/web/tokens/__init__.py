from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/tokens")

from wizard.web.tokens import routes  # noqa: E402,F401
