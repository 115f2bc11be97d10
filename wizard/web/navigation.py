"""The signed-in prescriber's navigation, with the current page marked."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from wizard.web.urls import fixed_url


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


# (label, endpoint, endpoints or blueprint prefixes that make it the current page)
ITEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Account", "main.home", ("main.home",)),
    ("Tokens", "tokens.index", ("tokens.",)),
    ("Add a token", "enrol.start", ("enrol.",)),
    ("Help", "main.help", ("main.help",)),
)


def navigation() -> list[NavItem]:
    endpoint = request.endpoint or ""
    return [
        NavItem(label, fixed_url(target), any(endpoint.startswith(m) for m in marks))
        for label, target, marks in ITEMS
    ]
