"""Alembic's environment for the catalog store: it always runs on a connection it is given.

:func:`athena_catalog.store.migrations.upgrade` passes the connection, already inside the
store's write transaction and holding its write lock, in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from athena_catalog.store.migrations import VERSION_TABLE
from athena_catalog.store.schema import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things: autogenerate batch operations
)
with context.begin_transaction():
    context.run_migrations()
