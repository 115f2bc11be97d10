"""Forms of the help-desk console."""

from __future__ import annotations

from wtforms import PasswordField, StringField

from wizard.web.forms import BaseForm, at_most, required


class AgentSignInForm(BaseForm):
    username = StringField(
        "Username", validators=[required("your username"), at_most(64, "Your username")]
    )
    passphrase = PasswordField("Passphrase", validators=[required("your passphrase")])
    code = PasswordField(
        "Code from your authenticator app", validators=[required("the code from your app")]
    )


class AgentSetupForm(BaseForm):
    passphrase = PasswordField("New passphrase", validators=[required("a new passphrase")])
    confirm = PasswordField(
        "Enter the passphrase again", validators=[required("the passphrase again")]
    )
    code = PasswordField(
        "Code from your authenticator app", validators=[required("the code your app shows")]
    )
