"""What to tell a prescriber who typed another kind of number where a serial was asked for."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from wizard.domain.credentials import LookAlike
from wizard.domain.tokens import Platform


@dataclass(frozen=True)
class Hint:
    message: str  # shown next to the field and in the error summary
    link_text: str = ""  # a way out: the step 1 choice that fits what was typed
    device: str = ""  # that choice (a PLATFORMS key), or "" for step 1 as it is

    @property
    def link(self) -> str:
        return url_for("enrol.get_app", device=self.device or None) if self.link_text else ""


# The kind of serial each path takes; typing that kind is never a look-alike there.
OWN_KIND = {"onespan": LookAlike.ONESPAN_KEY_FOB, "symantec-hard": LookAlike.SYMANTEC_KEY_FOB}
WANTED = {"onespan": "a OneSpan serial number", "symantec-hard": "a Symantec serial number"}


def hint(kind: LookAlike | None, platform: Platform) -> Hint | None:
    """The message for text that looks like `kind` on `platform`'s path; None for no hint."""
    if kind is None or kind is OWN_KIND.get(platform.key, LookAlike.VIP_APP):
        return None
    wanted = WANTED.get(platform.key, "a Credential ID")
    if kind is LookAlike.VIP_APP:
        return Hint(
            f"This looks like a Credential ID from the VIP Access app, not {wanted}.",
            "Add the VIP Access app instead",
        )
    if kind is LookAlike.SYMANTEC_KEY_FOB:
        return Hint(
            f"This looks like the serial number of a Symantec key fob or card, not {wanted}.",
            "Add a Symantec key fob or card instead",
            "symantec-hard",
        )
    if kind is LookAlike.ONESPAN_KEY_FOB:
        return Hint(
            f"This looks like the serial number of a OneSpan key fob, not {wanted}.",
            "Add a OneSpan key fob instead",
            "onespan",
        )
    if kind in (LookAlike.YUBIKEY, LookAlike.VIP_HARDWARE):
        device = "a YubiKey" if kind is LookAlike.YUBIKEY else "a VIP hardware token"
        return Hint(
            f"This looks like the Credential ID of {device}, which cannot be added here. Use "
            "the VIP Access app, or a key fob your organization gave you.",
            "Choose another token",
        )
    where = (
        "The serial number is printed on the back of the key fob."
        if platform.hard
        else "The Credential ID is at the top of the VIP Access app: 4 letters then 8 digits."
    )
    if kind is LookAlike.SECURITY_CODE and platform.hard:
        return Hint(f"This looks like the code the key fob shows, not its serial number. {where}")
    if kind is LookAlike.SECURITY_CODE:
        return Hint(f"This looks like a security code, not a Credential ID. {where}")
    name = "an NPI" if kind is LookAlike.NPI else "a DEA number"
    return Hint(f"This looks like {name}, not {wanted}. {where}")
