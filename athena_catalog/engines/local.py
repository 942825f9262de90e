"""The embedded ``local`` engine: Athena SQL over DuckDB, with a SQLite file playing Glue.

Layout under ``home/warehouse``:

* ``<catalog>.duckdb`` - one DuckDB file per Athena data catalog, attached under the catalog's
  lower-case name, so Athena's ``catalog.database.table`` is DuckDB's ``catalog.schema.table``.
* ``glue.sqlite`` - what DuckDB cannot hold: data catalogs, database descriptions, table types,
  locations, formats, parameters, tags, partition keys, the original view SQL, and the query
  history. WAL mode plus a busy timeout lets many read-only crawler processes record history
  at once; DuckDB files are attached read-only by them, which DuckDB allows from many
  processes at the same time.

Statements are parsed with sqlglot's Athena dialect, dispatched on the expression type to one
small handler each, transpiled to DuckDB and run inside one DuckDB transaction.

``data_scanned_bytes`` is an estimate: for every table a statement reads (views expanded
through their SQL), the table's row count times a row width summed from its column types.
``execute(..., timeout_s=...)`` cancels through DuckDB's ``interrupt()``, recorded CANCELLED.
UNLOAD writes its files under ``home/s3/<bucket>/<prefix>``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.optimizer.qualify_tables import qualify_tables

from athena_catalog.engines.athena_types import athena_type
from athena_catalog.engines.base import (
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Column,
    Database,
    DataCatalog,
    EngineError,
    QueryExecution,
    QueryResult,
    Table,
)
from athena_catalog.engines.listing import Listed
from athena_catalog.sql_text import Unterminated, leading_keyword, split_parenthesised

T = TypeVar("T")
HISTORY_PAGE = 10_000  # query history rows read per page
MAX_COUNT = 2**63 - 1  # the largest integer SQLite and PostgreSQL's BIGINT hold

DEFAULT_CATALOG = "AwsDataCatalog"
DEFAULT_DATABASE = "default"
DEFAULT_WORK_GROUP = "primary"
CATALOG_TYPES = ("GLUE", "LAMBDA", "HIVE", "FEDERATED")
QUERY_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
STATEMENT_TYPES = ("DDL", "DML", "UTILITY")
ATHENA_OWNER = "hadoop"  # the owner Athena writes into Glue for tables created by DDL
DIALECT = "athena"

# Athena classifies a statement by its leading keyword: CTAS is DDL because it starts CREATE.
_STATEMENT_TYPE_BY_KEYWORD = {
    "CREATE": "DDL",
    "DROP": "DDL",
    "ALTER": "DDL",
    "MSCK": "DDL",
    "SHOW": "UTILITY",
    "DESCRIBE": "UTILITY",
    "DESC": "UTILITY",
    "EXPLAIN": "UTILITY",
}

# Statements that never change table sizes, so cached scan estimates stay valid.
_READ_ONLY_KEYWORDS = {"SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "UNLOAD"}

# Bytes per value by Athena type prefix, for the scan estimate; nested values are guessed.
_VALUE_BYTES = (
    ("tinyint", 1),
    ("boolean", 1),
    ("smallint", 2),
    ("int", 4),
    ("float", 4),
    ("date", 4),
    ("bigint", 8),
    ("double", 8),
    ("timestamp", 8),
    ("decimal", 16),
    ("string", 24),
    ("varchar", 24),
    ("binary", 32),
)
_NESTED_VALUE_BYTES = 64

# Hive STORED AS keywords and SerDe class fragments -> the storage format Glue reports.
_FILE_FORMATS = {"PARQUET": "parquet", "ORC": "orc", "AVRO": "avro", "TEXTFILE": "csv"}
_FILE_FORMATS |= {"JSON": "json", "ION": "ion"}
_SERDE_FORMATS = (("json", "json"), ("csv", "csv"), ("lazysimple", "csv"), ("parquet", "parquet"))
_UNLOAD_FORMATS = {"PARQUET": ("parquet", "parquet"), "JSON": ("json", "json")}
_UNLOAD_FORMATS |= {"TEXTFILE": ("csv", "csv")}

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


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    """One fixed-width UTC format, so text order in SQLite is time order."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _duck_name(catalog: str, database: str, name: str | None = None) -> str:
    parts = [catalog.lower(), database] + ([name] if name is not None else [])
    return ".".join(_quote(p) for p in parts)


def _row_bytes(athena_types: list[str]) -> int:
    total = 0
    for data_type in athena_types:
        total += next(
            (size for prefix, size in _VALUE_BYTES if data_type.startswith(prefix)),
            _NESTED_VALUE_BYTES,
        )
    return total


@dataclass(frozen=True)
class _Context:
    """Where unqualified names resolve: a canonical Glue catalog name and a database."""

    catalog: str
    database: str


@dataclass
class _Outcome:
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    scanned_bytes: int = 0


@dataclass(frozen=True)
class _DdlProperties:
    """Everything a CREATE statement says besides its columns, read off sqlglot's tree."""

    comment: str | None = None
    location: str | None = None
    file_format: str | None = None
    serde: str | None = None
    external: bool = False
    partitioned_by: exp.Expression | None = None
    values: dict[str, str] = field(default_factory=dict)  # TBLPROPERTIES / WITH (...)

    @classmethod
    def read(cls, expression: exp.Expression) -> _DdlProperties:
        found: dict[str, Any] = {"values": {}}
        properties = expression.args.get("properties")
        for prop in properties.expressions if properties else []:
            if isinstance(prop, exp.SchemaCommentProperty):
                found["comment"] = prop.this.name
            elif isinstance(prop, exp.LocationProperty):
                found["location"] = prop.this.name
            elif isinstance(prop, exp.FileFormatProperty):
                found["file_format"] = prop.this.name.upper()
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                found["serde"] = prop.this.name
            elif isinstance(prop, exp.ExternalProperty):
                found["external"] = True
            elif isinstance(prop, exp.PartitionedByProperty):
                found["partitioned_by"] = prop.this
            elif type(prop) is exp.Property:  # subclasses are the typed ones above
                value = prop.args["value"]
                found["values"][prop.name.lower()] = (
                    value.name if isinstance(value, exp.Literal) else value.sql(DIALECT)
                )
        return cls(**found)

    @property
    def is_iceberg(self) -> bool:
        return self.values.get("table_type", "").upper() == ICEBERG

    def storage_format(self) -> str | None:
        if self.is_iceberg:
            return "iceberg"
        if self.file_format:
            return _FILE_FORMATS.get(self.file_format, self.file_format.lower())
        serde = (self.serde or "").lower()
        return next((fmt for key, fmt in _SERDE_FORMATS if key in serde), None)


@dataclass(frozen=True)
class _GlueTable:
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


class _Glue:
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

    def tables(self, catalog: str, database: str) -> dict[str, tuple[str, _GlueTable]]:
        """Glue rows of one database keyed by lower-case name, with the name as created."""
        rows = self.conn.execute(
            "SELECT name, table_type, location, storage_format, parameters, partition_keys,"
            " view_sql, tags, owner, created_at, updated_at FROM tables"
            " WHERE catalog = ? AND database = ?",
            (catalog, database),
        )
        return {row[0].lower(): (row[0], self._glue_table(row[1:])) for row in rows}

    def table(self, catalog: str, database: str, name: str) -> _GlueTable | None:
        found = self.tables(catalog, database).get(name.lower())
        return found[1] if found else None

    @staticmethod
    def _glue_table(row: tuple[Any, ...]) -> _GlueTable:
        kind, location, fmt, params, keys, view_sql, tags, owner, created, updated = row
        return _GlueTable(
            kind,
            location,
            fmt,
            json.loads(params),
            tuple(json.loads(keys)),
            view_sql,
            json.loads(tags),
            owner,
            _from_iso(created),
            _from_iso(updated),
        )

    def put_table(self, catalog: str, database: str, name: str, table: _GlueTable) -> None:
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
                _iso(table.created_at),
                _iso(table.updated_at),
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
                        _iso(q.submitted_at),
                        _iso(q.completed_at),
                        q.data_scanned_bytes,
                        q.engine_ms,
                        q.error_message,
                    )
                    for q in executions
                ],
            )
            return conn.total_changes - before

    def history_page(
        self, since: datetime | None, after: tuple[str, str] | None, size: int
    ) -> list[QueryExecution]:
        """One page of history in (submission time, id) order, after the ``after`` key: pages
        keep a long history's memory bounded."""
        where, params = "submitted_at >= ?", [_iso(since) or ""]
        if after is not None:
            where += " AND (submitted_at, query_id) > (?, ?)"
            params += list(after)
        rows = self.conn.execute(
            f"SELECT * FROM query_history WHERE {where} ORDER BY submitted_at, query_id LIMIT ?",
            [*params, size],
        ).fetchall()
        return [
            QueryExecution(
                *row[:7],
                submitted_at=_from_iso(row[7]),
                completed_at=_from_iso(row[8]),
                data_scanned_bytes=row[9],
                engine_ms=row[10],
                error_message=row[11],
            )
            for row in rows
        ]


def _serialized(method: Callable[..., T]) -> Callable[..., T]:
    """One call at a time per engine: neither a DuckDB connection nor an sqlite3 one may be
    used from two threads at once, and the crawl lists schemas from a thread pool."""

    @functools.wraps(method)
    def wrapper(self: LocalEngine, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class LocalEngine:
    """Athena's catalog surface and SQL over DuckDB files in ``home/warehouse``.

    ``clock`` stamps submission times; the demo swaps in a simulated clock. A statement's
    completion time is the later of ``clock()`` afterwards and submission plus the measured
    run time, so a clock that stands still still yields real durations.
    """

    kind = "local"

    def __init__(self, home: str | Path, *, read_only: bool = True):
        self.home = Path(home)
        self.read_only = read_only
        self.warehouse = self.home / "warehouse"
        self.s3_root = self.home / "s3"
        if read_only and not (self.warehouse / "glue.sqlite").exists():
            raise EngineError(
                f"no embedded lakehouse in {self.home.resolve()}: build one with "
                "`athena-catalog build-demo` (or `make demo`), or set ATHENA_CATALOG_HOME",
                code="NoLocalLakehouse",
            )
        self.warehouse.mkdir(parents=True, exist_ok=True)
        self.clock: Callable[[], datetime] = utc_now
        self._glue = _Glue(self.warehouse / "glue.sqlite")
        self._db = duckdb.connect(":memory:")
        self._interrupt_lock = threading.Lock()
        self._lock = threading.RLock()  # see _serialized
        self._running = False
        self._table_stats: dict[tuple[str, str, str], int] = {}  # bytes per table, for scans
        for catalog in self._glue.catalogs():
            self._attach(catalog.name)
        if not read_only and not self._glue.catalogs():
            self.create_data_catalog(DEFAULT_CATALOG, "GLUE", "Default AWS Glue Data Catalog")

    # -- catalog surface ------------------------------------------------------------------

    @_serialized
    def list_data_catalogs(self) -> list[DataCatalog]:
        return self._glue.catalogs()

    @_serialized
    def list_databases(self, catalog: str) -> list[Database]:
        return self._glue.databases(self._glue.catalog(catalog).name)

    @_serialized
    def list_tables(self, catalog: str, database: str) -> Listed[Table]:
        """Tables as DuckDB holds them, with their Glue rows; a Glue row without a DuckDB
        relation (a warehouse file not attached, another process mid-write) is left out and
        marks the listing incomplete, so it is never taken for a dropped table."""
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        glue_rows = self._glue.tables(db.catalog, db.name)
        columns: dict[str, list[tuple[str, str, str | None]]] = {}
        details: dict[str, tuple[str, bool, str | None]] = {}
        for table, is_view, comment, column, data_type, column_comment in self._db.execute(
            """
            SELECT c.table_name, v.view_name IS NOT NULL, coalesce(t.comment, v.comment),
                   c.column_name, c.data_type, c.comment
            FROM duckdb_columns() c
            LEFT JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
            LEFT JOIN duckdb_views() v ON v.database_name = c.database_name
                AND v.schema_name = c.schema_name AND v.view_name = c.table_name
            WHERE c.database_name = ? AND lower(c.schema_name) = lower(?)
            ORDER BY c.table_name, c.column_index
            """,
            [db.catalog.lower(), db.name],
        ).fetchall():
            details[table.lower()] = (table, is_view, comment)
            columns.setdefault(table.lower(), []).append((column, data_type, column_comment))
        unseen = sorted(glue_rows[key][0] for key in set(glue_rows) - set(details))
        return Listed(
            (
                self._table(db, *details[key], columns[key], glue_rows.get(key))
                for key in sorted(details)
            ),
            incomplete=f"in Glue but not in the warehouse: {', '.join(unseen)}" if unseen else None,
        )

    def _table(
        self,
        db: Database,
        duck_name: str,
        is_view: bool,
        comment: str | None,
        duck_columns: list[tuple[str, str, str | None]],
        glue_row: tuple[str, _GlueTable] | None,
    ) -> Table:
        name, glue = glue_row or (duck_name, _GlueTable(VIRTUAL_VIEW if is_view else MANAGED_TABLE))
        keys = [k.lower() for k in glue.partition_keys]
        cols = [
            Column(col, athena_type(dtype, view=is_view), desc, col.lower() in keys)
            for col, dtype, desc in duck_columns
        ]
        cols.sort(key=lambda c: keys.index(c.name.lower()) if c.is_partition_key else -1)
        return Table(
            catalog=db.catalog,
            database=db.name,
            name=name,
            table_type=glue.table_type,
            columns=tuple(cols),
            description=comment,
            location=glue.location,
            storage_format=glue.storage_format,
            view_sql=glue.view_sql,
            parameters=glue.parameters,
            tags=glue.tags,
            owner=glue.owner,
            created_at=glue.created_at,
            updated_at=glue.updated_at,
        )

    @_serialized
    def list_table_tags(self, catalog: str) -> dict[tuple[str, str], dict[str, str]]:
        rows = self._glue.conn.execute(
            "SELECT database, name, tags FROM tables WHERE catalog = ? AND tags != '{}'",
            (self._glue.catalog(catalog).name,),
        )
        return {(db, name): json.loads(tags) for db, name, tags in rows}

    @_serialized
    def row_count(self, catalog: str, database: str, table: str) -> int:
        """Exact row count, read like Glue table statistics: not a query, not in the history."""
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        target = _duck_name(db.catalog, db.name, table)
        try:
            return self._db.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        except duckdb.Error as exc:
            raise EngineError(f"row count of {target}: {exc}", operation="row_count") from exc

    def query_history(self, since: datetime | None = None) -> Iterator[QueryExecution]:
        """Statements submitted at or after ``since``, oldest first."""
        after = None
        while True:
            with self._lock:
                page = self._glue.history_page(since, after, HISTORY_PAGE)
            yield from page
            if len(page) < HISTORY_PAGE:
                return
            after = (_iso(page[-1].submitted_at) or "", page[-1].query_id)

    # -- Glue / Athena API calls that are not SQL -------------------------------------------

    @_serialized
    def create_data_catalog(
        self,
        name: str,
        type: str,
        description: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> DataCatalog:
        """Like Athena CreateDataCatalog; a GLUE catalog gets its ``default`` database."""
        self._require_writable("CreateDataCatalog")
        if type not in CATALOG_TYPES:
            raise EngineError(f"data catalog type {type!r} is not one of {CATALOG_TYPES}")
        catalog = DataCatalog(name, type, description, dict(parameters or {}))
        try:
            with self._glue.transaction() as conn:
                conn.execute(
                    "INSERT INTO data_catalogs VALUES (?, ?, ?, ?)",
                    (name, type, description, json.dumps(catalog.parameters, sort_keys=True)),
                )
        except sqlite3.IntegrityError as exc:
            raise EngineError(f"data catalog {name!r} already exists") from exc
        self._attach(name)
        if type == "GLUE":
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {_duck_name(name, DEFAULT_DATABASE)}")
            self._glue.put_database(Database(name, DEFAULT_DATABASE))
        return catalog

    @_serialized
    def tag_table(self, catalog: str, database: str, table: str, tags: dict[str, str]) -> None:
        """Like Glue TagResource on a table ARN: adds tags, overwriting same keys."""
        self._require_writable("TagResource")
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        existing = self._glue.conn.execute(
            "SELECT tags FROM tables WHERE catalog = ? AND database = ? AND name = ?",
            (db.catalog, db.name, table),
        ).fetchone()
        if existing is None:
            raise EngineError(f"table {database}.{table} does not exist in {catalog}")
        merged = json.loads(existing[0]) | tags
        with self._glue.transaction() as conn:
            conn.execute(
                "UPDATE tables SET tags = ? WHERE catalog = ? AND database = ? AND name = ?",
                (json.dumps(merged, sort_keys=True), db.catalog, db.name, table),
            )

    @_serialized
    def import_history(self, path: str | Path) -> int:
        """Load Athena QueryExecution objects (JSONL); all or nothing; returns rows added."""
        return self._glue.record_many(_read_query_executions(Path(path)))

    def close(self) -> None:
        self._db.close()
        self._glue.conn.close()

    # -- SQL --------------------------------------------------------------------------------

    @_serialized
    def execute(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        """Run one Athena statement and record it; failures and timeouts raise EngineError."""
        query_id = str(uuid.uuid4())
        submitted_at = self.clock()
        started = time.perf_counter()
        outcome, state, error = _Outcome(), "SUCCEEDED", None
        try:
            context = self._context(catalog, database)
            with self._deadline(timeout_s):
                outcome = self._run(sql, context)
        except duckdb.InterruptException:
            state, error = "CANCELLED", f"Query cancelled: exceeded the {timeout_s}s time limit"
        except Exception as exc:  # every failure is a FAILED row, then an EngineError
            state, error = "FAILED", (str(exc).strip().splitlines() or [repr(exc)])[0]
        elapsed = timedelta(seconds=time.perf_counter() - started)
        self._glue.record(
            QueryExecution(
                query_id=query_id,
                query=sql,
                statement_type=self.statement_type(sql),
                state=state,
                work_group=work_group or DEFAULT_WORK_GROUP,
                catalog=catalog or DEFAULT_CATALOG,
                database=database,
                submitted_at=submitted_at,
                completed_at=max(self.clock(), submitted_at + elapsed),
                data_scanned_bytes=outcome.scanned_bytes,
                engine_ms=round(elapsed.total_seconds() * 1000),
                error_message=error,
            )
        )
        if error is not None:
            raise EngineError(f"{state}: {sql.strip()[:200]!r}: {error}", code=state)
        return QueryResult(outcome.columns, outcome.rows, query_id)

    @staticmethod
    def statement_type(sql: str) -> str:
        """DDL, DML or UTILITY, by the leading keyword as Athena classifies statements."""
        return _STATEMENT_TYPE_BY_KEYWORD.get(_leading_keyword(sql)[0], "DML")

    def _context(self, catalog: str | None, database: str | None) -> _Context:
        glue_catalog = self._glue.catalog(catalog or DEFAULT_CATALOG).name
        if database is None:
            return _Context(glue_catalog, DEFAULT_DATABASE)
        return _Context(glue_catalog, self._glue.database(glue_catalog, database).name)

    @contextmanager
    def _deadline(self, timeout_s: float | None) -> Iterator[None]:
        """Interrupt DuckDB from a timer - Athena's StopQueryExecution, here by time limit."""

        def interrupt() -> None:
            with self._interrupt_lock:
                if self._running:
                    self._db.interrupt()

        timer = threading.Timer(timeout_s, interrupt) if timeout_s is not None else None
        with self._interrupt_lock:
            self._running = True
        if timer:
            timer.start()
        try:
            yield
        finally:
            with self._interrupt_lock:
                self._running = False
            if timer:
                timer.cancel()

    def _run(self, sql: str, context: _Context) -> _Outcome:
        """Parse, dispatch to the handler for the statement kind, in one DuckDB transaction."""
        keyword, rest = _leading_keyword(sql)
        if keyword not in _READ_ONLY_KEYWORDS:
            self._table_stats.clear()
        command = {"UNLOAD": self._unload, "SHOW": self._show, "EXPLAIN": self._explain}
        self._db.begin()
        try:
            if keyword in command:
                outcome = command[keyword](rest, context)
            else:
                outcome = self._dispatch(self._parse(sql), sql, context)
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise
        return outcome

    @staticmethod
    def _parse(sql: str) -> exp.Expression:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
        if len(statements) != 1:
            raise EngineError("Only one sql statement is allowed", code="INVALID_REQUEST")
        if isinstance(statements[0], exp.Command):
            raise EngineError(f"statement not supported: {statements[0].name}")
        return statements[0]

    def _dispatch(self, expression: exp.Expression, sql: str, context: _Context) -> _Outcome:
        if isinstance(expression, exp.Query):
            return self._select(expression, context)
        if isinstance(expression, exp.Create):
            kind = expression.kind.upper()
            if kind in ("DATABASE", "SCHEMA"):
                return self._create_database(expression, context)
            if kind == "VIEW":
                return self._create_view(expression, sql, context)
            if expression.expression is not None:
                return self._create_table_as(expression, context)
            return self._create_table(expression, context)
        handlers: dict[type[exp.Expression], Callable[[Any, _Context], _Outcome]] = {
            exp.Drop: self._drop,
            exp.Alter: self._alter_table,
            exp.Insert: self._insert,
            exp.Merge: self._modify_iceberg,
            exp.Update: self._modify_iceberg,
            exp.Delete: self._modify_iceberg,
            exp.Describe: self._describe,
        }
        handler = handlers.get(type(expression))
        if handler is None:
            raise EngineError(f"statement not supported: {type(expression).__name__}")
        return handler(expression, context)

    # -- statement handlers -----------------------------------------------------------------

    def _select(self, query: exp.Expression, context: _Context) -> _Outcome:
        query = self._qualify(query, context)
        scanned = self._scanned(query)
        cursor = self._db.execute(self._duck_sql(query))
        columns = tuple(d[0] for d in cursor.description or ())
        return _Outcome(columns, cursor.fetchall(), scanned)

    def _create_database(self, create: exp.Create, context: _Context) -> _Outcome:
        name = create.this.name
        props = _DdlProperties.read(create)
        exists = "IF NOT EXISTS " if create.args.get("exists") else ""
        self._db.execute(f"CREATE SCHEMA {exists}{_duck_name(context.catalog, name)}")
        self._glue.put_database(Database(context.catalog, name, props.comment, props.location))
        return _Outcome()

    def _create_table(self, create: exp.Create, context: _Context) -> _Outcome:
        """Hive DDL: CREATE [EXTERNAL] TABLE (cols) [PARTITIONED BY (cols)] ... TBLPROPERTIES."""
        catalog, database, name = self._resolve(create.this.this, context)
        if create.args.get("exists") and self._glue.table(catalog, database, name):
            return _Outcome()
        props = _DdlProperties.read(create)
        if not props.external and not props.is_iceberg:
            raise EngineError("CREATE TABLE without EXTERNAL needs table_type='ICEBERG'")
        columns = list(create.this.expressions)
        partition_keys: list[str] = []
        # Iceberg partitioning is hidden (transforms of data columns): no Glue partition keys.
        if isinstance(props.partitioned_by, exp.Schema) and not props.is_iceberg:
            keys = [c for c in props.partitioned_by.expressions if isinstance(c, exp.ColumnDef)]
            columns += keys
            partition_keys = [k.name for k in keys]
        defs = ", ".join(f"{_quote(c.name)} {c.args['kind'].sql('duckdb')}" for c in columns)
        self._db.execute(f"CREATE TABLE {_duck_name(catalog, database, name)} ({defs})")
        self._comment(catalog, database, name, props.comment, columns)
        parameters = dict(props.values)
        if props.external:
            parameters["EXTERNAL"] = "TRUE"
        self._put_table(
            catalog,
            database,
            name,
            _GlueTable(
                ICEBERG if props.is_iceberg else EXTERNAL_TABLE,
                props.location,
                props.storage_format(),
                parameters,
                tuple(partition_keys),
            ),
        )
        return _Outcome()

    def _create_table_as(self, create: exp.Create, context: _Context) -> _Outcome:
        """CTAS: WITH (format, external_location, partitioned_by, table_type ...) AS SELECT."""
        catalog, database, name = self._resolve(create.this, context)
        if create.args.get("exists") and self._glue.table(catalog, database, name):
            return _Outcome()
        props = _DdlProperties.read(create)
        query = self._qualify(create.expression, context)
        scanned = self._scanned(query)
        self._db.execute(
            f"CREATE TABLE {_duck_name(catalog, database, name)} AS {self._duck_sql(query)}"
        )
        values = dict(props.values)
        location = values.pop("external_location", None) or props.location
        partition_keys = []
        if isinstance(props.partitioned_by, exp.Array):
            partition_keys = [e.name for e in props.partitioned_by.expressions]
        if props.is_iceberg:
            table_type = ICEBERG
        elif location:
            table_type = EXTERNAL_TABLE
        else:  # Athena writes it under the database location, as a managed table
            table_type = MANAGED_TABLE
            db_location = self._glue.database(catalog, database).location
            location = f"{db_location.rstrip('/')}/{name}/" if db_location else None
        if props.file_format:
            values["format"] = props.file_format.lower()
        glue = _GlueTable(
            table_type,
            location,
            props.storage_format() or "parquet",  # Athena's CTAS default
            values,
            () if props.is_iceberg else tuple(partition_keys),
        )
        self._put_table(catalog, database, name, glue)
        return _Outcome(scanned_bytes=scanned)

    def _create_view(self, create: exp.Create, sql: str, context: _Context) -> _Outcome:
        catalog, database, name = self._resolve(create.this, context)
        query = self._qualify(create.expression, context)
        replace = "OR REPLACE " if create.args.get("replace") else ""
        self._db.execute(
            f"CREATE {replace}VIEW {_duck_name(catalog, database, name)} AS {self._duck_sql(query)}"
        )
        view_sql = _text_after_as(sql)
        parameters = {"presto_view": "true", "comment": "Presto View"}
        self._put_table(
            catalog,
            database,
            name,
            _GlueTable(VIRTUAL_VIEW, parameters=parameters, view_sql=view_sql),
        )
        return _Outcome()

    def _drop(self, drop: exp.Drop, context: _Context) -> _Outcome:
        kind = drop.kind.upper()
        exists = "IF EXISTS " if drop.args.get("exists") else ""
        if kind in ("DATABASE", "SCHEMA"):
            name = drop.args["tables"][0].name
            cascade = " CASCADE" if drop.args.get("cascade") else ""
            self._db.execute(f"DROP SCHEMA {exists}{_duck_name(context.catalog, name)}{cascade}")
            for table in ("tables", "databases"):
                column = "database" if table == "tables" else "name"
                self._glue.conn.execute(
                    f"DELETE FROM {table} WHERE catalog = ? AND {column} = ?",
                    (context.catalog, name),
                )
            return _Outcome()
        catalog, database, name = self._resolve(drop.args["tables"][0], context)
        self._db.execute(f"DROP {kind} {exists}{_duck_name(catalog, database, name)}")
        self._glue.conn.execute(
            "DELETE FROM tables WHERE catalog = ? AND database = ? AND name = ?",
            (catalog, database, name),
        )
        return _Outcome()

    def _alter_table(self, alter: exp.Alter, context: _Context) -> _Outcome:
        """ALTER TABLE ... ADD COLUMNS (...); Glue lists them before the partition keys."""
        catalog, database, name = self._resolve(alter.this, context)
        actions = alter.args.get("actions") or []
        columns = [c for a in actions if isinstance(a, exp.Schema) for c in a.expressions]
        if not columns or len(columns) != sum(isinstance(c, exp.ColumnDef) for c in columns):
            raise EngineError("only ALTER TABLE ... ADD COLUMNS is supported", code="NOT_SUPPORTED")
        glue = self._glue.table(catalog, database, name)
        if glue is None:
            raise EngineError(f"Table {catalog}.{database}.{name} does not exist")
        target = _duck_name(catalog, database, name)
        for column in columns:
            self._db.execute(
                f"ALTER TABLE {target} ADD COLUMN {_quote(column.name)}"
                f" {column.args['kind'].sql('duckdb')}"
            )
        self._comment(catalog, database, name, None, columns)
        self._put_table(catalog, database, name, glue)
        return _Outcome()

    def _insert(self, insert: exp.Insert, context: _Context) -> _Outcome:
        """INSERT INTO t SELECT: positional in Glue's column order (partition keys last)."""
        insert = self._qualify(insert, context)
        scanned = self._scanned(insert.expression)
        if isinstance(insert.this, exp.Table):
            target = self._resolve(insert.this, context)
            names = self._column_order(*target)
            identifiers = [exp.to_identifier(n, quoted=True) for n in names]
            insert.set("this", exp.Schema(this=insert.this, expressions=identifiers))
        self._db.execute(self._duck_sql(insert))
        return _Outcome(scanned_bytes=scanned)

    def _modify_iceberg(self, statement: exp.Expression, context: _Context) -> _Outcome:
        """MERGE / UPDATE / DELETE: Athena allows them on Iceberg tables only."""
        statement = self._qualify(statement, context)
        catalog, database, name = self._resolve(statement.this, context)
        glue = self._glue.table(catalog, database, name)
        if glue is None or glue.table_type != ICEBERG:
            raise EngineError(
                f"NOT_SUPPORTED: Modifying Hive table rows is only supported for transactional"
                f" tables ({database}.{name} is not an Iceberg table)",
                code="NOT_SUPPORTED",
            )
        scanned = self._scanned(statement)
        self._db.execute(self._duck_sql(statement))
        self._put_table(catalog, database, name, glue)
        return _Outcome(scanned_bytes=scanned)

    def _describe(self, describe: exp.Describe, context: _Context) -> _Outcome:
        catalog, database, name = self._resolve(describe.this, context)
        tables = [t for t in self.list_tables(catalog, database) if t.name.lower() == name.lower()]
        if not tables:
            raise EngineError(f"Table {catalog}.{database}.{name} does not exist")
        rows = [(c.name, c.data_type, c.description or "") for c in tables[0].columns]
        return _Outcome(("col_name", "data_type", "comment"), rows)

    def _show(self, args: str, context: _Context) -> _Outcome:
        """SHOW DATABASES|SCHEMAS ['glob'] and SHOW TABLES|VIEWS [IN db] ['glob']."""
        tokens = _tokens(args)
        words = [t.text for t in tokens if t.token_type != sqlglot.TokenType.STRING]
        globs = [t.text for t in tokens if t.token_type == sqlglot.TokenType.STRING]
        what = words[0].upper() if words else ""
        if what in ("DATABASES", "SCHEMAS"):
            column, names = "database_name", [d.name for d in self.list_databases(context.catalog)]
        elif what in ("TABLES", "VIEWS"):
            database = words[2] if len(words) > 2 else context.database
            tables = self.list_tables(context.catalog, database)
            column, names = "tab_name", [t.name for t in tables if what == "TABLES" or t.is_view]
        else:
            raise EngineError(f"SHOW {what} is not supported", code="NOT_SUPPORTED")
        glob = (globs[0] if globs else "*").lower()
        return _Outcome((column,), [(n,) for n in names if fnmatch(n.lower(), glob)])

    def _explain(self, args: str, context: _Context) -> _Outcome:
        query = self._qualify(self._parse(args), context)
        cursor = self._db.execute(f"EXPLAIN {self._duck_sql(query)}")
        return _Outcome(("Query Plan",), [(row[-1],) for row in cursor.fetchall()])

    def _unload(self, args: str, context: _Context) -> _Outcome:
        """UNLOAD (query) TO 's3://bucket/prefix' WITH (format=...): files under home/s3."""
        inner, rest = _split_parenthesised(args)
        tokens = _tokens(rest)
        if (
            len(tokens) < 2
            or tokens[0].text.upper() != "TO"
            or not tokens[1].text.startswith("s3://")
        ):
            raise EngineError("UNLOAD needs TO 's3://bucket/prefix'", code="INVALID_REQUEST")
        with_clause = rest[tokens[1].end + 1 :]
        props = _DdlProperties.read(
            sqlglot.parse_one(f"CREATE TABLE t {with_clause} AS SELECT 1", read=DIALECT)
        )
        fmt = (props.file_format or "PARQUET").upper()
        if fmt not in _UNLOAD_FORMATS:
            raise EngineError(f"UNLOAD format {fmt} is not supported", code="NOT_SUPPORTED")
        duck_format, suffix = _UNLOAD_FORMATS[fmt]
        query = self._qualify(self._parse(inner), context)
        scanned = self._scanned(query)
        directory = self.s3_root / tokens[1].text.removeprefix("s3://")
        directory.mkdir(parents=True, exist_ok=True)
        path = exp.Literal.string(str(directory / f"{uuid.uuid4()}.{suffix}")).sql("duckdb")
        self._db.execute(f"COPY ({self._duck_sql(query)}) TO {path} (FORMAT {duck_format})")
        return _Outcome(scanned_bytes=scanned)

    # -- helpers ----------------------------------------------------------------------------

    def _qualify(self, expression: exp.Expression, context: _Context) -> exp.Expression:
        """Unqualified and two-part names resolve in the statement's catalog and database.

        Qualifies in place: every tree passed here was parsed for this one statement.
        """
        return qualify_tables(
            expression, catalog=context.catalog, db=context.database, dialect=DIALECT
        )

    @staticmethod
    def _duck_sql(expression: exp.Expression) -> str:
        """DuckDB SQL; generating in place, so estimate the scan before calling this."""
        return expression.sql("duckdb", copy=False, unsupported_level=ErrorLevel.IGNORE)

    def _resolve(self, table: exp.Table, context: _Context) -> tuple[str, str, str]:
        """(catalog, database, table) with Glue's spelling of catalog and database."""
        catalog = self._glue.catalog(table.catalog or context.catalog).name
        database = self._glue.database(catalog, table.db or context.database).name
        return catalog, database, table.name

    def _put_table(self, catalog: str, database: str, name: str, glue: _GlueTable) -> None:
        now = self.clock()
        existing = self._glue.table(catalog, database, name)
        created = existing.created_at if existing and existing.created_at else now
        self._glue.put_table(
            catalog,
            database,
            name,
            _GlueTable(
                glue.table_type,
                glue.location,
                glue.storage_format,
                glue.parameters,
                glue.partition_keys,
                glue.view_sql,
                owner=glue.owner,
                created_at=created,
                updated_at=now,
            ),
        )

    def _comment(
        self,
        catalog: str,
        database: str,
        name: str,
        comment: str | None,
        columns: list[exp.ColumnDef],
    ) -> None:
        """Table and column comments live in DuckDB's catalog, where list_tables reads them."""
        target = _duck_name(catalog, database, name)
        if comment:
            self._db.execute(f"COMMENT ON TABLE {target} IS {exp.Literal.string(comment).sql()}")
        for column in columns:
            for constraint in column.constraints:
                if isinstance(constraint.kind, exp.CommentColumnConstraint):
                    text = exp.Literal.string(constraint.kind.name).sql("duckdb")
                    self._db.execute(f"COMMENT ON COLUMN {target}.{_quote(column.name)} IS {text}")

    def _column_order(self, catalog: str, database: str, name: str) -> list[str]:
        """Column names as Glue orders them: data columns, then partition keys."""
        target = _duck_name(catalog, database, name)
        names = [d[0] for d in self._db.execute(f"SELECT * FROM {target} LIMIT 0").description]
        glue = self._glue.table(catalog, database, name)
        keys = [k.lower() for k in glue.partition_keys] if glue else []
        return sorted(names, key=lambda n: keys.index(n.lower()) if n.lower() in keys else -1)

    def _scanned(self, expression: exp.Expression) -> int:
        """Estimated bytes read: row count x row width of every table read, views expanded."""
        return sum(self._table_bytes(*table) for table in self._tables_read(expression))

    def _tables_read(self, expression: exp.Expression, depth: int = 0) -> set[tuple[str, str, str]]:
        tables: set[tuple[str, str, str]] = set()
        for node in expression.find_all(exp.Table):
            if not node.catalog or depth > 8:
                continue  # a CTE name, or a view chain too deep to be real
            try:
                catalog, database, name = self._resolve(node, _Context(node.catalog, node.db))
            except EngineError:
                continue  # the statement fails on it anyway
            glue = self._glue.table(catalog, database, name)
            if glue is not None and glue.view_sql:
                view = sqlglot.parse_one(glue.view_sql, read=DIALECT)
                view = self._qualify(view, _Context(catalog, database))
                tables |= self._tables_read(view, depth + 1)
            else:
                tables.add((catalog, database, name))
        return tables

    def _table_bytes(self, catalog: str, database: str, name: str) -> int:
        """Cached until the next write; plain queries, as duckdb_tables() costs ~5 ms a call."""
        key = (catalog.lower(), database.lower(), name.lower())
        if key not in self._table_stats:
            target = _duck_name(catalog, database, name)
            try:
                rows = self._db.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                types = self._db.execute(f"SELECT * FROM {target} LIMIT 0").description or []
                width = _row_bytes([athena_type(str(t[1])) for t in types])
            except duckdb.Error:
                rows = width = 0  # a view DuckDB cannot bind any more reads nothing
            self._table_stats[key] = rows * width
        return self._table_stats[key]

    def _attach(self, catalog: str) -> None:
        path = self.warehouse / f"{catalog.lower()}.duckdb"
        if self.read_only and not path.exists():
            return  # nothing was ever written to it: it has no tables to list
        mode = " (READ_ONLY)" if self.read_only else ""
        literal = exp.Literal.string(str(path)).sql("duckdb")
        try:
            self._db.execute(f"ATTACH {literal} AS {_quote(catalog.lower())}{mode}")
        except duckdb.Error as exc:  # typically: another process holds it read-write
            raise EngineError(f"cannot open {path}: {exc}", operation="attach") from exc

    def _require_writable(self, operation: str) -> None:
        if self.read_only:
            raise EngineError(f"{operation}: the engine was opened read-only", operation=operation)


def _tokens(sql: str) -> list[Any]:
    """Athena tokens, without the marker sqlglot puts before Hive DDL."""
    tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    return [t for t in tokens if t.token_type != sqlglot.TokenType.HIVE_TOKEN_STREAM]


def _leading_keyword(sql: str) -> tuple[str, str]:
    """The first keyword, upper case, and the text after it (a scan: tokenizing is slow);
    none for a statement the tokenizer will reject with its reason (an open comment)."""
    try:
        keyword, end = leading_keyword(sql)
    except Unterminated:
        return "", ""
    return keyword, sql[end:].strip()


def _text_after_as(sql: str) -> str:
    """The view's query exactly as written: everything after the first top-level AS."""
    for token in _tokens(sql):
        if token.token_type == sqlglot.TokenType.ALIAS:
            return sql[token.end + 1 :].strip().rstrip(";").strip()
    raise EngineError("CREATE VIEW without AS")


def _split_parenthesised(text: str) -> tuple[str, str]:
    """Split ``(inner) rest`` at the parenthesis matching the leading one, quotes respected."""
    split = split_parenthesised(text)
    if split is None:
        raise EngineError("UNLOAD needs a parenthesised query", code="INVALID_REQUEST")
    return split


class _FieldError(ValueError):
    def __init__(self, name: str, problem: str):
        super().__init__(f"field {name}: {problem}")


def _read_query_executions(path: Path) -> list[QueryExecution]:
    """Parse a whole JSONL file first, so a bad line means nothing is imported."""
    executions = []
    try:
        # JSON Lines ends records at "\n" only: splitlines() would also split at U+2028 and
        # other separators that JSON strings may hold raw.
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read history file: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_int=_json_int)
            if not isinstance(item, dict):
                raise _FieldError("QueryExecution", "expected a JSON object")
            execution = _query_execution(item)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {number}: invalid JSON: {exc.msg}") from None
        except _FieldError as exc:
            raise ValueError(f"{path}, line {number}: {exc}") from None
        if execution is not None:
            executions.append(execution)
    return executions


class _HugeNumber:
    """A JSON integer too long to be any field's value: kept so the field's check names it,
    where Python's int() would fail with no field (past 4300 digits)."""

    def __init__(self, digits: str):
        self.digits = len(digits.lstrip("-"))

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"


def _json_int(text: str) -> int | _HugeNumber:
    return int(text) if len(text) <= 40 else _HugeNumber(text)


def _query_execution(item: dict[str, Any]) -> QueryExecution | None:
    """One boto3 QueryExecution; None for queries still QUEUED or RUNNING."""
    state = _field(item, "Status.State", str, required=True)
    if state in ("QUEUED", "RUNNING"):
        return None
    if state not in QUERY_STATES:
        raise _FieldError("Status.State", f"expected one of {QUERY_STATES}, got {_shown(state)}")
    statement_type = _field(item, "StatementType", str)
    if statement_type is not None and statement_type not in STATEMENT_TYPES:
        raise _FieldError("StatementType", f"expected one of {STATEMENT_TYPES}")
    query_id = _field(item, "QueryExecutionId", str, required=True)
    if not query_id.strip():
        raise _FieldError("QueryExecutionId", "is empty")
    error = _field(item, "Status.AthenaError.ErrorMessage", str) or _field(
        item, "Status.StateChangeReason", str
    )
    return QueryExecution(
        query_id=query_id,
        query=_field(item, "Query", str, required=True),
        statement_type=statement_type,
        state=state,
        work_group=_field(item, "WorkGroup", str) or DEFAULT_WORK_GROUP,
        catalog=_field(item, "QueryExecutionContext.Catalog", str),
        database=_field(item, "QueryExecutionContext.Database", str),
        submitted_at=_time(item, "Status.SubmissionDateTime", required=True),
        completed_at=_time(item, "Status.CompletionDateTime"),
        data_scanned_bytes=_count(item, "Statistics.DataScannedInBytes"),
        engine_ms=_count(item, "Statistics.EngineExecutionTimeInMillis"),
        error_message=error,
    )


def _field(item: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    value: Any = item
    for part in name.split("."):
        if not isinstance(value, dict):
            raise _FieldError(name, "expected an object on the way")
        value = value.get(part)
        if value is None:
            break
    if value is None:
        if required:
            raise _FieldError(name, "is missing")
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _FieldError(name, f"expected {kind.__name__}, got {_shown(value)}")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # Valid JSON ("\ud800"), but no store can hold a lone surrogate.
            raise _FieldError(
                name, f"not valid UTF-8 text (lone surrogate at character {exc.start})"
            ) from None
    return value


def _shown(value: Any) -> str:
    """A rejected value for the error message: short, and printable whatever it holds."""
    text = ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _count(item: dict[str, Any], name: str) -> int | None:
    """A non-negative count that fits the stores' signed 64-bit integers."""
    value = _field(item, name, int)
    if value is not None and not 0 <= value <= MAX_COUNT:
        raise _FieldError(name, f"expected a count >= 0 and <= 2**63-1, got {_shown(value)}")
    return value


def _time(item: dict[str, Any], name: str, *, required: bool = False) -> Any:
    """ISO-8601 text or epoch seconds; naive times are UTC, as boto3 returns them."""
    value = _field(item, name, object, required=required)
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise _FieldError(name, f"expected ISO-8601 text or epoch seconds, got {_shown(value)}")
