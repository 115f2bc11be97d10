"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 and a free port, with STARTTLS (a
trustme certificate authority) and a login, or TLS from the first byte. It keeps what it
receives, can refuse for a while (a 4xx or 5xx answer), and can be stopped and started again
on the same port (an outage)."""

from __future__ import annotations

import email
import socket
import ssl
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USER = "wizard-mailer"
PASSWORD = "mail server passphrase 7"  # noqa: S105 (the test server's own login)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Recorder:
    """The server's handler: what it accepted, and what it answers instead when refusing."""

    messages: list[Message] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 Try again later"
    logins: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        self.logins += ok
        return AuthResult(success=ok)


class MailServer:
    """start(), stop(), url, ca_file; .recorder.messages holds what arrived."""

    def __init__(self, folder: Path, *, implicit_tls: bool = False, starttls: bool = True):
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(self.context)
        self.ca_file = str(folder / "mail-ca.pem")
        authority.cert_pem.write_to_path(self.ca_file)
        self.implicit_tls = implicit_tls
        self.starttls = starttls
        self.port = free_port()
        self.recorder = Recorder()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Message]:
        return self.recorder.messages

    def start(self) -> MailServer:
        options = {"authenticator": self.recorder.authenticate, "auth_required": True}
        if self.implicit_tls:
            # aiosmtpd does not count TLS from the first byte as TLS for AUTH; it is.
            options.update(ssl_context=self.context, auth_require_tls=False)
        elif self.starttls:
            options.update(tls_context=self.context, require_starttls=True)
        else:
            options["auth_require_tls"] = False
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=10, **options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
