"""One form per wizard step."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired

from wizard.domain.tokens import NICKNAME_MAX, PLATFORMS
from wizard.web.forms import BaseForm, at_most, required

DEVICE_CHOICES = [SelectChoice(p.key, p.choice) for p in PLATFORMS.values()]


class DeviceForm(BaseForm):
    """Step 1, first half: which device will hold the token (a GET form)."""

    device = RadioField(
        "Which token are you adding?",
        choices=DEVICE_CHOICES,
        validators=[InputRequired(message="Select the token you are adding")],
    )


class GetAppForm(BaseForm):
    platform = HiddenField()
    different_device = BooleanField(
        "The token will be on a different device from the one I use to prescribe",
        validators=[
            InputRequired(
                message="Confirm that the token will be on a different device "
                "from the one you use to prescribe"
            )
        ],
    )


class CredentialForm(BaseForm):
    credential_id = StringField(
        "Credential ID", validators=[required("the Credential ID shown in the VIP Access app")]
    )


class CodeForm(BaseForm):
    # A password input masks the code; "Show clear text" swaps the type.
    code = PasswordField("Security code", validators=[required("the security code")])
    # Only when an event-based key fob has run ahead: its next code, to resynchronize.
    next_code = PasswordField("Next code")


class NameForm(BaseForm):
    nickname = StringField(
        "Token name",
        validators=[required("a name for this token"), at_most(NICKNAME_MAX, "The name")],
    )
