"""Mail (issue 11): WIZARD_MAIL_URL, retry delays, and what each notice says."""

from datetime import UTC, datetime, timedelta

import pytest

from wizard.domain.mail import parse_mail_url, retry_delay, us_time
from wizard.domain.notices import KINDS, Facts, compose

WHEN = datetime(2025, 3, 3, 15, 7, tzinfo=UTC)


def test_smtp_means_starttls_on_587_with_login():
    server = parse_mail_url("smtp://mailer%40example.org:p%40ss%3Aword@mail.example.org")
    assert (server.host, server.port, server.implicit_tls) == ("mail.example.org", 587, False)
    assert (server.username, server.password) == ("mailer@example.org", "p@ss:word")


def test_smtps_means_tls_from_the_start_on_465():
    server = parse_mail_url("smtps://relay.example.org")
    assert (server.port, server.implicit_tls, server.username) == (465, True, "")


def test_a_mail_server_never_shows_its_password():
    server = parse_mail_url("smtp://user:hunter2-secret@mail.example.org:2525")
    assert "hunter2" not in repr(server)
    assert repr(server) == "MailServer(smtp://user@mail.example.org:2525)"


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://mail.example.org", "smtp://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.org:99999", "port"),
        ("mail.example.org:587", "smtp://"),
    ],
)
def test_cant_use_a_mail_url_that_is_not_smtp(url, problem):
    with pytest.raises(ValueError, match=problem):
        parse_mail_url(url)


def test_retries_wait_longer_each_time_up_to_an_hour():
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays == sorted(delays)
    assert max(delays) == timedelta(hours=1)
    assert retry_delay(10_000) == timedelta(hours=1)


def test_times_read_as_us_prescribers_write_them():
    assert us_time(WHEN) == "March 3, 2025 at 3:07 PM UTC"
    assert us_time(WHEN.replace(hour=0)) == "March 3, 2025 at 12:07 AM UTC"
    assert us_time(WHEN.replace(hour=12)) == "March 3, 2025 at 12:07 PM UTC"


FACTS = Facts(
    name="Dr. Robin Test",
    when=WHEN,
    where="203.0.113.7",
    token="Work iPhone",
    credential_id="SYMC26070843",
    until=WHEN + timedelta(days=30),
    previous="Old name",
    failures=5,
    base_url="https://epcs.example.org",
)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_notice_says_what_when_where_and_what_to_do(kind):
    subject, body = compose(kind, FACTS)
    assert subject and "\n" not in subject
    assert body.startswith("Dear Dr. Robin Test,\n\n")
    when_where = "This happened on March 3, 2025 at 3:07 PM UTC, from the network address"
    when_where += " 203.0.113.7."
    assert when_where in " ".join(body.split())
    assert "help desk" in body
    assert "We never ask for your passphrase or a security code" in body
    assert all(len(line) <= 80 for line in body.splitlines())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_notice_never_shows_a_whole_credential_id(kind):
    _, body = compose(kind, FACTS)
    assert "SYMC26070843" not in body


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_lost_report_says_until_when_the_token_can_be_reactivated():
    subject, body = compose("token.suspend", FACTS)
    body = words(body)
    assert subject == "A token on your EPCS account was reported lost"
    assert "\u201cWork iPhone\u201d (Credential ID ending in 0843) was reported lost" in body
    assert "reactivate it until April 2, 2025 at 3:07 PM UTC" in body
    assert "https://epcs.example.org/lost-token" in body
    assert "someone knows your passphrase" in body


def test_a_change_made_by_the_system_says_so():
    _, body = compose("token.lost", Facts(name="Dr. A", when=WHEN, token="x", for_good=True))
    body = words(body)
    assert "UTC, by the EPCS system." in body
    assert "not reactivated within 30 days" in body
