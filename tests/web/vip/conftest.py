"""The tests in this folder run the wizard configured for Symantec VIP at the stand-in (over
real mutual TLS: tests/web/vipsupport.py), on a clock that follows the real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


class LiveClock:
    """The real time plus an offset: the stand-in checks codes at the real time, so the codes
    the tests compute must follow it. Set .now or advance() as with the test clock."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, value: datetime) -> None:
        self.offset = value - datetime.now(UTC)

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        self.offset += timedelta(seconds=seconds, **delta)
        return self()


@pytest.fixture
def clock() -> LiveClock:
    return LiveClock()


@pytest.fixture
def app(make_app, vip_service):
    """The app from WIZARD_* variables, VIP's among them (tests/web/conftest.py's make_app)."""
    return make_app(**vip_service.environ())


@pytest.fixture
def auth(auth):
    """The demo's codes from now on, never from the step before: the stand-in checks them a
    moment later, at the real time, and that may already be the next step."""
    auth._offsets = iter((0, 30))
    return auth


# What VIP does is the same on either database: these tests run on SQLite alone, except those
# about the save itself, which run on every backend the run names (--databases).
ON_EVERY_BACKEND = {"test_should_take_the_binding_back_when_the_token_cannot_be_saved"}
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [
        item
        for item in items
        if HERE in Path(item.path).resolve().parents
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database", "sqlite") != "sqlite"
        and item.originalname not in ON_EVERY_BACKEND
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
