"""Extensions, created unbound and initialized in create_app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
htmx = Htmx()
server_session = Session()
migrate = Migrate()
# Per client address, on the forms that check a passphrase or a code.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
