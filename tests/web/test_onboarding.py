"""First-time onboarding by invitation (issue 4): the invite command, /start, confirm the name,
create a passphrase, then the enrollment wizard signed in; single use, expiry, not proofed."""

from __future__ import annotations

import re

import pyotp
import pytest
from signing import audit_events, passphrase_step, post
from sqlalchemy import func, select, text
from support.accounts import unused_npi
from support.pages import page_text

from wizard.domain.codes import ALPHABET
from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.models import Invitation, OutboxMail, Prescriber

PASSPHRASE = "seven blue kites over the harbour"
INVITATION_ID = re.compile(rf"Invitation ID: ((?:[{ALPHABET}]{{4}}-){{3}}[{ALPHABET}]{{4}})\n")
NOT_FOUND = (
    "We could not find an invitation with that Invitation ID and NPI. Check both and try again"
)


def invite(runner, npi: str, *extra: str, name: str = "Dr. Casey Newcomer") -> str:
    """Run `flask --app wizard invite`; return the Invitation ID it printed."""
    result = runner.invoke(
        args=[
            "invite",
            "--npi",
            npi,
            "--name",
            name,
            "--email",
            "casey@example.org",
            "--organization",
            "CalMHSA",
            "--dea",
            "AB1234563",
            *extra,
        ]
    )
    assert result.exit_code == 0, result.output
    found = INVITATION_ID.search(result.output)
    assert found, result.output
    return found.group(1)


def as_typed(invitation_id: str) -> str:
    """How someone might type it: lower case, spaces for dashes."""
    return invitation_id.lower().replace("-", " ")


def start(client, invitation_id: str, npi: str):
    return post(client, "/start", {"invitation": invitation_id, "npi": npi})


def confirm(client, answer: str = "yes"):
    return post(client, "/start/confirm", {"answer": answer})


def create_passphrase(client, passphrase: str = PASSPHRASE, again: str | None = None):
    return post(
        client,
        "/start/passphrase",
        {"passphrase": passphrase, "confirm": passphrase if again is None else again},
    )


def prescribers_with(app, npi: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Prescriber).where(Prescriber.npi == npi)
        )


# --- The invite command ----------------------------------------------------------------------


def test_invite_prints_an_easy_to_type_invitation_id_valid_14_days(app, runner):
    npi = unused_npi()
    result = runner.invoke(
        args=["invite", "--npi", npi, "--name", "Dr. Casey Newcomer", "--email", "c@example.org"]
    )
    assert result.exit_code == 0, result.output
    invitation_id = INVITATION_ID.search(result.output).group(1)
    assert not set(invitation_id) & set("01ILO")  # no look-alikes
    assert f"For: Dr. Casey Newcomer (NPI {npi})" in result.output
    assert "Valid until: 2025-03-17 15:00 UTC." in result.output
    assert "Use it once at http://127.0.0.1:5000/start" in result.output

    with app.app_context():
        stored = db.session.scalar(select(Invitation))
        assert stored.npi == npi
        assert invitation_id.replace("-", "") not in stored.code_hash  # only a hash is kept
        assert stored.used_at is None
    [event] = audit_events(app, "invitation.create")
    assert (event.actor, event.outcome) == ("administrator", "success")


def test_each_invitation_id_is_different(runner):
    ids = {invite(runner, unused_npi()) for _ in range(3)}
    assert len(ids) == 3


def test_invite_refuses_bad_input(app, runner):
    cases = [
        (["--npi", "1234567890"], "'1234567890' is not a valid NPI"),
        (["--npi", "12345"], "'12345' is not a valid NPI"),
        (
            ["--npi", "1245319599", "--organization", "CalMHSA", "--dea", "AB1234567"],
            "'AB1234567' is not a valid DEA number",
        ),
        (["--npi", "1245319599", "--dea", "AB1234563"], "Give --organization with --dea."),
        (["--npi", "1245319599", "--name", "   "], "Give the prescriber's name."),
        (
            ["--npi", "1245319599", "--email", "c@example.org, spy@example.net"],
            "is not one mail address",
        ),
        (["--npi", "1245319599", "--email", "Casey <spy@example.net>"], "is not one mail address"),
        (
            ["--npi", "1245319599", "--email", "c@example.org\nBcc: x@y.z"],
            "is not one mail address",
        ),
        (["--npi", "1245319599", "--email", "not an address"], "is not one mail address"),
    ]
    for args, message in cases:
        given = {"--name": "Dr. Casey Newcomer", "--email": "c@example.org"}
        given.update(zip(args[::2], args[1::2], strict=True))
        result = runner.invoke(args=["invite", *[p for item in given.items() for p in item]])
        assert result.exit_code == 1, args
        assert message in result.output, args
        assert "Invitation ID" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_invite_refuses_an_npi_that_already_has_an_account(app, runner, account):
    result = runner.invoke(
        args=["invite", "--npi", account.npi, "--name", "Dr. Again", "--email", "a@example.org"]
    )
    assert result.exit_code == 1
    assert f"An account with NPI {account.npi} already exists." in result.output


# --- From /start to the wizard ---------------------------------------------------------------


def test_should_onboard_from_the_invitation_into_the_wizard_signed_in(app, client, runner, clock):
    npi = unused_npi()
    invitation_id = invite(runner, npi)

    page = client.get("/start")
    assert page.status_code == 200
    response = start(client, as_typed(invitation_id), f"{npi[:5]} {npi[5:]}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/start/confirm"

    confirm_page = page_text(client.get("/start/confirm"))
    assert "Is this you?" in confirm_page
    assert f"Name Dr. Casey Newcomer NPI {npi} Organization CalMHSA" in confirm_page

    response = confirm(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/start/passphrase"
    passphrase_page = client.get("/start/passphrase")
    assert passphrase_page.status_code == 200
    assert "At least 12 characters" in page_text(passphrase_page)

    response = create_passphrase(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/enroll"

    # Signed in, without a code: straight into the wizard's first step.
    wizard = client.get("/enroll")
    assert wizard.status_code == 302
    assert wizard.headers["Location"] == "/enroll/get-app"
    assert client.get("/enroll/get-app").status_code == 200

    with app.app_context():
        made = db.session.scalar(select(Prescriber).where(Prescriber.npi == npi))
        assert made.name == "Dr. Casey Newcomer"
        assert made.identity_proofed is True
        assert [(g.organisation, g.dea_number, g.status) for g in made.grants] == [
            ("CalMHSA", "AB1234563", "ACTIVE")
        ]
        assert made.passphrase_hash and PASSPHRASE not in made.passphrase_hash
        assert db.session.scalar(select(Invitation)).used_at == clock()
    [event] = audit_events(app, "invitation.redeem")
    assert (event.actor, event.outcome) == (f"prescriber:{npi}", "success")


def test_should_mail_the_prescriber_that_their_account_was_set_up(app, client, runner):
    """A leaked Invitation ID and the public NPI set the account up: the prescriber hears of it
    at once, before any token is added."""
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    confirm(client)

    create_passphrase(client)

    with app.app_context():
        [mail] = db.session.scalars(select(OutboxMail).where(OutboxMail.kind == "account.set-up"))
        assert mail.to_address == "casey@example.org"
        assert mail.subject == "Your EPCS account was set up"
        body = " ".join(mail.body.split())  # the lines wrap wherever the date ends
        assert "someone else has your Invitation ID" in body
        assert "from the network address 127.0.0.1" in body


def test_the_first_token_leads_to_the_backup_recommendation_and_the_dashboard(
    app, client, runner, clock
):
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    confirm(client)
    create_passphrase(client)
    with app.app_context():
        issued = sandbox.issue(clock())

    assert (
        post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"}).status_code
        == 303
    )
    assert (
        post(client, "/enroll/credential-id", {"credential_id": issued.credential_id}).status_code
        == 303
    )
    code = pyotp.TOTP(issued.secret).at(clock())
    assert (
        post(client, "/enroll/security-code", {"code": code}).headers["Location"] == "/enroll/name"
    )
    assert (
        post(client, "/enroll/name", {"nickname": "My iPhone"}).headers["Location"]
        == "/enroll/done"
    )

    done = page_text(client.get("/enroll/done"))
    assert "Add a backup token" in done
    assert (
        "If you lose your only token, you must complete the entire identity proofing again" in done
    )

    dashboard = page_text(client.get("/"))
    assert "Dr. Casey Newcomer" in dashboard
    assert f"My iPhone {issued.credential_id} Active" in dashboard
    assert "CalMHSA AB1234563 ACTIVE" in dashboard

    # The new passphrase signs in later.
    post(client, "/sign-out")
    assert passphrase_step(client, npi, PASSPHRASE).headers["Location"] == "/sign-in/code"


# (new passphrase, typed again, message); NPI_IN_IT stands for the invited NPI.
PASSPHRASE_RULES = [
    ("", "", "Enter a new passphrase"),
    ("eleven char", "eleven char", "Your passphrase must be at least 12 characters"),
    ("xy" * 64 + "z", "xy" * 64 + "z", "Your passphrase must be 128 characters or fewer"),
    ("password1234", "password1234", "This passphrase is too common."),
    ("Password 1234", "Password 1234", "This passphrase is too common."),
    ("1qaz2wsx3edc", "1qaz2wsx3edc", "This passphrase is too common."),
    ("abababababab", "abababababab", "This passphrase is too common."),
    ("NPI_IN_IT and more", "NPI_IN_IT and more", "Your passphrase must not contain your NPI"),
    ("Maximilianus", "Maximilianus", "Your passphrase must not be your name"),
    (PASSPHRASE, PASSPHRASE + "!", "The passphrases do not match."),
    (PASSPHRASE, "", "Enter the passphrase again"),
]


def test_passphrase_rules_when_creating_one(app, client, runner):
    npi = unused_npi()
    start(client, invite(runner, npi, name="Dr. Maximilianus Test"), npi)
    confirm(client)
    failures = []
    for passphrase, again, message in PASSPHRASE_RULES:
        response = create_passphrase(
            client, passphrase.replace("NPI_IN_IT", npi), again.replace("NPI_IN_IT", npi)
        )
        if response.status_code != 422 or message not in page_text(response):
            failures.append((passphrase[:20], response.status_code, message))
    assert failures == []
    assert prescribers_with(app, npi) == 0


@pytest.mark.parametrize(
    "passphrase",
    [
        "twelve chars",  # exactly 12, with a space
        ("four word long passphrase " * 5)[:128],  # exactly 128
        "ünïcödé wörds 🔑 fine",
    ],
)
def test_passphrase_rules_accept_length_and_any_characters(app, client, runner, passphrase):
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    confirm(client)
    response = create_passphrase(client, passphrase)
    assert response.status_code == 303
    assert prescribers_with(app, npi) == 1


def test_the_passphrase_can_be_shown_in_clear_text(client, runner):
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    confirm(client)
    body = client.get("/start/passphrase?clear=1").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="passphrase"[^>]*type="text"', body)
    assert "Hide passphrase" in body


# --- Used, expired, wrong --------------------------------------------------------------------


def test_an_invitation_works_once(app, client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    start(client, invitation_id, npi)
    confirm(client)
    create_passphrase(client)

    again = app.test_client()
    response = start(again, invitation_id, npi)
    assert response.status_code == 422
    assert (
        "This invitation has already been used. If you created your passphrase, sign in. "
        "Otherwise ask your organization's EPCS administrator for a new invitation"
    ) in page_text(response)
    assert prescribers_with(app, npi) == 1


def test_an_invitation_used_in_another_tab_cannot_be_redeemed_again(app, client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    other_tab = app.test_client()
    for browser in (client, other_tab):
        start(browser, invitation_id, npi)
        confirm(browser)
    assert create_passphrase(client).status_code == 303

    late = create_passphrase(other_tab, "another passphrase entirely")
    assert late.status_code == 303
    assert late.headers["Location"] == "/start"
    assert prescribers_with(app, npi) == 1


def test_an_expired_invitation_says_so(app, client, runner, clock):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    clock.advance(days=15)
    response = start(client, invitation_id, npi)
    assert response.status_code == 422
    assert (
        "This invitation expired on March 17, 2025. Ask your organization's EPCS administrator "
        "for a new invitation"
    ) in page_text(response)


def test_an_invitation_expires_at_14_days(client, runner, clock):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    clock.advance(days=14, seconds=-1)
    assert start(client, invitation_id, npi).status_code == 303
    clock.advance(seconds=1)
    # The flow started before expiry cannot carry on after it.
    assert client.get("/start/confirm").headers["Location"] == "/start"
    assert start(client, invitation_id, npi).status_code == 422


def test_an_invitation_with_another_npi_gets_the_generic_message(app, client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    wrong_npi = start(client, invitation_id, unused_npi())
    unknown_id = start(client, "ABCD-EFGH-JKMN-PQRS", npi)
    misshapen = start(client, "not an invitation", npi)
    for response in (wrong_npi, unknown_id, misshapen):
        assert response.status_code == 422
        assert NOT_FOUND in page_text(response)
    assert client.get("/start/confirm").headers["Location"] == "/start"


def test_start_asks_for_both_fields(client):
    response = start(client, "", "")
    assert response.status_code == 422
    text = page_text(response)
    assert "Enter the Invitation ID from your invitation" in text
    assert "Enter your NPI (10 digits)" in text


def test_the_later_steps_need_the_invitation_first(client):
    for path in ("/start/confirm", "/start/passphrase", "/start/identity-proofing"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/start"


def test_the_passphrase_step_needs_the_name_confirmed(client, runner):
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    assert client.get("/start/passphrase").headers["Location"] == "/start"
    assert create_passphrase(client).headers["Location"] == "/start"


def test_saying_it_is_not_you_ends_the_invitation_flow(app, client, runner):
    npi = unused_npi()
    start(client, invite(runner, npi), npi)
    response = confirm(client, "no")
    assert response.status_code == 200
    assert "This invitation is not yours" in page_text(response)
    assert client.get("/start/passphrase").headers["Location"] == "/start"
    assert prescribers_with(app, npi) == 0


def test_identity_proofing_not_complete_stops_before_the_passphrase(app, client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi, "--not-proofed")
    start(client, invitation_id, npi)
    response = confirm(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/start/identity-proofing"

    page = page_text(client.get("/start/identity-proofing"))
    assert "Complete identity proofing first" in page
    assert "your identity proofing is not complete yet, so you cannot add a token" in page
    assert "your EPCS administrator sends you a new invitation" in page

    assert client.get("/start/passphrase").headers["Location"] == "/start"
    assert create_passphrase(client).headers["Location"] == "/start"
    assert prescribers_with(app, npi) == 0
    with app.app_context():
        assert db.session.scalar(select(Invitation)).used_at is None
    assert client.get("/enroll").headers["Location"].startswith("/sign-in")


def test_start_is_throttled_per_client_address(app, client, runner):
    app.config["SIGN_IN_RATE_LIMIT"] = "2 per minute"
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    assert start(client, "ABCD-EFGH-JKMN-PQRS", npi).status_code == 422
    assert start(client, "ABCD-EFGH-JKMN-PQRS", npi).status_code == 422
    assert start(client, invitation_id, npi).status_code == 429


# --- A mistyped NPI (issue 14) ----------------------------------------------------------------

CHECK_DIGIT = (
    "This is not a valid NPI: its last digit (the check digit) does not match the other nine. "
    "Check each digit against your NPI"
)
KEPT_HINT = "We kept the Invitation ID you entered"


def mistyped(npi: str) -> str:
    """The NPI with its check digit changed."""
    return npi[:-1] + str((int(npi[-1]) + 1) % 10)


def test_a_wrong_check_digit_in_the_npi_is_named(client, runner):
    invitation_id = invite(runner, unused_npi())
    response = start(client, invitation_id, "1234567890")
    assert response.status_code == 422
    assert CHECK_DIGIT in page_text(response)


@pytest.mark.parametrize(
    "npi, message",
    [
        ("123456789", "Enter your 10-digit NPI, for example 1234567893"),
        ("3234567899", "An NPI starts with 1 or 2. Check the first digit of your NPI"),
    ],
)
def test_other_npi_mistakes_are_named_too(client, runner, npi, message):
    response = start(client, invite(runner, unused_npi()), npi)
    assert message in page_text(response)


def test_a_mistyped_npi_keeps_the_invitation_id_without_showing_it(app, client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    response = start(client, as_typed(invitation_id), mistyped(npi))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert KEPT_HINT in page_text(response)
    for shown in (invitation_id, invitation_id.replace("-", ""), as_typed(invitation_id)):
        assert shown not in body and shown.upper() not in body
    assert 'name="invitation"' in body and "required" not in re.search(
        r'<input[^>]*name="invitation"[^>]*>', body
    ).group(0)
    with app.app_context():
        stored = db.session.execute(text("SELECT data FROM server_sessions")).scalars().all()
    assert stored and not any(invitation_id.replace("-", "").encode() in data for data in stored), (
        "only a hash of the Invitation ID is kept"
    )
    assert KEPT_HINT in page_text(client.get("/start"))

    # The box left empty: the kept Invitation ID is used with the corrected NPI.
    response = start(client, "", npi)
    assert response.status_code == 303
    assert response.headers["Location"] == "/start/confirm"
    assert KEPT_HINT not in page_text(client.get("/start"))


def test_a_kept_invitation_id_gives_way_to_one_typed_again(client, runner):
    npi, other = unused_npi(), unused_npi()
    first, second = invite(runner, npi), invite(runner, other)
    start(client, first, mistyped(npi))
    response = start(client, second, other)
    assert response.headers["Location"] == "/start/confirm"
    assert "Dr. Casey Newcomer" in page_text(client.get("/start/confirm"))
    assert other in page_text(client.get("/start/confirm"))


def test_a_failed_lookup_keeps_nothing_secret(client, runner):
    npi = unused_npi()
    invitation_id = invite(runner, npi)
    start(client, invitation_id, mistyped(npi))
    response = start(client, "", unused_npi())  # well formed, but not this invitation's NPI
    assert response.status_code == 422
    assert NOT_FOUND in page_text(response)
    assert KEPT_HINT not in page_text(response)
    again = start(client, "", npi)
    assert again.status_code == 422
    assert "Enter the Invitation ID from your invitation" in page_text(again)


def test_an_npi_typed_wrong_with_no_invitation_id_keeps_nothing(client):
    response = start(client, "", "1234567890")
    text = page_text(response)
    assert "Enter the Invitation ID from your invitation" in text
    assert CHECK_DIGIT in text
    assert KEPT_HINT not in text
