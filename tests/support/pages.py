"""Reading HTML in the tests (BeautifulSoup over html.parser), and the house rules every
page the tests read must keep.

`parse_html(html)` gives a document whose elements answer CSS selectors (`select`,
`select_one`), attributes (`element["href"]`, `element.get("id")`) and `text`: what a
person reads, the strings inside with spaces normalized. Multi-valued attributes stay
strings (`element["class"]` is "button button--primary").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, Tag


def normalize_spaces(text: str) -> str:
    return " ".join(text.split())


class Element(Tag):
    """A parsed element; its `text` is what a person reads (spaces normalized)."""

    @property
    def text(self) -> str:
        return normalize_spaces(self.get_text(" "))


def parse_html(html: str) -> BeautifulSoup:
    return BeautifulSoup(
        html, "html.parser", multi_valued_attributes=None, element_classes={Tag: Element}
    )


# --- House rules ---------------------------------------------------------------------------

# Controls a person fills in or chooses: each needs a label.
_UNLABELED_INPUTS = {"hidden", "submit", "button", "reset", "image"}


def check_house_rules(html: str, doc: BeautifulSoup) -> None:
    """What every HTML page and partial must get right: one h1 (a partial that swaps a
    step brings its h1, one that updates a panel brings none), forms with an action and a
    CSRF field, unique ids, every field labeled, every reference to an id pointing at one,
    nothing inline that the Content-Security-Policy would block.

    (US English is checked on every page the app renders in a test: tests/conftest.py.)"""
    elements = doc.find_all(True)
    full_page = doc.find("html") is not None
    headings = [e.text for e in elements if e.name == "h1"]
    if full_page:
        assert doc.html.get("lang"), "the page has no <html lang>"
        assert len(doc.find_all("main")) == 1, "a page has one <main>"
        assert len(headings) == 1, f"expected one <h1>, found {headings}"
    else:
        assert "<body" not in html and "<head" not in html, "a partial carries no page frame"
        assert len(headings) <= 1, f"a partial with more than one <h1>: {headings}"

    ids = [e["id"] for e in elements if "id" in e.attrs]
    known = set(ids)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids {duplicates}"
    labeled = {e["for"] for e in elements if e.name == "label" and e.get("for")}
    for element in elements:
        _check_element(element, known, labeled)
    for link in doc.select(".error-summary a"):
        assert link["href"].startswith("#") and link["href"][1:] in known, (
            f"error summary link {link['href']!r} points at no field"
        )


def _check_element(element: Any, known: set[str], labeled: set[str]) -> None:
    name, attrs = element.name, element.attrs
    if name == "form":
        assert attrs.get("action"), f"a form has no action: {_start_tag(element)}"
        if (attrs.get("method") or "get").lower() == "post":
            assert element.find("input", attrs={"name": "csrf_token"}), (
                f"a POST form has no CSRF input: {_start_tag(element)}"
            )
    # Content-Security-Policy default-src 'self': nothing inline would run or apply.
    assert name != "style", "inline <style> is blocked by the CSP"
    assert "style" not in attrs, f"inline style is blocked by the CSP: {_start_tag(element)}"
    handlers = [a for a in attrs if a.startswith("on")]
    assert not handlers, f"inline event handlers are blocked by the CSP: {_start_tag(element)}"
    if name == "script":
        assert (attrs.get("src") or "").startswith("/"), f"inline or foreign script: {element}"
    for attribute in ("aria-describedby", "aria-labelledby", "aria-controls"):
        for ref in (attrs.get(attribute) or "").split():
            assert ref in known, f"{attribute}={ref!r} points at nothing: {_start_tag(element)}"
    if name == "label" and attrs.get("for"):
        assert attrs["for"] in known, f"label for={attrs['for']!r} points at nothing"
    if name == "img":
        assert "alt" in attrs, f"an image without alt text: {_start_tag(element)}"
    if _needs_label(element):
        assert (
            attrs.get("id") in labeled
            or element.find_parent("label") is not None
            or attrs.get("aria-label")
            or attrs.get("aria-labelledby")
        ), f"a field without a label: {_start_tag(element)}"


def _needs_label(element: Any) -> bool:
    if element.name in ("select", "textarea"):
        return True
    return element.name == "input" and element.get("type", "text") not in _UNLABELED_INPUTS


def _start_tag(element: Any) -> str:
    attrs = " ".join(f'{k}="{v}"' for k, v in element.attrs.items())
    return f"<{element.name} {attrs}>"


# --- A response and its document -----------------------------------------------------------


@dataclass
class Page:
    """A response with its parsed HTML."""

    response: Any  # werkzeug's TestResponse, or support.http's Reply
    doc: BeautifulSoup

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self):
        return self.response.headers

    @property
    def html(self) -> str:
        return self.response.get_data(as_text=True)

    def select(self, selector: str) -> list[Element]:
        return self.doc.select(selector)

    def select_one(self, selector: str) -> Element | None:
        return self.doc.select_one(selector)

    def text(self, selector: str) -> str:
        found = self.doc.select_one(selector)
        assert found is not None, f"nothing matches {selector!r}"
        return found.text

    @property
    def h1(self) -> str:
        return self.text("h1")

    @property
    def error_summary(self) -> list[tuple[str, str]]:
        """(link target, message) of each error summary entry."""
        return [(a["href"], a.text) for a in self.select(".error-summary a")]


def read_page(response: Any) -> Page:
    """The response parsed; an HTML page or partial that is not a redirect is checked
    against the house rules first."""
    body = response.get_data(as_text=True)
    if response.mimetype != "text/html":
        return Page(response, parse_html(""))
    doc = parse_html(body)
    redirected = response.location or "HX-Redirect" in response.headers
    if body.strip() and not redirected:
        check_house_rules(body, doc)
    return Page(response, doc)


def page_text(response: Any) -> str:
    """What a person reads on the response's page, spaces normalized (the house rules
    checked, as read_page does); any other body as it is, spaces normalized."""
    if response.mimetype != "text/html":
        return normalize_spaces(response.get_data(as_text=True))
    return normalize_spaces(read_page(response).doc.get_text(" "))
