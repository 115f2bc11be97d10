"""The stand-in over HTTPS with mutual TLS: SOAP 1.1 in and out, as VIP User Services.

A client must present a certificate signed by the stand-in's CA (ssl.CERT_REQUIRED), or the
TLS handshake fails before any request is read.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from pathlib import Path
from xml.etree.ElementTree import ParseError  # noqa: S405 - the error type; parsing is defused

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree
from lxml.builder import ElementMaker
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from wizard.authority.vip.messages import SOAP_NS, VIP_NS, envelope
from wizard.vipsandbox.practice import PRACTICE_NS
from wizard.vipsandbox.service import SERVICES, StandIn
from wizard.vipsandbox.store import StandinStore

log = logging.getLogger("wizard.vipsandbox")

PATH = re.compile(r"/vipuserservices/([A-Za-z]+)_\d+_\d+")
REQUEST_ID = re.compile(r"[0-9A-Za-z_]{4,40}")
MAX_REQUEST_BYTES = 64 * 1024
CONNECTION_SECONDS = 10  # a silent client is dropped after this long


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fields(payload) -> dict[str, str]:
    """Every simple element of the request by local name (nested ones too), first wins."""
    found: dict[str, str] = {}
    for element in payload.iter():
        if element is not payload and not len(element):
            found.setdefault(_local(element.tag), (element.text or "").strip())
    return found


def _children(maker: ElementMaker, items) -> list:
    return [
        maker(name, *(_children(maker, value) if isinstance(value, list) else [value]))
        for name, value in items
    ]


def _fault(text: str, status: int = 500) -> Response:
    soap = ElementMaker(namespace=SOAP_NS, nsmap={"S": SOAP_NS})
    fault = soap.Fault(soap.faultcode("S:Client"), soap.faultstring(text))
    return Response(
        etree.tostring(soap.Envelope(soap.Body(fault))),
        status,
        content_type="text/xml; charset=utf-8",
    )


class StandinApp:
    """The WSGI application: one POST per operation, at /vipuserservices/<Service>_<version>."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        match = PATH.fullmatch(request.path)
        if match is None or match.group(1) not in SERVICES:
            return Response("Not found", 404)
        if request.method != "POST":
            return Response("Method not allowed", 405, {"Allow": "POST"})
        if (request.content_length or 0) > MAX_REQUEST_BYTES:
            return _fault("request too large", 413)
        service = match.group(1)
        namespace = PRACTICE_NS if service == "PracticeService" else VIP_NS
        try:
            root = fromstring(request.get_data(cache=False), forbid_dtd=True)
        except (ParseError, DefusedXmlException, ValueError):
            return _fault("the request is not XML")
        body = root.find(f"{{{SOAP_NS}}}Body")
        if body is None or len(body) != 1 or not body[0].tag.startswith(f"{{{namespace}}}"):
            return _fault("no request element in the SOAP body")
        operation = _local(body[0].tag).removesuffix("Request")
        if operation not in SERVICES[service]:
            return _fault(f"{service} has no operation {operation}")
        fields = _fields(body[0])
        request_id = fields.pop("requestId", "")
        if not REQUEST_ID.fullmatch(request_id):
            return _fault("requestId must be 4 to 40 letters, digits or underscores")
        reply = self.standin.answer(operation, fields)
        log.info("stand-in %s status=%s", operation, reply.status)
        maker = ElementMaker(namespace=namespace, nsmap={None: namespace})
        extra = [("detail", reply.detail), ("detailMessage", reply.detail_message)]
        answer = maker(
            f"{operation}Response",
            *_children(
                maker,
                [("requestId", request_id), ("status", reply.status)]
                + [("statusMessage", reply.message)]
                + (extra if reply.detail else [])
                + reply.children,
            ),
        )
        return Response(envelope(answer), content_type="text/xml; charset=utf-8")


def server_context(certs: Path) -> ssl.SSLContext:
    """TLS 1.2 or later, the stand-in's certificate, and a client certificate required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certs / "server.pem", certs / "server-key.pem")
    context.load_verify_locations(certs / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class MutualTLSServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, the TLS handshake moved into each request's thread (with a
    deadline), so that one silent client cannot stop the others from being served."""

    def __init__(self, host: str, port: int, app, context: ssl.SSLContext) -> None:
        super().__init__(host, port, app)
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )
        self.ssl_context = context

    def get_request(self):
        connection, address = self.socket.accept()
        connection.settimeout(CONNECTION_SECONDS)
        # Headers and body go out in separate writes: without this, each answer waits for
        # the client's delayed acknowledgment (about 40 ms).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request, client_address) -> None:
        # A refused handshake (no client certificate, a stranger's CA) ends here: one line.
        log.warning("stand-in refused a connection from %s", client_address[0])


def make_standin_server(
    host: str, port: int, certs: str | Path, database: str | Path, clock=None
) -> MutualTLSServer:
    standin = StandIn(StandinStore(database), **({"clock": clock} if clock else {}))
    return MutualTLSServer(host, port, StandinApp(standin), server_context(Path(certs)))
