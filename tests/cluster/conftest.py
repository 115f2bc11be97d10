"""The local cluster for its tests: two app nodes (gunicorn, two workers each) on one
PostgreSQL and one Redis, behind nginx, started once for this folder on free ports.

Every test here is marked `cluster` (leave them out with `pytest -m "not cluster"`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import chromium
import pytest
from cluster import Cluster, ServiceError
from flask import Flask
from playwright.sync_api import Browser, Playwright
from support.accounts import real_time

from wizard.extensions import db

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="module")
def chromium_browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, launched here rather than through pytest-playwright's `browser`:
    that one is parametrized by browser, and pytest would then run this folder's browser test
    among the e2e tests, keeping the cluster up all along."""
    browser = playwright.chromium.launch(**chromium.launch_args({"headless": True}))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The cluster on free ports; fsync off (nothing here outlives the run). The load test's
    clients each sign in every few seconds, far more often than a person: the per-address
    limits are raised out of their way."""
    limits = (
        "WIZARD_SIGN_IN_RATE_LIMIT",
        "WIZARD_CODE_RATE_LIMIT",
        "WIZARD_CREDENTIAL_ID_RATE_LIMIT",
        "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT",
    )
    started = Cluster(port=0, durable=False, settings={name: "6000 per minute" for name in limits})
    try:
        started.start()
    except ServiceError as error:
        pytest.fail(f"the local cluster could not start: {error}", pytrace=False)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def cluster_app(cluster: Cluster, app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """An app in this process over the cluster's database and keys (not its Redis): for
    setting up accounts and reading what the nodes saved."""
    app = app_factory({"ARGON2_CHEAP": True}, environ=cluster.local_settings)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(cluster_app: Flask) -> Flask:
    """The in-process app over the cluster's database: `make_account` (tests/conftest.py)
    makes prescribers there."""
    return cluster_app


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The nodes run on the real time."""
    return real_time


@pytest.fixture
def all_nodes(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with every node running, before and after the test."""
    for index in range(len(cluster.nodes)):
        cluster.start_node(index)
    yield cluster
    for index in range(len(cluster.nodes)):
        cluster.start_node(index)
