"""Our text and passphrase inputs render exactly as WTForms' own widgets do (BaseForm gives
them a faster attribute writer): every field of every form, filled in or not, with the
attributes the templates pass."""

from __future__ import annotations

import re

import pytest
from flask import Flask, flash
from flask import session as flask_session
from markupsafe import Markup
from wtforms.widgets import PasswordInput, TextInput

import wizard.web.auth.forms
import wizard.web.enrol.forms
import wizard.web.helpdesk.forms
import wizard.web.tokens.forms  # noqa: F401 - each module defines forms
from wizard.web import parts
from wizard.web.forms import BaseForm, html_attributes
from wizard.web.parts import field_error, text_field


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


# The other pieces as their macros wrote them: the reference for wizard/web/parts.py.
PIECES = """
{% macro error_summary(errors) -%}
{% if errors %}
<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title"
 data-error-summary>
  <h2 id="error-summary-title">There is a problem</h2>
  <ul>
    {% for field_id, message in errors %}
    <li><a href="#{{ field_id }}">{{ message }}</a></li>
    {% endfor %}
  </ul>
</div>
{% endif %}
{%- endmacro %}
{% macro csrf() -%}
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
{%- endmacro %}
{% macro start_over() -%}
<form class="start-over" method="post" action="{{ fixed_url('enrol.start_over') }}">
  {{ csrf() }}
  <button class="link-button" type="submit">Start over</button>
</form>
{%- endmacro %}
{% macro button(text, name=None, value=None, kind="primary") -%}
<button class="button button--{{ kind }}" type="submit"{% if name %} name="{{ name }}"
 value="{{ value }}"{% endif %}>{{ text }}</button>
{%- endmacro %}
{% macro flashes() -%}
{% with messages = get_flashed_messages(with_categories=true) %}
{% for category, message in messages %}
<div class="notice notice--{{ category }}" role="status">{{ message }}</div>
{% endfor %}
{% endwith %}
{%- endmacro %}
"""
PIECE_CALLS = [
    "{{ error_summary([]) }}",
    "{{ error_summary(errors) }}",
    "{{ csrf() }}",
    "{{ start_over() }}",
    "{{ button('Continue') }}",
    "{{ button(tricky, name='action', value=tricky, kind='secondary') }}",
    "{{ flashes() }}",
]


@pytest.mark.parametrize("call", PIECE_CALLS)
@pytest.mark.parametrize("flashed", [0, 2], ids=["nothing-flashed", "two-flashed"])
def test_should_write_each_page_piece_as_its_macro_did(app, call, flashed):
    errors = [("npi", TRICKY), ("passphrase", Markup("<b>safe</b> & sound"))]
    ours = app.jinja_env.from_string(call)
    macro = app.jinja_env.from_string(
        PIECES.replace("\n data-", " data-").replace("\n value=", " value=") + call
    )
    with app.test_request_context("/enroll/credential-id"):
        for n in range(flashed):
            flash(TRICKY if n else Markup("Saved <a href='/tokens'>your token</a>"), "success")
        expected = _tags(macro.render(errors=errors, tricky=TRICKY))
        flask_session.pop("_flashes", None)  # read by the first render; flash again
        for n in range(flashed):
            flash(TRICKY if n else Markup("Saved <a href='/tokens'>your token</a>"), "success")
        assert _tags(ours.render(errors=errors, tricky=TRICKY)) == expected
        assert ("notice" in expected) == (flashed > 0 and "flashes" in call)


def test_should_give_the_pieces_to_every_template(app):
    for name in ("text_field", "field_error", "error_summary", "csrf", "button", "start_over"):
        assert app.jinja_env.globals[name].__module__ == parts.__name__
