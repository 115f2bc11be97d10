"""The CSRF token a form sends back, read from a page of the client's session.

Every form and every page of a session carries it (a hidden input, and the page's
`<meta name="csrf-token">`). It belongs to the session: any page gives the same one until
the session changes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

SESSION_COOKIE = "wizard_session"

# Our own templates' markup (templates/macros.html and base.html), matched as written.
_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_in(html: str) -> str | None:
    """The token a page carries (its form's hidden input, else its meta tag), or None."""
    found = _FIELD.search(html) or _META.search(html)
    return found.group(1) if found else None


def csrf_token(client: Any, url: str = "/") -> str:
    """GET url with client (Flask's test client, or support.http's) and return the token of
    its session; fails when the page has none. Redirects are not followed. The public home
    page has none for a visitor without a session: the sign-in page then gives one."""
    response = client.get(url)
    token = csrf_token_in(response.get_data(as_text=True))
    if token is None and urlsplit(url).path in ("", "/"):
        response = client.get(url.rstrip("/") + "/sign-in")
        token = csrf_token_in(response.get_data(as_text=True))
    assert token, (
        f"GET {url} answered {response.status_code} without a CSRF token "
        '(no <input name="csrf_token"> and no <meta name="csrf-token">)'
    )
    return token


def session_cookie(client: Any) -> str | None:
    """The session id in a Flask test client's cookie jar, or None."""
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def session_csrf_token(client: Any) -> str:
    """The token of a Flask test client's session, read once per session and test-clock time.

    Saves a page load per post. A session ends behind the client's back only when time
    passes (the idle timeout), so a token read at the same session id and the same clock
    reading is still good; after the clock moves it is read again."""
    clock = client.application.config.get("CLOCK")
    key = (session_cookie(client), clock() if clock else None)
    known = getattr(client, "_support_csrf", None)
    if key[0] is not None and known is not None and known[0] == key:
        return known[1]
    token = csrf_token(client)
    client._support_csrf = ((session_cookie(client), key[1]), token)
    return token
