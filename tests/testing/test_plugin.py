"""Issue 12: the testing kit's pytest plugin as another team's suite meets it.

Each test runs pytest in a subprocess, in a folder of its own with a pytest.ini of its own,
as an outside suite with only the wizard and Playwright installed would. (The examples in
examples/ drive the page objects in Chromium; `make test` runs them.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.http import answers

SUITE = """
import json, os
from pathlib import Path

def record(name, **values):
    Path(os.environ["RECORDS"], name + ".json").write_text(json.dumps(values))

{tests}
"""


def run_suite(folder: Path, tests: str, *args: str, timeout: int = 300):
    """pytest over one test file in folder; the finished process and what the tests recorded."""
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (folder / "test_suite.py").write_text(SUITE.format(tests=textwrap.dedent(tests)))
    records = folder / "records"
    records.mkdir()
    done = subprocess.run(  # noqa: S603 - this Python's pytest
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
        cwd=folder,
        env={**_environ(), "RECORDS": str(records)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    found = {p.stem: json.loads(p.read_text()) for p in records.glob("*.json")}
    return done, found


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "WIZARD_"))}


def test_our_own_suite_does_not_load_the_plugin(pytestconfig):
    assert pytestconfig.pluginmanager.is_blocked("wizard_testing")
    assert pytestconfig.pluginmanager.get_plugin("wizard_testing") is None


def test_a_run_under_xdist_starts_one_sandbox_and_it_stops_after(tmp_path):
    tests = """
    import pytest

    @pytest.mark.parametrize("n", range(6))
    def test_each(n, wizard_url, sandbox, prescriber):
        again = sandbox.new_prescriber()
        record(f"test{n}", url=wizard_url, npis=[prescriber.npi, again.npi],
               worker=os.environ.get("PYTEST_XDIST_WORKER"))
    """
    done, found = run_suite(tmp_path, tests, "-n", "2")

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(found) == 6
    assert len({r["worker"] for r in found.values()}) == 2, "both workers ran tests"
    [url] = {r["url"] for r in found.values()}
    npis = [npi for r in found.values() for npi in r["npis"]]
    assert len(set(npis)) == 12, "every prescriber is a new one"
    deadline = time.monotonic() + 10
    while answers(url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not answers(url), "the sandbox stops when the run ends"


def test_a_run_without_xdist_stops_its_sandbox_at_the_end(tmp_path):
    tests = """
    def test_one(wizard_url, sandbox):
        record("one", url=wizard_url, demo=sandbox.reset().npi)
    """
    done, found = run_suite(tmp_path, tests)

    assert done.returncode == 0, done.stdout + done.stderr
    assert found["one"]["demo"] == "1234567893"
    assert not answers(found["one"]["url"])


def test_wizard_url_uses_a_running_sandbox(tmp_path, live_sandbox):
    tests = """
    def test_one(wizard_url, sandbox):
        record("one", url=wizard_url, kind=sandbox.new_credential("onespan").kind)
    """
    done, found = run_suite(tmp_path, tests, "--wizard-url", live_sandbox + "/")

    assert done.returncode == 0, done.stdout + done.stderr
    assert found["one"] == {"url": live_sandbox, "kind": "onespan"}


def test_wizard_url_that_is_not_a_sandbox_fails_clearly(tmp_path):
    tests = """
    def test_one(wizard_url):
        pass
    """
    done, _ = run_suite(tmp_path, tests, "--wizard-url", "http://127.0.0.1:9")

    assert done.returncode == 1
    assert "http://127.0.0.1:9 is not the EPCS token wizard in sandbox mode" in done.stdout


def test_chromium_is_launched_from_the_path_given(tmp_path):
    tests = """
    def test_one(browser_type_launch_args):
        record("one", **browser_type_launch_args)
    """
    done, found = run_suite(tmp_path, tests, "--chromium", "/opt/some/chromium")

    assert done.returncode == 0, done.stdout + done.stderr
    launch = found["one"]
    assert launch["executable_path"] == "/opt/some/chromium"
    assert "--disable-background-networking" in launch["args"]
    assert "--headless" in launch["args"]


@pytest.fixture
def live_sandbox(tmp_path):
    """A sandbox server started as `make test` starts one for the examples."""
    ready = tmp_path / "ready.json"
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "wizard.testing.serve",
            "--ready-file",
            str(ready),
            "--database",
            str(tmp_path / "sandbox.sqlite3"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert server.poll() is None and time.monotonic() < deadline, "no sandbox"
            time.sleep(0.1)
        yield json.loads(ready.read_text())["url"]
    finally:
        server.terminate()
        server.wait(timeout=20)
