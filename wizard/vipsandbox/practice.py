"""The wizard's side of the stand-in's practice extension (sandbox only, not part of VIP).

A practice VIP Access credential is made by the wizard's sandbox and registered in the
stand-in with its seed; from then on only the stand-in holds the seed, and the practice app
page asks it for the current code. Same mutual TLS as the VIP operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml.builder import ElementMaker

from wizard.authority.vip.messages import Request, envelope, new_request_id
from wizard.authority.vip.transport import Transport

PRACTICE_NS = "urn:epcs-wizard:sandbox:vip-practice"
SERVICE = "PracticeService"
REGISTERED = ("0000", "E002")  # done; or the Credential ID is taken

_PRACTICE = ElementMaker(namespace=PRACTICE_NS, nsmap={"practice": PRACTICE_NS})


def _request(operation: str, **fields: str) -> Request:
    request_id = new_request_id()
    payload = _PRACTICE(
        f"{operation}Request",
        _PRACTICE.requestId(request_id),
        *(_PRACTICE(name, value) for name, value in fields.items()),
    )
    return Request(SERVICE, operation, request_id, envelope(payload), PRACTICE_NS)


class PracticeError(RuntimeError):
    """The stand-in answered the practice extension with a status it should not give."""


def register(transport: Transport, credential_id: str, secret: str, algorithm: str) -> bool:
    """Register a practice credential; False when its Credential ID is already taken."""
    answer = transport.call(
        _request(
            "RegisterPracticeCredential",
            credentialId=credential_id,
            secret=secret,
            algorithm=algorithm,
        )
    )
    if answer.status not in REGISTERED:
        raise PracticeError(f"RegisterPracticeCredential status {answer.status}")
    return answer.ok


@dataclass(frozen=True)
class PracticeCode:
    code: str
    valid_for_seconds: int
    secret: str
    algorithm: str
    last_step: int | None = None  # the last time step or counter accepted


def current(transport: Transport, credential_id: str, presses: int = 1) -> PracticeCode | None:
    """The code the practice credential shows now (None for one the stand-in does not hold)."""
    answer = transport.call(
        _request("GetPracticeCredential", credentialId=credential_id, presses=str(presses))
    )
    if answer.status == "6004":
        return None
    if not answer.ok:
        raise PracticeError(f"GetPracticeCredential status {answer.status}")
    fields = answer.fields
    last = fields.get("lastStep") or ""
    return PracticeCode(
        fields["code"],
        int(fields["validForSeconds"]),
        fields["secret"],
        fields["algorithm"],
        int(last) if last.isdigit() else None,
    )
