"""The local cluster (issue 13): two app nodes behind nginx, on one PostgreSQL and one Redis.

- a prescriber in Chromium finishes adding a token through the balancer although the node
  that served the first steps is killed in the middle;
- a code accepted by one node is refused by the other (one replay floor, in PostgreSQL);
- 50 sessions enroll and sign in for 60 seconds: no error, and every enrollment that reached
  its Done page has its token and its audit event.

That rate-limit counts are shared through Redis is tested with two servers and a low limit
(tests/faults); here the load's 50 clients sign in faster than people do.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pyotp
import pytest
from cluster import Cluster
from helpers import (
    PracticeApp,
    choose_device,
    confirm_and_continue,
    enter_credential_id,
    finish_enrolment,
    sign_in,
    start_enrolment,
)
from playwright.sync_api import Browser
from sqlalchemy import select
from support.http import HttpClient
from support.load import make_accounts, run_load

from wizard.extensions import db
from wizard.store.models import AuditEvent, Prescriber, Token

USERS = 50
SECONDS = 60
WRONG = "not the passphrase at all"


def test_should_finish_an_enrollment_in_chromium_when_a_node_dies_midway(
    all_nodes: Cluster, cluster_app, chromium_browser: Browser, make_account
):
    cluster = all_nodes
    account = make_account()
    context = chromium_browser.new_context(base_url=cluster.url)
    try:
        page = context.new_page()
        sign_in(page, account)
        phone = PracticeApp.open(context)
        credential_id = phone.credential_id
        start_enrolment(page)
        choose_device(page)
        confirm_and_continue(page)
        assert all(cluster.served(i) > 0 for i in (0, 1)), "round robin: both served"

        cluster.kill_node(0)
        before = cluster.served(1)
        enter_credential_id(page, phone.shown_id)
        finish_enrolment(page, phone, "Clinic phone")

        assert cluster.served(1) > before, "the node still up served the rest"
    finally:
        context.close()
    with cluster_app.app_context():
        saved = db.session.scalars(select(Token).where(Token.credential_id == credential_id)).all()
        assert [(t.nickname, t.status, t.prescriber_id) for t in saved] == [
            ("Clinic phone", "Active", account.id)
        ]


def test_should_refuse_on_one_node_a_code_accepted_by_the_other(all_nodes: Cluster, cluster_app):
    cluster = all_nodes
    demo = cluster.demo  # the sandbox data the cluster was started with
    active = next(t for t in demo["tokens"] if t["status"] == "Active")
    with cluster_app.app_context():
        token_id = db.session.scalar(
            select(Token.id).where(Token.credential_id == active["credential_id"])
        )
    code = pyotp.TOTP(active["secret"]).at(datetime.now(UTC))
    first, second = (HttpClient(node.url) for node in cluster.nodes)

    for browser in (first, second):
        reply = browser.post("/sign-in", {"npi": demo["npi"], "passphrase": demo["passphrase"]})
        assert reply.location == "/sign-in/code"
    accepted = first.post("/sign-in/code", {"token": token_id, "code": code})
    refused = second.post("/sign-in/code", {"token": token_id, "code": code})

    assert (accepted.status_code, accepted.location) == (303, "/")
    assert refused.status_code == 422
    assert "already been used" in refused.text


def test_50_sessions_enrolling_and_signing_in_for_60_seconds_lose_nothing(
    all_nodes: Cluster, cluster_app
):
    cluster = all_nodes
    accounts = make_accounts(cluster_app, USERS * 8)
    served_before = [cluster.served(i) for i in range(len(cluster.nodes))]

    result = run_load(cluster.url, accounts, users=USERS, seconds=SECONDS)
    print(result.summary(USERS, SECONDS))  # shown with pytest -s or -rP

    assert result.errors == [], f"{len(result.errors)} errors, the first: {result.errors[:5]}"
    assert len(result.enrolled) >= USERS, f"only {len(result.enrolled)} enrollments finished"
    for index, before in enumerate(served_before):
        assert cluster.served(index) - before > result.requests / 4, "round robin shared the load"
    with cluster_app.app_context():
        credentials = [credential_id for _, credential_id in result.enrolled]
        saved = {
            token.credential_id: token
            for token in db.session.scalars(
                select(Token).where(Token.credential_id.in_(credentials))
            )
        }
        audited = set(
            db.session.scalars(
                select(AuditEvent.token_id).where(
                    AuditEvent.action == "token.add",
                    AuditEvent.token_id.in_([t.id for t in saved.values()]),
                )
            )
        )
        owners = dict(db.session.execute(select(Prescriber.id, Prescriber.npi)).all())
    lost = [
        (npi, credential_id)
        for npi, credential_id in result.enrolled
        if credential_id not in saved
        or saved[credential_id].status != "Active"
        or owners[saved[credential_id].prescriber_id] != npi
        or saved[credential_id].id not in audited
    ]
    assert lost == [], f"{len(lost)} enrollments reached Done without token or audit event"


def test_stopping_the_cluster_leaves_nothing_running(cluster: Cluster):
    """What make cluster does at Ctrl+C: every process group it started is gone, and so are
    its files. (Last in this module: the cluster is stopped for good.)"""
    servers = [cluster.balancer, *cluster.nodes, cluster.redis, cluster.postgres]
    groups = [server.process.pid for server in servers]
    folders = [cluster.folder, cluster.redis.folder, cluster.postgres.folder]

    cluster.stop()

    for group in groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)  # signal 0: only asks whether any process of the group lives
    assert not any(folder.exists() for folder in folders)
