"""The local engine's Glue: a SQLite file holding what DuckDB cannot.

Data catalogs, database descriptions, table types, locations, formats, parameters, tags,
partition keys, the original view SQL, and the query history log. WAL mode plus a busy
timeout lets many read-only crawler processes record history at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from athena_catalog.engines.records import (
    Database,
    DataCatalog,
    EngineError,
    QueryExecution,
)
from athena_catalog.timeutil import iso_utc

ATHENA_OWNER = "hadoop"  # the owner Athena writes into Glue for tables created by DDL

_GLUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_catalogs (
    name TEXT PRIMARY KEY COLLATE NOCASE, type TEXT NOT NULL, description TEXT,
    parameters TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS databases (
    catalog TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE, description TEXT,
    location TEXT, parameters TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (catalog, name));
CREATE TABLE IF NOT EXISTS tables (
    catalog TEXT NOT NULL COLLATE NOCASE, database TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE, table_type TEXT NOT NULL, location TEXT,
    storage_format TEXT, parameters TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '{}',
    owner TEXT, partition_keys TEXT NOT NULL DEFAULT '[]', view_sql TEXT,
    created_at TEXT, updated_at TEXT, PRIMARY KEY (catalog, database, name));
CREATE TABLE IF NOT EXISTS query_history (
    query_id TEXT PRIMARY KEY, query TEXT NOT NULL, statement_type TEXT, state TEXT NOT NULL,
    work_group TEXT NOT NULL, catalog TEXT, database TEXT, submitted_at TEXT NOT NULL,
    completed_at TEXT, data_scanned_bytes INTEGER, engine_ms INTEGER, error_message TEXT);
CREATE INDEX IF NOT EXISTS query_history_by_time ON query_history (submitted_at, query_id);
"""


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class GlueTable:
    """The Glue half of a table: what DuckDB's catalog does not hold."""

    table_type: str
    location: str | None = None
    storage_format: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    partition_keys: tuple[str, ...] = ()
    view_sql: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    owner: str | None = ATHENA_OWNER
    created_at: datetime | None = None
    updated_at: datetime | None = None


class GlueStore:
    """The SQLite side: data catalogs, databases, table metadata and query history."""

    def __init__(self, path: Path):
        # Used from the crawl's threads, one at a time under LocalEngine's lock.
        self.conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 60000")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        with self.transaction():
            for statement in _GLUE_SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so a busy writer waits, never fails."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def catalogs(self) -> list[DataCatalog]:
        rows = self.conn.execute(
            "SELECT name, type, description, parameters FROM data_catalogs ORDER BY name"
        )
        return [DataCatalog(n, t, d, json.loads(p)) for n, t, d, p in rows]

    def catalog(self, name: str) -> DataCatalog:
        found = [c for c in self.catalogs() if c.name.lower() == name.lower()]
        if not found:
            raise EngineError(f"data catalog {name!r} does not exist", code="CATALOG_NOT_FOUND")
        return found[0]

    def databases(self, catalog: str) -> list[Database]:
        rows = self.conn.execute(
            "SELECT catalog, name, description, location, parameters FROM databases"
            " WHERE catalog = ? ORDER BY name",
            (catalog,),
        )
        return [Database(c, n, d, loc, json.loads(p)) for c, n, d, loc, p in rows]

    def database(self, catalog: str, name: str) -> Database:
        found = [d for d in self.databases(catalog) if d.name.lower() == name.lower()]
        if not found:
            raise EngineError(
                f"database {name!r} does not exist in data catalog {catalog!r}",
                code="DATABASE_NOT_FOUND",
            )
        return found[0]

    def put_database(self, database: Database) -> None:
        """Add a database; an existing one keeps its description (CREATE ... IF NOT EXISTS)."""
        self.conn.execute(
            "INSERT INTO databases VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                database.catalog,
                database.name,
                database.description,
                database.location,
                json.dumps(database.parameters, sort_keys=True),
            ),
        )

    def tables(self, catalog: str, database: str) -> dict[str, tuple[str, GlueTable]]:
        """Glue rows of one database keyed by lower-case name, with the name as created."""
        rows = self.conn.execute(
            "SELECT name, table_type, location, storage_format, parameters, partition_keys,"
            " view_sql, tags, owner, created_at, updated_at FROM tables"
            " WHERE catalog = ? AND database = ?",
            (catalog, database),
        )
        return {row[0].lower(): (row[0], self._glue_table(row[1:])) for row in rows}

    def table(self, catalog: str, database: str, name: str) -> GlueTable | None:
        found = self.tables(catalog, database).get(name.lower())
        return found[1] if found else None

    @staticmethod
    def _glue_table(row: tuple[Any, ...]) -> GlueTable:
        kind, location, fmt, params, keys, view_sql, tags, owner, created, updated = row
        return GlueTable(
            kind,
            location,
            fmt,
            json.loads(params),
            tuple(json.loads(keys)),
            view_sql,
            json.loads(tags),
            owner,
            from_iso(created),
            from_iso(updated),
        )

    def put_table(self, catalog: str, database: str, name: str, table: GlueTable) -> None:
        """Create or replace a table's Glue row; tags and creation time survive a replace."""
        self.conn.execute(
            "INSERT INTO tables (catalog, database, name, table_type, location, storage_format,"
            " parameters, partition_keys, view_sql, owner, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (catalog, database, name) DO UPDATE SET table_type = excluded.table_type,"
            " location = excluded.location, storage_format = excluded.storage_format,"
            " parameters = excluded.parameters, partition_keys = excluded.partition_keys,"
            " view_sql = excluded.view_sql, owner = excluded.owner,"
            " updated_at = excluded.updated_at",
            (
                catalog,
                database,
                name,
                table.table_type,
                table.location,
                table.storage_format,
                json.dumps(table.parameters, sort_keys=True),
                json.dumps(list(table.partition_keys)),
                table.view_sql,
                table.owner,
                iso_utc(table.created_at),
                iso_utc(table.updated_at),
            ),
        )

    def record(self, execution: QueryExecution) -> None:
        self.record_many([execution])

    def record_many(self, executions: list[QueryExecution]) -> int:
        """Insert history rows, skipping ids already present; returns how many were new."""
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO query_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        q.query_id,
                        q.query,
                        q.statement_type,
                        q.state,
                        q.work_group,
                        q.catalog,
                        q.database,
                        iso_utc(q.submitted_at),
                        iso_utc(q.completed_at),
                        q.data_scanned_bytes,
                        q.engine_ms,
                        q.error_message,
                    )
                    for q in executions
                ],
            )
            return conn.total_changes - before

    def newest_submission(self) -> datetime | None:
        """The latest submission time in the log: one indexed lookup."""
        row = self.conn.execute("SELECT max(submitted_at) FROM query_history").fetchone()
        return from_iso(row[0]) if row else None

    def history_page(
        self, since: datetime | None, after: tuple[str, str] | None, size: int
    ) -> list[QueryExecution]:
        """One page of history in (submission time, id) order, after the ``after`` key: pages
        keep a long history's memory bounded."""
        where, params = "submitted_at >= ?", [iso_utc(since) or ""]
        if after is not None:
            where += " AND (submitted_at, query_id) > (?, ?)"
            params += list(after)
        rows = self.conn.execute(
            f"SELECT * FROM query_history WHERE {where} ORDER BY submitted_at, query_id LIMIT ?",
            [*params, size],
        ).fetchall()
        return [
            QueryExecution(
                query_id=query_id,
                query=query,
                statement_type=statement_type,
                state=state,
                work_group=work_group,
                catalog=catalog,
                database=database,
                submitted_at=datetime.fromisoformat(submitted),
                completed_at=from_iso(completed),
                data_scanned_bytes=scanned,
                engine_ms=engine_ms,
                error_message=error,
            )
            for (
                query_id,
                query,
                statement_type,
                state,
                work_group,
                catalog,
                database,
                submitted,
                completed,
                scanned,
                engine_ms,
                error,
            ) in rows
        ]
