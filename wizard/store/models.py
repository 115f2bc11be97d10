"""SQLAlchemy 2 models. Times are stored as UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect, Select

from wizard.domain.tokens import ISSUER, Status
from wizard.extensions import db


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Prescriber(db.Model):
    __tablename__ = "prescribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    passphrase_hash: Mapped[str | None] = mapped_column(String(200))
    identity_proofed: Mapped[bool] = mapped_column(default=True)
    # Consecutive failed sign-ins from any address (passphrase, code or reset): at 100 only a
    # passphrase reset unlocks. The timed pauses are per address, in sign_in_throttles.
    sign_in_failures: Mapped[int] = mapped_column(Integer, default=0)
    # A one-time passphrase reset code issued by an administrator (hash only).
    reset_code_hash: Mapped[str | None] = mapped_column(String(64))
    reset_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed one-time pins while adding a token, and the lock they lead to.
    code_failures: Mapped[int] = mapped_column(Integer, default=0)
    code_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The backup-token recommendation: "declined" and when, or empty.
    backup_decision: Mapped[str] = mapped_column(String(20), default="")
    backup_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # Raised to end every session signed in before (a lost report, a passphrase reset...):
    # a session carries the value it signed in with.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The prescriber's user at Symantec VIP: an opaque id of ours (never the NPI), made when
    # a first credential is bound there.
    vip_user_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    grants: Mapped[list[OrganisationGrant]] = relationship(
        back_populates="prescriber", order_by="OrganisationGrant.id"
    )
    tokens: Mapped[list[Token]] = relationship(back_populates="prescriber", order_by="Token.id")
    # Tokens not deleted, read with the row by accounts.by_id (every step asks, the limit);
    # None when the row was read otherwise, or read again after a commit.
    held_tokens: Mapped[int | None] = query_expression()


class OrganisationGrant(db.Model):
    __tablename__ = "organisation_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int] = mapped_column(ForeignKey("prescribers.id"))
    organisation: Mapped[str] = mapped_column(String(200))
    dea_number: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")

    prescriber: Mapped[Prescriber] = relationship(back_populates="grants")


class OathCredential(db.Model):
    """A credential whose codes we can check: its encrypted seed and replay floor.

    Kept apart from Token because a seed exists before anyone registers it
    (sandbox issues, imported hard-token files) and its replay floor must
    outlive a deleted-and-registered-again token.
    """

    __tablename__ = "oath_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(32), unique=True)
    algorithm: Mapped[str] = mapped_column(String(4), default="totp")
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    digits: Mapped[int] = mapped_column(default=6)
    period: Mapped[int] = mapped_column(default=30)
    # A key fob's counter may be far past 32 bits (imported files allow up to 2**62).
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    manufacturer: Mapped[str] = mapped_column(String(20), default="SYMANTEC")
    source: Mapped[str] = mapped_column(String(20), default="sandbox")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


# The live-token indexes' condition: they hold only tokens not deleted.
LIVE = f"status != '{Status.DELETED}'"


class Token(db.Model):
    __tablename__ = "tokens"
    __table_args__ = (
        # A credential ID belongs to one live token across all accounts; Deleted
        # rows stay for history. Suspended and Lost rows stay live, so a lost one never returns.
        Index(
            "uq_tokens_live_credential",
            "credential_id",
            unique=True,
            sqlite_where=text(LIVE),
        ),
        Index(
            "uq_tokens_live_nickname",
            "prescriber_id",
            "nickname_key",
            unique=True,
            sqlite_where=text(LIVE),
        ),
    )
    # PostgreSQL's WHERE for both is set when the table is created there (_partial_on_postgresql).

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int] = mapped_column(ForeignKey("prescribers.id"), index=True)
    nickname: Mapped[str] = mapped_column(String(40))
    nickname_key: Mapped[str] = mapped_column(String(40))  # casefolded, for uniqueness
    credential_id: Mapped[str] = mapped_column(String(32), index=True)
    manufacturer: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(20), default=ISSUER)
    token_type: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=Status.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # When it was reported lost; Suspended turns Lost 30 days later (domain.tokens.SUSPENSION).
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # VIP holds a binding of this credential to the prescriber's VIP user. Still true on a
    # Deleted or Lost token while VIP could not be told: the binding is removed later.
    vip_bound: Mapped[bool] = mapped_column(default=False, server_default=false())

    prescriber: Mapped[Prescriber] = relationship(back_populates="tokens")


class AuditEvent(db.Model):
    """Append-only. Each row carries the hash of the one before it."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("prescribers.id"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    client_address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class AuditHead(db.Model):
    """The audit chain's newest hash, in one row that every writer locks first, so two
    events written at once cannot both claim the same predecessor."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")
    # The hash before it, as the newest event was chained on PostgreSQL (services/audit.py).
    prev_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Invitation(db.Model):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    npi: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    dea_number: Mapped[str] = mapped_column(String(9), default="")
    identity_proofed: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class HelpdeskAgent(db.Model):
    """Help-desk staff: read-only console users with their own passphrase and TOTP."""

    __tablename__ = "helpdesk_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    passphrase_hash: Mapped[str | None] = mapped_column(String(200))
    sealed_totp: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    setup_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_in_failures: Mapped[int] = mapped_column(Integer, default=0)  # as for prescribers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class SignInThrottle(db.Model):
    """Consecutive failed sign-ins for one account name from one client address (an IPv4
    address or an IPv6 /64), and the pause they lead to. Keyed by the name as typed
    (prescriber:<NPI>, agent:<username>), whether or not such an account exists, so an unknown
    name is throttled exactly like a real one."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (UniqueConstraint("account", "client", name="uq_sign_in_throttles"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)


class SupportSession(db.Model):
    """What the help desk sees of one browser session, found by its support code.

    Holds no code, passphrase, seed or session id: only where the prescriber is.
    """

    __tablename__ = "support_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    support_code: Mapped[str] = mapped_column(String(8), unique=True)
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("prescribers.id"))
    # Known before an account exists (onboarding by invitation).
    name: Mapped[str] = mapped_column(String(200), default="")
    npi: Mapped[str] = mapped_column(String(10), default="")
    page: Mapped[str] = mapped_column(String(40), default="")
    platform: Mapped[str] = mapped_column(String(20), default="")
    credential_id: Mapped[str] = mapped_column(String(32), default="")
    step: Mapped[str] = mapped_column(String(20), default="")
    furthest_step: Mapped[str] = mapped_column(String(20), default="")
    last_error: Mapped[str] = mapped_column(String(40), default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)

    events: Mapped[list[SupportEvent]] = relationship(order_by="SupportEvent.id")


class SupportEvent(db.Model):
    """One line of a support session's timeline: a page reached or an error met."""

    __tablename__ = "support_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    support_session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # page, error or change
    name: Mapped[str] = mapped_column(String(40))  # the page (step) or the error kind


class WizardRun(db.Model):
    """One run of the enrollment wizard, for the funnel: how far it got and how it ended."""

    __tablename__ = "wizard_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    support_session_id: Mapped[int] = mapped_column(ForeignKey("support_sessions.id"), index=True)
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("prescribers.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    furthest_step: Mapped[str] = mapped_column(String(20), default="get-app")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backup: Mapped[str] = mapped_column(String(20), default="")  # shown, accepted, declined


class StoredSession(db.Model):
    """A server-side session (wizard.store.sessions). Keyed by a hash of the cookie's id;
    the columns are those Flask-Session gave this table, so earlier databases need no change."""

    __tablename__ = "server_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    expiry: Mapped[datetime | None] = mapped_column(DateTime)  # naive UTC, as Flask-Session's


class OutboxMail(db.Model):
    """A mail to a prescriber, written in the same transaction as the change it tells of and
    delivered later by `flask --app wizard mail send`. Never holds a code or a secret."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("prescribers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # what happened, e.g. token.suspend
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The same on every attempt, so a copy sent again after a crash is recognized as one.
    message_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default="queued")  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # A sender's claim: no other sender takes the row until claimed_until.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxAccount(db.Model):
    """A prescriber or help-desk agent made by the sandbox API (test suites' own accounts).

    Kept apart from the accounts themselves: only sandbox mode reads it (the per-address
    sign-in limit does not apply to these accounts there).
    """

    __tablename__ = "sandbox_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("prescribers.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("helpdesk_agents.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


LIVE_ONLY = ("uq_tokens_live_credential", "uq_tokens_live_nickname")


@event.listens_for(Token.__table__, "before_create")
def _partial_on_postgresql(table, connection, **_kw) -> None:
    """The live-token indexes' WHERE on PostgreSQL, set only when the table is made there:
    naming postgresql_where in the model would import SQLAlchemy's PostgreSQL dialect into
    every process (2 MB) to check the argument, on SQLite too. The migrations name it."""
    if connection.dialect.name != "postgresql":
        return
    for index in table.indexes:
        if index.name in LIVE_ONLY:
            index.dialect_options["postgresql"]["where"] = text(LIVE)


def not_deleted() -> ColumnElement[bool]:
    """Tokens not deleted, with 'Deleted' written into the statement rather than bound: a
    bound value that decides whether a partial index (ours hold only such tokens) may serve
    makes SQLite plan the statement again at every run, which tripled the cost of reading
    the prescriber with their token count (34 µs against 12)."""
    return Token.status != literal_column(f"'{Status.DELETED}'")


def count_held_tokens(prescriber_id) -> Select:
    """The count of a prescriber's tokens that the limit counts: all but deleted ones."""
    return select(func.count(Token.id)).where(Token.prescriber_id == prescriber_id, not_deleted())


def held_tokens_expression() -> ScalarSelect:
    """Prescriber.held_tokens' expression, read with the prescriber's row."""
    return count_held_tokens(Prescriber.id).correlate(Prescriber).scalar_subquery()
