"""Shared form behaviour: stripped input, messages that read alike, error summary order."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import DataRequired, Length


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text field."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if _strip not in filters:
                filters = [_strip, *filters]
            return unbound_field.bind(form=form, filters=filters, **options)

    def error_summary(self) -> list[tuple[str, str]]:
        """(field id, first message) for each invalid field, in page order; a message shared
        by several fields (a vague sign-in failure) is listed once, at the first."""
        seen, summary = set(), []
        for field in self:
            if field.errors and field.errors[0] not in seen:
                seen.add(field.errors[0])
                summary.append((field.id, field.errors[0]))
        return summary


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class EmptyForm(BaseForm):
    """Gives button-only POST forms their CSRF token."""


def required(noun: str) -> DataRequired:
    return DataRequired(message=f"Enter {noun}")


def at_most(count: int, noun: str) -> Length:
    return Length(max=count, message=f"{noun} must be {count} characters or fewer")


def add_error(field: Field, message: str) -> None:
    field.errors = [*list(field.errors or []), message]
