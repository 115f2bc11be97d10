"""Extensions, created unbound and initialized in create_app."""

from flask import request
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase

from wizard.domain.lockout import client_key
from wizard.store import memory_counts  # noqa: F401 - memory:// counts without a thread each


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
htmx = Htmx()


def client_address() -> str:
    """The client as the limits count it: an IPv4 address or an IPv6 /64."""
    return client_key(request.remote_addr)


# Per client address, on the forms that check a passphrase or a code (wizard/web/limits.py).
# No X-RateLimit-* headers: each would be read back from the counts' store after every
# counted request. A refusal carries Retry-After (web/errors.py).
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=False)
