"""Reading and answering JSON for the sandbox API: one error shape, 4xx for every bad input."""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

PREFIX = "/sandbox/api/"
MAX_BODY = 4096  # bytes: the largest request body is a few dozen

# error codes for HTTP statuses raised by Flask or Werkzeug themselves
_HTTP = {
    400: ("bad-request", "The request could not be read."),
    403: ("forbidden", "This call is not allowed from here."),
    404: ("not-found", "There is no such sandbox API call. See /sandbox/api/openapi.json."),
    405: ("method-not-allowed", "This call does not take that method."),
    413: ("too-large", f"The body must be at most {MAX_BODY} bytes."),
    415: ("unsupported-media-type", "Send the body as JSON, with Content-Type: application/json."),
}


class ApiError(Exception):
    """A refused call: its status, a stable error code, a sentence for people, the field."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field


def is_api_request() -> bool:
    """A request for the sandbox API while sandbox mode is on (off, the API does not exist)."""
    return bool(current_app.config.get("SANDBOX")) and request.path.startswith(PREFIX)


def error_response(status: int, error: str, message: str, field: str | None = None):
    body = {"error": error, "message": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def http_error_response(error: HTTPException):
    status = error.code or 500
    code, message = _HTTP.get(status, ("error", error.description or "The call failed."))
    response, status = error_response(status, code, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response, status


def json_body(allowed: Iterable[str]) -> dict:
    """The request's JSON object (an empty body is {}); unknown fields are refused, so a
    misspelled one is never silently ignored."""
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError(413, *_HTTP[413])
    if request.mimetype != "application/json":
        raise ApiError(415, *_HTTP[415])
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise ApiError(413, *_HTTP[413])
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid-json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid-json", "The body must be a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(
            422,
            "unknown-field",
            f"Unknown field {unknown[0]!r}. Allowed: {', '.join(sorted(allowed)) or 'none'}.",
            unknown[0],
        )
    return body


def choice(body: dict, field: str, allowed: Iterable[str], default: str | None = None) -> str:
    """A field that must be one of allowed; required when there is no default."""
    allowed = list(allowed)
    value = body.get(field, default)
    if value is None:
        raise ApiError(422, "missing-field", f"Give {field}: one of {', '.join(allowed)}.", field)
    if not isinstance(value, str) or value not in allowed:
        raise ApiError(422, "invalid-field", f"{field} must be one of {', '.join(allowed)}.", field)
    return value


def flag(name: str) -> bool:
    """A query flag: absent, 0 or 1."""
    raw = request.args.get(name)
    if raw in (None, "0"):
        return False
    if raw == "1":
        return True
    raise ApiError(422, "invalid-parameter", f"{name} must be 0 or 1.", name)


def whole_number(name: str, low: int, high: int) -> int | None:
    """A query parameter that must be a whole number from low to high, or absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ApiError(
            422, "invalid-parameter", f"{name} must be a whole number from {low} to {high}.", name
        )
    return int(raw)
