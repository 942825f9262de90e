"""The one contract both engines keep: what the crawl, usage, the sensor, test-connection and
(next) the profiler and quality checks may ask of an engine.

Callers hold an ``Engine`` and never ask which one it is: ``kind`` is for display and for
keying what the store keeps per engine (history cursors), never for a branch. Where the two
engines differ in how their history is read, the difference is a rule the engine states here
(``history_start``), not a test in the caller.

History cursor rules, shared by every engine:

* ``list_work_groups`` names the logs to read, one cursor each;
* a read of one log starts at ``history_start(cursor, floor)``;
* ``query_executions`` yields every execution submitted at or after that start (and may yield
  older ones from the page that crosses it: the caller counts them outside the window), skips
  ids ``stored`` already knows, and yields QUEUED / RUNNING ones so the caller holds its
  cursor before them;
* ``history_mark`` is one cheap call per log whose answer changes when the log has news.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy

from athena_catalog.engines.listing import Listed, ListedTags
from athena_catalog.engines.records import (
    DEFAULT_CATALOG,
    Database,
    DataCatalog,
    HistoryReadNotes,
    QueryExecution,
    QueryResult,
    Table,
    TableEstimates,
    UnreadableExecution,
    WorkGroups,
)

# Which of a page's ids are already stored, with their submission times.
StoredTimes = Callable[[Sequence[str]], Mapping[str, datetime]]


class Engine(Protocol):
    """The catalog surface, query history and read-only queries both engines expose.

    Listing calls are bulk: one call per page. ``Listed`` / ``ListedTags`` answers say when
    they are partial, and a partial answer never proves that what it lacks is gone.
    """

    kind: str  # "aws" or "local": display and store keys only

    # -- listings ---------------------------------------------------------------------------

    def list_data_catalogs(self) -> Listed[DataCatalog]: ...

    def list_databases(self, catalog: str) -> list[Database]: ...

    def list_tables(self, catalog: str, database: str) -> Listed[Table]:
        """Every table and view of one database, with columns, in as few calls as pages."""
        ...

    def list_table_tags(self, catalog: str) -> ListedTags:
        """Tags of every tagged table of a catalog, keyed by (database, table), in bulk."""
        ...

    # -- query history ----------------------------------------------------------------------

    def list_work_groups(self, read_before: Collection[str] = ()) -> WorkGroups:
        """The logs to read. When the listing is denied or throttled past the retry budget,
        the engine falls back (to ``read_before`` and its configured work group) and says so
        in ``note`` instead of failing."""
        ...

    def history_start(self, cursor: datetime | None, floor: datetime) -> datetime:
        """Where a read of one log starts, given its stored cursor and the lookback floor."""
        ...

    def query_executions(
        self, work_group: str, since: datetime, stored: StoredTimes
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """Executions of one log from ``since`` (see the module's cursor rules)."""
        ...

    def history_mark(self, work_group: str) -> str | None:
        """A cheap mark of one log (None when it is empty): it changes when the log has news."""
        ...

    def history_read_notes(self) -> HistoryReadNotes:
        """Fallbacks the history reads of this engine needed so far."""
        ...

    # -- queries ----------------------------------------------------------------------------

    def execute(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> QueryResult:
        """Run any one statement as given and wait for its rows."""
        ...

    def start_select(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> str:
        """Start one read-only SELECT, marked as this project's (``marked_select``), and
        return its query id at once; a statement that is not one SELECT is refused."""
        ...

    def select_result(self, query_id: str, *, timeout_s: float | None = None) -> QueryResult:
        """Wait for a started SELECT and fetch its rows. Past ``timeout_s`` it is cancelled;
        a failed or cancelled query raises EngineError with code FAILED or CANCELLED."""
        ...

    def cancel(self, query_id: str) -> None:
        """Stop a started query (Athena's StopQueryExecution); a finished one stays as it is."""
        ...

    def table_estimates(self, catalog: str, database: str, table: str) -> TableEstimates:
        """Row count and size the source states without a query; None where it has none."""
        ...

    def scan_estimates(
        self, catalog: str, database: str, table: str, partition_filter: str | None = None
    ) -> TableEstimates:
        """What a scan of the table would read, without a query: the profiler's cost guard.

        ``partition_filter`` is a Glue partition expression over partition keys only (Glue
        GetPartitions' grammar: ``dt >= '2024-01-01' AND region IN ('eu', 'us')``); with it,
        only the partitions it selects count. aws: Glue's size parameters of the table (or of
        every selected partition), else a ListObjectsV2 listing of the table's location (or of
        each selected partition's); local: the scan estimator's bytes, for the matching rows
        with a filter. ``size_bytes`` is None when the source cannot tell."""
        ...

    def sqlalchemy_engine(self, catalog: str = DEFAULT_CATALOG) -> sqlalchemy.Engine:
        """A SQLAlchemy engine that speaks Athena SQL (dialect ``awsathena``) in ``catalog``,
        read-only, every statement marked, reflection answered by ``list_tables``
        (``engines.sqlalchemy_dialect``): what Great Expectations and the profiler connect
        with."""
        ...

    def close(self) -> None: ...


def run_select(
    engine: Engine,
    sql: str,
    *,
    catalog: str | None = None,
    database: str | None = None,
    work_group: str | None = None,
    timeout_s: float | None = None,
) -> QueryResult:
    """Start one marked read-only SELECT and wait for its rows: the common case of the two
    calls, for callers that need no query id before the rows come."""
    query_id = engine.start_select(sql, catalog=catalog, database=database, work_group=work_group)
    return engine.select_result(query_id, timeout_s=timeout_s)
