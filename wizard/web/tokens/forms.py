"""Forms of the token table's actions."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, RadioField, SelectChoice, StringField
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
            SelectChoice("temporary", "Temporarily unavailable: I can enable it again later"),
            SelectChoice("lost", "Lost, stolen or compromised: it is suspended at once"),
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


class ReactivateForm(EnableForm):
    """A suspended token back: a current code from it proves it is in hand again."""


LAST_ONE_LOST = (
    "I understand that until I reactivate this token, I cannot sign in or prescribe "
    "controlled substances electronically"
)


class ReportLostForm(BaseForm):
    """Reporting a token lost; for the last Active token, the consequence is accepted once more."""

    acknowledge = BooleanField(LAST_ONE_LOST)


class ConfirmLostForm(BaseForm):
    acknowledge = BooleanField(
        "I understand that this token can never be used again, even if I find it"
    )
