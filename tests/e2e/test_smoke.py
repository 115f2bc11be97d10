"""The live server answers and Chromium reaches it, with and without JavaScript."""

from playwright.sync_api import Page


def test_healthz_answers_200(page: Page, base_url: str) -> None:
    response = page.goto(base_url + "/healthz")
    assert response is not None
    assert response.status == 200


def test_healthz_answers_200_without_javascript(nojs_page: Page) -> None:
    response = nojs_page.goto("/healthz")
    assert response is not None
    assert response.status == 200
