"""dbt artifacts: the applied artifact set per project, nodes, columns and test results.

New tables only: every existing row is kept.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dbt_projects",
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("manifest_version", sa.String(length=16), nullable=False),
        sa.Column("adapter_type", sa.Text(), nullable=True),
        sa.Column("invocation_id", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project"),
    )
    op.create_table(
        "dbt_nodes",
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("resource_type", sa.String(length=16), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("table_fqn", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("materialization", sa.String(length=32), nullable=True),
        sa.Column("raw_code", sa.Text(), nullable=True),
        sa.Column("compiled_code", sa.Text(), nullable=True),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("attached_node", sa.Text(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("test_name", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("project", "unique_id"),
    )
    with op.batch_alter_table("dbt_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_dbt_nodes_table", ["table_fqn"], unique=False)
    op.create_table(
        "dbt_columns",
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("data_type", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("project", "unique_id", "column_name"),
    )
    op.create_table(
        "dbt_test_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("test_unique_id", sa.Text(), nullable=False),
        sa.Column("table_fqn", sa.Text(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("invocation_id", sa.Text(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("failures", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("compiled_code", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dbt_test_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dbt_test_results_test", ["project", "test_unique_id", "evaluated_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("dbt_test_results")
    op.drop_table("dbt_columns")
    op.drop_table("dbt_nodes")
    op.drop_table("dbt_projects")
