"""Forms for signing in, onboarding, passphrase reset and lost tokens."""

from __future__ import annotations

from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import InputRequired

from wizard.domain.identifiers import clean_npi, is_valid_npi
from wizard.web.forms import BaseForm, required


class NpiField(StringField):
    """An NPI as people type it: spaces and dashes dropped."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = clean_npi(self.data or "")


def npi_field() -> NpiField:
    return NpiField("NPI", validators=[required("your NPI (10 digits)")])


def check_npi_shape(form) -> bool:
    """Only the shape: whether an account exists is never told apart."""
    if form.npi.data and not is_valid_npi(form.npi.data):
        form.npi.errors = [*form.npi.errors, "Enter your 10-digit NPI, for example 1234567893"]
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
        "Security code from one of your Active tokens",
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
