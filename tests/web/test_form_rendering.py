"""Our text and passphrase inputs render exactly as WTForms' own widgets do (BaseForm gives
them a faster attribute writer): every field of every form, filled in or not, with the
attributes the templates pass."""

from __future__ import annotations

import pytest
from flask import Flask
from markupsafe import Markup
from wtforms.widgets import PasswordInput, TextInput

import wizard.web.auth.forms
import wizard.web.enrol.forms
import wizard.web.helpdesk.forms
import wizard.web.tokens.forms  # noqa: F401 - each module defines forms
from wizard.web.forms import BaseForm, html_attributes


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
