"""Forms for signing in, onboarding, passphrase reset and lost tokens."""

from __future__ import annotations

from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import InputRequired, Optional

from wizard.domain.identifiers import NpiProblem, clean_npi, npi_problem
from wizard.web.forms import BaseForm, required


class NpiField(StringField):
    """An NPI as people type it: spaces and dashes dropped."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = clean_npi(self.data or "")


def npi_field() -> NpiField:
    return NpiField("NPI", validators=[required("your NPI (10 digits)")])


NPI_MESSAGES = {
    NpiProblem.NOT_TEN_DIGITS: "Enter your 10-digit NPI, for example 1234567893",
    NpiProblem.FIRST_DIGIT: "An NPI starts with 1 or 2. Check the first digit of your NPI",
    NpiProblem.CHECK_DIGIT: (
        "This is not a valid NPI: its last digit (the check digit) does not match the other "
        "nine. Check each digit against your NPI"
    ),
}


def check_npi_shape(form) -> bool:
    """Only the shape: whether an account exists is never told apart."""
    problem = npi_problem(form.npi.data) if form.npi.data else None
    if problem:
        form.npi.errors = [*form.npi.errors, NPI_MESSAGES[problem]]
        return False
    return True


class SignInForm(BaseForm):
    npi = npi_field()
    passphrase = PasswordField("Passphrase", validators=[required("your passphrase")])


class TokenCodeForm(BaseForm):
    token = RadioField(
        "Which token are you using?",
        coerce=int,
        validators=[InputRequired(message="Select the token you are using")],
    )
    code = PasswordField("Security code", validators=[required("the security code")])


class ChooseTokenForm(BaseForm):
    token = RadioField(
        "Which token is lost?",
        coerce=int,
        validators=[InputRequired(message="Select the token that is lost")],
    )


class ResetForm(BaseForm):
    npi = npi_field()
    code = PasswordField(
        "Security code from one of your tokens",
        validators=[required("the security code from one of your tokens")],
    )
    reset_code = StringField(
        "Reset code", validators=[required("the reset code your administrator gave you")]
    )


class NewPassphraseForm(BaseForm):
    passphrase = PasswordField("New passphrase", validators=[required("a new passphrase")])
    confirm = PasswordField(
        "Enter the passphrase again",
        validators=[required("your new passphrase a second time, to check it")],
    )


class InvitationForm(BaseForm):
    invitation = StringField(
        "Invitation ID", validators=[required("the Invitation ID from your invitation")]
    )
    npi = npi_field()

    def __init__(self, *args, kept: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kept:  # an Invitation ID typed before is kept: the box may stay empty
            self.invitation.validators = [Optional()]
            self.invitation.flags.required = False
