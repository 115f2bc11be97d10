"""Mail: the server address in WIZARD_MAIL_URL, how dates read in a mail, when to try again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class MailServer:
    """Where mail goes. smtp: STARTTLS, always (a server that does not offer it gets nothing);
    smtps: TLS from the first byte. Login when a user is given."""

    host: str
    port: int
    implicit_tls: bool
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:  # never the password, even in a traceback
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"MailServer({scheme}://{user}{self.host}:{self.port})"


def parse_mail_url(url: str) -> MailServer:
    """smtp://user:pass@host:587 or smtps://user:pass@host:465. Raises ValueError saying why."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("it must start with smtp:// (STARTTLS) or smtps:// (TLS)")
    if not parts.hostname:
        raise ValueError("it names no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("its port is not a number from 1 to 65535") from None
    implicit = parts.scheme == "smtps"
    return MailServer(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failed attempt: 30 s, doubling, at most an hour."""
    doublings = min(max(attempts - 1, 0), 8)
    return min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)


def us_time(moment: datetime) -> str:
    """A UTC moment as a US reader writes it: March 3, 2025 at 3:00 PM UTC."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%B} {moment.day}, {moment.year} at {hour}:{moment:%M} {half} UTC"


def credential_tail(credential_id: str) -> str:
    """Enough of a Credential ID to recognize the token: its last four characters."""
    return credential_id[-4:]
