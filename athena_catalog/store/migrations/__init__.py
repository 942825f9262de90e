"""The catalog store's schema under Alembic: every schema change is a revision in ``versions``.

Opening a store (and ``athena-catalog upgrade-store``) calls :func:`upgrade` inside the
store's write transaction, so concurrent openers queue on the write lock and the first one
upgrades. An empty database gets today's tables and is stamped at head; a store created
before Alembic (tables, no version table) is at revision 0001 and is upgraded from there; a
store at an older revision is upgraded; a store at a revision this code does not know (made
by a newer athena-catalog) is refused. The version table has its own name so a store may
share a PostgreSQL database with Dagster's storage, which keeps its own ``alembic_version``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

VERSION_TABLE = "athena_catalog_alembic_version"
BASELINE = "0001"  # the schema of stores created before Alembic


class UnknownRevision(Exception):
    """The store is at a revision this athena-catalog does not have."""


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def current(conn: Connection) -> str | None:
    """The store's revision; None for a store without a version table."""
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(conn: Connection) -> str | None:
    """Bring the store on ``conn`` to head; returns the revision it was at (None: empty)."""
    from athena_catalog.store.schema import metadata

    found = current(conn)
    if found == head():
        return found
    if found is None:
        if not set(inspect(conn).get_table_names()) & set(metadata.tables):
            metadata.create_all(conn)
            command.stamp(config(conn), "head")
            return None
        found = BASELINE  # created before Alembic: 0001 creates whatever of it is missing
    elif found not in {s.revision for s in _script().walk_revisions()}:
        raise UnknownRevision(
            f"the store's schema is at revision {found!r}, which this athena-catalog does not "
            f"know (its newest is {head()!r}): a newer athena-catalog upgraded it"
        )
    command.upgrade(config(conn), "head")
    return found
