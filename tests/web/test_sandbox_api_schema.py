"""Issue 12: the OpenAPI 3.1 document at /sandbox/api/openapi.json says what the API does.

The document is valid OpenAPI 3.1; it names exactly the routes the app has; and every status
it documents for every operation is produced by a real call below, whose answer validates
against the schema documented for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from wizard.web.sandbox.api import openapi_document

API = "/sandbox/api"
SPEC = openapi_document()


def test_the_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_the_document_is_what_the_api_serves(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == SPEC


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in SPEC["paths"].items() for method in item}


def test_every_route_of_the_api_is_documented_and_every_documented_one_exists(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"{API}/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(API))
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented_operations()


# --- Every documented answer, from a real call ---------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A call of one operation that should give one documented status."""

    method: str
    path: str  # the documented path
    status: int
    url: Callable[[dict], str]  # the URL to call, from what the setup made
    body: object = None  # JSON, or bytes sent as application/json
    headers: tuple = ()
    content_type: str | None = "application/json"


CROSS_SITE = (("Sec-Fetch-Site", "cross-site"),)
BIG = b'{"x": "' + b"a" * 5000 + b'"}'


def _posts(path: str, created: int, valid: dict, invalid: dict) -> list[Call]:
    url = f"{API}{path}"
    return [
        Call("POST", path, created, lambda made: url, valid),
        Call("POST", path, 400, lambda made: url, b"[1, 2"),
        Call("POST", path, 403, lambda made: url, valid, CROSS_SITE),
        Call("POST", path, 413, lambda made: url, BIG),
        Call("POST", path, 415, lambda made: url, b"kind=x", content_type="text/plain"),
        Call("POST", path, 422, lambda made: url, invalid),
    ]


CALLS = [
    Call("GET", "/openapi.json", 200, lambda made: f"{API}/openapi.json"),
    Call("GET", "/openapi.json", 403, lambda made: f"{API}/openapi.json", headers=CROSS_SITE),
    *_posts("/prescribers", 201, {"token": "onespan"}, {"token": "paper"}),
    *_posts("/credentials", 201, {"kind": "symantec-hard"}, {"kind": "paper"}),
    *_posts("/agents", 201, {}, {"name": "x"}),
    *_posts("/reset", 200, {}, {"all": True}),
    Call("GET", "/otp/{credential_id}", 200, lambda made: f"{API}/otp/{made['credential']}"),
    Call(
        "GET",
        "/otp/{credential_id}",
        200,
        lambda made: f"{API}/otp/{made['fob']}?presses=2",
    ),
    Call("GET", "/otp/{credential_id}", 200, lambda made: f"{API}/otp/{made['fob']}?fresh=1"),
    Call(
        "GET",
        "/otp/{credential_id}",
        403,
        lambda made: f"{API}/otp/{made['credential']}",
        headers=CROSS_SITE,
    ),
    Call("GET", "/otp/{credential_id}", 404, lambda made: f"{API}/otp/SYMC00000000"),
    Call(
        "GET",
        "/otp/{credential_id}",
        422,
        lambda made: f"{API}/otp/{made['credential']}?fresh=maybe",
    ),
    Call(
        "GET",
        "/agents/{username}/otp",
        200,
        lambda made: f"{API}/agents/{made['agent']}/otp?fresh=1",
    ),
    Call(
        "GET",
        "/agents/{username}/otp",
        403,
        lambda made: f"{API}/agents/{made['agent']}/otp",
        headers=CROSS_SITE,
    ),
    Call("GET", "/agents/{username}/otp", 404, lambda made: f"{API}/agents/qa-none/otp"),
    Call(
        "GET",
        "/agents/{username}/otp",
        422,
        lambda made: f"{API}/agents/{made['agent']}/otp?fresh=2",
    ),
]


def test_every_documented_answer_has_a_call_below():
    documented = {
        (method.upper(), path, int(status))
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if status != "default"  # 500 and 503: what a broken server would answer
    }
    called = {(c.method, c.path, c.status) for c in CALLS}
    assert documented == called


# The document as one resource, so that "#/components/..." references resolve within it.
_REGISTRY = Registry().with_resource("urn:spec", Resource(SPEC, specification=DRAFT202012))


def response_schema(method: str, path: str, status: int) -> dict:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status), responses["default"])
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return {"$ref": f"urn:spec#{schema['$ref'][1:]}"} if "$ref" in schema else schema


def assert_matches(method: str, path: str, response) -> None:
    """The answer's status is documented for the operation and its body fits the schema."""
    operation = SPEC["paths"][path][method.lower()]
    assert str(response.status_code) in operation["responses"], response.status_code
    assert response.mimetype == "application/json"
    schema = response_schema(method, path, response.status_code)
    validator = Draft202012Validator(schema, registry=_REGISTRY)
    errors = sorted(validator.iter_errors(response.get_json()), key=str)
    assert not errors, [e.message for e in errors]


@pytest.fixture
def made(client) -> dict:
    """What the calls need: a credential, a key fob and an agent made through the API."""

    def post(path: str, body: dict) -> dict:
        return client.post(f"{API}{path}", json=body).get_json()

    return {
        "credential": post("/credentials", {"kind": "vip-app"})["credential_id"],
        "fob": post("/credentials", {"kind": "symantec-hard"})["credential_id"],
        "agent": post("/agents", {})["username"],
    }


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path} {c.status}")
def test_the_answer_is_the_documented_one(client, made, call: Call):
    kwargs = {"headers": dict(call.headers)}
    if isinstance(call.body, bytes):
        kwargs.update(data=call.body, content_type=call.content_type)
    elif call.body is not None:
        kwargs["json"] = call.body
    response = client.open(call.url(made), method=call.method, **kwargs)

    assert response.status_code == call.status, response.get_data(as_text=True)[:500]
    assert_matches(call.method, call.path, response)
