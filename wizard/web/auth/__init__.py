from flask import Blueprint

bp = Blueprint("auth", __name__)

from wizard.web.auth import lost, onboarding, reset, routes  # noqa: E402,F401
