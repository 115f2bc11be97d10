"""Bad input (issue 7): hostile and random values at every form and query parameter.

Every POST route in the url_map is reached in the state that lets it act (tests/web/
scenarios.py), then hypothesis posts to it: very long strings, unicode and control characters
(NUL included), HTML/JS and SQL injection, numbers and JSON where text is expected, fields
missing, repeated or added, plain and htmx posts. The GET routes get the same at their query
and path parameters. Before every input the database file is put back as it was, so each
input meets the same state.

Properties, for every input:
- never a 5xx;
- a refused input (4xx) changes no row of prescribers (bar the failure counters, which count
  refusals), tokens, oath_credentials, invitations, organisation_grants or helpdesk_agents
  (bar its counters); audit events may grow;
- a field error is tied to its field (in the field's form group, named by aria-describedby)
  and listed in the error summary; a 422 always says what is wrong; pages and partials keep
  the house rules of support/pages.py (one h1, ids unique, no inline script or style...);
- nothing typed comes back as markup: no element, attribute, script text or event handler
  made from the input, on the response or on the page that shows a stored value;
- a CSRF token that is missing, empty, forged, another session's, from before sign-in, second
  to a bad one or in the query string: 400 "This form has expired", nothing changed;
- ?next= and ?return_to= lead only to this site and to the allowed EHR origin.

A failing input does not stop the test: every input runs, and the test then fails listing
each distinct problem once, with how often it happened and its first input.

Runs: WIZARD_FUZZ_EXAMPLES form inputs per POST scenario (20 by default, from a fixed seed
per route so the test command is repeatable, plus the empty, the valid and the valid with a NUL
submission), a third of that in wrong body types and in bad CSRF tokens, half of it per GET
parameter set; on PostgreSQL a third of each (the explicit inputs all the same).
The extended run sets it higher and draws fresh inputs each time (12,297 inputs, ~140 s):
    WIZARD_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest -q -p no:cacheprovider \
        tests/web/test_fuzz_forms.py
WIZARD_FUZZ_REPORT=path.json writes the number of inputs tried per route; the total is
printed at the end of the module either way.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from scenarios import (
    POST_SCENARIOS,
    Frozen,
    Reached,
    Scenario,
    World,
    post_endpoints,
)
from signing import post
from sqlalchemy import event
from support.csrf import csrf_token
from support.pages import read_page
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from wizard.extensions import db

EXAMPLES = int(os.environ.get("WIZARD_FUZZ_EXAMPLES", "20"))
EXTENDED = "WIZARD_FUZZ_EXAMPLES" in os.environ
SIDE_EXAMPLES = max(EXAMPLES // 3, 6)  # wrong body types and bad CSRF tokens, per route
GET_EXAMPLES = max(EXAMPLES // 2, 10)  # per query or path parameter set
POSTGRESQL_SHARE = 3  # the quick run on PostgreSQL draws a third of each count
MARK = "zq7x"  # in every injection payload, to find it again in the page
TALLY: Counter[str] = Counter()

# --- Values ------------------------------------------------------------------------------------

INJECTIONS = [
    f"<script>alert('{MARK}')</script>",
    f'"><img src=x onerror=alert("{MARK}")>',
    f"'><svg/onload=alert('{MARK}')>",
    f"</textarea></title><b id={MARK}>bold</b>",
    f'<a href="javascript:alert(1)">{MARK}</a>',
    f"<iframe src=//evil.example/{MARK}></iframe>",
    f'<input name="csrf_token" value="{MARK}">',
    f"<style>body{{display:none}}</style>{MARK}",
    f"javascript:alert('{MARK}')",
    f"{{{{7*7}}}}{{% print('{MARK}') %}}",
    f"<!--{MARK}-->",
    f"&lt;script&gt;{MARK}&amp;",
]
SQL = [
    "' OR '1'='1",
    "1 OR 1=1",
    "'; DROP TABLE tokens; --",
    "1' UNION SELECT sqlite_version()--",
    '" OR ""="',
    "%' --",
    "1; UPDATE prescribers SET code_failures=0",
    "%",
    "_",
    "\\",
]
CONTROL = [
    "\x00",
    "a\x00b",
    "123\x00456",
    "\x00" * 64,
    "\r\n",
    "\r\nSet-Cookie: evil=1",
    "\t\v\f",
    "\x1b[31mred",
    "\x07\x08\x7f",
    "\u202eevil",
    "\ufeff",
    "\u200b123456",
    "\U0001f600",
    "１２３４５６",
    "١٢٣٤٥٦",
    "²³",
    "ﬁ",
    "İ",
    "e\u0301",
    "\ud7ff",
    "\uffff",
]
TYPES = [
    "",
    " ",
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "[1, 2]",
    '{"a": 1}',
    "99999999999999999999999999999999",
    "0x10",
    "1_000",
    "../../etc/passwd",
    "%00",
    "%2e%2e%2f",
]
LONG = ["A" * 10_000, "9" * 100_000, "é" * 50_000, "<" * 5_000, "x" * 600_000]
HOSTILE = INJECTIONS + SQL + CONTROL + TYPES + LONG

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
hostile = st.one_of(
    st.sampled_from(HOSTILE),
    text,
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
MISSING = object()
EXTRA_NAMES = [
    "prescriber_id",
    "status",
    "id",
    "token_id",
    "agent_id",
    "is_admin",
    "__class__",
    "csrf",
    "platform",
    "answer",
    "choice",
]


def field_values(valid: str | None, near: list[str]) -> st.SearchStrategy:
    """One field: missing, one value, or repeated values; valid, near misses or hostile."""
    singles = [hostile]
    if valid is not None:
        singles.append(st.just(valid))
    if near:
        singles.append(st.sampled_from(near))
    single = st.one_of(*singles)
    return st.one_of(
        st.just(MISSING),
        single.map(lambda v: [v]),
        single.map(lambda v: [v]),
        st.lists(single, min_size=2, max_size=3),
    )


@st.composite
def submissions(draw, reached: Reached) -> tuple[MultiDict, bool]:
    """(form fields, htmx?) for a route: its own fields (and any it may read), plus extras."""
    names = sorted({*reached.valid, *reached.near})
    pairs: list[tuple[str, str]] = []
    for name in names:
        values = draw(field_values(reached.valid.get(name), reached.near.get(name, [])))
        if values is not MISSING:
            pairs.extend((name, v) for v in values)
    extras = draw(
        st.lists(st.tuples(st.one_of(st.sampled_from(EXTRA_NAMES), text), hostile), max_size=3)
    )
    pairs.extend(extras)
    return MultiDict(pairs), draw(st.booleans())


# --- Checks ------------------------------------------------------------------------------------

# Attributes that may carry what was typed, escaped: form values and the form's own address.
ECHO_ATTRIBUTES = {"value", "action", "href", "hx-post", "hx-get", "hx-push-url", "content"}


class Checker:
    def page(self, response: TestResponse, typed: list[str], where: str) -> None:
        """No 5xx; on a page or partial that is not a redirect, the house rules
        (support.pages), nothing typed turned into markup, and errors next to their fields."""
        status = response.status_code
        body = response.get_data(as_text=True)
        assert status < 500, f"{where}: answered {status}\n{body[:1500]}"
        if response.mimetype != "text/html" or not body.strip():
            return
        doc = read_page(response).doc
        self.no_injection(doc, body, typed, where)
        if 400 <= status < 500:
            self.errors_in_place(doc, status, where)

    @staticmethod
    def no_injection(doc, body: str, typed: list[str], where: str) -> None:
        for value in typed:
            if MARK in value and re.search(r"<[a-zA-Z!/]", value):
                assert value not in body, f"{where}: input came back as markup: {value!r}"
        for element in doc.find_all(True):
            assert MARK not in element.name, f"{where}: an element made from input: {element}"
            for name, value in element.attrs.items():
                assert MARK not in name, f"{where}: an attribute made from input: {element}"
                assert not name.startswith("on"), f"{where}: an event handler: {element}"
                if MARK in value:
                    assert name in ECHO_ATTRIBUTES, f"{where}: input in {name}=: {element}"
            if element.name in ("script", "style"):
                assert MARK not in element.text, f"{where}: input inside <{element.name}>"

    @staticmethod
    def errors_in_place(doc, status: int, where: str) -> None:
        summary = doc.select(".error-summary a")
        described = {
            ref for e in doc.find_all(True) for ref in (e.get("aria-describedby") or "").split()
        }
        for error in doc.select(".field-error"):
            error_id = error.get("id") or ""
            assert error_id.endswith("-error"), f"{where}: field error without id: {error}"
            field_id = error_id.removesuffix("-error")
            message = error.text.replace("Error:", "", 1).strip()
            assert error_id in described, f"{where}: {error_id} is not tied to its field"
            group = error.parent
            while group is not None and "form-group" not in (group.get("class") or "").split():
                group = group.parent
            assert group is not None and any(
                e.get("id") == field_id for e in group.find_all(True)
            ), f"{where}: the error {message!r} is not next to field #{field_id}"
            assert any(a["href"] == f"#{field_id}" or a.text == message for a in summary), (
                f"{where}: the error {message!r} of #{field_id} is not in the error summary "
                f"{[(a['href'], a.text) for a in summary]}"
            )
        for link in summary:
            target = link["href"].removeprefix("#")
            shown = doc.select_one(f"#{target}-error") if re.fullmatch(r"[\w-]+", target) else None
            if shown is not None:
                assert shown.text.replace("Error:", "", 1).strip() == link.text, (
                    f"{where}: the summary and the field say different things"
                )
        if status == 422:
            assert summary, f"{where}: a 422 page that does not say what is wrong"


def all_strings(data: MultiDict) -> list[str]:
    return [str(v) for pair in data.items(multi=True) for v in pair]


def client_for(app: Flask, cookie: str) -> FlaskClient:
    client = app.test_client()
    if cookie:
        client.set_cookie("wizard_session", cookie)
    return client


def send(client: FlaskClient, reached: Reached, data: MultiDict, htmx: bool, token: str | None):
    headers = {}
    data = MultiDict(data)
    if htmx:
        headers["HX-Request"] = "true"
        if token is not None:
            headers["X-CSRFToken"] = token
    elif token is not None:
        data.add("csrf_token", token)
    return client.post(reached.url, data=data, headers=headers)


# --- Fixtures ----------------------------------------------------------------------------------


def fast_sqlite(app: Flask) -> None:
    """synchronous=OFF on the app's SQLite connections: thousands of commits without an fsync
    each. Durability is not what these tests look at; everything else is as configured.
    (The tests' PostgreSQL server runs with fsync off already.)"""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _no_fsync(dbapi_connection, record) -> None:
            dbapi_connection.execute("PRAGMA synchronous=OFF")

        engine.dispose()


@pytest.fixture
def fuzz_app(make_app) -> Flask:
    """An app with the per-address limits out of the way (every input comes from one
    address) and an EHR origin allowed for return_to."""
    app = make_app(
        WIZARD_SIGN_IN_RATE_LIMIT="1000000 per minute",
        WIZARD_CODE_RATE_LIMIT="1000000 per minute",
        WIZARD_CREDENTIAL_ID_RATE_LIMIT="1000000 per minute",
        WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT="1000000 per minute",
        WIZARD_RETURN_ORIGINS="https://ehr.example.org",
    )
    fast_sqlite(app)
    return app


@pytest.fixture
def world(fuzz_app: Flask, clock) -> World:
    return World(fuzz_app, clock)


@pytest.fixture
def checker() -> Checker:
    return Checker()


@pytest.fixture(scope="module", autouse=True)
def report(pytestconfig) -> Iterator[None]:
    started = time.monotonic()
    yield
    total = sum(TALLY.values())
    seconds = time.monotonic() - started
    how = "fresh seed" if EXTENDED else "fixed seed per route"
    line = (
        f"fuzz: {total} inputs over {len(TALLY)} route checks in {seconds:.1f} s "
        f"(WIZARD_FUZZ_EXAMPLES={EXAMPLES}, {how})"
    )
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and total:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)
    path = os.environ.get("WIZARD_FUZZ_REPORT")
    if path:
        with open(path, "w") as handle:
            json.dump({"total": total, "seconds": round(seconds, 1), "by_check": TALLY}, handle)


class Findings:
    """Every failing input of a test, grouped by problem, so that one problem does not hide
    the next: the inputs keep coming and the test fails at the end, listing each problem
    once with how often it happened and its first input."""

    def __init__(self) -> None:
        self.where = ""
        self.label = ""
        self.seen: dict[str, list] = {}
        self.checked = 0

    def at(self, where: str, label: str = "") -> None:
        """Name the input being checked (its text is left out of the problem's name)."""
        self.where, self.label = where, label

    def record(self, error: AssertionError) -> None:
        text = str(error) or type(error).__name__
        first = text.splitlines()[0]
        if self.where:
            first = first.replace(self.where, "<input>")
        key = f"{self.label}: {first[:200]}" if self.label else first[:200]
        entry = self.seen.setdefault(key, [0, f"{self.where}\n      {text[:1000]}"])
        entry[0] += 1

    def report(self) -> None:
        if not self.seen:
            return
        failed = sum(n for n, _ in self.seen.values())
        problems = "\n\n".join(
            f"[{n}x] {key}\n    first input: {example}" for key, (n, example) in self.seen.items()
        )
        pytest.fail(
            f"{failed} of {self.checked} inputs failed, {len(self.seen)} distinct problems:"
            f"\n\n{problems}",
            pytrace=False,
        )


def on_backend(world: World, examples: int) -> int:
    """How many inputs to draw on world's database. The properties are the web layer's, so the
    quick run draws a third as many on PostgreSQL (at least 3); what PostgreSQL alone refuses,
    a NUL in text, is among the explicit inputs every run tries. The extended run draws them
    all on both."""
    url = world.app.config["SQLALCHEMY_DATABASE_URI"]
    if EXTENDED or url.startswith("sqlite"):
        return examples
    return max(examples // POSTGRESQL_SHARE, 3)


def run(name: str, examples: int, strategy, body: Callable, explicit: tuple | list = ()) -> None:
    """Run body(value, findings) over the explicit values, then over examples drawn from
    strategy (no example database, no deadline); fail at the end with every distinct problem
    found. The quick run draws from a seed of its own per name (repeatable); the extended run
    from a fresh one."""
    findings = Findings()

    def each(value) -> None:
        findings.checked += 1
        findings.at("")
        try:
            body(value, findings)
        except AssertionError as error:
            findings.record(error)

    wrapped = settings(
        max_examples=examples,
        phases=(Phase.explicit, Phase.generate),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(each))
    for value in explicit:
        wrapped = example(value)(wrapped)
    if not EXTENDED:
        wrapped = seed(zlib.crc32(name.encode()))(wrapped)
    wrapped()
    findings.report()


# --- Coverage of the url_map -------------------------------------------------------------------


def test_every_post_route_has_a_fuzz_scenario(fuzz_app):
    covered = {s.endpoint for s in POST_SCENARIOS}
    missing = post_endpoints(fuzz_app) - covered
    assert not missing, f"POST routes with no scenario in tests/web/scenarios.py: {missing}"


# --- Forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", POST_SCENARIOS, ids=str)
def test_hostile_form_values_are_refused_cleanly(scenario: Scenario, world: World, checker):
    reached = scenario.build(world)
    frozen = Frozen(world.app)

    def attempt(submission: tuple[MultiDict, bool], findings: Findings) -> None:
        data, htmx = submission
        frozen.restore()
        TALLY[f"form {scenario}"] += 1
        client = client_for(world.app, reached.cookie)
        response = send(client, reached, data, htmx, reached.csrf)
        where = f"POST {reached.url} {'htmx' if htmx else 'form'} {dict(data.lists())!r:.400}"
        findings.at(where, "htmx" if htmx else "form")
        checker.page(response, all_strings(data), where)
        if response.status_code >= 400:
            frozen.assert_unchanged(where)
        elif reached.follow:
            shown = client.get(reached.follow)
            checker.page(shown, all_strings(data), f"GET {reached.follow} after {where}")

    try:
        run(
            f"form {scenario}",
            on_backend(world, EXAMPLES),
            submissions(reached),
            attempt,
            explicit=[
                (MultiDict(), False),
                (MultiDict(reached.valid), False),
                (MultiDict(reached.valid), True),
                (MultiDict({n: f"{v}\x00" for n, v in reached.valid.items()}), False),
            ],
        )
    finally:
        frozen.restore()
        frozen.close()


# --- Wrong types: JSON, files, raw bytes -------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def wrong_bodies(draw, reached: Reached) -> tuple[str, bytes | dict, str]:
    """(kind, body, content type): what a form never sends."""
    names = sorted({*reached.valid, *reached.near}) or ["field"]
    kind = draw(st.sampled_from(["json-object", "json-other", "file", "bytes", "other-type"]))
    if kind == "json-object":
        body = {n: draw(json_values) for n in names if draw(st.booleans())}
        return kind, json.dumps(body).encode(), "application/json"
    if kind == "json-other":
        body = draw(st.one_of(st.lists(json_values, max_size=3), json_values))
        return kind, json.dumps(body).encode(), "application/json"
    if kind == "file":
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        data = {n: reached.valid.get(n, "x") for n in names}
        content = draw(st.binary(max_size=64))
        data.update({n: (io.BytesIO(content), "upload.txt") for n in chosen})
        data["csrf_token"] = reached.csrf
        return kind, data, "multipart/form-data"
    if kind == "bytes":
        raw = draw(st.binary(max_size=200))
        quoted = "&".join(f"{n}={quote(raw, safe='')}" for n in names)
        return (
            kind,
            f"csrf_token={reached.csrf}&{quoted}".encode(),
            ("application/x-www-form-urlencoded"),
        )
    content_type = draw(st.sampled_from(["text/plain", "application/xml", "application/json"]))
    raw = draw(st.sampled_from([b"", b"{", b"\xff\xfe\x00", b'<?xml version="1.0"?><a/>']))
    return kind, raw, content_type


def known_wrong_bodies(reached: Reached) -> list[tuple[str, bytes | dict, str]]:
    """The bodies that once answered 500 (before commit 6e56a8d): a JSON array or scalar,
    a JSON number in each field, a file in each field."""
    names = sorted(reached.valid) or ["field"]
    cases: list[tuple[str, bytes | dict, str]] = [
        ("json-other", b"[1]", "application/json"),
        ("json-other", b"false", "application/json"),
        ("json-object", json.dumps(dict.fromkeys(names, 5)).encode(), "application/json"),
    ]
    for name in names:
        data = {**reached.valid, name: (io.BytesIO(b"x"), "upload.txt")}
        cases.append(("file", {**data, "csrf_token": reached.csrf}, "multipart/form-data"))
    return cases


@pytest.mark.parametrize("scenario", POST_SCENARIOS, ids=str)
def test_bodies_of_the_wrong_type_are_refused_cleanly(scenario: Scenario, world: World, checker):
    """JSON (objects with numbers, lists, nulls; arrays; scalars), files where text is
    expected, bytes that are not UTF-8, other content types: a 4xx, never a 500."""
    reached = scenario.build(world)
    frozen = Frozen(world.app)

    def attempt(case, findings: Findings) -> None:
        kind, body, content_type = case
        frozen.restore()
        TALLY[f"wrong-type {scenario}"] += 1
        client = client_for(world.app, reached.cookie)
        headers = {"X-CSRFToken": reached.csrf}
        if content_type == "multipart/form-data":
            response = client.post(reached.url, data=body, headers=headers)
            shown = repr({k: v for k, v in body.items() if k != "csrf_token"})
        else:
            response = client.post(
                reached.url, data=body, content_type=content_type, headers=headers
            )
            shown = repr(body[:200])
        where = f"POST {reached.url} {kind} {content_type} {shown:.300}"
        findings.at(where, kind)
        checker.page(response, [], where)
        if response.status_code >= 400:
            frozen.assert_unchanged(where)

    try:
        run(
            f"wrong-type {scenario}",
            on_backend(world, SIDE_EXAMPLES),
            wrong_bodies(reached),
            attempt,
            explicit=known_wrong_bodies(reached),
        )
    finally:
        frozen.restore()
        frozen.close()


# --- CSRF tokens: missing, stale, foreign, forged ----------------------------------------------


@pytest.fixture
def foreign_tokens(world: World) -> dict[str, str]:
    """Tokens that are not this session's: another live session's, one from a session that
    has since signed in (rotated), and one signed with another secret key."""
    other = world.client()
    foreign = csrf_token(other, "/")
    stale_client = world.client()
    stale = csrf_token(stale_client, "/")
    world.sign_in(stale_client, world.account())
    assert csrf_token(stale_client, "/") != stale

    forged = URLSafeTimedSerializer("not-the-secret-key", salt="wtf-csrf-token").dumps("0" * 40)
    return {"foreign": foreign, "stale": stale, "forged": forged}


@st.composite
def bad_csrf(draw, foreign: dict[str, str]):
    """(how, token in the form (list), token in the header, token in the query string)."""
    how = draw(
        st.sampled_from(
            ["missing", "empty", "garbage", "foreign", "stale", "forged", "first-of-two", "query"]
        )
    )
    if how == "missing":
        return how, [], None, None
    if how == "empty":
        return how, [""], None, None
    if how == "garbage":
        return how, [draw(hostile)], None, None
    if how in foreign:
        in_header = draw(st.booleans())
        return (
            how,
            ([] if in_header else [foreign[how]]),
            (foreign[how] if in_header else None),
            None,
        )
    if how == "first-of-two":
        return how, [foreign["foreign"], "GOOD"], None, None
    return how, [], None, "GOOD"


@pytest.mark.parametrize("scenario", POST_SCENARIOS, ids=str)
def test_bad_csrf_tokens_are_refused_and_change_nothing(
    scenario: Scenario, world: World, checker, foreign_tokens
):
    reached = scenario.build(world)
    frozen = Frozen(world.app)

    def attempt(case, findings: Findings) -> None:
        how, in_form, in_header, in_query = case
        frozen.restore()
        TALLY[f"csrf {scenario}"] += 1
        client = client_for(world.app, reached.cookie)
        data = MultiDict(reached.valid)
        for token in in_form:
            data.add("csrf_token", reached.csrf if token == "GOOD" else token)
        headers = {"HX-Request": "true", "X-CSRFToken": in_header} if in_header else {}
        url = reached.url
        if in_query:
            url += ("&" if "?" in url else "?") + f"csrf_token={reached.csrf}"
        response = client.post(url, data=data, headers=headers)
        where = f"POST {url} with a {how} CSRF token"
        findings.at(where, how)
        checker.page(response, [], where)
        assert response.status_code == 400, f"{where}: answered {response.status_code}"
        assert "This form has expired" in response.get_data(as_text=True), where
        frozen.assert_unchanged(where)

    try:
        run(f"csrf {scenario}", on_backend(world, SIDE_EXAMPLES), bad_csrf(foreign_tokens), attempt)
    finally:
        frozen.restore()
        frozen.close()


# --- Query and path parameters -----------------------------------------------------------------


@dataclass(frozen=True)
class GetCase:
    name: str
    state: str  # anonymous, prescriber, agent, pending, code-step, invited, resetting
    path: str  # with {token} for an own token id, {p} for a fuzzed path segment
    params: tuple[str, ...]
    may_write: bool = False  # the sandbox app issues a credential per visit


GET_CASES = (
    GetCase("sign-in?next", "anonymous", "/sign-in", ("next",)),
    GetCase("sign-in-code?clear", "pending", "/sign-in/code", ("clear",)),
    GetCase("forgot?clear", "anonymous", "/forgot-passphrase", ("clear",)),
    GetCase("new-passphrase?clear", "resetting", "/forgot-passphrase/new", ("clear",)),
    GetCase("start-passphrase?clear", "invited", "/start/passphrase", ("clear",)),
    GetCase("enroll?return_to", "prescriber", "/enroll", ("return_to",)),
    GetCase("get-app?device", "prescriber", "/enroll/get-app", ("device", "show")),
    GetCase("security-code?clear", "code-step", "/enroll/security-code", ("clear",)),
    GetCase("tokens?deleted", "prescriber", "/tokens", ("deleted",)),
    GetCase("enable?clear", "prescriber", "/tokens/{token}/enable", ("clear",)),
    GetCase("token-path", "prescriber", "/tokens/{p}/history", ()),
    GetCase("helpdesk?code", "agent", "/helpdesk", ("code",)),
    GetCase("helpdesk-live-path", "agent", "/helpdesk/live/{p}", ()),
    GetCase("funnel?days", "agent", "/helpdesk/funnel", ("days",)),
    GetCase("funnel.csv?days", "agent", "/helpdesk/funnel.csv", ("days",)),
    GetCase("setup-path", "anonymous", "/helpdesk/setup/{p}", ()),
    GetCase(
        "vip-access?credential",
        "anonymous",
        "/sandbox/vip-access",
        ("credential", "kind", "presses"),
        may_write=True,
    ),
    GetCase(
        "vip-code?credential", "anonymous", "/sandbox/vip-access/code", ("credential", "presses")
    ),
    # Each call of the sandbox API is audited.
    GetCase("otp-api-path", "anonymous", "/sandbox/api/otp/{p}", (), may_write=True),
)


def reach_state(world: World, state: str) -> tuple[FlaskClient, dict]:
    client = world.client()
    known: dict = {}
    if state in ("prescriber", "pending", "code-step"):
        account = world.account(("Active", "Inactive"))
        known["token"] = account.token("Inactive").id
        if state == "pending":
            world.passphrase_step(client, account)
        else:
            world.sign_in(client, account)
        if state == "code-step":
            world.post(
                client,
                "/enroll/get-app",
                {"platform": "iphone", "different_device": "y"},
                "/enroll/credential-id",
            )
            issued = world.issue()
            world.post(
                client,
                "/enroll/credential-id",
                {"credential_id": issued.credential_id},
                "/enroll/security-code",
            )
        known["credential"] = account.token("Active").credential_id
    elif state == "agent":
        world.agent_sign_in(client, world.agent())
        support = world.client()
        support.get("/sign-in")
        with support.session_transaction() as session:
            known["code"] = session["support_code"]
    elif state == "invited":
        code, npi = world.invitation()
        world.post(client, "/start", {"invitation": code, "npi": npi}, "/start/confirm")
        world.post(client, "/start/confirm", {"answer": "yes"}, "/start/passphrase")
    elif state == "resetting":
        account = world.account()
        world.post(
            client,
            "/forgot-passphrase",
            {
                "npi": account.npi,
                "code": world.totp(account.token().secret),
                "reset_code": world.reset_code(account.npi),
            },
            "/forgot-passphrase/new",
        )
    if "credential" not in known:
        known["credential"] = world.issue().credential_id
    client.get("/")
    return client, known


PARAM_NEAR = {
    "next": ["/tokens", "//evil.example", "/\\evil.example", "https://evil.example", "/%0d%0a"],
    "return_to": [
        "https://ehr.example.org/back",
        "https://ehr.example.org.evil.example/",
        "https://user@ehr.example.org/",
        "javascript:alert(1)//https://ehr.example.org",
        "HTTPS://EHR.EXAMPLE.ORG/x",
    ],
    "device": ["iphone", "android", "onespan", "symantec-hard", "IPHONE", "__proto__"],
    "show": ["1", ""],
    "clear": ["1", "0", "true"],
    "deleted": ["1", "0", "yes"],
    "days": ["7", "30", "0", "-30", "30.0", "99999999999999999999"],
    "kind": ["vip", "onespan", "symantec-hard", "VIP"],
    "presses": ["1", "0", "-1", "1000", "1001", "99999999999999999999", "٣"],
}


@st.composite
def get_requests(draw, case: GetCase, known: dict) -> tuple[str, MultiDict]:
    path = case.path
    if "{token}" in path:
        path = path.replace("{token}", str(known["token"]))
    if "{p}" in path:
        segment = draw(
            st.one_of(
                hostile,
                st.sampled_from(
                    [str(known.get("token", 1)), known["credential"], known.get("code", "AB12")]
                ),
            )
        )
        path = path.replace("{p}", quote(segment[:2000], safe=""))
    pairs = []
    for name in case.params:
        near = list(PARAM_NEAR.get(name, []))
        if name in ("credential", "code"):
            near.append(known.get(name, known["credential"]))
        values = draw(field_values(None, near))
        if values is not MISSING:
            pairs.extend((name, v[:5000]) for v in values)
    return path, MultiDict(pairs)


@pytest.mark.parametrize("case", GET_CASES, ids=lambda c: c.name)
def test_hostile_query_and_path_parameters_are_handled(case: GetCase, world: World, checker):
    client, known = reach_state(world, case.state)
    jar = client.get_cookie("wizard_session")
    cookie = jar.value if jar else ""  # an anonymous visitor who read only pages has none
    frozen = Frozen(world.app)

    def attempt(request, findings: Findings) -> None:
        path, query = request
        frozen.restore()
        TALLY[f"get {case.name}"] += 1
        client = client_for(world.app, cookie)
        response = client.get(path, query_string=query)
        where = f"GET {path} {dict(query.lists())!r:.400}"
        findings.at(where, case.name)
        checker.page(response, all_strings(query), where)
        location = response.headers.get("Location")
        if location:
            assert stays_on_site(location) or case.name == "enroll?return_to", where
        if not case.may_write:
            frozen.assert_unchanged(where)

    try:
        run(f"get {case.name}", on_backend(world, GET_EXAMPLES), get_requests(case, known), attempt)
    finally:
        frozen.restore()
        frozen.close()


# --- Where next= and return_to= may lead -------------------------------------------------------


def stays_on_site(location: str, host: str = "localhost") -> bool:
    """Whether a browser following Location from http://host/ stays on this site: browsers
    drop tabs and newlines, strip leading spaces and read a backslash as a slash (WHATWG)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).lstrip("\x00\x20").replace("\\", "/")
    resolved = urlsplit(urljoin(f"http://{host}/sign-in", cleaned))
    return resolved.scheme == "http" and resolved.netloc == host


next_values = st.one_of(st.sampled_from(PARAM_NEAR["next"] + INJECTIONS + CONTROL), text)


def test_next_never_leads_off_the_site(world: World, checker):
    """?next= on the sign-in form, followed through both steps: wherever it pointed, the
    last redirect stays on this site and nothing breaks."""
    account = world.account()
    frozen = Frozen(world.app)
    token = account.token()

    def attempt(target: str, findings: Findings) -> None:
        frozen.restore()
        TALLY["sign-in next"] += 1
        where = f"sign-in with next={target!r}"
        findings.at(where)
        client = world.client()
        first = post(
            client,
            "/sign-in?next=" + quote(target, safe=""),
            {"npi": account.npi, "passphrase": account.passphrase},
        )
        checker.page(first, [target], where)
        assert first.status_code == 303, (
            f"{where}: the passphrase step answered {first.status_code}"
        )
        second = post(
            client, "/sign-in/code", {"token": token.id, "code": world.totp(token.secret)}
        )
        checker.page(second, [target], where)
        assert second.status_code == 303, f"{where}: answered {second.status_code}"
        assert stays_on_site(second.headers["Location"]), (
            f"{where}: redirected off the site to {second.headers['Location']!r}"
        )

    try:
        run(
            "next",
            on_backend(world, GET_EXAMPLES),
            next_values,
            attempt,
            explicit=PARAM_NEAR["next"],
        )
    finally:
        frozen.restore()
        frozen.close()


@pytest.mark.parametrize(
    "target",
    ["/\\evil.example/phish", "/\\/evil.example", "/\t/evil.example", "/%0d%0aSet-Cookie:x=1"],
)
def test_next_with_a_backslash_or_control_character_stays_on_the_site(world: World, target):
    """The explicit cases a browser would read as //evil.example (or a header break)."""
    account = world.account()
    client = world.client()
    token = account.token()
    post(
        client,
        "/sign-in?next=" + quote(target, safe="%"),
        {"npi": account.npi, "passphrase": account.passphrase},
    )
    response = post(client, "/sign-in/code", {"token": token.id, "code": world.totp(token.secret)})
    assert response.status_code == 303, response.status_code
    assert stays_on_site(response.headers["Location"]), response.headers["Location"]


return_values = st.one_of(st.sampled_from(PARAM_NEAR["return_to"] + INJECTIONS), text)


def test_return_to_leads_only_to_an_allowed_origin(world: World, checker):
    """?return_to= at the wizard's entry, then the wizard finished: the Return link on the
    last step points at the allowed EHR origin, or is not there."""
    account = world.account()
    client = world.client()
    world.sign_in(client, account)
    world.post(
        client,
        "/enroll/get-app",
        {"platform": "iphone", "different_device": "y"},
        "/enroll/credential-id",
    )
    issued = world.issue()
    world.post(
        client,
        "/enroll/credential-id",
        {"credential_id": issued.credential_id},
        "/enroll/security-code",
    )
    world.post(client, "/enroll/security-code", {"code": world.totp(issued.secret)}, "/enroll/name")
    cookie = client.get_cookie("wizard_session").value
    frozen = Frozen(world.app)

    def attempt(target: str, findings: Findings) -> None:
        frozen.restore()
        TALLY["return_to"] += 1
        where = f"return_to={target!r}"
        findings.at(where)
        client = client_for(world.app, cookie)
        entry = client.get("/enroll", query_string={"return_to": target})
        checker.page(entry, [target], where)
        saved = post(client, "/enroll/name", {"nickname": "Work phone"})
        assert saved.status_code == 303, f"{where}: saving answered {saved.status_code}"
        done = client.get("/enroll/done")
        checker.page(done, [target], where)
        doc = read_page(done).doc
        for link in doc.select("a"):
            if link.text.startswith("Return to"):
                parts = urlsplit(link["href"])
                origin = (parts.scheme.lower(), parts.netloc.lower())
                assert origin == ("https", "ehr.example.org"), where

    try:
        run(
            "return_to",
            on_backend(world, GET_EXAMPLES),
            return_values,
            attempt,
            explicit=PARAM_NEAR["return_to"],
        )
    finally:
        frozen.restore()
        frozen.close()
