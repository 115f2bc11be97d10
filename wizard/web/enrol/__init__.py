from flask import Blueprint

bp = Blueprint("enrol", __name__, url_prefix="/enroll")

from wizard.web.enrol import routes  # noqa: E402,F401
