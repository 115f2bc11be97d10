"""VIP User Services messages: SOAP 1.1 envelopes built with lxml, answers read through
defusedxml (no DTDs, no entities, no external references).

Element names and order follow the vipuserservices schema (namespace below); docs/VIP.md
names the public sources. Requests never go to a log: some carry a security code.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError  # noqa: S405 - types only; parsed below

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree
from lxml.builder import ElementMaker

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
VIP_NS = "https://schemas.symantec.com/vip/2011/04/vipuserservices"
CREDENTIAL_TYPE = "STANDARD_OTP"  # hardware or software VIP credential

AUTHENTICATION = "AuthenticationService"
MANAGEMENT = "ManagementService"
QUERY = "QueryService"

_SOAP = ElementMaker(namespace=SOAP_NS, nsmap={"soapenv": SOAP_NS})
_VIP = ElementMaker(namespace=VIP_NS, nsmap={"vip": VIP_NS})
_STATUS = re.compile(r"[0-9A-Fa-f]{4}")


class BadAnswer(ValueError):
    """The answer is not a VIP User Services answer to the request sent."""


@dataclass(frozen=True)
class Request:
    service: str
    operation: str
    request_id: str
    body: bytes = field(repr=False)  # may hold a security code: never shown
    namespace: str = VIP_NS


def new_request_id() -> str:
    """4 to 40 characters of [0-9A-Za-z_], unique per request."""
    return secrets.token_hex(16)


def envelope(payload: etree._Element) -> bytes:
    return etree.tostring(
        _SOAP.Envelope(_SOAP.Header(), _SOAP.Body(payload)),
        xml_declaration=True,
        encoding="UTF-8",
    )


def _request(service: str, operation: str, *children) -> Request:
    request_id = new_request_id()
    payload = getattr(_VIP, f"{operation}Request")(_VIP.requestId(request_id), *children)
    return Request(service, operation, request_id, envelope(payload))


def _otp_auth_data(otp: str, otp2: str | None):
    codes = [_VIP.otp(otp)] + ([_VIP.otp2(otp2)] if otp2 else [])
    return _VIP.otpAuthData(*codes)


def authenticate_user(user_id: str, otp: str, otp2: str | None = None) -> Request:
    return _request(
        AUTHENTICATION, "AuthenticateUser", _VIP.userId(user_id), _otp_auth_data(otp, otp2)
    )


def authenticate_credentials(credential_id: str, otp: str, otp2: str | None = None) -> Request:
    return _request(
        AUTHENTICATION,
        "AuthenticateCredentials",
        _VIP.credentials(_VIP.credentialId(credential_id), _VIP.credentialType(CREDENTIAL_TYPE)),
        _otp_auth_data(otp, otp2),
    )


def create_user(user_id: str) -> Request:
    return _request(MANAGEMENT, "CreateUser", _VIP.userId(user_id))


def add_credential(user_id: str, credential_id: str, friendly_name: str) -> Request:
    return _request(
        MANAGEMENT,
        "AddCredential",
        _VIP.userId(user_id),
        _VIP.credentialDetail(
            _VIP.credentialId(credential_id),
            _VIP.credentialType(CREDENTIAL_TYPE),
            _VIP.friendlyName(friendly_name),
        ),
    )


def remove_credential(user_id: str, credential_id: str) -> Request:
    return _request(
        MANAGEMENT,
        "RemoveCredential",
        _VIP.userId(user_id),
        _VIP.credentialId(credential_id),
        _VIP.credentialType(CREDENTIAL_TYPE),
    )


def update_credential(user_id: str, credential_id: str, friendly_name: str) -> Request:
    return _request(
        MANAGEMENT,
        "UpdateCredential",
        _VIP.userId(user_id),
        _VIP.credentialId(credential_id),
        _VIP.credentialType(CREDENTIAL_TYPE),
        _VIP.friendlyName(friendly_name),
    )


def get_credential_info(credential_id: str) -> Request:
    return _request(
        QUERY,
        "GetCredentialInfo",
        _VIP.credentialId(credential_id),
        _VIP.credentialType(CREDENTIAL_TYPE),
    )


def get_user_info(user_id: str) -> Request:
    return _request(QUERY, "GetUserInfo", _VIP.userId(user_id))


# --- Answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    operation: str
    request_id: str
    status: str  # four hex digits, upper case
    message: str = ""
    detail: str = ""
    detail_message: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # other simple children, by name
    bindings: tuple[dict[str, str], ...] = ()  # credentialBindingDetail / userBindingDetail

    @property
    def ok(self) -> bool:
        return self.status == "0000"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _flat(element: Element) -> dict[str, str]:
    """Simple children by local name, nested ones flattened (first occurrence wins)."""
    found: dict[str, str] = {}
    for child in element.iter():
        if child is element or len(child):
            continue
        found.setdefault(_local(child.tag), (child.text or "").strip())
    return found


def parse_answer(request: Request, content: bytes) -> Answer:
    """Read the answer to request; raises BadAnswer for anything else."""
    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise BadAnswer(f"not XML: {type(error).__name__}") from None
    body = root.find(f"{{{SOAP_NS}}}Body")
    if root.tag != f"{{{SOAP_NS}}}Envelope" or body is None or len(body) != 1:
        raise BadAnswer("not a SOAP 1.1 envelope with one body element")
    reply = body[0]
    if reply.tag != f"{{{request.namespace}}}{request.operation}Response":
        raise BadAnswer(f"answer {_local(reply.tag)} to {request.operation}")
    simple = {_local(child.tag): (child.text or "").strip() for child in reply if not len(child)}
    status = simple.pop("status", "")
    if not _STATUS.fullmatch(status):
        raise BadAnswer("no four-hex-digit status")
    if simple.pop("requestId", None) != request.request_id:
        raise BadAnswer("the answer is for another request")
    bindings = tuple(
        _flat(child)
        for child in reply
        if _local(child.tag) in ("credentialBindingDetail", "userBindingDetail")
    )
    return Answer(
        operation=request.operation,
        request_id=request.request_id,
        status=status.upper(),
        message=simple.pop("statusMessage", ""),
        detail=simple.pop("detail", "").upper(),
        detail_message=simple.pop("detailMessage", ""),
        fields=simple,
        bindings=bindings,
    )
