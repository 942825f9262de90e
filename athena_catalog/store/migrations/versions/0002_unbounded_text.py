"""Names, fqns, ids and work groups become unbounded text.

On PostgreSQL a bounded ``VARCHAR`` refused values AWS or an import can legally hold (a query
id or work group over 128 characters failed every ``query_history`` run, a table name over
255 every crawl). SQLite never enforced the lengths; there the tables are recreated in batch
mode so both backends hold the same schema. Every row is kept.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table: [(column, its VARCHAR length in 0001, nullable)]
_WIDENED: dict[str, list[tuple[str, int, bool]]] = {
    "catalog_catalogs": [
        ("name", 255, False),
        ("display_name", 255, False),
        ("catalog_type", 32, False),
    ],
    "catalog_columns": [("table_fqn", 768, False), ("name", 255, False)],
    "catalog_schemas": [("fqn", 512, False), ("catalog", 255, False), ("name", 255, False)],
    "catalog_tables": [
        ("fqn", 768, False),
        ("catalog", 255, False),
        ("database", 255, False),
        ("name", 255, False),
        ("table_type", 32, False),
        ("storage_format", 64, True),
        ("owner", 255, True),
    ],
    "history_cursors": [("work_group", 128, False)],
    "history_rejects": [("query_id", 128, True), ("work_group", 128, True)],
    "lineage_column_edges": [
        ("source_table_fqn", 1024, False),
        ("source_column", 255, False),
        ("target_table_fqn", 1024, False),
        ("target_column", 255, False),
        ("example_query_id", 128, True),
    ],
    "lineage_statements": [("query_id", 128, False)],
    "lineage_table_edges": [
        ("source_fqn", 1024, False),
        ("target_fqn", 1024, False),
        ("example_query_id", 128, True),
    ],
    "query_history": [
        ("query_id", 128, False),
        ("work_group", 128, False),
        ("catalog", 255, True),
        ("database", 255, True),
    ],
    "query_joins": [("query_id", 128, False), ("left_fqn", 768, False), ("right_fqn", 768, False)],
    "query_tables": [("query_id", 128, False), ("table_fqn", 768, False)],
    "schema_changes": [("table_fqn", 768, False), ("column_name", 255, True)],
    "table_joins": [("left_fqn", 768, False), ("right_fqn", 768, False)],
    "table_top_queries": [("table_fqn", 768, False)],
    "table_usage_daily": [("table_fqn", 768, False)],
    "table_usage_summary": [("table_fqn", 768, False)],
    "work_group_cost_daily": [("work_group", 128, False)],
}


def _alter(to_text: bool) -> None:
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for name, length, nullable in columns:
                old, new = sa.String(length), sa.Text()
                batch.alter_column(
                    name,
                    existing_type=old if to_text else new,
                    type_=new if to_text else old,
                    existing_nullable=nullable,
                )


def upgrade() -> None:
    _alter(to_text=True)


def downgrade() -> None:
    _alter(to_text=False)
