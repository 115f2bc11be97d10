"""Issue 10: VIP User Services messages (built with lxml, read through defusedxml) and the
meaning of each status, operation by operation."""

from __future__ import annotations

import pytest
from lxml import etree

from wizard.authority import AuthorityUnavailable
from wizard.authority.vip import messages, status
from wizard.authority.vip.messages import SOAP_NS, VIP_NS, Answer, BadAnswer
from wizard.domain.otp import Outcome

NS = {"s": SOAP_NS, "v": VIP_NS}


def payload(request: messages.Request) -> etree._Element:
    root = etree.fromstring(request.body)
    assert root.tag == f"{{{SOAP_NS}}}Envelope"
    (body,) = root.xpath("/s:Envelope/s:Body", namespaces=NS)
    (element,) = body
    return element


def children(element) -> list[tuple[str, str | list]]:
    return [
        (etree.QName(child).localname, children(child) if len(child) else child.text)
        for child in element
    ]


BUILDERS = [
    (
        messages.authenticate_user("epcs-1", "123456"),
        "AuthenticationService",
        [("userId", "epcs-1"), ("otpAuthData", [("otp", "123456")])],
    ),
    (
        messages.authenticate_user("epcs-1", "123456", "654321"),
        "AuthenticationService",
        [("userId", "epcs-1"), ("otpAuthData", [("otp", "123456"), ("otp2", "654321")])],
    ),
    (
        messages.authenticate_credentials("SYMC12345678", "123456"),
        "AuthenticationService",
        [
            ("credentials", [("credentialId", "SYMC12345678"), ("credentialType", "STANDARD_OTP")]),
            ("otpAuthData", [("otp", "123456")]),
        ],
    ),
    (messages.create_user("epcs-1"), "ManagementService", [("userId", "epcs-1")]),
    (
        messages.add_credential("epcs-1", "SYMC12345678", "My phone"),
        "ManagementService",
        [
            ("userId", "epcs-1"),
            (
                "credentialDetail",
                [
                    ("credentialId", "SYMC12345678"),
                    ("credentialType", "STANDARD_OTP"),
                    ("friendlyName", "My phone"),
                ],
            ),
        ],
    ),
    (
        messages.remove_credential("epcs-1", "SYMC12345678"),
        "ManagementService",
        [
            ("userId", "epcs-1"),
            ("credentialId", "SYMC12345678"),
            ("credentialType", "STANDARD_OTP"),
        ],
    ),
    (
        messages.update_credential("epcs-1", "SYMC12345678", "Work <iPad> & co"),
        "ManagementService",
        [
            ("userId", "epcs-1"),
            ("credentialId", "SYMC12345678"),
            ("credentialType", "STANDARD_OTP"),
            ("friendlyName", "Work <iPad> & co"),
        ],
    ),
    (
        messages.get_credential_info("SYMC12345678"),
        "QueryService",
        [("credentialId", "SYMC12345678"), ("credentialType", "STANDARD_OTP")],
    ),
    (messages.get_user_info("epcs-1"), "QueryService", [("userId", "epcs-1")]),
]


@pytest.mark.parametrize(("request_", "service", "expected"), BUILDERS)
def test_should_build_each_request_in_the_schemas_element_order(request_, service, expected):
    element = payload(request_)

    assert request_.service == service
    assert element.tag == f"{{{VIP_NS}}}{request_.operation}Request"
    assert children(element) == [("requestId", request_.request_id), *expected]


def test_should_escape_what_a_prescriber_types_instead_of_pasting_it_into_the_xml():
    request = messages.update_credential("epcs-1", "SYMC12345678", "</friendlyName><x>")

    assert payload(request)[-1].text == "</friendlyName><x>"
    assert b"<x>" not in request.body


def test_should_make_request_ids_vip_accepts_and_never_the_same_twice():
    ids = {messages.new_request_id() for _ in range(100)}

    assert len(ids) == 100
    assert all(4 <= len(i) <= 40 and i.isalnum() for i in ids)


def test_should_not_show_a_requests_body_when_printed():
    request = messages.authenticate_user("epcs-1", "123456")

    assert "123456" not in repr(request)


def answer_xml(operation: str, request_id: str, body: str, ns: str = VIP_NS) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="{SOAP_NS}"><S:Body>'
        f'<{operation}Response xmlns="{ns}"><requestId>{request_id}</requestId>{body}'
        f"</{operation}Response></S:Body></S:Envelope>"
    ).encode()


def test_should_read_an_authentication_answer():
    request = messages.authenticate_user("epcs-1", "123456")
    content = answer_xml(
        "AuthenticateUser",
        request.request_id,
        "<status>0000</status><statusMessage>Success</statusMessage>"
        "<credentialId>SYMC12345678</credentialId><credentialType>STANDARD_OTP</credentialType>"
        "<authnId>0A1B2C3D4E5F6071</authnId>",
    )

    answer = messages.parse_answer(request, content)

    assert (answer.status, answer.message, answer.ok) == ("0000", "Success", True)
    assert answer.fields["credentialId"] == "SYMC12345678"


def test_should_read_a_refusal_with_its_detail_in_upper_case():
    request = messages.authenticate_credentials("SYMC12345678", "123456")
    content = answer_xml(
        "AuthenticateCredentials",
        request.request_id,
        "<status>600d</status><statusMessage>Authentication failed.</statusMessage>"
        "<detail>49b5</detail><detailMessage>Failed with an invalid OTP</detailMessage>",
    )

    answer = messages.parse_answer(request, content)

    assert (answer.status, answer.detail) == ("600D", "49B5")
    assert answer.detail_message == "Failed with an invalid OTP"


def test_should_read_the_bindings_of_a_user():
    request = messages.get_user_info("epcs-1")
    binding = (
        "<credentialBindingDetail><credentialId>{}</credentialId>"
        "<credentialType>STANDARD_OTP</credentialType>"
        "<credentialStatus>ENABLED</credentialStatus><bindingDetail><bindStatus>ENABLED"
        "</bindStatus><friendlyName>{}</friendlyName><lastBindTime>2025-03-03T15:00:00.000Z"
        "</lastBindTime></bindingDetail></credentialBindingDetail>"
    )
    content = answer_xml(
        "GetUserInfo",
        request.request_id,
        "<status>0000</status><statusMessage>Success</statusMessage><userId>epcs-1</userId>"
        "<numBindings>2</numBindings>"
        + binding.format("SYMC12345678", "iPhone")
        + binding.format("SYDC87654321", "Mac"),
    )

    answer = messages.parse_answer(request, content)

    assert answer.fields["numBindings"] == "2"
    assert [(b["credentialId"], b["friendlyName"]) for b in answer.bindings] == [
        ("SYMC12345678", "iPhone"),
        ("SYDC87654321", "Mac"),
    ]


BAD = {
    "not XML": b"<html>Service temporarily unavailable",
    "empty": b"",
    "a SOAP fault": (
        f'<S:Envelope xmlns:S="{SOAP_NS}"><S:Body><S:Fault><faultcode>S:Server</faultcode>'
        "<faultstring>Internal error</faultstring></S:Fault></S:Body></S:Envelope>"
    ).encode(),
    "an entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<x>&b;</x>"
    ),
    "an external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    ),
}


@pytest.mark.parametrize("kind", list(BAD))
def test_cant_read_anything_but_a_vip_answer(kind):
    request = messages.get_user_info("epcs-1")

    with pytest.raises(BadAnswer):
        messages.parse_answer(request, BAD[kind])


def test_cant_take_an_answer_meant_for_another_request():
    request = messages.get_user_info("epcs-1")
    content = answer_xml(
        "GetUserInfo",
        "somebody_else",
        "<status>0000</status><statusMessage>Success</statusMessage>",
    )

    with pytest.raises(BadAnswer, match="another request"):
        messages.parse_answer(request, content)


def test_cant_take_the_answer_to_another_operation():
    request = messages.get_user_info("epcs-1")
    content = answer_xml(
        "AuthenticateUser", request.request_id, "<status>0000</status><statusMessage/>"
    )

    with pytest.raises(BadAnswer):
        messages.parse_answer(request, content)


@pytest.mark.parametrize("value", ["", "OK", "00000", "zzzz"])
def test_cant_take_an_answer_without_a_four_hex_digit_status(value):
    request = messages.get_user_info("epcs-1")
    content = answer_xml("GetUserInfo", request.request_id, f"<status>{value}</status>")

    with pytest.raises(BadAnswer):
        messages.parse_answer(request, content)


# --- Statuses ---------------------------------------------------------------------------------

MEANINGS = [
    ("AuthenticateCredentials", "0000", "", Outcome.ACCEPTED),
    ("AuthenticateCredentials", "6009", "49B5", Outcome.WRONG),
    ("AuthenticateCredentials", "6009", status.REPLAY_DETAIL, Outcome.REUSED),
    ("AuthenticateCredentials", "604A", "", Outcome.OUT_OF_SYNC),
    ("AuthenticateCredentials", "6004", "", Outcome.UNKNOWN),
    ("AuthenticateCredentials", "600D", "", Outcome.WRONG),
    ("AuthenticateUser", "0000", "", Outcome.ACCEPTED),
    ("AuthenticateUser", "6009", "", Outcome.WRONG),
    ("AuthenticateUser", "6009", status.REPLAY_DETAIL, Outcome.REUSED),
    ("AuthenticateUser", "604A", "", Outcome.OUT_OF_SYNC),
    ("AuthenticateUser", "6003", "", Outcome.UNKNOWN),
    ("AuthenticateUser", "6007", "", Outcome.UNKNOWN),
    ("AuthenticateUser", "6008", "", Outcome.UNKNOWN),
    ("GetCredentialInfo", "0000", "", Outcome.ACCEPTED),
    ("GetCredentialInfo", "6004", "", Outcome.UNKNOWN),
    ("CreateUser", "6002", "", Outcome.ACCEPTED),
    ("AddCredential", "0000", "", Outcome.ACCEPTED),
    ("AddCredential", "6003", "", Outcome.UNKNOWN),
    ("AddCredential", "6004", "", Outcome.UNKNOWN),
    ("RemoveCredential", "6007", "", Outcome.ACCEPTED),
    ("UpdateCredential", "0000", "", Outcome.ACCEPTED),
]


@pytest.mark.parametrize(("operation", "code", "detail", "outcome"), MEANINGS)
def test_should_give_each_documented_status_its_meaning(operation, code, detail, outcome):
    answer = Answer(operation, "r1", code, detail=detail)

    assert status.outcome(answer) is outcome


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("AuthenticateUser", "6005"),  # internal error
        ("AuthenticateCredentials", "600B"),  # schema validation failed
        ("AddCredential", "600E"),  # client certificate revoked
        ("GetCredentialInfo", "6001"),  # invalid account
        ("RemoveCredential", "ABCD"),
    ],
)
def test_should_treat_a_status_the_operation_does_not_document_as_vip_unavailable(operation, code):
    with pytest.raises(AuthorityUnavailable) as raised:
        status.outcome(Answer(operation, "r1", code))

    assert (raised.value.reason, raised.value.status) == ("unexpected-status", code)
