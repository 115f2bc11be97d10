"""Issue 3, the wizard as a whole: sign-in, step guards, htmx partials, start over, restarts,
replay of the enrollment code, and the code never shown back."""

import json
import re

import pytest
from bs4 import BeautifulSoup

from wizard.domain import steps
from wizard.extensions import db
from wizard.web.enrol.indicator import step_indicator

STEPS = [
    ("get-app", 1, "Get the app or key fob"),
    ("credential-id", 2, "Find your Credential ID"),
    ("security-code", 3, "Enter the security code"),
    ("name", 4, "Name and save"),
    ("done", 5, "Done"),
]
URLS = [f"/enroll/{step}" for step, _, _ in STEPS]
REUSED_START = "That code has already been used."


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}


# --- Signed in only --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/enroll", *URLS, "/enroll/get-app?device=iphone"])
def test_should_send_a_visitor_who_is_not_signed_in_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert not location.startswith("/enroll")
    assert "next=" in location and "enroll" in location


# --- Step guards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reached, requested, furthest",
    [
        ("get-app", "credential-id", "get-app"),
        ("get-app", "security-code", "get-app"),
        ("get-app", "name", "get-app"),
        ("get-app", "done", "get-app"),
        ("credential-id", "security-code", "credential-id"),
        ("credential-id", "name", "credential-id"),
        ("credential-id", "done", "credential-id"),
        ("security-code", "name", "security-code"),
        ("security-code", "done", "security-code"),
        ("name", "done", "name"),
        ("done", "get-app", "done"),
        ("done", "credential-id", "done"),
        ("done", "security-code", "done"),
        ("done", "name", "done"),
    ],
)
def test_should_send_a_step_asked_for_too_early_to_the_furthest_allowed(
    client_request, demo, enrol, reached, requested, furthest
):
    enrol.reach(reached)

    client_request.get(f"/enroll/{requested}", _expected_redirect=f"/enroll/{furthest}")
    client_request.get(f"/enroll/{furthest}")


@pytest.mark.parametrize(
    "reached, requested",
    [
        ("credential-id", "get-app"),
        ("security-code", "get-app"),
        ("security-code", "credential-id"),
        ("name", "get-app"),
        ("name", "credential-id"),
        ("name", "security-code"),
    ],
)
def test_should_let_earlier_steps_be_shown_again(client_request, demo, enrol, reached, requested):
    enrol.reach(reached)
    client_request.get(f"/enroll/{requested}")


@pytest.mark.parametrize("reached", [step for step, _, _ in STEPS if step != "done"])
def test_should_start_at_the_furthest_allowed_step(client_request, demo, enrol, reached):
    enrol.reach(reached)
    client_request.get("/enroll", _expected_status=302, _expected_redirect=f"/enroll/{reached}")


def test_should_start_a_new_run_after_a_saved_token(client_request, demo, enrol):
    """ "Add a token" once a token is saved begins again, not on the last run's Done page."""
    enrol.reach("done")
    client_request.get("/enroll", _expected_status=302, _expected_redirect="/enroll/get-app")
    client_request.get("/enroll/done", _expected_status=303, _expected_redirect="/enroll/get-app")


@pytest.mark.parametrize(
    "url, data",
    [
        ("/enroll/credential-id", {"credential_id": "SYMC12345678"}),
        ("/enroll/security-code", {"code": "123456"}),
        ("/enroll/name", {"nickname": "Sneaky"}),
        ("/enroll/backup", {"choice": "decline"}),
    ],
)
def test_cant_post_a_step_too_early(client_request, demo, store, url, data):
    client_request.post(url, data, _expected_redirect="/enroll/get-app")

    assert store.audit("enrollment.code") == []
    assert [t.nickname for t in store.prescriber_tokens()] == ["iPhone token app", "Old Android"]


def test_should_tell_htmx_to_load_the_furthest_allowed_step(client_request, demo):
    page = client_request.get("/enroll/name", _htmx=True, _expected_status=200)
    assert page.headers["HX-Redirect"] == "/enroll/get-app"


# --- htmx partials and full pages ------------------------------------------------------------


@pytest.mark.parametrize("step, number, title", STEPS)
def test_should_give_htmx_the_step_alone_with_an_out_of_band_indicator(
    client_request, demo, enrol, step, number, title
):
    enrol.reach(step)

    page = client_request.get(f"/enroll/{step}", _htmx=True)

    assert "<html" not in page.html and "<body" not in page.html
    assert "hx-history-elt" not in page.html
    indicator = page.select_one('nav#step-indicator[hx-swap-oob="true"]')
    assert indicator is not None
    assert title in indicator.select_one('[aria-current="step"]').text
    announcer = page.select_one("#announcer")
    assert announcer.get("hx-swap-oob") is not None
    assert announcer.text == f"Step {number} of 5: {title}"
    assert "hx-request" in vary(page.response)


@pytest.mark.parametrize("step, number, title", STEPS)
def test_should_give_a_full_page_naming_every_step_and_marking_this_one(
    client_request, demo, enrol, step, number, title
):
    enrol.reach(step)

    page = client_request.get(f"/enroll/{step}")

    assert page.select_one("html") is not None
    indicator = page.select_one("nav#step-indicator")
    assert indicator.get("hx-swap-oob") is None
    items = indicator.select("li")
    assert [i.select_one(".step-indicator__label").text for i in items] == [t for _, _, t in STEPS]
    current = [i for i in items if i.get("aria-current") == "step"]
    assert len(current) == 1
    assert title in current[0].text and "current step" in current[0].text
    assert f"Step {number} of 5" in page.h1
    assert "hx-request" in vary(page.response)


@pytest.mark.parametrize("step, number, title", STEPS)
def test_should_give_htmx_the_full_page_when_it_restores_history(
    client_request, demo, enrol, step, number, title
):
    enrol.reach(step)

    page = client_request.get(
        f"/enroll/{step}", _htmx=True, _headers={"HX-History-Restore-Request": "true"}
    )

    assert page.select_one("html") is not None
    assert page.select_one("nav#step-indicator").get("hx-swap-oob") is None


def test_should_configure_htmx_to_swap_422_and_keep_no_history(client_request, demo):
    page = client_request.get("/enroll/get-app")

    config = json.loads(page.select_one('meta[name="htmx-config"]')["content"])
    assert config["historyCacheSize"] == 0
    assert {"code": "422", "swap": True} in config["responseHandling"]
    assert config.get("allowEval") is False
    assert page.select_one("body")["hx-history"] == "false"


def test_should_walk_every_step_with_htmx(client_request, demo, vip):
    credential = vip.issue()
    posts = [
        ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}, 2),
        ("/enroll/credential-id", {"credential_id": credential.credential_id}, 3),
        ("/enroll/security-code", {"code": lambda: vip.code(credential)}, 4),
        ("/enroll/name", {"nickname": "Work iPhone"}, 5),
    ]
    for url, data, next_number in posts:
        data = {k: (v() if callable(v) else v) for k, v in data.items()}
        page = client_request.post(url, data, _htmx=True, _expected_status=200)

        next_step, _, next_title = STEPS[next_number - 1]
        assert page.headers["HX-Push-Url"] == f"/enroll/{next_step}"
        assert "<html" not in page.html
        assert page.text("#announcer") == f"Step {next_number} of 5: {next_title}"
        assert next_title in page.text('[aria-current="step"]')
        assert "hx-request" in vary(page.response)
    assert "Your token is saved" in page.h1


def test_should_walk_every_step_by_plain_form_posts(client_request, demo, vip, store):
    credential = vip.issue()
    posts = [
        ("/enroll/get-app", {"platform": "android", "different_device": "y"}),
        ("/enroll/credential-id", {"credential_id": credential.credential_id}),
        ("/enroll/security-code", {"code": vip.code(credential)}),
        ("/enroll/name", {"nickname": "Work Android"}),
    ]
    for (url, data), (next_url) in zip(posts, URLS[1:], strict=True):
        page = client_request.post(url, data, _expected_redirect=next_url)
        assert "hx-push-url" not in {k.lower() for k in page.headers.keys()}
        client_request.get(next_url)

    assert store.tokens(credential.credential_id)[0].nickname == "Work Android"


def test_should_answer_an_invalid_htmx_post_with_422_and_the_errors(client_request, demo, enrol):
    enrol.reach("credential-id")

    page = client_request.post(
        "/enroll/credential-id", {"credential_id": ""}, _htmx=True, _expected_status=422
    )

    assert "<html" not in page.html
    assert page.text(".error-summary h2") == "There is a problem"
    assert page.headers.get("HX-Push-Url") in (None, "false")
    assert "hx-request" in vary(page.response)


# --- Start over ------------------------------------------------------------------------------


def test_should_clear_the_progress_when_starting_over(client_request, demo, enrol):
    enrol.reach("name")

    client_request.post("/enroll/start-over", _expected_redirect="/enroll/get-app")

    page = client_request.get("/enroll/get-app")
    assert "We cleared what you entered" in page.text("main")
    assert not page.select('input[name="device"][checked]')
    assert not page.select('input[name="different_device"]')
    for url in URLS[1:]:
        client_request.get(url, _expected_redirect="/enroll/get-app")


def test_should_start_over_with_htmx(client_request, demo, enrol):
    enrol.reach("security-code")

    page = client_request.post("/enroll/start-over", _htmx=True, _expected_status=200)

    assert page.headers["HX-Push-Url"] == "/enroll/get-app"
    assert "Get the app or key fob" in page.h1
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


def test_should_offer_start_over_on_the_steps_with_progress(client_request, demo, enrol):
    enrol.reach("name")
    for url in URLS[:4]:
        page = client_request.get(url)
        form = page.select_one('form[action="/enroll/start-over"]')
        assert form is not None and form["method"] == "post", url


def test_should_keep_saved_tokens_when_starting_over(client_request, demo, enrol, store):
    credential = enrol.reach("done")
    client_request.post("/enroll/start-over", _expected_redirect="/enroll/get-app")
    assert store.tokens(credential.credential_id)[0].status == "Active"


# --- Progress survives a restart -------------------------------------------------------------


def test_should_keep_progress_across_a_server_restart(app, client, demo, enrol, make_app, vip):
    credential = enrol.reach("security-code")
    session_id = client.get_cookie("wizard_session").value
    settings = {
        "WIZARD_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WIZARD_SECRET_KEY": app.config["SECRET_KEY"],
        "WIZARD_SEED_KEY": app.config["SEED_KEY"],
    }
    with app.app_context():
        db.engine.dispose()

    restarted = make_app(schema=False, **settings)
    browser = restarted.test_client()
    browser.set_cookie("wizard_session", session_id)

    resumed = browser.get("/enroll")
    assert resumed.headers["Location"] == "/enroll/security-code"
    page = browser.get("/enroll/security-code").get_data(as_text=True)
    assert credential.credential_id in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    checked = browser.post(
        "/enroll/security-code", data={"code": vip.code(credential), "csrf_token": token}
    )
    assert checked.headers["Location"] == "/enroll/name"


# --- Replay of the enrollment code -----------------------------------------------------------


def test_cant_reuse_the_enrollment_code_in_a_new_run(client_request, demo, enrol, store):
    credential = enrol.reach("done")
    code = enrol.code
    store.set_status(credential.credential_id, "Deleted")
    client_request.post("/enroll/start-over", _expected_redirect="/enroll/get-app")
    enrol.choose_device()
    enrol.enter_credential(credential)

    page = client_request.post("/enroll/security-code", {"code": code}, _expected_status=422)

    assert page.error_summary[0][1].startswith(REUSED_START)
    assert [e.outcome for e in store.audit("enrollment.code")] == ["accepted", "reused"]


def test_cant_reuse_the_enrollment_code_at_the_authority(app, demo, enrol):
    credential = enrol.reach("done")

    with app.app_context():
        verdict = app.extensions["token_authority"].verify(
            credential.credential_id, enrol.code, app.config["CLOCK"]()
        )

    assert verdict.outcome == "reused"


# --- The code is never shown back ------------------------------------------------------------


def test_should_never_show_the_code_in_any_page(client, client_request, demo, enrol, vip, clock):
    credential = enrol.reach("security-code")
    wrong = vip.wrong_code(credential)
    client_request.post("/enroll/security-code", {"code": wrong}, _expected_status=422)
    client_request.get("/enroll/security-code?clear=1")
    client_request.post("/enroll/security-code", {"code": wrong}, _htmx=True, _expected_status=422)
    enrol.enter_code()
    for url in URLS[:4]:
        client_request.get(url)
        client_request.get(url, _htmx=True)
    client_request.post(
        "/enroll/security-code", {"code": enrol.code}, _expected_status=422
    )  # reused
    client_request.post("/enroll/name", {"nickname": ""}, _expected_status=422)
    enrol.save()
    client_request.get("/enroll/done")
    client_request.get("/")

    pages = [r for r in client.responses if not r.request.path.startswith("/sandbox/")]
    assert len(pages) > 20
    for response in pages:
        body = response.get_data(as_text=True)
        for code in (enrol.code, wrong):
            assert not re.search(rf"(?<![0-9]){code}(?![0-9])", body), response.request.path


@pytest.mark.parametrize("key_fob", [False, True], ids=["app", "key-fob"])
@pytest.mark.parametrize("oob", [False, True], ids=["in-band", "out-of-band"])
def test_should_keep_each_step_indicator_as_it_renders(app, key_fob, oob):
    titles = steps.titles(key_fob=key_fob)
    with app.app_context():
        for number, step in enumerate(steps.ORDER, start=1):
            kept = step_indicator(step, key_fob, oob)
            assert kept is step_indicator(step, key_fob, oob)  # rendered once
            nav = BeautifulSoup(str(kept), "html.parser").select_one("nav#step-indicator")
            assert (nav.get("hx-swap-oob") == "true") is oob
            states = [li["class"][-1].rsplit("--", 1)[1] for li in nav.select("li")]
            assert states == ["complete"] * (number - 1) + ["current"] + ["todo"] * (5 - number)
            current = nav.select_one('[aria-current="step"]')
            assert titles[step] in current.text
