"""A credential's replay floor (last accepted time step or HOTP counter) as a 64-bit integer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Imported key fobs may carry counters up to 2**62. SQLite's integers were always 64-bit;
PostgreSQL's INTEGER is 32-bit, and refused such a counter.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oath_credentials") as batch:
        batch.alter_column(
            "last_step", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("oath_credentials") as batch:
        batch.alter_column(
            "last_step", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True
        )
