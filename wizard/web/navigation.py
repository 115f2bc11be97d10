"""The signed-in prescriber's navigation, with the current page marked."""

from __future__ import annotations

from functools import lru_cache

from flask import request
from markupsafe import Markup, escape

from wizard.web.urls import fixed_url

# (label, endpoint, endpoints or blueprint prefixes that make it the current page)
ITEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Account", "main.home", ("main.home",)),
    ("Tokens", "tokens.index", ("tokens.",)),
    ("Add a token", "enrol.start", ("enrol.",)),
    ("Help", "main.help", ("main.help",)),
)


def navigation() -> Markup:
    """The list's items, the current page's marked with aria-current: the same for every
    request to an endpoint, so written once per endpoint (and application root)."""
    return _items(request.script_root, request.endpoint or "")


@lru_cache(maxsize=256)
def _items(script_root: str, endpoint: str) -> Markup:
    items = []
    for label, target, marks in ITEMS:
        current = ' aria-current="page"' if endpoint.startswith(marks) else ""
        url = escape(fixed_url(target))
        items.append(f'<li><a class="site-nav__link" href="{url}"{current}>{label}</a></li>')
    return Markup("\n".join(items))  # noqa: S704 - fixed labels, escaped URLs
