"""The schema of the last release without migrations (commit 12be53a), as its init-db made it.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

A database made by that release's init-db has exactly this schema: `db upgrade` records it as
this revision and runs only the later ones (wizard/store/schema.py, adopt_unversioned).
Times are naive UTC in the database (DateTime); the models add the zone on reading.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LIVE = sa.text("status != 'Deleted'")


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _prescriber(nullable: bool = False) -> sa.Column:
    return sa.Column(
        "prescriber_id", sa.Integer(), sa.ForeignKey("prescribers.id"), nullable=nullable
    )


def upgrade() -> None:
    audit_head = op.create_table("audit_head", _id(), _int("seq"), _text("hash", 64))
    op.create_table(
        "helpdesk_agents",
        _id(),
        _text("username", 64),
        _text("passphrase_hash", 200, nullable=True),
        sa.Column("sealed_totp", sa.LargeBinary(), nullable=True),
        _int("totp_last_step", nullable=True),
        _text("setup_hash", 64, nullable=True),
        _time("setup_expires_at", nullable=True),
        _int("sign_in_failures"),
        _time("sign_in_locked_until", nullable=True),
        _time("created_at"),
        sa.UniqueConstraint("setup_hash"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "invitations",
        _id(),
        _text("code_hash", 64),
        _text("npi", 10),
        _text("name", 200),
        _text("email", 320),
        _text("organisation", 200),
        _text("dea_number", 9),
        sa.Column("identity_proofed", sa.Boolean(), nullable=False),
        _time("expires_at"),
        _time("used_at", nullable=True),
        _time("created_at"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_invitations_npi", "invitations", ["npi"])
    op.create_table(
        "oath_credentials",
        _id(),
        _text("credential_id", 32),
        _text("algorithm", 4),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        _int("digits"),
        _int("period"),
        _int("last_step", nullable=True),
        _text("manufacturer", 20),
        _text("source", 20),
        _time("created_at"),
        sa.UniqueConstraint("credential_id"),
    )
    op.create_table(
        "prescribers",
        _id(),
        _text("npi", 10),
        _text("name", 200),
        _text("email", 320),
        _text("passphrase_hash", 200, nullable=True),
        sa.Column("identity_proofed", sa.Boolean(), nullable=False),
        _int("sign_in_failures"),
        _time("sign_in_locked_until", nullable=True),
        _text("reset_code_hash", 64, nullable=True),
        _time("reset_expires_at", nullable=True),
        _int("code_failures"),
        _time("code_locked_until", nullable=True),
        _text("backup_decision", 20),
        _time("backup_decided_at", nullable=True),
        _time("created_at"),
        sa.UniqueConstraint("npi"),
    )
    # Flask-Session's table for server-side sessions (rows keyed by a hash of the id).
    op.create_table(
        "server_sessions",
        _id(),
        _text("session_id", 255, nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        _time("expiry", nullable=True),
        sa.UniqueConstraint("session_id"),
    )
    op.create_table(
        "organisation_grants",
        _id(),
        _prescriber(),
        _text("organisation", 200),
        _text("dea_number", 9),
        _text("status", 20),
    )
    op.create_table(
        "support_sessions",
        _id(),
        _text("support_code", 8),
        _prescriber(nullable=True),
        _text("name", 200),
        _text("npi", 10),
        _text("page", 40),
        _text("platform", 20),
        _text("credential_id", 32),
        _text("step", 20),
        _text("furthest_step", 20),
        _text("last_error", 40),
        _time("last_error_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("support_code"),
    )
    op.create_index("ix_support_sessions_updated_at", "support_sessions", ["updated_at"])
    op.create_table(
        "tokens",
        _id(),
        _prescriber(),
        _text("nickname", 40),
        _text("nickname_key", 40),
        _text("credential_id", 32),
        _text("manufacturer", 20),
        _text("issuer", 20),
        _text("token_type", 20),
        _text("model", 40),
        _text("status", 10),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_tokens_credential_id", "tokens", ["credential_id"])
    op.create_index("ix_tokens_prescriber_id", "tokens", ["prescriber_id"])
    # A credential ID, and a nickname within an account, belong to one live token.
    for name, columns in (
        ("uq_tokens_live_credential", ["credential_id"]),
        ("uq_tokens_live_nickname", ["prescriber_id", "nickname_key"]),
    ):
        op.create_index(
            name, "tokens", columns, unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        )
    op.create_table(
        "audit_events",
        _id(),
        _time("at"),
        _text("actor", 80),
        _text("action", 60),
        _text("outcome", 20),
        _prescriber(nullable=True),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("tokens.id"), nullable=True),
        _text("client_address", 64),
        sa.Column("detail", sa.Text(), nullable=False),
        _text("prev_hash", 64),
        _text("hash", 64),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_prescriber_id", "audit_events", ["prescriber_id"])
    op.create_table(
        "support_events",
        _id(),
        sa.Column(
            "support_session_id",
            sa.Integer(),
            sa.ForeignKey("support_sessions.id"),
            nullable=False,
        ),
        _time("at"),
        _text("kind", 10),
        _text("name", 40),
    )
    op.create_index("ix_support_events_at", "support_events", ["at"])
    op.create_index(
        "ix_support_events_support_session_id", "support_events", ["support_session_id"]
    )
    op.create_table(
        "wizard_runs",
        _id(),
        sa.Column(
            "support_session_id",
            sa.Integer(),
            sa.ForeignKey("support_sessions.id"),
            nullable=False,
        ),
        _prescriber(nullable=True),
        _time("started_at"),
        _text("furthest_step", 20),
        _time("completed_at", nullable=True),
        _text("backup", 20),
    )
    op.create_index("ix_wizard_runs_started_at", "wizard_runs", ["started_at"])
    op.create_index("ix_wizard_runs_support_session_id", "wizard_runs", ["support_session_id"])
    # The audit chain's head: the one row every audit writer locks first.
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": ""}])


def downgrade() -> None:
    for table in (
        "wizard_runs",
        "support_events",
        "audit_events",
        "tokens",
        "support_sessions",
        "organisation_grants",
        "server_sessions",
        "prescribers",
        "oath_credentials",
        "invitations",
        "helpdesk_agents",
        "audit_head",
    ):
        op.drop_table(table)
