"""Shared form behavior: stripped, plain and bounded input, messages that read alike, error
summary order."""

from __future__ import annotations

import re

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from markupsafe import Markup, escape
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, StopValidation
from wtforms.widgets import PasswordInput, TextInput
from wtforms.widgets.core import clean_key

# Longest value any text field takes; fields with a rule of their own (a token name, a
# username) are shorter. The request body as a whole is capped by MAX_CONTENT_LENGTH.
TEXT_MAX = 256
# C0 and C1 control characters (NUL, tab, line breaks, escape...) and the bidirectional
# overrides that make text display in another order than it is stored.
INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class PlainText:
    """Refuses invisible control characters and overlong values in a text field, before its
    other validators, with a message next to the field."""

    def __call__(self, form, field) -> None:
        value = field.data
        if not isinstance(value, str) or not value:
            return
        if INVISIBLE.search(value):
            raise StopValidation(
                f"{field.label.text} must not contain invisible characters such as tabs "
                "or line breaks"
            )
        if len(value) > TEXT_MAX:
            raise StopValidation(f"{field.label.text} must be {TEXT_MAX} characters or fewer")


def html_attributes(**attributes) -> Markup:
    """WTForms' html_params, attribute for attribute (sorted, True bare, False left out),
    without its Markup.format per attribute: several times faster, and every step page
    renders an input."""
    out = []
    for key, value in sorted(attributes.items()):
        if value is True:
            out.append(escape(clean_key(key)))
        elif value is not False:
            # escape() leaves a Markup value as it is: its quotes too, as WTForms does not.
            value = str(escape(value)).replace('"', "&quot;")
            out.append(f'{escape(clean_key(key))}="{value}"')
    return Markup(" ".join(out))  # noqa: S704 - every name and value escaped above


class _TextInput(TextInput):
    html_params = staticmethod(html_attributes)


class _PasswordInput(PasswordInput):
    html_params = staticmethod(html_attributes)


_TEXT_INPUT = _TextInput()


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text field and refuses control characters
    and overlong values in it (PlainText); reads form posts only."""

    class Meta:
        # CSRFProtect checks every POST before any view runs (wizard.extensions.csrf); a form's
        # own token field would check it a second time, and make and sign a token on every
        # page that shows a form, the pages themselves writing theirs with csrf_token().
        csrf = False

        def wrap_formdata(self, form, formdata):
            # Flask-WTF would also read a JSON body; our forms are HTML forms, and a JSON
            # object in a text field is refused as missing, not fed to the validators.
            if formdata is _Auto:
                return request.form if request.method in SUBMIT_METHODS else None
            return formdata

        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if _strip not in filters:
                filters = [_strip, *filters]
            if issubclass(unbound_field.field_class, StringField):
                validators = unbound_field.kwargs.get("validators") or []
                options = {**options, "validators": [PlainText(), *validators]}
            field = unbound_field.bind(form=form, filters=filters, **options)
            if type(field.widget) is TextInput:
                field.widget = _TEXT_INPUT
            elif type(field.widget) is PasswordInput:
                field.widget = _PasswordInput(field.widget.hide_value)
            return field

    def error_summary(self) -> list[tuple[str, str]]:
        """(field id, first message) for each invalid field, in page order; a message shared
        by several fields (a vague sign-in failure) is listed once, at the first."""
        seen, summary = set(), []
        for field in self:
            if field.errors and field.errors[0] not in seen:
                seen.add(field.errors[0])
                summary.append((field.id, field.errors[0]))
        return summary


SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# Characters that show nothing: a value of only these (a token named with a zero-width space)
# is as empty as one of only spaces.
_BLANK = " \t\n\r\f\v\u00a0\u200b\u200c\u200d\u2060\ufeff"


def _strip(value):
    return value.strip().strip(_BLANK).strip() if isinstance(value, str) else value


class EmptyForm(BaseForm):
    """A button-only POST form: nothing to read but the request method (its CSRF token is
    checked before the view)."""


def required(noun: str) -> DataRequired:
    return DataRequired(message=f"Enter {noun}")


def at_most(count: int, noun: str) -> Length:
    return Length(max=count, message=f"{noun} must be {count} characters or fewer")


def add_error(field: Field, message: str) -> None:
    field.errors = [*list(field.errors or []), message]
