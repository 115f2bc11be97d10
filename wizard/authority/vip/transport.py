"""HTTPS to VIP User Services: the organization's VIP certificate as the TLS client
certificate, the server's certificate checked against WIZARD_VIP_CA, a timeout of a few
seconds. Every failure becomes AuthorityUnavailable with a reason for the audit log.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests
from urllib3.exceptions import ReadTimeoutError

from wizard.authority import AuthorityUnavailable
from wizard.authority.vip.messages import Answer, BadAnswer, Request, parse_answer

log = logging.getLogger("wizard.vip")

SERVICE_VERSION = "1_10"  # .../vipuserservices/AuthenticationService_1_10
MAX_ANSWER_BYTES = 256 * 1024


@dataclass(frozen=True)
class VipSettings:
    url: str  # base, e.g. https://userservices-auth.vip.symantec.com/vipuserservices
    cert: str  # PEM paths
    key: str
    ca: str
    timeout: float = 4.0


class Transport:
    """One keep-alive session per thread (requests sessions are not shared across threads)."""

    def __init__(self, settings: VipSettings) -> None:
        self.settings = settings
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy or CA bundle from the environment
            session.cert = (self.settings.cert, self.settings.key)
            session.verify = self.settings.ca
            self._local.session = session
        return session

    def url(self, service: str) -> str:
        return f"{self.settings.url.rstrip('/')}/{service}_{SERVICE_VERSION}"

    def call(self, request: Request) -> Answer:
        started = time.monotonic()
        content = self._post(request)
        try:
            answer = parse_answer(request, content)
        except BadAnswer as error:
            log.warning("vip %s bad answer: %s", request.operation, error)
            raise AuthorityUnavailable("bad-answer", request.operation) from None
        log.info(
            "vip %s status=%s in %d ms",
            request.operation,
            answer.status,
            (time.monotonic() - started) * 1000,
        )
        return answer

    def _post(self, request: Request) -> bytes:
        try:
            with self._session().post(
                self.url(request.service),
                data=request.body,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                timeout=self.settings.timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                if response.status_code != 200:
                    log.warning("vip %s HTTP %s", request.operation, response.status_code)
                    raise AuthorityUnavailable(
                        "bad-answer", request.operation, f"HTTP {response.status_code}"
                    )
                return _read(response, request.operation)
        except requests.RequestException as error:
            reason = _reason(error)
            # The exception's class says enough; its text may name file paths.
            log.warning("vip %s %s: %s", request.operation, reason, type(error).__name__)
            raise AuthorityUnavailable(reason, request.operation) from None
        except OSError as error:  # a certificate or key file that cannot be read
            log.warning("vip %s certificate: %s", request.operation, type(error).__name__)
            raise AuthorityUnavailable("certificate", request.operation) from None


def _read(response: requests.Response, operation: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(16 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise AuthorityUnavailable("bad-answer", operation, "too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.exceptions.SSLError):
        return "certificate"
    if isinstance(error, requests.exceptions.Timeout):
        return "timeout"
    if error.args and isinstance(error.args[0], ReadTimeoutError):  # slow while reading
        return "timeout"
    return "unreachable"
