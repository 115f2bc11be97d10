"""The pieces of HTML that nearly every page repeats: a form's field group, error summary,
CSRF field and button, the wizard's start-over form and the flashed messages.

They are Jinja globals written in Python rather than macros: calling a macro costs more than
the piece it writes, and a step page called six of them. Each writes exactly what its macro
did (tests/web/test_form_rendering.py keeps the macros as the reference).
"""

from __future__ import annotations

from flask import get_flashed_messages
from markupsafe import Markup, escape
from wtforms import Field

from wizard.web.csrf import csrf_token
from wizard.web.urls import fixed_url


def csrf_field() -> Markup:
    token = escape(csrf_token())
    return Markup(f'<input type="hidden" name="csrf_token" value="{token}">')  # noqa: S704


def button(text: str, name: str | None = None, value: str | None = None, kind="primary") -> Markup:
    named = f' name="{escape(name)}" value="{escape(value)}"' if name else ""
    kind = escape(kind)
    return Markup(  # noqa: S704 - every value escaped
        f'<button class="button button--{kind}" type="submit"{named}>{escape(text)}</button>'
    )


def start_over() -> Markup:
    """Back to step 1 with nothing kept: on every step."""
    return Markup(  # noqa: S704 - a fixed URL and an escaped token
        f'<form class="start-over" method="post" action="{escape(fixed_url("enrol.start_over"))}">'
        f'\n{csrf_field()}\n<button class="link-button" type="submit">Start over</button>\n</form>'
    )


def error_summary(errors) -> Markup:
    """(field id, message) pairs as the list a screen reader reads first, each a link to the
    field."""
    if not errors:
        return Markup("")
    items = "\n".join(
        f'<li><a href="#{escape(field_id)}">{escape(message)}</a></li>'
        for field_id, message in errors
    )
    return Markup(  # noqa: S704 - every value escaped
        '<div class="error-summary" role="alert" tabindex="-1" '
        'aria-labelledby="error-summary-title" data-error-summary>\n'
        f'<h2 id="error-summary-title">There is a problem</h2>\n<ul>\n{items}\n</ul>\n</div>'
    )


def flashes() -> Markup:
    return Markup(  # noqa: S704 - every value escaped
        "\n".join(
            f'<div class="notice notice--{escape(category)}" role="status">{escape(message)}</div>'
            for category, message in get_flashed_messages(with_categories=True)
        )
    )


def field_error(field: Field) -> Markup:
    """The message next to an invalid field, tied to it by id (aria-describedby)."""
    if not field.errors:
        return Markup("")
    return Markup(  # noqa: S704 - both values escaped
        f'<p class="field-error" id="{escape(field.id)}-error">'
        f'<span class="visually-hidden">Error:</span> {escape(field.errors[0])}</p>'
    )


def text_field(
    field: Field,
    hint: str | None = None,
    label_class: str = "",
    type: str | None = None,  # noqa: A002 - the input's own attribute name
    value: str | None = None,
    caller=None,
    **attributes,
) -> Markup:
    """A text or passphrase field as a group: label, hint, error and input tied together for
    assistive technology. Called from templates, with {% call %} for something to show
    under the input; written here rather than as a Jinja macro, whose call costs more than
    the rest of the field on every page that has one."""
    ids = f"{field.id}-hint " if hint else ""
    if field.errors:
        ids += f"{field.id}-error"
        attributes["aria-invalid"] = "true"
    if ids:
        attributes["aria-describedby"] = ids.strip()
    control = field(
        class_="input input--error" if field.errors else "input",
        type=type or field.widget.input_type,
        value=value if value is not None else (field.data or ""),
        **attributes,
    )
    group = "form-group form-group--error" if field.errors else "form-group"
    parts = [
        f'<div class="{group}">',
        f'<label class="label {escape(label_class)}" for="{escape(field.id)}">'
        f"{escape(field.label.text)}</label>",
    ]
    if hint:
        parts.append(f'<p class="hint" id="{escape(field.id)}-hint">{escape(hint)}</p>')
    parts += [field_error(field), control]
    if caller is not None:
        parts.append(caller())
    parts.append("</div>")
    return Markup("\n".join(parts))  # noqa: S704 - every value escaped above or by WTForms
