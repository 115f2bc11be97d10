"""Sign-in pauses per account name and client address (issue 11).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

sign_in_throttles holds the consecutive failures of one account name from one client address
and the pause they lead to. The account-wide timed locks (sign_in_locked_until on prescribers
and help-desk agents) are dropped: an account paused when this runs is unpaused, and its
sign_in_failures still count toward the hard limit of 100.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACCOUNTS = ("prescribers", "helpdesk_agents")


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("account", "client", name="uq_sign_in_throttles"),
    )
    op.create_index("ix_sign_in_throttles_updated_at", "sign_in_throttles", ["updated_at"])
    for table in ACCOUNTS:
        if op.get_bind().dialect.name == "sqlite":
            # SQLite drops a column in place (3.35+); batch mode would copy the table, and
            # dropping the old prescribers table trips the tokens' foreign keys.
            op.execute(f"ALTER TABLE {table} DROP COLUMN sign_in_locked_until")
        else:
            op.drop_column(table, "sign_in_locked_until")


def downgrade() -> None:
    for table in ACCOUNTS:
        op.add_column(table, sa.Column("sign_in_locked_until", sa.DateTime(), nullable=True))
    op.drop_index("ix_sign_in_throttles_updated_at", table_name="sign_in_throttles")
    op.drop_table("sign_in_throttles")
