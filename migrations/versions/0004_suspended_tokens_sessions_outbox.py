"""Suspended tokens, the prescriber's session generation, and the mail outbox (issue 11).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

- tokens.suspended_at: when a token was reported lost (status "Suspended", a new value of the
  status column); it becomes Lost 30 days later.
- prescribers.session_generation: raised to end every session signed in before (0 for all rows).
- outbox: mail to prescribers, written with each change, delivered by `flask mail send`.
Columns are added in place (SQLite's ADD COLUMN), so the tables and their partial indexes are
not copied.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column("suspended_at", sa.DateTime(), nullable=True))
    op.add_column(
        "prescribers",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prescriber_id", sa.Integer(), sa.ForeignKey("prescribers.id"), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_prescriber_id", "outbox", ["prescriber_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_prescriber_id", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_table("outbox")
    # The release before knows no Suspended status: a suspended token stays unusable as Lost.
    op.execute("UPDATE tokens SET status = 'Lost' WHERE status = 'Suspended'")
    op.drop_column("prescribers", "session_generation")
    op.drop_column("tokens", "suspended_at")
