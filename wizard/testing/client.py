"""The sandbox API as Python methods (standard library only): accounts, credentials, codes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

# A fresh code may wait up to one 30-second time step on the server.
TIMEOUT_SECONDS = 70


@dataclass(frozen=True)
class Token:
    """A token on a prescriber's account, or one just added through the wizard."""

    credential_id: str
    name: str
    status: str
    kind: str  # vip-app, onespan or symantec-hard


@dataclass(frozen=True)
class Credential:
    """A practice credential bound to no one (what a new phone app or key fob shows)."""

    credential_id: str
    kind: str


@dataclass(frozen=True)
class Prescriber:
    npi: str
    passphrase: str
    name: str
    email: str
    organization: dict[str, str] | None
    tokens: tuple[Token, ...] = field(default_factory=tuple)

    @property
    def token(self) -> Token:
        """The first Active token."""
        return next(t for t in self.tokens if t.status == "Active")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prescriber:
        tokens = tuple(Token(**t) for t in data["tokens"])
        return cls(
            data["npi"],
            data["passphrase"],
            data["name"],
            data["email"],
            data["organization"],
            tokens,
        )


@dataclass(frozen=True)
class Agent:
    """A help-desk agent, set up: username, passphrase and authenticator secret."""

    username: str
    passphrase: str
    totp_secret: str
    otpauth_uri: str


class SandboxError(Exception):
    """The sandbox refused a call: status, error code and message as the API gave them."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message


def _credential_id(credential: str | Token | Credential) -> str:
    return credential if isinstance(credential, str) else credential.credential_id


class SandboxClient:
    """The sandbox API of the wizard at url (docs/SANDBOX-API.md)."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if method == "GET" else json.dumps(body or {}).encode()
        request = urllib.request.Request(  # noqa: S310 - the sandbox's own http(s) URL
            f"{self.url}/sandbox/api{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                problem = json.loads(error.read())
            except ValueError:
                problem = {"error": "not-a-sandbox", "message": "The answer was not JSON."}
            raise SandboxError(
                error.code, problem.get("error", ""), problem.get("message", "")
            ) from None

    def new_prescriber(self, kind: str = "vip-app") -> Prescriber:
        """A prescriber of your own with one Active practice token of kind (vip-app, onespan
        or symantec-hard), or none with kind="none"."""
        return Prescriber.from_json(self._call("POST", "/prescribers", {"token": kind}))

    def new_credential(self, kind: str = "vip-app") -> Credential:
        """A practice credential bound to no one: vip-app, onespan or symantec-hard."""
        return Credential(**self._call("POST", "/credentials", {"kind": kind}))

    def fresh_code(self, credential: str | Token | Credential) -> str:
        """A code the wizard has not accepted yet (may wait for the next 30-second step)."""
        found = self._call("GET", f"/otp/{_credential_id(credential)}?fresh=1")
        return found["code"]

    def code(self, credential: str | Token | Credential, presses: int | None = None) -> str:
        """The code the credential shows now (a key fob: presses after the last one used)."""
        query = f"?presses={presses}" if presses else ""
        return self._call("GET", f"/otp/{_credential_id(credential)}{query}")["code"]

    def new_agent(self) -> Agent:
        """A help-desk agent of your own, set up and ready to sign in."""
        return Agent(**self._call("POST", "/agents"))

    def agent_code(self, agent: Agent | str) -> str:
        """A code from the agent's authenticator that has not been accepted yet."""
        username = agent if isinstance(agent, str) else agent.username
        return self._call("GET", f"/agents/{username}/otp?fresh=1")["code"]

    def reset(self) -> Prescriber:
        """The demo prescriber back as `sandbox seed` made it; returns it."""
        return Prescriber.from_json(self._call("POST", "/reset")["demo"])

    def is_sandbox(self) -> bool:
        """True when url answers as a wizard in sandbox mode."""
        try:
            return self._call("GET", "/openapi.json").get("openapi", "").startswith("3.1")
        except (SandboxError, OSError, ValueError):
            return False
