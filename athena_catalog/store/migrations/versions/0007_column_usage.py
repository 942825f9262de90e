"""Column-level usage: the columns each read touched, and their daily counts.

New tables only: every existing row is kept.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_columns",
        sa.Column("query_id", sa.Text(), nullable=False),
        sa.Column("table_fqn", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("filtered", sa.Boolean(), nullable=False),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("query_id", "table_fqn", "column_name"),
    )
    with op.batch_alter_table("query_columns", schema=None) as batch_op:
        batch_op.create_index("ix_query_columns_table", ["table_fqn"], unique=False)
    op.create_table(
        "column_usage_daily",
        sa.Column("table_fqn", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("select_count", sa.Integer(), nullable=False),
        sa.Column("filter_count", sa.Integer(), nullable=False),
        sa.Column("join_count", sa.Integer(), nullable=False),
        sa.Column("group_by_count", sa.Integer(), nullable=False),
        sa.Column("order_by_count", sa.Integer(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("table_fqn", "column_name", "day"),
    )


def downgrade() -> None:
    op.drop_table("column_usage_daily")
    op.drop_table("query_columns")
