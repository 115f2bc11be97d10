"""The help desk's words: support codes, what each error means and what to say, the script.

Step titles come from the step list (wizard.domain.steps) and pauses from the lock policies
(wizard.domain.lockout), so the help desk reads what the prescriber's page says."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from wizard.domain.codes import ALPHABET
from wizard.domain.lockout import LockPolicy
from wizard.domain.steps import KEY_FOB_TITLES, ORDER, TITLES, Step, number

SUPPORT_CODE_LENGTH = 6  # shown as K7F-3QX


def new_support_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(SUPPORT_CODE_LENGTH))
    return f"{chars[:3]}-{chars[3:]}"


def normalise_support_code(typed: str) -> str:
    text = "".join(ch for ch in (typed or "").upper() if ch.isalnum())
    return f"{text[:3]}-{text[3:]}" if len(text) == SUPPORT_CODE_LENGTH else ""


@dataclass(frozen=True)
class Guide:
    what: str  # what happened, in plain words
    say: str  # what the agent says


_GUIDES: dict[str, Guide] = {
    "device-not-chosen": Guide(
        "They pressed Continue without choosing a token.",
        "Ask which device will hold the token: most people use their phone.",
    ),
    "device-not-confirmed": Guide(
        "They did not confirm that the token is on a different device from the one they "
        "prescribe on.",
        "Explain the DEA rule: the app must be on another device, usually their phone. Then "
        "ask them to check the box.",
    ),
    "credential-format": Guide(
        "The Credential ID they typed is not in a form we accept.",
        "Ask them to read the Credential ID from the top of the app, letter by letter: four "
        "letters, then eight digits.",
    ),
    "credential-lookalike": Guide(
        "They typed another kind of number, such as a key fob's serial or an NPI.",
        "Ask which token they hold. The page links to the right choice; for the app, the "
        "Credential ID is the 4 letters and 8 digits at the top.",
    ),
    "credential-mine": Guide(
        "That Credential ID is already on their own account.",
        "They added this app before. Ask if they want a second, different token instead.",
    ),
    "credential-taken": Guide(
        "That Credential ID is registered to another account.",
        "Check they are reading their own app. If it is theirs, escalate: do not discuss the "
        "other account.",
    ),
    "credential-lost": Guide(
        "That token was reported lost, so it cannot be added again.",
        "If it is their own token and they found it within 30 days of the report, they "
        "reactivate it instead: Manage tokens, then Reactivate. Otherwise ask them to reinstall "
        "the VIP Access app, which gives a new Credential ID.",
    ),
    "credential-unknown": Guide(
        "The Credential ID or serial number is not known.",
        "Ask them to read it again from the app or the back of the key fob. A key fob may "
        "not be imported yet: escalate.",
    ),
    "code-format": Guide(
        "The code they typed is not 6 digits.",
        "Ask for the 6 digits under Security Code, numbers only.",
    ),
    "wrong-code": Guide(
        "The code did not match.",
        "The code had expired or was misread: ask them to wait for the next code and read it "
        "out as soon as it appears. If it keeps failing, check the phone sets its time "
        "automatically.",
    ),
    "reused-code": Guide(
        "They entered a code that was already used.",
        "Each code works once. Ask them to wait for a new code, then enter it.",
    ),
    "out-of-sync": Guide(
        "Their key fob is out of step.",
        "Ask them to press the button, read the code, press again and read the next code.",
    ),
    "nickname": Guide(
        "The token name was empty, too long or already used.",
        "Suggest a short name such as the device: \u201cMy iPhone\u201d.",
    ),
    "code-expired": Guide(
        "More than 10 minutes passed after the code check, so a fresh code was asked for.",
        "Ask for the code the app shows now.",
    ),
    "sign-in-incomplete": Guide(
        "They pressed Continue with the NPI or passphrase missing, or an NPI that is not "
        "10 valid digits. Nothing was checked or counted.",
        "Ask them to type their 10-digit NPI and their passphrase, then press Continue.",
    ),
    "sign-in-failed": Guide(
        "Signing in failed (NPI, passphrase or code).",
        "Check the NPI digit by digit. If they forgot the passphrase, start a reset.",
    ),
    "invitation": Guide(
        "The Invitation ID and NPI did not work (unknown, expired or used).",
        "Read the Invitation ID back in groups of four. An expired or used one needs a new "
        "invitation from the administrator.",
    ),
    "vip-unavailable": Guide(
        "Symantec VIP could not be reached to check or register their token. Nothing was "
        "saved and the attempt did not count against them.",
        "Ask them to wait a minute and try again with a new code. If it keeps happening, "
        "escalate: the audit log records each outage.",
    ),
    "passphrase-rejected": Guide(
        "The new passphrase was refused (too short, too common, or the two did not match).",
        "Suggest three or four unrelated words, at least 12 characters in all.",
    ),
}

# Changes the prescriber made, as the live view tells them: what happened, what to say.
CHANGES: dict[str, Guide] = {
    "token-suspended": Guide(
        "They reported a token lost. It is suspended: it no longer signs in, and their other "
        "sessions were signed out.",
        "If they find it within 30 days they can reactivate it with their passphrase and a "
        "code from it (Report a lost token). Otherwise help them add a replacement token. If "
        "they did not report it, someone knows their passphrase: start a passphrase reset.",
    ),
    "token-reactivated": Guide(
        "They reactivated a token they had reported lost, with a code from it.",
        "The token signs in again. Nothing more is needed.",
    ),
    "token-lost": Guide(
        "They confirmed a token is lost for good: it can never be used or registered again.",
        "Help them add a replacement token, so that they keep a backup.",
    ),
}

_PAGES: dict[str, str] = {
    "sign-in": "Sign in",
    "sign-in-code": "Sign in: code from a token",
    "start": "Onboarding: Invitation ID",
    "start-confirm": "Onboarding: confirm name",
    "start-passphrase": "Onboarding: create passphrase",
    "start-proofing": "Onboarding: identity proofing pending",
    "dashboard": "Account page",
    "help": "Help page",
    "tokens": "Token table",
    "lost-token": "Reporting a lost token",
    "forgot-passphrase": "Resetting the passphrase",
}


@dataclass(frozen=True)
class ScriptStep:
    title: str
    say: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]  # (problem, fix)


_SCRIPT: tuple[ScriptStep, ...] = (
    ScriptStep(
        "Sign in",
        (
            "Open the EPCS token page and choose Sign in.",
            "Enter your 10-digit NPI and your EPCS passphrase, then Continue.",
            "Choose one of your tokens and enter the code it shows now.",
        ),
        (
            (
                "\u201cWe could not sign you in\u201d",
                "Check the NPI digit by digit; if the passphrase is forgotten, issue a reset code.",
            ),
            (
                "Signing in is paused",
                "{sign_in_failures} failures in a row pause signing in to the account from their "
                "network for {sign_in_pause}, longer after more. Wait.",
            ),
        ),
    ),
    ScriptStep(
        "{get_app}",
        (
            "Choose the device that will hold your token. Most people use their phone.",
            "Install VIP Access: on iPhone, \u201cVIP Access for iPhone\u201d; on Android, "
            "\u201cSymantec VIP Access\u201d. It is free: if it asks you to pay, it is the "
            "wrong app.",
            "The DEA needs the token on a different device from the computer you prescribe on. "
            "Check the box to confirm, then Continue.",
            "A key fob instead: choose the one your organization gave you, a OneSpan Digipass "
            "GO 6 or GO 7, or a Symantec VIP key fob or card, then Continue.",
        ),
        (
            ("Cannot find the app", "Scan the QR code on screen with the phone's camera."),
            ("Wants to use the prescribing computer", "Not allowed: use a phone or a key fob."),
            ("Has no key fob", "Use the app on a phone; a key fob comes from the organization."),
        ),
    ),
    ScriptStep(
        "{credential_id}",
        (
            "Open the app. At the top, under Credential ID, read the four letters and eight "
            "digits.",
            "Type them in the box; spaces do not matter. Then Continue.",
        ),
        (
            ("Letter O or digit 0?", "After the four letters there are only digits."),
            ("Already registered", "They may have added it before: check their token table."),
        ),
    ),
    ScriptStep(
        "{key_fob_credential_id}",
        (
            "Turn the key fob over. The serial number (S/N) is printed on the back.",
            "A OneSpan Digipass: 10 digits, such as 12-3456789-0; type them with or without "
            "the dashes.",
            "A Symantec key fob or card: AVT or FT, then digits, such as FT12345678.",
        ),
        (
            (
                "Label worn away",
                "OneSpan: hold the button for 6 seconds and the screen shows the serial number.",
            ),
            (
                "Typed the code instead",
                "The code is on the screen; the serial number is on the back.",
            ),
            (
                "\u201cNot known to your organization yet\u201d",
                "Its seed is not imported yet: escalate to the EPCS administrator.",
            ),
        ),
    ),
    ScriptStep(
        "{security_code}",
        (
            "Under Security Code the app shows six digits that change every 30 seconds.",
            "Wait for a fresh code, type it and press Check code right away.",
        ),
        (
            ("Code did not match", "Wait for the next code and enter it within 30 seconds."),
            ("Keeps failing", "Set the phone's date and time to automatic."),
            (
                "Paused for {code_pause}",
                "Too many wrong codes. Wait, then try a fresh code.",
            ),
        ),
    ),
    ScriptStep(
        "{key_fob_security_code}",
        (
            "Press the button once. The screen shows 6 digits.",
            "Type them and press Check code right away: the screen goes blank after about "
            "30 seconds.",
        ),
        (
            ("Code did not match", "Press the button again for a new code and enter it at once."),
            (
                "\u201cOut of step\u201d (Symantec key fob)",
                "It was pressed many times: press, type the code; press again, type the next one.",
            ),
        ),
    ),
    ScriptStep(
        "{name}",
        (
            "Give the token a name you will recognize, such as \u201cMy iPhone\u201d.",
            "Check the details, then Save token.",
        ),
        (("Name already used", "Each token needs its own name."),),
    ),
    ScriptStep(
        "{done}, and a backup",
        (
            "Your token is saved and Active.",
            "We recommend a second token as a backup: if you lose your only token you must "
            "complete the entire identity proofing again.",
        ),
        (("Has no second device", "A key fob from the organization also works as a backup."),),
    ),
    ScriptStep(
        "A lost or stolen token",
        (
            "Report it now: the DEA requires a report within one business day.",
            "Choose Report a lost token, on the sign-in page or the Tokens page. Sign in with "
            "your NPI and passphrase: no code is needed.",
            "Choose the token that is lost and confirm. It is suspended at once, so no one "
            "else can use it. If you find it within 30 days, you can reactivate it with a code "
            "from it.",
        ),
        (
            (
                "Found the token again",
                "Within 30 days: Report a lost token, sign in with NPI and passphrase, then "
                "Reactivate with a code from it. After 30 days the loss is final.",
            ),
            (
                "It was their only Active token",
                "They cannot sign in until they have a token again. If they may find it, they "
                "have 30 days to reactivate it; otherwise follow the organization's procedure "
                "for identity proofing.",
            ),
            ("Forgot the passphrase too", "Start with a passphrase reset (below)."),
        ),
    ),
    ScriptStep(
        "A forgotten passphrase",
        (
            "Ask your organization's EPCS administrator for a reset code. It works once, "
            "within 24 hours.",
            "Choose Forgot your passphrase? on the sign-in page. Enter your NPI, a code from "
            "one of your Active tokens (or one reported lost in the last 30 days) and the "
            "reset code.",
            "Choose a new passphrase of at least 12 characters, then sign in with it.",
        ),
        (
            ("Reset code expired or used", "The administrator issues a new one."),
            (
                "No token to give a code",
                "A reset needs an Active token or one reported lost in the last 30 days; "
                "without either, follow the organization's procedure for identity proofing.",
            ),
            (
                "Signing in is blocked",
                "After many failures only a passphrase reset unlocks the account.",
            ),
        ),
    ),
)


def step_name(step: Step, titles: dict[Step, str] = TITLES) -> str:
    """ "Step 3: Enter the security code", as the step list says it."""
    return f"Step {number(step)}: {titles[step]}"


def page_names(titles: dict[Step, str] = TITLES) -> dict[str, str]:
    """What the live view calls each page the prescriber is on (titles: their step list)."""
    return {**_PAGES, **{str(step): step_name(step, titles) for step in ORDER}}


def _pause(sign_in: LockPolicy, code: LockPolicy) -> str:
    if sign_in.first_pause == code.first_pause:
        return f"this is paused for {code.first_pause}"
    return (
        f"adding a token is paused for {code.first_pause}, signing in from their network "
        f"for {sign_in.first_pause}"
    )


def guides(sign_in: LockPolicy, code: LockPolicy) -> dict[str, Guide]:
    """What each problem the live view shows means, and what to say."""
    locked = Guide(
        f"Too many codes failed: {_pause(sign_in, code)}.",
        "Tell them when they can try again. Check the phone's time settings meanwhile.",
    )
    return {**_GUIDES, "locked": locked}


def script(sign_in: LockPolicy, code: LockPolicy) -> tuple[ScriptStep, ...]:
    """The printable script, with the step list's titles and the policies' pauses."""
    words: dict[str, object] = {step.name.lower(): step_name(step) for step in ORDER}
    for step in (Step.CREDENTIAL_ID, Step.SECURITY_CODE):
        title = KEY_FOB_TITLES[step]
        words[f"key_fob_{step.name.lower()}"] = f"Key fob, step {number(step)}: {title}"
    words.update(
        sign_in_failures=sign_in.max_failures,
        sign_in_pause=sign_in.first_pause,
        code_pause=code.first_pause,
    )

    def fill(text: str) -> str:
        return text.format(**words)

    return tuple(
        ScriptStep(
            fill(step.title),
            tuple(fill(line) for line in step.say),
            tuple((fill(problem), fill(fix)) for problem, fix in step.problems),
        )
        for step in _SCRIPT
    )
