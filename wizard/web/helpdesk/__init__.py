from flask import Blueprint

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk")

from wizard.web.helpdesk import routes  # noqa: E402,F401
