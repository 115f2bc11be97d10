"""Server-side sessions on Flask's public SessionInterface, over wizard.store.sessions.

The cookie carries a random id only (HttpOnly, SameSite=Lax, Secure in production); the
store keeps the data under a hash of it. A session is written only when its data changed,
and not at all while it is empty: a visitor who only reads a public page gets no row and no
cookie. Requests for static files neither read nor write it.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
from werkzeug.datastructures import CallbackDict

from wizard.store.sessions import SessionStore, store_key

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
PURGE_EVERY = timedelta(minutes=10)


class ServerSession(CallbackDict, SessionMixin):
    """The session's data, with where it came from: `sid` is None until it is first saved."""

    permanent = True  # the cookie and the stored data expire (PERMANENT_SESSION_LIFETIME)

    def __init__(
        self,
        data: dict | None = None,
        sid: str | None = None,
        saved: bytes = b"",
        mark: str | None = None,
    ):
        def on_update(session: ServerSession) -> None:
            session.modified = True
            session.accessed = True

        super().__init__(data, on_update)
        self.sid = sid
        self.saved = saved  # the bytes last read or written, to skip writing the same again
        self.mark = mark  # the prescribers' change mark read with it (wizard.store.snapshots)
        self.replaced: list[str] = []  # ids given up by rotate(), deleted at save
        self.modified = False
        self.accessed = False

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.sid is None

    def __getitem__(self, key):
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key, default=None):
        self.accessed = True
        return super().setdefault(key, default)


def _decode(saved: bytes) -> dict:
    try:
        return session_json_serializer.loads(saved.decode())
    except ValueError:
        return _decode_flask_session(saved)


def _decode_flask_session(saved: bytes) -> dict:
    """A session saved before this release by Flask-Session (MessagePack): read, so that an
    upgrade signs no one out; its next save is JSON."""
    import msgspec

    try:
        data = msgspec.msgpack.decode(saved)
    except msgspec.DecodeError as error:
        raise ValueError("not a session") from error
    if not isinstance(data, dict):
        raise ValueError("not a session")
    return data


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.last_purge: datetime | None = None

    @staticmethod
    def now(app: Flask) -> datetime:
        return app.config["CLOCK"]()

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        static = app.static_url_path
        if static and request.path.startswith(static + "/"):
            return None  # Flask's null session: nothing read, nothing written
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if not SESSION_ID.fullmatch(sid):
            return ServerSession()
        saved, mark = self.store.load(store_key(sid), self.now(app))
        if saved is None:
            return ServerSession()  # unknown or expired: a new id when there is data to keep
        try:
            data = _decode(saved)
        except ValueError:
            return ServerSession()
        return ServerSession(data, sid, saved, mark)

    def rotate(self, session: ServerSession) -> None:
        """Keep the data under a new id; the old one opens nothing from this response on."""
        if session.sid is not None:
            session.replaced.append(session.sid)
        session.sid = None
        session.saved = b""
        session.modified = True

    def save_session(self, app: Flask, session: ServerSession | None, response: Response) -> None:
        if session is None:
            return  # the session could not be opened (its store is down)
        if session.accessed:
            response.vary.add("Cookie")
        if not session.modified:
            return
        name = self.get_cookie_name(app)
        now = self.now(app)
        if not session:
            gone = [store_key(s) for s in [*session.replaced, session.sid] if s]
            if gone:
                self.store.delete(*gone)
                response.delete_cookie(
                    name,
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                    secure=self.get_cookie_secure(app),
                    httponly=self.get_cookie_httponly(app),
                    samesite=self.get_cookie_samesite(app),
                )
            return
        data = session_json_serializer.dumps(dict(session)).encode()
        if data == session.saved and session.sid is not None:
            return  # set again to the same values: nothing to write
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
        lifetime = app.permanent_session_lifetime
        self.store.save(store_key(session.sid), data, now, lifetime)
        if session.replaced:
            self.store.delete(*(store_key(s) for s in session.replaced))
        session.saved = data
        response.set_cookie(
            name,
            session.sid,
            expires=self.get_expiration_time(app, session),  # the browser's clock
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )
        self._purge_now_and_then(now)

    def _purge_now_and_then(self, now: datetime) -> None:
        """Expired sessions go without a cron job: every PURGE_EVERY, the process that saves
        a session also deletes the expired ones (`flask --app wizard sessions purge` does it
        on demand)."""
        if self.last_purge is not None and now - self.last_purge < PURGE_EVERY:
            return
        self.last_purge = now
        self.store.purge(now)
