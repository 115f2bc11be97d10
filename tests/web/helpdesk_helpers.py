"""Help-desk agents for the web tests: made by `flask helpdesk add`, set up through the printed
link, signed in through /helpdesk/sign-in. Every helper goes through the CLI or HTTP.

(Named apart from tests/e2e's helpers: both folders are on sys.path.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import pyotp
from flask.testing import FlaskClient, FlaskCliRunner
from signing import post
from support.pages import page_text
from werkzeug.test import TestResponse

AGENT_PASSPHRASE = "teal harbour crossing 77"
SUPPORT_CODE = re.compile(
    r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{3}-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{3}$"
)
_SETUP_LINK = re.compile(r"https?://\S+/helpdesk/setup/(\S+)")
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
_FOOTER_CODE = re.compile(r'class="mono support-code">([^<]+)<')


def step_of(at: datetime) -> int:
    return int(at.timestamp()) // 30


@dataclass
class Agent:
    """A help-desk agent and their authenticator app (pyotp on the secret the setup page showed).

    Each time step is accepted once: fresh_code(now) gives a code of a step the server accepts
    now (one either side of now) and has not accepted yet, as a patient agent would."""

    username: str
    passphrase: str
    secret: str
    setup_path: str
    used: set[int] = field(default_factory=set)

    def code_at_step(self, step: int) -> str:
        return pyotp.TOTP(self.secret).at(step * 30)

    def fresh_code(self, now: datetime) -> str:
        floor = max(self.used, default=-1)
        for step in range(step_of(now) - 1, step_of(now) + 2):
            if step > floor:
                self.used.add(step)
                return self.code_at_step(step)
        raise AssertionError("no unused time step near now: advance the clock 30 seconds")

    def wrong_code(self, now: datetime) -> str:
        near = {self.code_at_step(step_of(now) + k) for k in range(-2, 3)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def setup_link(runner: FlaskCliRunner, username: str) -> str:
    """`flask --app wizard helpdesk add USERNAME`: the path of the link it prints."""
    result = runner.invoke(args=["helpdesk", "add", username])
    assert result.exit_code == 0, result.output
    found = _SETUP_LINK.search(result.output)
    assert found, f"no setup link in {result.output!r}"
    return urlsplit(found.group(0)).path


def shown_secret(response: TestResponse) -> str:
    found = _SECRET.search(response.get_data(as_text=True))
    assert found, "the setup page shows no authenticator key"
    return found.group(1)


def finish_setup(
    client: FlaskClient, path: str, passphrase: str, code: str, confirm: str | None = None
) -> TestResponse:
    return post(
        client,
        path,
        {
            "passphrase": passphrase,
            "confirm": confirm if confirm is not None else passphrase,
            "code": code,
        },
    )


def make_agent(
    runner: FlaskCliRunner,
    client: FlaskClient,
    now: datetime,
    username: str = "pat.helpdesk",
    passphrase: str = AGENT_PASSPHRASE,
) -> Agent:
    """An agent set up as a new agent would: the printed link, the key shown, a code from it."""
    path = setup_link(runner, username)
    page = client.get(path)
    assert page.status_code == 200, page_text(page)[:500]
    agent = Agent(username, passphrase, shown_secret(page), path)
    done = finish_setup(client, path, passphrase, agent.fresh_code(now))
    assert done.status_code == 303, page_text(done)[:800]
    assert done.headers["Location"] == "/helpdesk/sign-in"
    return agent


def agent_sign_in_attempt(
    client: FlaskClient,
    username: str,
    passphrase: str,
    code: str,
) -> TestResponse:
    return post(
        client,
        "/helpdesk/sign-in",
        {"username": username, "passphrase": passphrase, "code": code},
    )


def sign_in_agent(client: FlaskClient, agent: Agent, now: datetime) -> None:
    response = agent_sign_in_attempt(
        client, agent.username, agent.passphrase, agent.fresh_code(now)
    )
    assert response.status_code == 303, page_text(response)[:800]
    assert response.headers["Location"] == "/helpdesk"


def footer_code(response: TestResponse) -> str | None:
    """The support code in the page footer, or None when the page shows none."""
    found = _FOOTER_CODE.search(response.get_data(as_text=True))
    return found.group(1).strip() if found else None
