"""Issue 3, step 5: what was saved, and the backup-token recommendation with its reminder."""

import pytest

CONSEQUENCE = "entire identity proofing again"


@pytest.fixture
def only_token(demo, enrol, store):
    """The demo prescriber's Active token made Inactive, then one token enrolled: one Active
    token, so the backup is recommended. Returns the enrolled credential."""
    active = next(t for t in demo["tokens"] if t["status"] == "Active")
    store.set_status(active["credential_id"], "Inactive")
    return enrol.reach("done")


def choose(client_request, choice: str, expected: str = "/enroll/done"):
    return client_request.post("/enroll/backup", {"choice": choice}, _expected_redirect=expected)


def test_should_say_what_was_saved(client_request, demo, enrol):
    credential = enrol.reach("done")

    page = client_request.get("/enroll/done")

    assert "Your token is saved" in page.h1
    saved = page.text(".panel")
    assert "My phone" in saved
    assert credential.credential_id in saved
    assert "Active" in saved
    assert "What happens next" in page.text("main")


def test_should_not_recommend_a_backup_with_two_active_tokens(client_request, demo, enrol):
    enrol.reach("done")  # the demo prescriber already had one Active token

    page = client_request.get("/enroll/done")

    assert page.select_one(".backup") is None
    assert not page.select('button[value="add"]')
    assert "You have 2 Active tokens" in page.text("main")
    assert page.select_one("#backup-reminder") is None


def test_should_recommend_a_backup_with_one_active_token(client_request, only_token):
    page = client_request.get("/enroll/done")

    backup = page.text(".backup")
    assert "Add a backup token" in page.text("#backup-heading")
    assert "You have 1 Active token." in backup
    assert CONSEQUENCE in backup
    form = page.select_one('form[action="/enroll/backup"]')
    buttons = {b["value"]: b.text for b in form.select("button")}
    assert buttons == {"add": "Add a backup token", "not-now": "Not now"}


def test_should_ask_once_more_stating_the_consequence_after_not_now(
    client_request, only_token, store
):
    choose(client_request, "not-now")

    page = client_request.get("/enroll/done")

    assert "Are you sure" in page.text("#backup-heading")
    assert CONSEQUENCE in page.text(".backup")
    values = {b["value"] for b in page.select('form[action="/enroll/backup"] button')}
    assert values == {"add", "decline"}
    prescriber = store.prescriber()
    assert prescriber.backup_decision == ""
    assert prescriber.backup_decided_at is None, "not recorded until asked twice"


def test_should_record_the_decision_and_its_time_after_asking_twice(
    client_request, only_token, store, clock
):
    choose(client_request, "not-now")
    clock.advance(seconds=20)

    choose(client_request, "decline")

    prescriber = store.prescriber()
    assert prescriber.backup_decision == "declined"
    assert prescriber.backup_decided_at == clock()
    [event] = store.audit("backup.decision")
    assert event.outcome == "declined"
    assert event.prescriber_id == prescriber.id
    page = client_request.get("/enroll/done")
    assert page.select_one(".backup") is None
    assert "You chose not to add a backup" in page.text("main")


def test_cant_decline_without_being_asked_twice(client_request, only_token, store):
    choose(client_request, "decline")

    assert store.prescriber().backup_decision == ""
    assert store.audit("backup.decision") == []
    page = client_request.get("/enroll/done")
    assert "Add a backup token" in page.text("#backup-heading")


def test_should_start_a_new_run_for_a_backup_token(client_request, only_token):
    choose(client_request, "add", "/enroll/get-app")

    page = client_request.get("/enroll/get-app")

    notice = page.text(".notice--info")
    assert "Adding a backup token" in notice
    assert "your first is on your iPhone or iPad" in notice
    assert not page.select('input[name="device"][checked]'), "nothing chosen yet"
    client_request.get("/enroll/done", _expected_redirect="/enroll/get-app")
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


def test_should_add_a_backup_token_from_the_recommendation_after_not_now(
    client_request, only_token, enrol, store
):
    choose(client_request, "not-now")
    choose(client_request, "add", "/enroll/get-app")

    backup = enrol.reach("done", device="android")

    assert store.tokens(backup.credential_id)[0].status == "Active"
    page = client_request.get("/enroll/done")
    assert page.select_one(".backup") is None
    assert "You have 2 Active tokens" in page.text("main")
    assert store.prescriber().backup_decision == ""


def test_should_remind_on_the_home_page_until_there_are_two_active_tokens(
    client_request, demo, enrol, store
):
    active = next(t for t in demo["tokens"] if t["status"] == "Active")
    store.set_status(active["credential_id"], "Inactive")
    page = client_request.get("/")
    assert CONSEQUENCE in page.text("#backup-reminder")

    enrol.reach("done")
    page = client_request.get("/")
    assert CONSEQUENCE in page.text("#backup-reminder"), "one Active token is not enough"

    client_request.post("/enroll/backup", {"choice": "add"}, _expected_redirect="/enroll/get-app")
    enrol.reach("done", device="android")
    page = client_request.get("/")
    assert page.select_one("#backup-reminder") is None


def test_should_remind_on_the_home_page_after_declining(client_request, only_token):
    choose(client_request, "not-now")
    choose(client_request, "decline")

    page = client_request.get("/")

    assert CONSEQUENCE in page.text("#backup-reminder")


def test_should_remind_with_a_link_that_starts_the_wizard(client_request, demo, store):
    active = next(t for t in demo["tokens"] if t["status"] == "Active")
    store.set_status(active["credential_id"], "Inactive")

    page = client_request.get("/")

    link = page.select_one("#backup-reminder a")
    assert link["href"] == "/enroll"
    client_request.get("/enroll", _expected_status=302)


def test_should_show_the_backup_choices_with_htmx(client_request, only_token):
    page = client_request.post(
        "/enroll/backup", {"choice": "not-now"}, _htmx=True, _expected_status=200
    )

    assert "<html" not in page.html
    assert "Are you sure" in page.text("#backup-heading")


def test_should_start_the_backup_run_with_htmx(client_request, only_token):
    page = client_request.post(
        "/enroll/backup", {"choice": "add"}, _htmx=True, _expected_status=200
    )

    assert page.headers["HX-Push-Url"] == "/enroll/get-app"
    assert "Adding a backup token" in page.text(".notice--info")


def test_cant_post_a_backup_choice_before_a_token_is_saved(client_request, demo, enrol, store):
    enrol.reach("name")
    client_request.post("/enroll/backup", {"choice": "decline"}, _expected_redirect="/enroll/name")
    assert store.prescriber().backup_decision == ""


def primaries(page) -> list[str]:
    return [b.text for b in page.select("main .button--primary")]


def test_should_have_one_primary_button_adding_the_backup_while_recommended(
    client_request, only_token
):
    """Issue 14: "Not now" and "Go to your account" are not two grey buttons side by side."""
    page = client_request.get("/enroll/done")
    assert primaries(page) == ["Add a backup token"]
    account = next(a for a in page.select("main a") if a.text == "Go to your account")
    assert "button" not in (account.get("class") or ""), "a plain link while the backup waits"

    choose(client_request, "not-now")
    page = client_request.get("/enroll/done")
    assert primaries(page) == ["Add a backup token"]


def test_should_make_the_way_on_primary_once_the_backup_is_settled(client_request, only_token):
    choose(client_request, "not-now")
    choose(client_request, "decline")
    page = client_request.get("/enroll/done")
    assert primaries(page) == ["Go to your account"]


def test_should_make_going_to_the_account_primary_with_two_active_tokens(
    client_request, demo, enrol
):
    enrol.reach("done")
    assert primaries(client_request.get("/enroll/done")) == ["Go to your account"]
