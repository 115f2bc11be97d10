"""The enrollment funnel (issue 6): runs by furthest step over 7 and 30 days, completion rate,
failures by kind, backup-token adoption; an SVG bar chart with one bar per step; the CSV has the
same numbers. Agents only (a prescriber is sent away: see test_helpdesk.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from helpdesk_helpers import footer_code, make_agent, sign_in_agent
from signing import post, sign_in
from support.accounts import unused_npi
from support.pages import page_text

from wizard.extensions import db
from wizard.services import invitations
from wizard.store.models import SupportEvent, SupportSession, WizardRun

STEPS = ["get-app", "credential-id", "security-code", "name", "done"]
TITLES = {
    "get-app": "Get the app or key fob",
    "credential-id": "Find your Credential ID",
    "security-code": "Enter the security code",
    "name": "Name and save",
    "done": "Done",
}
PLAIN = {  # how the funnel page names each failure kind
    "wrong-code": "The code did not match.",
    "reused-code": "They entered a code that was already used.",
    "credential-format": "The Credential ID they typed is not in a form we accept.",
    "credential-unknown": "The Credential ID or serial number is not known.",
    "locked": "Too many codes failed: this is paused for 15 minutes.",
}


@pytest.fixture
def console(app, runner, client, clock):
    """The test's client signed in as a help-desk agent."""
    agent = make_agent(runner, app.test_client(), clock())
    sign_in_agent(client, agent, clock())
    return agent


# --- Known data, written through the models ----------------------------------------------------

# (days ago, furthest step, completed, backup) for each run.
RUNS = [
    # The last 7 days: 9 runs.
    *[(2, "get-app", False, "")] * 2,
    (3, "credential-id", False, ""),
    *[(1, "security-code", False, "")] * 2,
    (6, "name", False, ""),
    (0, "done", True, "accepted"),
    (4, "done", True, "declined"),
    (5, "done", True, "shown"),
    # 8 to 30 days ago: 4 more.
    (20, "get-app", False, ""),
    (8, "security-code", False, ""),
    (29, "done", True, "accepted"),
    (15, "done", True, "confirm-decline"),
    # Older than 30 days: in neither.
    *[(31, "done", True, "accepted")] * 3,
    (45, "get-app", False, ""),
]
# (days ago, kind, name) for each timeline event.
EVENTS = [
    *[(1, "error", "wrong-code")] * 4,
    *[(2, "error", "reused-code")] * 2,
    (3, "error", "credential-format"),
    (6, "error", "locked"),
    *[(20, "error", "wrong-code")] * 3,
    *[(9, "error", "credential-unknown")] * 2,
    *[(40, "error", "wrong-code")] * 10,
    # Pages reached are not failures.
    *[(1, "page", "security-code")] * 5,
]

EXPECTED = {
    7: {
        "runs": 9,
        "reached": {"get-app": 9, "credential-id": 7, "security-code": 6, "name": 4, "done": 3},
        "completed": 3,
        "rate": "33%",
        "failures": {"wrong-code": 4, "reused-code": 2, "credential-format": 1, "locked": 1},
        "backup_shown": 3,
        "backup_added": 1,
    },
    30: {
        "runs": 13,
        "reached": {"get-app": 13, "credential-id": 10, "security-code": 9, "name": 6, "done": 5},
        "completed": 5,
        "rate": "38%",
        "failures": {
            "wrong-code": 7,
            "reused-code": 2,
            "credential-format": 1,
            "locked": 1,
            "credential-unknown": 2,
        },
        "backup_shown": 5,
        "backup_added": 2,
    },
}


@pytest.fixture
def known_data(app, clock):
    now = clock()
    with app.app_context():
        session = SupportSession(support_code="KNW-DTA", created_at=now, updated_at=now)
        db.session.add(session)
        db.session.flush()
        for days, furthest, completed, backup in RUNS:
            started = now - timedelta(days=days, hours=1)
            db.session.add(
                WizardRun(
                    support_session_id=session.id,
                    started_at=started,
                    furthest_step=furthest,
                    completed_at=started + timedelta(minutes=9) if completed else None,
                    backup=backup,
                )
            )
        for days, kind, name in EVENTS:
            db.session.add(
                SupportEvent(
                    support_session_id=session.id,
                    at=now - timedelta(days=days, hours=2),
                    kind=kind,
                    name=name,
                )
            )
        db.session.commit()


def cells(page, selector: str) -> list[list[str]]:
    return [[td.text for td in tr.select("td")] for tr in page.select(selector)]


def number(text: str) -> int:
    return int(re.match(r"\d+", text).group(0))


def csv_rows(client, days: int) -> list[list[str]]:
    response = client.get(f"/helpdesk/funnel.csv?days={days}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"funnel-{days}-days.csv" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("days", [7, 30])
def test_funnel_counts_runs_completion_failures_and_backups(
    client_request, console, known_data, days
):
    expected = EXPECTED[days]
    url = "/helpdesk/funnel" if days == 7 else "/helpdesk/funnel?days=30"
    page = client_request.get(url)
    assert page.h1 == f"Enrollment funnel: last {days} days"
    assert page.text("#funnel-runs") == str(expected["runs"])
    assert page.text("#funnel-completed") == f"{expected['completed']} ({expected['rate']})"
    backup_rate = round(100 * expected["backup_added"] / expected["backup_shown"])
    assert page.text("#funnel-backup") == f"{expected['backup_added']} ({backup_rate}%)"
    summary = {
        row.select_one("dt").text: row.select("dd")[0].text for row in page.select(".summary__row")
    }
    assert summary["Backup recommended"] == str(expected["backup_shown"])

    [steps_table, failures_table] = page.select("table.table")
    assert cells(steps_table, "tbody tr") == [
        [TITLES[step], str(expected["reached"][step])] for step in STEPS
    ]
    failures = {name: number(count) for name, count in cells(failures_table, "tbody tr")}
    assert failures == {PLAIN[kind]: count for kind, count in expected["failures"].items()}


@pytest.mark.parametrize("days", [7, 30])
def test_funnel_chart_has_one_bar_per_step_sized_by_its_count(
    client_request, console, known_data, days
):
    expected = EXPECTED[days]["reached"]
    page = client_request.get(f"/helpdesk/funnel?days={days}")
    [chart] = page.select("svg.chart")
    assert chart.get("role") == "img"
    assert chart.get("aria-labelledby")
    bars = chart.select("rect")
    assert len(bars) == len(STEPS)
    labels = [t.text for t in chart.select("text.chart__label")]
    values = [number(t.text) for t in chart.select("text.chart__value")]
    assert labels == [TITLES[s] for s in STEPS]
    assert values == [expected[s] for s in STEPS]
    widths = [float(bar["width"]) for bar in bars]
    top = max(expected.values())
    for step, width in zip(STEPS, widths, strict=True):
        assert width == pytest.approx(widths[0] * expected[step] / top, abs=0.2), step
    assert widths == sorted(widths, reverse=True)
    # The same numbers for screen readers.
    description = chart.select_one("desc").text
    for step in STEPS:
        assert f"{TITLES[step]}: {expected[step]}." in description


@pytest.mark.parametrize("days", [7, 30])
def test_funnel_csv_has_the_same_numbers(client, client_request, console, known_data, days):
    expected = EXPECTED[days]
    rows = csv_rows(client, days)
    assert rows[0] == ["measure", "name", "value"]
    found = {(measure, name): value for measure, name, value in rows[1:]}
    assert found.pop(("runs", "started")) == str(expected["runs"])
    for step in STEPS:
        assert found.pop(("reached", step)) == str(expected["reached"][step])
    rate = float(found.pop(("completion", "rate")))
    assert rate == pytest.approx(expected["completed"] / expected["runs"], abs=0.001)
    for kind, count in expected["failures"].items():
        assert found.pop(("failures", kind)) == str(count)
    assert found.pop(("backup", "recommended")) == str(expected["backup_shown"])
    assert found.pop(("backup", "added")) == str(expected["backup_added"])
    assert found == {}, f"more in the CSV than on the page: {found}"

    # The page offers this very file.
    page = client_request.get(f"/helpdesk/funnel?days={days}")
    assert page.select_one(f'a[href="/helpdesk/funnel.csv?days={days}"]')


def test_funnel_is_empty_without_runs(client, client_request, console):
    page = client_request.get("/helpdesk/funnel")
    assert page.text("#funnel-runs") == "0"
    assert page.text("#funnel-completed") == "0 (0%)"
    assert len(page.select("svg.chart rect")) == len(STEPS)
    assert "No failures." in page.select("table.table")[1].text
    found = {(m, n): v for m, n, v in csv_rows(client, 7)[1:]}
    assert found[("runs", "started")] == "0"


# --- Runs driven through the wizard ------------------------------------------------------------


def choose(browser, device="iphone"):
    return post(browser, "/enroll/get-app", {"platform": device, "different_device": "y"})


def onboarded(app, clock):
    """A new prescriber's browser, through the invitation: signed in with no token yet."""
    browser = app.test_client()
    npi = unused_npi()
    with app.app_context():
        invitation, _row = invitations.create(
            npi=npi, name="Dr. Ari Firsttime", email="ari@example.org", now=clock()
        )
    assert footer_code(browser.get("/start"))
    assert post(browser, "/start", {"invitation": invitation, "npi": npi}).status_code == 303
    assert post(browser, "/start/confirm", {"answer": "yes"}).status_code == 303
    created = post(
        browser,
        "/start/passphrase",
        {"passphrase": "amber kettle northward 9", "confirm": "amber kettle northward 9"},
    )
    assert created.headers["Location"] == "/enroll"
    return browser


def enrol_one(browser, vip, nickname: str) -> None:
    credential = vip.issue()
    assert choose(browser).status_code == 303
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    assert post(browser, "/enroll/security-code", {"code": vip.code(credential)}).status_code == 303
    assert post(browser, "/enroll/name", {"nickname": nickname}).status_code == 303
    assert browser.get("/enroll/done").status_code == 200


def test_wizard_runs_reach_the_funnel_with_their_furthest_step_and_failures(
    app, client, client_request, console, make_account, vip, clock
):
    def signed_in_browser():
        browser = app.test_client()
        assert footer_code(browser.get("/sign-in"))
        sign_in(browser, make_account(), clock())
        return browser

    # Run 1 stops at step 1.
    signed_in_browser().get("/enroll/get-app")

    # Run 2 reaches step 3, gets a code wrong, and stops there.
    second = signed_in_browser()
    second.get("/enroll/get-app")
    choose(second)
    credential = vip.issue()
    post(second, "/enroll/credential-id", {"credential_id": credential.credential_id})
    wrong = post(second, "/enroll/security-code", {"code": vip.wrong_code(credential)})
    assert wrong.status_code == 422

    # Run 3: a new prescriber's first token. The backup is recommended, they choose to add it,
    # and run 4 saves it.
    third = onboarded(app, clock)
    third.get("/enroll/get-app")
    enrol_one(third, vip, "My phone")
    assert "Add a backup token" in page_text(third.get("/enroll/done"))
    added = post(third, "/enroll/backup", {"choice": "add"})
    assert added.headers["Location"] == "/enroll/get-app"
    third.get("/enroll/get-app")
    enrol_one(third, vip, "My tablet")

    page = client_request.get("/helpdesk/funnel")
    reached = dict(cells(page.select("table.table")[0], "tbody tr"))
    assert {step: reached[TITLES[step]] for step in STEPS} == {
        "get-app": "4",
        "credential-id": "3",
        "security-code": "3",
        "name": "2",
        "done": "2",
    }
    assert page.text("#funnel-runs") == "4"
    assert page.text("#funnel-completed") == "2 (50%)"
    failures = dict(cells(page.select("table.table")[1], "tbody tr"))
    assert failures == {"The code did not match.": "1"}

    found = {(m, n): v for m, n, v in csv_rows(client, 30)[1:]}
    assert found[("runs", "started")] == "4"
    assert found[("reached", "done")] == "2"
    assert found[("failures", "wrong-code")] == "1"


def test_backup_adoption_counts_a_recommended_backup_that_was_added(
    app, client, client_request, console, vip, clock
):
    """One prescriber is recommended a backup and adds it; another declines it."""
    adopter = onboarded(app, clock)
    adopter.get("/enroll/get-app")
    enrol_one(adopter, vip, "My phone")
    post(adopter, "/enroll/backup", {"choice": "add"})
    adopter.get("/enroll/get-app")
    enrol_one(adopter, vip, "My tablet")

    decliner = onboarded(app, clock)
    decliner.get("/enroll/get-app")
    enrol_one(decliner, vip, "My phone")
    post(decliner, "/enroll/backup", {"choice": "not-now"})
    post(decliner, "/enroll/backup", {"choice": "decline"})
    assert decliner.get("/enroll/done").status_code == 200

    page = client_request.get("/helpdesk/funnel")
    summary = {
        r.select_one("dt").text: r.select("dd")[0].text for r in page.select(".summary__row")
    }
    assert summary["Backup recommended"] == "2"
    assert page.text("#funnel-backup") == "1 (50%)"
    found = {(m, n): v for m, n, v in csv_rows(client, 7)[1:]}
    assert (found[("backup", "recommended")], found[("backup", "added")]) == ("2", "1")
