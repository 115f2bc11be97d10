"""House rule (issue 14): the users are US prescribers, so every page, message, command output,
mail text and document is in US English. British spellings are looked for in the templates, in
every Python string of the application and its bench, in the docs, scripts and static files;
and tests/conftest.py checks every HTML page any test renders (see support/us_english.py).

Names in code stay as they are (the `enrol` blueprint and templates/enrol/, database columns
such as `organisation`): they are identifiers, not text anyone reads.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from support.us_english import british_words, check_page, html_text

ROOT = Path(__file__).resolve().parents[2]


def is_name(literal: str) -> bool:
    """A string in code that names something rather than saying it: one lower-case word, or
    one token with path or key punctuation ("enrol", "enrol.", "enrol/", "main.home")."""
    if any(c.isspace() for c in literal):
        return False
    return literal.islower() or bool(re.search(r"[./_:{}-]", literal))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize(
    "text, found",
    [
        ("Call your organisation's help desk.", ["organisation"]),
        ("We recognised it and normalised the spaces.", ["recognised", "normalised"]),
        ("Resynchronise the key fob; the request was cancelled.", ["Resynchronise", "cancelled"]),
        ("Its colour and behaviour", ["colour", "behaviour"]),
        ("Practise enrolment, then enrol.", ["Practise", "enrolment", "enrol"]),
        ("Tick the box", ["tick the box"]),
        ("The paediatric licence", ["paediatric", "licence"]),
        ("organization, recognize, normalize, canceled, color, behavior, license", []),
        ("practice as a noun and a verb, enrollment, enroll, cancellation", []),
        ("url_for('enrol.start'), organisation_id, OrganisationGrant, enrol/_page.html", []),
        ("advise, promise, exercise, surprise, premise, expertise, tour, hour, analyses", []),
    ],
)
def test_should_find_british_spellings_and_leave_identifiers_alone(text, found):
    assert british_words(text) == found


def test_should_read_a_page_as_it_is_read_aloud():
    html = (
        '<p class="colour">A <img alt="a grey key fob"> <a href="/enrol" title="recognise">'
        "link</a></p><script>var behaviour;</script>"
    )
    assert british_words(html_text(html)) == ["grey", "recognise"]
    with pytest.raises(AssertionError, match="British spellings"):
        check_page(html, "GET /example")


def _template_text(source: str) -> str:
    """A template's words: its text, and the strings inside its {{ }} and {% %} tags."""
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)

    def strings(match: re.Match) -> str:
        return " ".join(s for _, s in re.findall(r"([\"'])(.*?)\1", match.group(0)))

    return html_text(re.sub(r"{[{%].*?[}%]}", strings, source, flags=re.S))


TEMPLATES = sorted((ROOT / "templates").rglob("*.*"))


@pytest.mark.parametrize("path", TEMPLATES, ids=relative)
def test_templates_are_in_us_english(path):
    assert british_words(_template_text(path.read_text())) == [], relative(path)


def _python_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and not is_name(node.value)
    ]


PYTHON = sorted(
    path
    for folder in ("wizard", "bench", "scripts", "migrations")
    for path in (ROOT / folder).rglob("*.py")
)


@pytest.mark.parametrize("path", PYTHON, ids=relative)
def test_messages_and_command_output_are_in_us_english(path):
    found = [(s[:60], w) for s in _python_strings(path) for w in british_words(s)]
    assert found == [], relative(path)


DOCS = sorted(
    [
        ROOT / "README.md",
        ROOT / "Makefile",
        *(ROOT / "docs").glob("*.md"),
        *(p for p in (ROOT / "scripts").rglob("*") if p.is_file() and p.suffix in ("", ".sh")),
        *(ROOT / "static" / "js").glob("*.js"),
        *(ROOT / "static" / "img").glob("*.svg"),
        *(ROOT / "static" / "css").glob("*.css"),
    ]
)


@pytest.mark.parametrize("path", DOCS, ids=relative)
def test_docs_scripts_and_static_files_are_in_us_english(path):
    text = path.read_text()
    if path.suffix == ".md":
        text = re.sub(r"`[^`\n]+`", " ", text)  # inline code names things: `enrol`, a column
    assert british_words(text) == [], relative(path)
