"""Issue 14: the signed-in prescriber's navigation (Account, Tokens, Add a token, Help) with the
current page marked, page parts that line up, and the Help page."""

from __future__ import annotations

import pytest

NAV = ["Account", "Tokens", "Add a token", "Help"]


def nav_of(page) -> list[tuple[str, str, str | None]]:
    return [
        (a.text, a["href"], a.get("aria-current"))
        for a in page.select('nav[aria-label="Your account"] a')
    ]


@pytest.mark.parametrize(
    "url, current",
    [
        ("/", "Account"),
        ("/tokens", "Tokens"),
        ("/tokens?deleted=1", "Tokens"),
        ("/enroll/get-app", "Add a token"),
        ("/help", "Help"),
    ],
)
def test_should_mark_the_current_page_in_the_navigation(client_request, demo, url, current):
    page = client_request.get(url)
    items = nav_of(page)
    assert [label for label, _, _ in items] == NAV
    assert [href for _, href, _ in items] == ["/", "/tokens", "/enroll", "/help"]
    assert [label for label, _, mark in items if mark == "page"] == [current]


def test_should_mark_tokens_on_a_tokens_action_page(client_request, demo, store):
    [token, *_] = store.prescriber_tokens()
    page = client_request.get(f"/tokens/{token.id}/history")
    assert [label for label, _, mark in nav_of(page) if mark == "page"] == ["Tokens"]


@pytest.mark.parametrize("url", ["/", "/sign-in", "/help", "/start"])
def test_cant_see_the_navigation_when_signed_out(client_request, url):
    assert nav_of(client_request.get(url)) == []


def test_the_header_keeps_its_place_on_the_token_table(client_request, demo):
    """Going from Account to Tokens must not move the brand, navigation and sign-out sideways:
    /tokens uses the same container as every page, its content aligned with the header."""
    for url in ("/", "/tokens"):
        page = client_request.get(url)
        frames = [
            page.select_one(".site-header__inner"),
            page.select_one(".site-nav__list"),
            page.select_one("main").parent,
            page.select_one(".site-footer div"),
        ]
        assert all(e["class"].split()[0] == "container" for e in frames), (url, frames)
        assert not page.select(".container--wide"), url


def test_the_help_page_says_what_to_do_when_stuck(client_request, demo, app):
    page = client_request.get("/help")
    text = page.text("main")
    assert page.h1 == "Help"
    for heading in (
        "If you are stuck",
        "A security code does not match",
        "A token is lost or stolen",
        "No Active token left",
        "You forgot your passphrase",
    ):
        assert heading in [h.text for h in page.select("h2")]
    code = page.text("footer .support-code")
    assert code and code in page.text("main .support-code")
    assert app.config["HELP_DESK_TEXT"] in text
    links = {a.text: a["href"] for a in page.select("main a")}
    assert links["Report a lost token"] == "/lost-token"
    assert links["Reset your passphrase"] == "/forgot-passphrase"
    assert links["add a backup token"] == "/enroll"


def test_the_help_page_says_a_token_reported_lost_can_be_reactivated_within_30_days(
    client_request,
):
    page = client_request.get("/help")
    lost = page.select_one("#lost").find_next("p").find_next("p").text
    assert "If you find it within 30 days, you can reactivate it" in lost
    assert "reactivate it within 30 days" in page.text("main")


def test_the_help_page_shows_the_help_desk_text_from_the_configuration(make_app):
    app = make_app(WIZARD_HELP_DESK_TEXT="Call Pat at extension 4242.")
    response = app.test_client().get("/help")
    assert response.status_code == 200
    assert "Call Pat at extension 4242." in response.get_data(as_text=True)


def test_every_page_footer_links_to_the_help_page(client_request):
    for url in ("/", "/sign-in", "/start", "/lost-token"):
        footer = client_request.get(url).select_one("footer")
        assert [a["href"] for a in footer.select("a")] == ["/help"]


def test_help_desk_pages_do_not_send_agents_to_the_help_desk(client_request):
    footer = client_request.get("/helpdesk/sign-in").text("footer")
    assert "call your organization's EPCS help desk" not in footer
    assert "read only" in footer


def test_should_build_links_under_the_path_the_app_is_mounted_at(client, demo):
    """Links built once (navigation, static files, step forms) follow the mount point of each
    request: a proxy serving the app under /epcs gets /epcs links, the same app at / plain ones."""
    from tests.support.pages import read_page

    def page(script_name: str):
        base = f"http://localhost{script_name}"
        response = client.get("/enroll/credential-id", base_url=base)
        if response.status_code == 303:  # to the step the session may see
            location = response.headers["Location"].removeprefix(script_name)
            response = client.get(location, base_url=base)
        assert response.status_code == 200
        return read_page(response)

    for prefix in ("/epcs", "", "/epcs"):
        html = page(prefix)
        assert [a["href"] for a in html.select('nav[aria-label="Your account"] a')] == [
            f"{prefix}/",
            f"{prefix}/tokens",
            f"{prefix}/enroll",
            f"{prefix}/help",
        ]
        assert html.select_one('link[rel="stylesheet"]')["href"] == f"{prefix}/static/css/app.css"
        assert html.select_one("form.start-over, form")["action"].startswith(f"{prefix}/")
