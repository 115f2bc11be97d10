"""The stand-in over HTTPS with mutual TLS: SOAP 1.1 in and out, as VIP User Services.

A client must present a certificate signed by the stand-in's CA (ssl.CERT_REQUIRED), or the
TLS handshake fails before any request is read.
"""

from __future__ import annotations

import io
import logging
import re
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError  # noqa: S405 - the error type; parsing is defused

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from lxml import etree
from lxml.builder import ElementMaker
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


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as VIP's servers speak it: the wizard's transport sends its
    next request over the same TLS connection instead of paying a new handshake (Werkzeug's
    development server closes every connection). A request must say its length."""

    protocol_version = "HTTP/1.1"
    server: MutualTLSServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_GET = do_HEAD = do_PUT = do_DELETE = do_POST  # noqa: N815 - answered by the app

    def _serve(self) -> None:
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            size = -1
        if self.headers.get("Transfer-Encoding") or size < 0:
            self.close_connection = True
            self._send(411, [("Content-Type", "text/plain")], b"Length required")
            return
        if size > MAX_REQUEST_BYTES:
            self.close_connection = True  # the body is left unread: no next request here
            body = b""
        else:
            body = self.rfile.read(size)
        try:
            status, headers, content = self._call(body, size)
        except Exception:  # noqa: BLE001 - a 500, as any web server gives
            log.exception("stand-in failed on %s", self.path.split("?", 1)[0])
            self.close_connection = True
            status, headers, content = 500, [("Content-Type", "text/plain")], b"Server error"
        self._send(status, headers, content)

    def _call(self, body: bytes, size: int) -> tuple[int, list, bytes]:
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(size),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[f"HTTP_{key}"] = value
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda data: None  # the stand-in's apps return their body

        result = self.server.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return started[0], started[1], content

    def _send(self, status: int, headers: list, content: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)
        self.wfile.flush()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        log.debug("stand-in %s", format % args)


class MutualTLSServer(ThreadingMixIn, HTTPServer):
    """A thread per connection; the TLS handshake happens in that thread (with a deadline),
    so that one silent client cannot stop the others from being served. Stopping the server
    also ends the connections kept alive, as a stopped service would."""

    daemon_threads = True

    def __init__(self, host: str, port: int, app, context: ssl.SSLContext) -> None:
        self.app = app
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__((host, port), _KeepAliveHandler)
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
        with self._live_lock:
            self._live.add(connection)
        return connection, address

    def shutdown_request(self, request) -> None:
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._live_lock:
            live, self._live = list(self._live), set()
        for connection in live:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def handle_error(self, request, client_address) -> None:
        # A refused handshake (no client certificate, a stranger's CA) ends here: one line.
        log.warning("stand-in refused a connection from %s", client_address[0])


def make_standin_server(
    host: str, port: int, certs: str | Path, database: str | Path, clock=None
) -> MutualTLSServer:
    standin = StandIn(StandinStore(database), **({"clock": clock} if clock else {}))
    return MutualTLSServer(host, port, StandinApp(standin), server_context(Path(certs)))
