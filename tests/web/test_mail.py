"""Mail to the prescriber about every change (issue 11, section 2): written into the outbox in
the change's own transaction, delivered by `flask --app wizard mail send` through a real SMTP
server (aiosmtpd, STARTTLS or TLS, with a login), with retries, so that an outage, a refusal
or a crash loses no mail and sends none twice; and the sandbox mailbox."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from mailserver import MailServer
from signing import audit_events, post, sign_in, token_row
from sqlalchemy import select, text

from wizard.extensions import db
from wizard.services import accounts
from wizard.store.crypto import SeedCipher
from wizard.store.models import OutboxMail, Prescriber

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "203.0.113.9"

pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning",
    "ignore:Session.login_data is deprecated:DeprecationWarning",
)


@pytest.fixture
def client(client):
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    return client


@pytest.fixture
def smtp(tmp_path, app):
    """A real SMTP server (STARTTLS and a login) that the app sends to."""
    server = MailServer(tmp_path).start()
    app.config.update(MAIL_URL=server.url, MAIL_CA_FILE=server.ca_file)
    yield server
    server.stop()


def outbox(app) -> list[OutboxMail]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        db.session.expunge_all()
        return rows


def send(runner):
    return runner.invoke(args=["mail", "send"])


def words(text_: str) -> str:
    return " ".join(text_.split())


# --- What is written, and when ---------------------------------------------------------------


def test_every_change_to_tokens_or_account_writes_a_mail(
    app, client, make_account, clock, enrol, vip
):
    account = make_account(("Active", "Active"))
    first, second = account.tokens
    used = [account.passphrase]
    sign_in(client, account, clock(), token=first)
    clock.advance(30)

    credential = enrol.reach("done")  # added
    [added] = [t for t in outbox(app)]
    assert added.kind == "token.add"
    new_id = token_row_id(app, credential.credential_id)
    used.append(enrol.code)

    post(client, f"/tokens/{new_id}/disable", {"reason": "temporary"})
    clock.advance(30)
    code = vip.code(credential)
    used.append(code)
    post(client, f"/tokens/{new_id}/enable", {"code": code})
    post(client, f"/tokens/{new_id}/rename", {"nickname": "Spare tablet"})
    post(client, f"/tokens/{new_id}/delete", {})
    post(client, f"/tokens/{second.id}/disable", {"reason": "lost"})  # reported lost
    clock.advance(30)
    code = second.code(at=clock())
    used.append(code)
    post(client, f"/tokens/{second.id}/reactivate", {"code": code})
    post(client, f"/tokens/{second.id}/disable", {"reason": "lost"})
    post(client, f"/tokens/{second.id}/confirm-lost", {"acknowledge": "y"})

    with app.app_context():
        reset_code = accounts.issue_reset_code(account.npi, clock())
    used.append(reset_code)
    clock.advance(30)
    code = first.code(at=clock())
    used.append(code)
    browser = app.test_client()
    post(
        browser, "/forgot-passphrase", {"npi": account.npi, "code": code, "reset_code": reset_code}
    )
    new = "an entirely new passphrase 8"
    used.append(new)
    post(browser, "/forgot-passphrase/new", {"passphrase": new, "confirm": new})
    for _ in range(5):
        post(browser, "/sign-in", {"npi": account.npi, "passphrase": "not the passphrase"})

    mails = outbox(app)
    assert [m.kind for m in mails] == [
        "token.add",
        "token.disable",
        "token.enable",
        "token.rename",
        "token.delete",
        "token.suspend",
        "token.reactivate",
        "token.suspend",
        "token.lost",
        "passphrase.reset",
        "account.lock",
    ]
    assert {m.to_address for m in mails} == {"robin.test@example.org"}
    assert {m.state for m in mails} == {"queued"}
    for mail in mails:
        for secret in used:
            assert secret not in mail.body and secret not in mail.subject, (mail.kind, secret)
        assert not re.search(r"https?://\S*[?#]", mail.body), "a link with a query"


def token_row_id(app, credential_id: str) -> int:
    from wizard.store.models import Token

    with app.app_context():
        return db.session.scalar(
            select(Token.id).where(Token.credential_id == credential_id, Token.status == "Active")
        )


def test_a_mail_says_what_when_and_from_where(app, client, make_account, clock):
    app.config["BASE_URL"] = "https://epcs.example.org"
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    post(client, f"/tokens/{account.tokens[1].id}/disable", {"reason": "lost"})
    [mail] = outbox(app)
    assert mail.subject == "A token on your EPCS account was reported lost"
    body = words(mail.body)
    assert body.startswith("Dear Dr. Robin Test,")
    ending = account.tokens[1].credential_id[-4:]
    assert f"Your token \u201cToken 2\u201d (Credential ID ending in {ending}) was" in body
    when = "This happened on March 3, 2025 at 3:00 PM UTC"
    assert f"{when}, from the network address 203.0.113.9." in body
    assert "reactivate it until April 2, 2025 at 3:00 PM UTC" in body
    assert "https://epcs.example.org/lost-token" in body
    assert "If you did not report it, someone knows your passphrase" in body
    assert account.tokens[1].credential_id not in mail.body


def test_a_change_and_its_mail_are_saved_together_or_not_at_all(app, client, make_account, clock):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    # A refused change writes no mail.
    assert (
        post(client, f"/tokens/{account.tokens[1].id}/enable", {"code": "123456"}).status_code
        == 422
    )
    assert outbox(app) == []
    # A mail that cannot be written takes its change with it.
    rename_outbox(app, "outbox", "outbox_away")
    try:
        app.config["PROPAGATE_EXCEPTIONS"] = False
        failed = post(client, f"/tokens/{account.tokens[1].id}/disable", {"reason": "temporary"})
    finally:
        rename_outbox(app, "outbox_away", "outbox")  # the run's other tests share the database
    assert failed.status_code >= 500
    assert token_row(app, account.tokens[1].id).status == "Active"
    assert audit_events(app, "token.disable") == []


def rename_outbox(app, old: str, new: str) -> None:
    with app.app_context():
        db.session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        db.session.commit()
        db.engine.dispose()


def test_signing_in_locks_once_per_series_and_mails_once(app, client, make_account, clock):
    """An outsider with a public NPI must not be able to flood the prescriber's mail."""
    account = make_account()
    for _ in range(5):
        post(client, "/sign-in", {"npi": account.npi, "passphrase": "not the passphrase"})
    clock.advance(minutes=16)
    post(client, "/sign-in", {"npi": account.npi, "passphrase": "not the passphrase"})
    assert len(audit_events(app, "sign_in.lock")) == 2
    [mail] = outbox(app)
    assert mail.kind == "account.lock"
    body = words(mail.body)
    assert "failed to sign in to your EPCS account 5 times in a row" in body
    assert "Sign-ins from that address are paused until March 3, 2025 at 3:15 PM UTC" in body


def test_a_prescriber_without_a_mail_address_gets_none_and_the_audit_says_so(
    app, client, make_account, clock
):
    account = make_account(("Active", "Active"))
    with app.app_context():
        db.session.get(Prescriber, account.id).email = ""
        db.session.commit()
    sign_in(client, account, clock())
    post(client, f"/tokens/{account.tokens[1].id}/disable", {"reason": "temporary"})
    assert token_row(app, account.tokens[1].id).status == "Inactive"
    assert outbox(app) == []
    [event] = audit_events(app, "mail.queue")
    assert (event.outcome, '"kind": "token.disable"' in event.detail) == ("no-address", True)


# --- Delivery --------------------------------------------------------------------------------


def queue(app, make_account, clock, client, count: int = 1) -> list[int]:
    """count mails, through real changes (renames)."""
    account = make_account(("Active",))
    sign_in(client, account, clock())
    for n in range(count):
        post(client, f"/tokens/{account.tokens[0].id}/rename", {"nickname": f"Phone {n}"})
    return [m.id for m in outbox(app)]


def test_should_deliver_the_outbox_over_starttls_with_a_login(
    app, client, runner, smtp, make_account, clock
):
    queue(app, make_account, clock, client)
    result = send(runner)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 1, will retry 0, refused 0."
    [message] = smtp.messages
    [mail] = outbox(app)
    assert message["To"] == "robin.test@example.org"
    assert message["From"] == "EPCS Token Enrollment <no-reply@localhost>"
    assert message["Subject"] == "A token on your EPCS account was renamed"
    assert message["Message-ID"] == mail.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    assert "was renamed \u201cPhone 0\u201d" in words(message.get_payload(decode=True).decode())
    assert (mail.state, mail.sent_at, mail.attempts) == ("sent", clock(), 1)
    assert smtp.recorder.logins == 1
    assert send(runner).output.strip() == "Sent 0, will retry 0, refused 0."
    assert len(smtp.messages) == 1


def test_should_deliver_over_tls_from_the_first_byte(
    app, client, runner, make_account, clock, tmp_path
):
    server = MailServer(tmp_path, implicit_tls=True).start()
    try:
        app.config.update(MAIL_URL=server.url, MAIL_CA_FILE=server.ca_file)
        queue(app, make_account, clock, client)
        assert send(runner).exit_code == 0
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_cant_send_a_login_to_a_server_without_starttls(
    app, client, runner, make_account, clock, tmp_path
):
    server = MailServer(tmp_path, starttls=False).start()
    try:
        app.config.update(MAIL_URL=server.url, MAIL_CA_FILE=server.ca_file)
        queue(app, make_account, clock, client)
        result = send(runner)
        assert result.exit_code == 1
        assert "does not offer STARTTLS" in result.output
        assert (server.recorder.logins, server.messages) == (0, [])
        [mail] = outbox(app)
        assert (mail.state, mail.attempts) == ("queued", 1)
        assert "STARTTLS" in mail.last_error
    finally:
        server.stop()


def test_cant_trust_a_server_whose_certificate_is_not_signed_by_a_known_authority(
    app, client, runner, smtp, make_account, clock
):
    app.config["MAIL_CA_FILE"] = ""  # the system's authorities do not know the test's
    queue(app, make_account, clock, client)
    assert send(runner).exit_code == 1
    assert (smtp.recorder.logins, smtp.messages) == (0, [])
    assert "CERTIFICATE_VERIFY_FAILED" in outbox(app)[0].last_error


def test_a_refusing_server_loses_no_mail_and_gets_no_copy(
    app, client, runner, smtp, make_account, clock
):
    queue(app, make_account, clock, client, count=2)
    smtp.recorder.refuse_with = "451 4.3.0 Try again later"
    result = send(runner)
    assert result.output.strip() == "Sent 0, will retry 2, refused 0."
    mails = outbox(app)
    assert [(m.state, m.attempts) for m in mails] == [("queued", 1)] * 2
    assert {m.next_attempt_at for m in mails} == {clock() + timedelta(seconds=30)}
    assert mails[0].last_error == "recipient refused (451)"

    smtp.recorder.refuse_with = None
    assert send(runner).output.strip() == "Sent 0, will retry 0, refused 0."  # not due yet
    clock.advance(30)
    assert send(runner).output.strip() == "Sent 2, will retry 0, refused 0."
    clock.advance(hours=2)
    send(runner)
    assert len(smtp.messages) == 2
    assert len({m["Message-ID"] for m in smtp.messages}) == 2


def test_a_server_outage_loses_no_mail(app, client, runner, smtp, make_account, clock):
    queue(app, make_account, clock, client)
    smtp.stop()
    result = send(runner)
    assert result.exit_code == 1
    assert "ConnectionRefusedError" in result.output
    assert outbox(app)[0].state == "queued"
    # Pages still work while the mail server is away, and queue more mail.
    account = make_account(("Active", "Active"))
    browser = app.test_client()
    sign_in(browser, account, clock())
    assert (
        post(
            browser, f"/tokens/{account.tokens[1].id}/disable", {"reason": "temporary"}
        ).status_code
        == 303
    )

    smtp.start()
    clock.advance(30)
    assert send(runner).output.strip() == "Sent 2, will retry 0, refused 0."
    assert [m.state for m in outbox(app)] == ["sent", "sent"]


def test_a_mail_refused_for_good_is_kept_as_failed(app, client, runner, smtp, make_account, clock):
    queue(app, make_account, clock, client)
    smtp.recorder.refuse_with = "550 5.1.1 No such mailbox"
    assert send(runner).output.strip() == "Sent 0, will retry 0, refused 1."
    [mail] = outbox(app)
    assert (mail.state, mail.last_error) == ("failed", "recipient refused (550)")
    assert runner.invoke(args=["mail", "status"]).output.strip() == (
        "Queued: 0  Sent: 0  Failed: 1"
    )


def _environ(app, **extra) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WIZARD_SECRET_KEY": "x" * 40,
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        **extra,
    }


CRASH_AFTER_CLAIM = """
import os, sys
from datetime import UTC, datetime
from wizard import create_app
from wizard.services import outbox
app = create_app()
with app.app_context():
    now = datetime.fromtimestamp(float(sys.argv[1]), UTC)
    [first] = outbox.due_ids(now, 1)
    assert outbox.claim(first, "a sender about to die", now)
os._exit(9)  # dies holding its claim, before any SMTP
"""


def test_a_crash_between_claim_and_send_loses_no_mail(
    app, client, runner, smtp, make_account, clock
):
    queue(app, make_account, clock, client)
    crashed = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CRASH_AFTER_CLAIM, str(clock().timestamp())],
        cwd=ROOT,
        env=_environ(app),
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    [mail] = outbox(app)
    assert (mail.claimed_by, mail.attempts) == ("a sender about to die", 1)

    assert send(runner).output.strip() == "Sent 0, will retry 0, refused 0."  # still claimed
    clock.advance(minutes=5)
    assert send(runner).output.strip() == "Sent 1, will retry 0, refused 0."
    assert len(smtp.messages) == 1
    assert outbox(app)[0].attempts == 2


def test_senders_in_several_processes_send_each_mail_once(app, client, smtp, make_account, clock):
    """Three `flask --app wizard mail send` processes at once over one database."""
    ids = queue(app, make_account, clock, client, count=24)
    environ = _environ(app, WIZARD_MAIL_URL=smtp.url, WIZARD_MAIL_CA_FILE=smtp.ca_file)
    flask = [sys.executable, "-m", "flask", "--app", "wizard", "mail", "send"]
    senders = [
        subprocess.Popen(  # noqa: S603 (our own interpreter and command)
            flask, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = [sender.communicate(timeout=180) for sender in senders]
    assert [s.returncode for s in senders] == [0, 0, 0], outputs
    sent = sum(int(re.search(rb"Sent (\d+)", out).group(1)) for out, _ in outputs)
    assert sent == len(ids) == 24
    assert len(smtp.messages) == 24
    assert len({m["Message-ID"] for m in smtp.messages}) == 24
    assert {(m.state, m.attempts) for m in outbox(app)} == {("sent", 1)}


def test_mail_send_without_a_server_says_where_the_mail_is(app, runner):
    result = send(runner)
    assert result.exit_code == 1
    assert "WIZARD_MAIL_URL is not set" in result.output
    assert "/sandbox/mailbox" in result.output


def test_a_bad_mail_url_stops_the_app_without_showing_its_password(make_app):
    from wizard.config import ConfigError

    with pytest.raises(ConfigError) as stopped:
        make_app(WIZARD_MAIL_URL="imap://user:s3cret-pass@mail.example.org")
    assert "WIZARD_MAIL_URL" in str(stopped.value)
    assert "s3cret" not in str(stopped.value)


# --- The sandbox mailbox ---------------------------------------------------------------------


def test_the_sandbox_mailbox_shows_what_would_have_been_sent_newest_first(
    app, client, client_request, make_account, clock
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    post(client, f"/tokens/{account.tokens[1].id}/rename", {"nickname": "Desk phone"})
    clock.advance(minutes=1)
    post(client, f"/tokens/{account.tokens[1].id}/disable", {"reason": "lost"})

    page = client_request.get("/sandbox/mailbox")
    assert page.h1 == "Sandbox mailbox"
    assert "WIZARD_MAIL_URL is not set, so nothing is sent" in page.text("main")
    subjects = [h.text for h in page.select("article h2")]
    assert subjects == [
        "A token on your EPCS account was reported lost",
        "A token on your EPCS account was renamed",
    ]
    first = page.select("article")[0]
    assert "robin.test@example.org" in first.text
    assert "Not sent (sandbox)" in first.text
    assert "was reported lost" in first.select_one("pre").text


def test_the_mailbox_does_not_exist_outside_the_sandbox(make_app):
    app = make_app(WIZARD_SANDBOX=None)
    assert app.test_client().get("/sandbox/mailbox").status_code == 404


def test_the_mailbox_says_when_mail_is_sent(
    app, client, client_request, smtp, runner, make_account, clock
):
    queue(app, make_account, clock, client)
    send(runner)
    page = client_request.get("/sandbox/mailbox")
    assert "Sent March 3, 2025 at 3:00 PM UTC" in page.text("article")
    assert len(page.select("article")) == 1
