"""The idle timeout counted in whole minutes: never early, at most a minute late."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wizard.domain.activity import idle_expired, minute

START = datetime(2025, 3, 3, 15, 0, 0, tzinfo=UTC)
actions = st.integers(min_value=0, max_value=10**6).map(
    lambda ms: START + timedelta(milliseconds=ms)
)
idles = st.integers(min_value=1, max_value=24 * 60)
waits = st.integers(min_value=0, max_value=10**7).map(lambda ms: timedelta(milliseconds=ms))


def test_minute_counts_whole_minutes_since_the_epoch():
    assert (
        minute(START) == minute(START + timedelta(seconds=59.999)) == int(START.timestamp()) // 60
    )
    assert minute(START + timedelta(seconds=60)) == minute(START) + 1


@given(actions, idles, waits)
def test_cant_end_a_session_before_the_idle_time_has_passed(action, idle, wait):
    now = action + min(wait, timedelta(minutes=idle))
    assert not idle_expired(minute(action), now, idle)


@given(actions, idles, waits)
def test_should_end_a_session_at_most_a_minute_after_the_idle_time(action, idle, wait):
    now = action + timedelta(minutes=idle + 1) + wait
    assert idle_expired(minute(action), now, idle)


def test_should_end_a_session_at_the_end_of_the_minute_after_the_idle_time():
    seen = minute(START + timedelta(seconds=59))
    assert not idle_expired(seen, START + timedelta(minutes=15, seconds=59), 15)
    assert idle_expired(seen, START + timedelta(minutes=16), 15)
