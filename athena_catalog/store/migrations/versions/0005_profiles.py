"""Profiler results: table and column profiles, a time series never overwritten.

New tables only: every existing row is kept.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "table_profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_fqn", sa.Text(), nullable=False),
        sa.Column("profiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("column_count", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sample_type", sa.String(length=16), nullable=True),
        sa.Column("sample_value", sa.Float(), nullable=True),
        sa.Column("partition_predicate", sa.Text(), nullable=True),
        sa.Column("statements", sa.Integer(), nullable=False),
        sa.Column("estimated_bytes", sa.BigInteger(), nullable=True),
        sa.Column("bytes_scanned", sa.BigInteger(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("table_profiles", schema=None) as batch_op:
        batch_op.create_index("ix_table_profiles_table", ["table_fqn", "profiled_at"], unique=False)
    op.create_table(
        "column_profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("table_fqn", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=False),
        sa.Column("profiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_type", sa.Text(), nullable=True),
        sa.Column("values_count", sa.BigInteger(), nullable=True),
        sa.Column("null_count", sa.BigInteger(), nullable=True),
        sa.Column("null_proportion", sa.Float(), nullable=True),
        sa.Column("distinct_count", sa.BigInteger(), nullable=True),
        sa.Column("distinct_proportion", sa.Float(), nullable=True),
        sa.Column("unique_count", sa.BigInteger(), nullable=True),
        sa.Column("duplicate_count", sa.BigInteger(), nullable=True),
        sa.Column("min", sa.JSON(), nullable=True),
        sa.Column("max", sa.JSON(), nullable=True),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("sum", sa.Float(), nullable=True),
        sa.Column("stddev", sa.Float(), nullable=True),
        sa.Column("median", sa.Float(), nullable=True),
        sa.Column("first_quartile", sa.Float(), nullable=True),
        sa.Column("third_quartile", sa.Float(), nullable=True),
        sa.Column("inter_quartile_range", sa.Float(), nullable=True),
        sa.Column("non_parametric_skew", sa.Float(), nullable=True),
        sa.Column("min_length", sa.Integer(), nullable=True),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("histogram", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("column_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_column_profiles_table", ["table_fqn", "profiled_at"], unique=False
        )
        batch_op.create_index("ix_column_profiles_profile", ["profile_id"], unique=False)


def downgrade() -> None:
    op.drop_table("column_profiles")
    op.drop_table("table_profiles")
