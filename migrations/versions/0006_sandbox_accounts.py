"""Accounts made by the sandbox API (issue 12): which prescribers and help-desk agents test
suites made, so that sandbox mode lets them skip the per-address sign-in limit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A new table only: no existing row changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prescriber_id", sa.Integer(), sa.ForeignKey("prescribers.id"), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("helpdesk_agents.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("prescriber_id"),
        sa.UniqueConstraint("agent_id"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_accounts")
