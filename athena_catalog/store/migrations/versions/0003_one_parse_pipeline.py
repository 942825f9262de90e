"""One parse pipeline: history rows say what they were resolved under, lineage statements
keep their time.

``query_history.resolved`` (a one-way flag) becomes ``parser_version``, ``fingerprint`` and
``schema_version``, so a new parser or a changed table schema re-resolves a row for usage and
lineage alike. The flag cannot say which parser resolved a row, so every row starts
unresolved and is re-resolved once, through the parse cache, on the next run. Lineage
statements gain ``submitted_at`` (copied from the history they came from, so edges can be
recounted after the history is gone) and ``counted``. Every row is kept.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_RESOLUTION = ("parser_version", "fingerprint", "schema_version")


def upgrade() -> None:
    with op.batch_alter_table("query_history") as batch:
        batch.drop_index("ix_query_history_unresolved")
        batch.drop_column("resolved")
        batch.add_column(sa.Column("parser_version", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("schema_version", sa.String(length=64), nullable=True))
        batch.create_index("ix_query_history_resolution", list(_RESOLUTION))
    with op.batch_alter_table("lineage_statements") as batch:
        batch.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute(
        "UPDATE lineage_statements SET submitted_at = (SELECT h.submitted_at FROM query_history h"
        " WHERE h.query_id = lineage_statements.query_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("lineage_statements") as batch:
        batch.drop_column("counted")
        batch.drop_column("submitted_at")
    with op.batch_alter_table("query_history") as batch:
        batch.add_column(
            sa.Column("resolved", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE query_history SET resolved = (parser_version IS NOT NULL)")
    with op.batch_alter_table("query_history") as batch:
        batch.drop_index("ix_query_history_resolution")
        for name in _RESOLUTION:
            batch.drop_column(name)
        batch.create_index("ix_query_history_unresolved", ["resolved"])
