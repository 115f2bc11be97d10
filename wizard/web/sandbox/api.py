"""The sandbox HTTP API for test suites (sandbox mode only): JSON in and out.

Described by openapi.json beside this file, served at /sandbox/api/openapi.json.
Not protected by CSRF tokens: a POST must carry Content-Type: application/json, which a
cross-site form cannot send and a cross-site script cannot send without a CORS preflight
that this API never answers; and browsers' cross-site requests (Sec-Fetch-Site) are refused.
"""

from __future__ import annotations

import json
import logging
import re
import time
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound

from wizard.extensions import csrf
from wizard.services import helpdesk, sandbox, sandbox_accounts, sandbox_reset
from wizard.web.sandbox.jsonapi import (
    ApiError,
    choice,
    error_response,
    flag,
    http_error_response,
    json_body,
    whole_number,
)
from wizard.web.session import now

log = logging.getLogger("wizard.sandbox.api")
api = Blueprint("sandbox_api", __name__, url_prefix="/sandbox/api")
csrf.exempt(api)

OPENAPI = Path(__file__).with_name("openapi.json")
_CREDENTIAL = re.compile(r"[A-Z0-9]{6,32}")
TOKEN_CHOICES = (*sandbox_accounts.KINDS, "none")


@cache
def openapi_document() -> dict:
    return json.loads(OPENAPI.read_text(encoding="utf-8"))


def _sleep(seconds: float) -> None:
    """How a fresh code waits for the next time step (tests set SANDBOX_SLEEP to their clock)."""
    current_app.config.get("SANDBOX_SLEEP", time.sleep)(seconds)


@api.before_request
def sandbox_and_same_site_only():
    if not current_app.config.get("SANDBOX"):
        raise NotFound()
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        raise ApiError(403, "cross-site", "The sandbox API does not answer other sites' pages.")


@api.errorhandler(Exception)
def api_error(error: Exception):
    from wizard.web.errors import render_error, rollback, store_errors

    rollback()
    if not current_app.config.get("SANDBOX"):
        return render_error(404)  # as for any page that does not exist
    if isinstance(error, ApiError):
        return error_response(error.status, error.error, error.message, error.field)
    if isinstance(error, HTTPException):
        return http_error_response(error)
    if isinstance(error, sandbox.SandboxOff):
        return error_response(404, "not-found", "Sandbox mode is off.")
    if isinstance(error, store_errors()):
        return error_response(503, "unavailable", "The database is unavailable. Try again.")
    log.exception("unhandled error in the sandbox API")
    return error_response(500, "internal-error", "Something went wrong on our side.")


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@api.post("/prescribers")
def create_prescriber():
    body = json_body(allowed={"token"})
    kind = choice(body, "token", TOKEN_CHOICES, default="vip-app")
    made = sandbox_accounts.new_prescriber(now(), None if kind == "none" else kind)
    return jsonify(sandbox_accounts.describe(made.prescriber, made.passphrase)), 201


@api.post("/credentials")
def create_credential():
    kind = choice(json_body(allowed={"kind"}), "kind", sandbox_accounts.KINDS)
    credential_id = sandbox_accounts.new_credential(kind, now())
    return jsonify(credential_id=credential_id, kind=kind), 201


@api.get("/otp/<credential_id>")
def otp(credential_id: str):
    fresh, presses = flag("fresh"), whole_number("presses", 1, 1000)
    if fresh and presses is not None:
        raise ApiError(422, "invalid-parameter", "Use fresh or presses, not both.", "presses")
    credential_id = credential_id.strip().upper()
    current = None
    if _CREDENTIAL.fullmatch(credential_id):
        clock = current_app.config["CLOCK"]
        current = sandbox.read_code(credential_id, clock, _sleep, fresh=fresh, presses=presses or 1)
    if current is None:
        raise ApiError(404, "unknown-credential", f"The sandbox issued no {credential_id}.")
    return jsonify(
        credential_id=current.credential_id,
        code=current.code,
        valid_for_seconds=current.valid_for_seconds,
    )


@api.post("/agents")
def create_agent():
    json_body(allowed=())
    agent = sandbox_accounts.new_agent(now())
    return jsonify(
        username=agent.username,
        passphrase=agent.passphrase,
        totp_secret=agent.totp_secret,
        otpauth_uri=agent.otpauth_uri,
    ), 201


@api.get("/agents/<username>/otp")
def agent_otp(username: str):
    fresh = flag("fresh")
    found = None
    if helpdesk.USERNAME.fullmatch(username):
        clock = current_app.config["CLOCK"]
        found = sandbox_accounts.agent_code(username, clock, _sleep, fresh=fresh)
    if found is None:
        raise ApiError(404, "unknown-agent", "The sandbox API made no agent of that name.")
    return jsonify(
        username=found.username, code=found.code, valid_for_seconds=found.valid_for_seconds
    )


@api.post("/reset")
def reset():
    json_body(allowed=())
    done = sandbox_reset.reset_demo(now())
    return jsonify(
        demo=sandbox_accounts.describe(done.prescriber, sandbox.DEMO_PASSPHRASE),
        removed_tokens=done.removed_tokens,
    )
