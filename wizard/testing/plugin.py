"""The pytest plugin (entry point pytest11 "wizard_testing"): fixtures for browser tests that
drive the EPCS token wizard's sandbox. docs/TESTING-KIT.md describes it.

- wizard_url: --wizard-url, the wizard_url ini setting or $WIZARD_URL; else a sandbox of
  this run's own (one per run, shared by pytest-xdist workers), stopped at the end.
- sandbox: the sandbox API as Python methods (SandboxClient).
- prescriber: a fresh prescriber of this test's own, with one Active practice token.
- signed_in_page: pytest-playwright's page, signed in as prescriber.
- Chromium: --chromium PATH or $CHROMIUM when Playwright's own browser is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.testing.client import Prescriber, SandboxClient
from wizard.testing.pages import SignInPage


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wizard", "EPCS token wizard sandbox")
    group.addoption(
        "--wizard-url",
        default=None,
        help="a running wizard in sandbox mode (default: start one for this run)",
    )
    group.addoption(
        "--chromium",
        default=None,
        help="Chromium to launch when Playwright's own is not installed (default: $CHROMIUM)",
    )
    parser.addini("wizard_url", "a running wizard in sandbox mode", default="")


def pytest_configure(config: pytest.Config) -> None:
    # Registered after every installed plugin, so that its browser_type_launch_args wraps
    # pytest-playwright's (a suite's own conftest.py still overrides both).
    config.pluginmanager.import_plugin("wizard.testing.chromium")


def _given_url(config: pytest.Config) -> str:
    return (
        config.getoption("wizard_url")
        or config.getini("wizard_url")
        or os.environ.get("WIZARD_URL", "")
    ).strip()


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder, shared by all xdist workers (each has a subfolder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def wizard_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The address of the wizard in sandbox mode that the tests drive."""
    given = _given_url(pytestconfig)
    if given:
        if not SandboxClient(given).is_sandbox():
            pytest.fail(f"{given} is not the EPCS token wizard in sandbox mode", pytrace=False)
        yield given.rstrip("/")
        return
    from wizard.testing.server import start_or_join

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # xdist's controller runs the whole run; without xdist, this process does.
    running = start_or_join(
        _shared_folder(tmp_path_factory), os.getppid() if worker else os.getpid()
    )
    yield running.url
    if not worker:  # other workers may still use it: it stops when the controller ends
        running.stop()


@pytest.fixture(scope="session")
def sandbox(wizard_url: str) -> SandboxClient:
    """new_prescriber(), new_credential(kind), fresh_code(credential), new_agent(),
    agent_code(agent), reset()."""
    return SandboxClient(wizard_url)


@pytest.fixture
def prescriber(sandbox: SandboxClient) -> Prescriber:
    """A fresh prescriber of this test's own, with one Active VIP Access practice token."""
    return sandbox.new_prescriber()


@pytest.fixture
def signed_in_page(page, sandbox: SandboxClient, prescriber: Prescriber):
    """pytest-playwright's page, signed in as prescriber (on the account page)."""
    SignInPage(page, sandbox).sign_in(prescriber)
    return page
