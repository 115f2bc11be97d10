"""The audit chain's hash over chain_tail, as the PostgreSQL statement builds its text, and
as verification recomputes it with chain_hash: one text, whatever the event holds. (The
statement itself runs in tests/web/test_audit_chain.py.)"""

import hashlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from wizard.services.audit import chain_hash, chain_tail

texts = st.text(max_size=40)
ids = st.none() | st.integers(min_value=1, max_value=2**31 - 1)


@given(
    prev=st.sampled_from(["", "0" * 64, hashlib.sha256(b"x").hexdigest()]),
    actor=texts,
    action=texts,
    outcome=texts,
    prescriber_id=ids,
    token_id=ids,
    client_address=texts,
    detail=st.dictionaries(texts, texts | st.integers(), max_size=3),
    at=st.datetimes(timezones=st.just(UTC)),
)
def test_the_hash_over_the_tail_is_the_chain_hash(prev, detail, **fields):
    event = SimpleNamespace(**fields, detail=json.dumps(detail, sort_keys=True))
    tail = chain_tail(event)
    assert tail.isascii()  # the same bytes in any encoding PostgreSQL converts it to
    by_tail = hashlib.sha256(f'["{prev}",{tail}'.encode()).hexdigest()
    assert by_tail == chain_hash(prev, event)


def test_the_tail_starts_after_the_predecessor():
    event = SimpleNamespace(
        at=datetime(2026, 12, 2, tzinfo=UTC),
        actor="prescriber:1234567893",
        action="enrollment.code",
        outcome="accepted",
        prescriber_id=1,
        token_id=None,
        client_address="127.0.0.1",
        detail="{}",
    )
    assert chain_tail(event) == (
        '"2026-12-02T00:00:00+00:00","prescriber:1234567893","enrollment.code","accepted",'
        '1,null,"127.0.0.1","{}"]'
    )
