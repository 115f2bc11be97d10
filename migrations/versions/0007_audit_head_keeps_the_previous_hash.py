"""The audit chain's head row keeps the hash before its newest as well as the newest.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

On PostgreSQL an event is chained in one statement: its UPDATE of the head sets prev_hash to
the head's hash and hash to the new event's, and returns both (an UPDATE returns only new
values). The existing head row takes "" until its next event.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("prev_hash")
