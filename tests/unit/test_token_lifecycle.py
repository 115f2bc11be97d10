"""The token statuses' one table of allowed actions, and the 30-day suspension (issue 11)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from wizard.domain.tokens import (
    ALLOWED,
    Action,
    Status,
    active,
    allowed_actions,
    allows,
    suspension_ends,
    suspension_over,
)

REPORTED = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_every_status_has_a_row_in_the_table():
    assert set(ALLOWED) == set(Status)


@pytest.mark.parametrize(
    "status, actions",
    [
        ("Active", ["disable", "delete", "rename", "report-lost"]),
        ("Inactive", ["enable", "delete", "rename", "report-lost"]),
        ("Suspended", ["reactivate", "confirm-lost"]),
        ("Lost", []),
        ("Deleted", []),
    ],
)
def test_each_status_allows_only_its_actions(status, actions):
    assert [str(a) for a in allowed_actions(status)] == actions


@pytest.mark.parametrize("action", [Action.ENABLE, Action.DELETE, Action.RENAME, Action.DISABLE])
def test_cant_use_enable_or_delete_a_suspended_token(action):
    """A suspended token can only be reactivated (with a code) or confirmed lost."""
    assert not allows(Status.SUSPENDED, action)


def test_cant_do_anything_to_a_lost_token_but_read_its_history():
    assert all(not allows(Status.LOST, action) for action in Action)


def test_an_unknown_status_allows_nothing():
    assert allowed_actions("Borrowed") == ()


@dataclass
class Row:
    status: str


def test_only_active_tokens_count_as_active():
    rows = [Row(s) for s in ("Active", "Inactive", "Suspended", "Lost", "Deleted", "Active")]
    assert active(rows) == [rows[0], rows[5]]


def test_a_suspension_ends_exactly_30_days_after_the_report():
    assert suspension_ends(REPORTED) == datetime(2025, 4, 2, 15, 0, tzinfo=UTC)
    assert not suspension_over(REPORTED, REPORTED + timedelta(days=30, seconds=-1))
    assert suspension_over(REPORTED, REPORTED + timedelta(days=30))


def test_a_suspension_without_a_date_is_over():
    assert suspension_over(None, REPORTED)
