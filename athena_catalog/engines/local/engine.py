"""The embedded ``local`` engine: Athena SQL over DuckDB, with a SQLite file playing Glue.

Layout under ``home/warehouse``:

* ``<catalog>.duckdb`` - one DuckDB file per Athena data catalog (``metadata``).
* ``glue.sqlite`` - what DuckDB cannot hold, and the query history (``glue_store``). DuckDB
  files are attached read-only by crawler processes, which DuckDB allows from many processes
  at the same time.

Statements run through ``statements.StatementRunner``; ``data_scanned_bytes`` is
``scan_estimate``'s estimate; ``import_history`` reads JSONL through ``history_import``.
``execute(..., timeout_s=...)`` and ``cancel`` stop a statement through DuckDB's
``interrupt()``, recorded CANCELLED.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import sqlalchemy
from sqlglot import exp

from athena_catalog.batching import chunks
from athena_catalog.engines.contract import StoredTimes
from athena_catalog.engines.listing import Listed, ListedTags
from athena_catalog.engines.local.dbapi import local_sqlalchemy_engine
from athena_catalog.engines.local.glue_store import GlueStore
from athena_catalog.engines.local.history_import import read_query_executions
from athena_catalog.engines.local.metadata import (
    DEFAULT_DATABASE,
    Context,
    duck_name,
    list_tables,
    quote,
)
from athena_catalog.engines.local.partition_filter import duckdb_predicate
from athena_catalog.engines.local.statements import Outcome, StatementRunner
from athena_catalog.engines.read_only import marked_select
from athena_catalog.engines.records import (
    DEFAULT_CATALOG,
    DEFAULT_WORK_GROUP,
    Database,
    DataCatalog,
    EngineError,
    HistoryReadNotes,
    QueryExecution,
    QueryResult,
    Table,
    TableEstimates,
    UnreadableExecution,
    WorkGroups,
)
from athena_catalog.timeutil import iso_utc, utc_now

T = TypeVar("T")
HISTORY_PAGE = 10_000  # query history rows read per page
STORED_LOOKUP = 1_000  # ids asked of the caller's store at once
ALL_WORK_GROUPS = "*"  # the one log the local engine keeps for every work group
CATALOG_TYPES = ("GLUE", "LAMBDA", "HIVE", "FEDERATED")
CANCEL_WAIT_S = 10.0  # how long cancel keeps interrupting a statement that has not stopped


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
        self._glue = GlueStore(self.warehouse / "glue.sqlite")
        self._db = duckdb.connect(":memory:")
        self._runner = StatementRunner(self._db, self._glue, self.s3_root, lambda: self.clock())
        self._interrupt_lock = threading.Lock()
        self._lock = threading.RLock()  # see _serialized
        self._running: str | None = None  # the query id DuckDB runs now
        self._cancelled: set[str] = set()  # ids whose cancel was asked
        self._selects = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-select")
        self._started: dict[str, Future[QueryResult]] = {}
        for catalog in self._glue.catalogs():
            self._attach(catalog.name)
        if not read_only and not self._glue.catalogs():
            self.create_data_catalog(DEFAULT_CATALOG, "GLUE", "Default AWS Glue Data Catalog")

    # -- catalog surface ------------------------------------------------------------------

    @_serialized
    def list_data_catalogs(self) -> Listed[DataCatalog]:
        return Listed(self._glue.catalogs())

    @_serialized
    def list_databases(self, catalog: str) -> list[Database]:
        return self._glue.databases(self._glue.catalog(catalog).name)

    @_serialized
    @_serialized
    def list_tables(self, catalog: str, database: str) -> Listed[Table]:
        return list_tables(self._db, self._glue, catalog, database)

    @_serialized
    def list_table_tags(self, catalog: str) -> ListedTags:
        rows = self._glue.conn.execute(
            "SELECT database, name, tags FROM tables WHERE catalog = ? AND tags != '{}'",
            (self._glue.catalog(catalog).name,),
        )
        return ListedTags({(db, name): json.loads(tags) for db, name, tags in rows})

    @_serialized
    def row_count(self, catalog: str, database: str, table: str) -> int:
        """Exact row count, read like Glue table statistics: not a query, not in the history."""
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        target = duck_name(db.catalog, db.name, table)
        try:
            counted = self._db.execute(f"SELECT count(*) FROM {target}").fetchone()
        except duckdb.Error as exc:
            raise EngineError(f"row count of {target}: {exc}", operation="row_count") from exc
        return int(counted[0]) if counted else 0

    @_serialized
    def table_estimates(self, catalog: str, database: str, table: str) -> TableEstimates:
        """DuckDB's exact count, and the scan estimator's bytes for reading the whole table."""
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        rows = self.row_count(db.catalog, db.name, table)
        size = self._runner.scan.table_bytes(db.catalog, db.name, table)
        return TableEstimates(row_count=rows, size_bytes=size, source="duckdb count")

    @_serialized
    def scan_estimates(
        self, catalog: str, database: str, table: str, partition_filter: str | None = None
    ) -> TableEstimates:
        """The scan estimator's bytes; with a filter, the share of the rows it matches
        (counted by DuckDB like ``row_count``: not a query, not in the history)."""
        whole = self.table_estimates(catalog, database, table)
        if partition_filter is None:
            return whole
        db = self._glue.database(self._glue.catalog(catalog).name, database)
        glue = self._glue.table(db.catalog, db.name, table)
        keys = {k.lower() for k in (glue.partition_keys if glue else ())}
        predicate = duckdb_predicate(partition_filter, keys)
        target = duck_name(db.catalog, db.name, table)
        try:
            counted = self._db.execute(f"SELECT count(*) FROM {target} WHERE {predicate}")
            matched = int((counted.fetchone() or (0,))[0])
        except duckdb.Error as exc:
            raise EngineError(f"partition filter on {target}: {exc}") from exc
        total, size = whole.row_count or 0, whole.size_bytes or 0
        return TableEstimates(
            matched, size * matched // total if total else 0, "duckdb count of the partitions"
        )

    def query_history(self, since: datetime | None = None) -> Iterator[QueryExecution]:
        """Statements submitted at or after ``since``, oldest first."""
        after = None
        while True:
            with self._lock:
                page = self._glue.history_page(since, after, HISTORY_PAGE)
            yield from page
            if len(page) < HISTORY_PAGE:
                return
            after = (iso_utc(page[-1].submitted_at) or "", page[-1].query_id)

    # -- Glue / Athena API calls that are not SQL -------------------------------------------

    # -- the history contract: one log for every work group -----------------------------

    def list_work_groups(self, read_before: Collection[str] = ()) -> WorkGroups:
        """One log holds every work group: one name, one cursor."""
        return WorkGroups((ALL_WORK_GROUPS,))

    def history_start(self, cursor: datetime | None, floor: datetime) -> datetime:
        """``import-history`` can add executions older than the cursor, so every read takes
        the lookback window again: from the cursor when it is older, else from the floor."""
        return min(cursor, floor) if cursor else floor

    def query_executions(
        self, work_group: str, since: datetime, stored: StoredTimes
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """The log from ``since``, oldest first, without the ids ``stored`` knows."""
        for batch in chunks(self.query_history(since), STORED_LOOKUP):
            known = stored([q.query_id for q in batch])
            yield from (q for q in batch if q.query_id not in known)

    def history_mark(self, work_group: str) -> str | None:
        """The newest submission time in the log (rows added with exactly that time are seen
        on the next change)."""
        with self._lock:
            newest = self._glue.newest_submission()
        return newest.isoformat() if newest else None

    def history_read_notes(self) -> HistoryReadNotes:
        return HistoryReadNotes()

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
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {duck_name(name, DEFAULT_DATABASE)}")
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
        return self._glue.record_many(read_query_executions(Path(path)))

    def close(self) -> None:
        self._selects.shutdown(wait=True, cancel_futures=True)
        self._db.close()
        self._glue.conn.close()

    # -- SQL --------------------------------------------------------------------------------

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
        return self._execute(
            str(uuid.uuid4()),
            sql,
            catalog=catalog,
            database=database,
            work_group=work_group,
            timeout_s=timeout_s,
        )

    def start_select(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> str:
        """Queue one marked SELECT on the engine's query thread; its id at once."""
        marked = marked_select(sql)
        query_id = str(uuid.uuid4())
        self._started[query_id] = self._selects.submit(
            self._execute,
            query_id,
            marked,
            catalog=catalog,
            database=database,
            work_group=work_group,
        )
        return query_id

    def select_result(self, query_id: str, *, timeout_s: float | None = None) -> QueryResult:
        future = self._started[query_id]
        try:
            try:
                return future.result(timeout=timeout_s)
            except FutureTimeout:
                self.cancel(query_id)
                return future.result()
        finally:
            self._started.pop(query_id, None)

    def cancel(self, query_id: str) -> None:
        """Interrupt a started SELECT, or stop it before it starts; a finished one stays."""
        future = self._started.get(query_id)
        if future is None or future.done():
            return
        with self._interrupt_lock:
            self._cancelled.add(query_id)
        deadline = time.monotonic() + CANCEL_WAIT_S
        # DuckDB forgets an interrupt that comes between two of its statements: repeat it.
        while not future.done() and time.monotonic() < deadline:
            with self._interrupt_lock:
                if self._running == query_id:
                    self._db.interrupt()
            time.sleep(0.01)

    def sqlalchemy_engine(self, catalog: str = DEFAULT_CATALOG) -> sqlalchemy.Engine:
        """Athena SQL through this engine (``dbapi``): GX sends what it would send Athena."""
        return local_sqlalchemy_engine(self, catalog)

    @_serialized
    def _execute(
        self,
        query_id: str,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        submitted_at = self.clock()
        started = time.perf_counter()
        outcome, state, error = Outcome(), "SUCCEEDED", None
        try:
            context = self._context(catalog, database)
            with self._deadline(query_id, timeout_s):
                outcome = self._runner.run(sql, context)
        except duckdb.InterruptException:
            state = "CANCELLED"
            if query_id in self._cancelled:
                error = "Query cancelled by request"
            else:
                error = f"Query cancelled: exceeded the {timeout_s}s time limit"
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
        with self._interrupt_lock:
            self._cancelled.discard(query_id)
        if error is not None:
            raise EngineError(f"{state}: {sql.strip()[:200]!r}: {error}", code=state)
        return QueryResult(outcome.columns, outcome.rows, query_id, outcome.scanned_bytes)

    @staticmethod
    def statement_type(sql: str) -> str:
        """DDL, DML or UTILITY, by the leading keyword as Athena classifies statements."""
        return StatementRunner.statement_type(sql)

    def _context(self, catalog: str | None, database: str | None) -> Context:
        glue_catalog = self._glue.catalog(catalog or DEFAULT_CATALOG).name
        if database is None:
            return Context(glue_catalog, DEFAULT_DATABASE)
        return Context(glue_catalog, self._glue.database(glue_catalog, database).name)

    @contextmanager
    def _deadline(self, query_id: str, timeout_s: float | None) -> Iterator[None]:
        """Interrupt DuckDB from a timer - Athena's StopQueryExecution, here by time limit;
        a statement whose cancel came before it started stops at once."""

        def interrupt() -> None:
            with self._interrupt_lock:
                if self._running == query_id:
                    self._db.interrupt()

        timer = threading.Timer(timeout_s, interrupt) if timeout_s is not None else None
        with self._interrupt_lock:
            if query_id in self._cancelled:
                raise duckdb.InterruptException("cancelled before it started")
            self._running = query_id
        if timer:
            timer.start()
        try:
            yield
        finally:
            with self._interrupt_lock:
                self._running = None
            if timer:
                timer.cancel()

    def _attach(self, catalog: str) -> None:
        path = self.warehouse / f"{catalog.lower()}.duckdb"
        if self.read_only and not path.exists():
            return  # nothing was ever written to it: it has no tables to list
        mode = " (READ_ONLY)" if self.read_only else ""
        literal = exp.Literal.string(str(path)).sql("duckdb")
        try:
            self._db.execute(f"ATTACH {literal} AS {quote(catalog.lower())}{mode}")
        except duckdb.Error as exc:  # typically: another process holds it read-write
            raise EngineError(f"cannot open {path}: {exc}", operation="attach") from exc

    def _require_writable(self, operation: str) -> None:
        if self.read_only:
            raise EngineError(f"{operation}: the engine was opened read-only", operation=operation)
