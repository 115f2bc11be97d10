"""Symantec VIP (issue 10): the prescriber's VIP user id, and which tokens VIP binds.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

prescribers.vip_user_id is an opaque id of ours (never the NPI), unique, made when a first
credential is bound at VIP. tokens.vip_bound stays true on a Deleted or Lost token while VIP
still holds its binding (removed later by `flask --app wizard vip release-pending`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("prescribers", sa.Column("vip_user_id", sa.String(length=64), nullable=True))
    op.create_index("ix_prescribers_vip_user_id", "prescribers", ["vip_user_id"], unique=True)
    op.add_column(
        "tokens",
        sa.Column("vip_bound", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("tokens", "vip_bound")
    op.drop_index("ix_prescribers_vip_user_id", table_name="prescribers")
    op.drop_column("prescribers", "vip_user_id")
