"""Forms of the token table's actions."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, RadioField, StringField
from wtforms.validators import InputRequired

from wizard.domain.tokens import NICKNAME_MAX
from wizard.web.forms import BaseForm, at_most, required

LAST_ONE_WARNING = (
    "I understand that without an Active token I must complete the entire identity proofing again"
)


class LastTokenMixin:
    """The second confirmation for the last Active token: the consequence, and a code."""

    acknowledge = BooleanField(LAST_ONE_WARNING)
    code = PasswordField("Security code from this token")


class DisableForm(LastTokenMixin, BaseForm):
    reason = RadioField(
        "Why are you disabling this token?",
        choices=[
            ("temporary", "Temporarily unavailable: I can enable it again later"),
            ("lost", "Lost, stolen or compromised: it stops working for good"),
        ],
        validators=[InputRequired(message="Select why you are disabling this token")],
    )


class DeleteForm(LastTokenMixin, BaseForm):
    pass


class EnableForm(BaseForm):
    code = PasswordField(
        "Security code from this token", validators=[required("the security code")]
    )


class RenameForm(BaseForm):
    nickname = StringField(
        "Token name",
        validators=[required("a name for this token"), at_most(NICKNAME_MAX, "The name")],
    )
