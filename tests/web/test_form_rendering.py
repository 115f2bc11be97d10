"""Our text and passphrase inputs render exactly as WTForms' own widgets do (BaseForm gives
them a faster attribute writer): every field of every form, filled in or not, with the
attributes the templates pass."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from markupsafe import Markup
from wtforms.widgets import PasswordInput, TextInput

import wizard.web.auth.forms
import wizard.web.enrol.forms
import wizard.web.helpdesk.forms
import wizard.web.tokens.forms  # noqa: F401 - each module defines forms
from wizard.web.forms import BaseForm, field_error, html_attributes, text_field


def _forms(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_forms(sub)]
    return found


FORMS = sorted({f for f in _forms(BaseForm) if f.__module__.startswith("wizard.")}, key=str)
TRICKY = 'a "quoted" <b>value</b> & more'
ATTRIBUTES = {
    "class_": "input input--error",
    "aria-describedby": "x-hint x-error",
    "aria_invalid": "true",
    "autocomplete": "off",
    "spellcheck": "false",
    "data_note": TRICKY,
    "data_markup": Markup('x" onfocus="alert(1)'),  # "safe" text with a quote: still escaped
    "autofocus": True,
    "readonly": False,
}


@pytest.fixture
def flask_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 32, WTF_CSRF_ENABLED=False)
    return app


def test_should_find_the_forms():
    assert len(FORMS) >= 10


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("posted", [False, True], ids=["empty", "posted"])
def test_should_render_each_input_as_wtforms_does(flask_app, form_class, posted):
    fields = {name: TRICKY for name in dir(form_class) if not name.startswith("_")}
    with flask_app.test_request_context(
        method="POST" if posted else "GET", data=fields if posted else None
    ):
        form = form_class()
        if posted:
            form.validate()  # the errors a refused post shows
        for field in form:
            if isinstance(field.widget, PasswordInput):
                theirs = PasswordInput(field.widget.hide_value)
            elif isinstance(field.widget, TextInput):
                theirs = TextInput()
            else:
                continue
            assert type(field.widget) is not type(theirs)  # ours, not WTForms' own
            for attributes in ({}, ATTRIBUTES, {**ATTRIBUTES, "value": TRICKY}):
                assert str(field(**attributes)) == str(theirs(field, **attributes))


def test_should_write_attributes_as_wtforms_does():
    from wtforms.widgets.core import html_params

    assert html_attributes(**ATTRIBUTES) == html_params(**ATTRIBUTES)


# The field group as the Jinja macro wrote it before text_field moved to Python: the reference.
MACRO = """
{% macro described_by(field, hint) -%}
{%- set ids = [] -%}
{%- if hint %}{% set _ = ids.append(field.id ~ '-hint') %}{% endif -%}
{%- if field.errors %}{% set _ = ids.append(field.id ~ '-error') %}{% endif -%}
{{ ids | join(' ') }}
{%- endmacro %}
{% macro field_error(field) -%}
{% if field.errors %}
<p class="field-error" id="{{ field.id }}-error"><span class="visually-hidden">Error:</span> {{
field.errors[0] }}</p>
{% endif %}
{%- endmacro %}
{% macro text_field(field, hint=None, label_class="", type=None, value=None) -%}
{%- set attrs = dict(kwargs) -%}
{%- set describedby = described_by(field, hint) -%}
{%- if describedby %}{% set _ = attrs.update({"aria-describedby": describedby}) %}{% endif -%}
{%- if field.errors %}{% set _ = attrs.update({"aria-invalid": "true"}) %}{% endif -%}
<div class="form-group{% if field.errors %} form-group--error{% endif %}">
  <label class="label {{ label_class }}" for="{{ field.id }}">{{ field.label.text }}</label>
  {% if hint %}<p class="hint" id="{{ field.id }}-hint">{{ hint }}</p>{% endif %}
  {{ field_error(field) }}
  {{ field(class_="input" ~ (" input--error" if field.errors else ""),
           type=type or field.widget.input_type,
           value=value if value is not none else (field.data or ""),
           **attrs) }}
  {% if caller is defined %}{{ caller() }}{% endif %}
</div>
{%- endmacro %}
"""
CALLS = [
    "{{ text_field(field) }}",
    "{{ text_field(field, hint=tricky, autocomplete='off', spellcheck='false') }}",
    "{{ text_field(field, hint='6 digits.', type='password', value='', inputmode='numeric', "
    "**{'data-code-input': ''}) }}",
    "{{ text_field(field, label_class='label--wide', value=tricky, maxlength=None) }}",
    "{% call text_field(field, hint=tricky) %}<p><a href='#x'>{{ tricky }}</a></p>{% endcall %}",
]


def _tags(html: str) -> str:
    """The markup without the whitespace between tags (the macro's indentation)."""
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("posted", [False, True], ids=["empty", "refused"])
@pytest.mark.parametrize("call", CALLS)
def test_should_write_a_field_group_as_the_macro_did(flask_app, form_class, posted, call):
    fields = {name: TRICKY for name in dir(form_class) if not name.startswith("_")}
    ours = flask_app.jinja_env.from_string(call)
    ours.globals.update(text_field=text_field, field_error=field_error)
    macro = flask_app.jinja_env.from_string(MACRO + call)
    with flask_app.test_request_context(
        method="POST" if posted else "GET", data=fields if posted else None
    ):
        form = form_class()
        for field in form:
            if not isinstance(field.widget, TextInput | PasswordInput):
                continue
            if posted:
                field.errors = [TRICKY]  # what a refused post shows next to it
            expected = _tags(macro.render(field=field, tricky=TRICKY))
            assert _tags(ours.render(field=field, tricky=TRICKY)) == expected
            assert ("aria-invalid" in expected) == bool(field.errors)
