"""Issue 3, step 1: get the app on a device other than the one used to prescribe."""

import pytest

CONFIRM = "Confirm that the token will be on a different device from the one you use to prescribe"
SOFT_DEVICES = ["iPhone or iPad", "Android phone or tablet", "Windows computer", "Mac computer"]


def assert_device_error(page) -> None:
    """One error, linked to the device choice, asking to select (its wording may change as
    hard tokens join the choice)."""
    assert page.text(".error-summary h2") == "There is a problem"
    [(target, message)] = [e for e in page.error_summary if e[0] == "#device"]
    assert message.startswith("Select ")
    assert message in page.text("#device-error")
    assert "device-error" in page.select_one("fieldset")["aria-describedby"].split()


def test_step_1_heading_names_what_was_chosen(client_request, demo):
    """The step list says "Get the app or key fob"; once the device is known, the heading
    says which."""
    assert "Get the VIP Access app" in client_request.get("/enroll/get-app?device=iphone").h1
    assert "Get your key fob ready" in client_request.get("/enroll/get-app?device=onespan").h1


def test_should_ask_which_device_will_hold_the_token(client_request, demo):
    page = client_request.get("/enroll/get-app")

    assert "Get the app or key fob" in page.h1, "as the step list says, before a choice"
    choice = page.select_one('form[method="get"]')
    assert choice["action"] == "/enroll/get-app"
    labels = [page.text(f'label[for="{r["id"]}"]') for r in choice.select('input[name="device"]')]
    for device in SOFT_DEVICES:
        assert [label for label in labels if device in label], f"no choice for {device}"
    assert not [r for r in choice.select('input[name="device"]') if r.get("checked") is not None]
    assert "different device from the one you prescribe on" in page.text("main")
    assert not page.select('input[name="different_device"]'), "confirm once a device is chosen"


@pytest.mark.parametrize(
    "device, app_name, store, url",
    [
        (
            "iphone",
            "VIP Access for iPhone",
            "the App Store",
            "https://apps.apple.com/us/app/vip-access-for-iphone/id307658513",
        ),
        (
            "android",
            "Symantec VIP Access",
            "Google Play",
            "https://play.google.com/store/apps/details?id=com.verisign.mvip.main",
        ),
        ("windows", "VIP Access for Windows", "vip.symantec.com", "https://vip.symantec.com"),
        ("mac", "VIP Access for Mac", "vip.symantec.com", "https://vip.symantec.com"),
    ],
)
def test_should_show_the_app_for_the_device_chosen(
    client_request, demo, device, app_name, store, url
):
    page = client_request.get(f"/enroll/get-app?device={device}")

    assert page.select_one(f'input[name="device"][value="{device}"]').get("checked") is not None
    assert page.text("#app-name") == app_name
    card = page.text(".app-card")
    assert store in card
    assert "The app is free: if it asks you to pay, it is the wrong app." in card
    assert "gold circle" in card and "black check" in card
    assert page.select_one(f'.app-card a[href="{url}"]') is not None
    qr = page.select_one(".app-card svg.qr")
    assert qr is not None and app_name in qr["aria-label"]
    assert qr.select("path"), "the QR code is drawn inline"
    confirm = page.select_one('form[method="post"][action="/enroll/get-app"]')
    assert confirm.select_one('input[name="platform"]')["value"] == device
    checkbox = confirm.select_one('input[name="different_device"]')
    assert checkbox["type"] == "checkbox" and checkbox.get("checked") is None
    assert "different device" in page.text(f'label[for="{checkbox["id"]}"]')


def test_should_ask_again_when_the_device_choice_is_empty(client_request, demo):
    page = client_request.get("/enroll/get-app?device=", _expected_status=422)
    assert_device_error(page)
    assert len(page.error_summary) == 1


def test_should_ask_for_the_device_confirmation(client_request, demo):
    page = client_request.post("/enroll/get-app", {"platform": "android"}, _expected_status=422)

    assert page.text(".error-summary h2") == "There is a problem"
    assert page.error_summary == [("#different_device", CONFIRM)]
    checkbox = page.select_one("#different_device")
    assert checkbox["aria-invalid"] == "true"
    assert "different_device-error" in checkbox["aria-describedby"].split()
    assert CONFIRM in page.text("#different_device-error")
    assert page.text("#app-name") == "Symantec VIP Access", "the chosen device stays chosen"
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


@pytest.mark.parametrize("platform", [None, "", "nokia"])
def test_should_ask_for_the_device_when_none_is_posted(client_request, demo, platform):
    data = {"different_device": "y"}
    if platform is not None:
        data["platform"] = platform

    page = client_request.post("/enroll/get-app", data, _expected_status=422)

    assert_device_error(page)
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


def test_should_go_to_the_credential_id_once_the_device_is_confirmed(client_request, demo):
    client_request.post(
        "/enroll/get-app",
        {"platform": "iphone", "different_device": "y"},
        _expected_redirect="/enroll/credential-id",
    )
    client_request.get("/enroll/credential-id")


def test_should_show_the_device_and_confirmation_again_on_the_way_back(client_request, demo, enrol):
    enrol.reach("credential-id", device="android")

    page = client_request.get("/enroll/get-app")

    assert page.select_one('input[value="android"]').get("checked") is not None
    assert page.select_one("#different_device").get("checked") is not None
    assert page.text("#app-name") == "Symantec VIP Access"


def test_should_ask_for_the_confirmation_again_for_another_device(client_request, demo, enrol):
    enrol.reach("credential-id", device="android")

    page = client_request.get("/enroll/get-app?device=iphone")

    assert page.text("#app-name") == "VIP Access for iPhone"
    assert page.select_one("#different_device").get("checked") is None


def test_should_remember_the_device_shown_when_the_prescriber_comes_back(client_request, demo):
    """Issue 14: "Show me how" for a device, then away (to install the app, say) and back."""
    client_request.get("/enroll/get-app?device=android&show=1")
    client_request.get("/help")

    page = client_request.get("/enroll/get-app")

    assert page.select_one('input[value="android"]').get("checked") is not None
    assert page.text("#app-name") == "Symantec VIP Access"
    assert page.select_one("#different_device").get("checked") is None, "not confirmed yet"
    client_request.get("/enroll/credential-id", _expected_redirect="/enroll/get-app")


def test_should_remember_the_device_shown_last_over_the_one_saved(client_request, demo, enrol):
    enrol.reach("credential-id", device="android")
    client_request.get("/enroll/get-app?device=onespan&show=1")

    page = client_request.get("/enroll/get-app")

    assert page.select_one('input[value="onespan"]').get("checked") is not None
    assert "Get your key fob ready" in page.h1
    client_request.get("/enroll/credential-id")  # the saved device's step 2 is still open


def test_cant_remember_a_device_that_does_not_exist(client_request, demo):
    client_request.get("/enroll/get-app?device=nokia&show=1", _expected_status=422)
    page = client_request.get("/enroll/get-app")
    assert page.select('input[name="device"][checked]') == []
