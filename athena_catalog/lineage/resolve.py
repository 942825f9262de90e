"""One parse of the stored history for usage and lineage: each distinct statement is parsed
once, through one cache, and what both consumers need is written together.

Every ``query_history`` row not resolved under the current parser version is resolved: its
statement's fingerprint (parser version, context, normalized text) is looked up in the parse
cache (``lineage_parse_cache``), whose rows hold while the schemas of the tables they touch
are unchanged; only misses are parsed. One write transaction per chunk stores, for usage, the
tables each query read and wrote, its join keys and the columns it read and how, resolved
through views (``query_tables``, ``query_joins``, ``query_columns``) and, for lineage, the
statement's outcome (``lineage_statements``) and its edges. ``table_usage`` and
``lineage`` both call :func:`resolve_history` under the store's write lock: whichever runs
first does the work, the other finds it done.

Re-resolution: each row records the parser version, fingerprint and schema digest it was
resolved under. A run first marks unresolved the rows whose tables' schemas changed since
(their digest no longer matches); rows of another parser version are unresolved anyway. A
re-resolved row gets new usage rows; a re-resolved statement lineage had counted is marked
not counted, and the edges are then recounted from ``lineage_statements`` and the cache.

Who takes what: usage every row, parsing successful user and dbt queries but UTILITY ones (the
project's own, failed and utility queries read and write nothing); lineage successful user and
dbt statements whose text is complete (utility ones have no lineage).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.lineage import fingerprint as fingerprints
from athena_catalog.lineage.graph import LineageAnalyser, LineageBatch, outcome
from athena_catalog.lineage.parser import DEFAULT_TIMEOUT_S
from athena_catalog.lineage.result import LineageResult, LineageSchema, is_s3
from athena_catalog.markers import SOURCE_SELF
from athena_catalog.names import quote_part, split_column_ref
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.history import (
    mark_resolved,
    query_history,
    replace_usage,
    resolutions,
    resolved_already,
    unresolve,
    unresolved,
)
from athena_catalog.store.lineage import (
    EdgeStats,
    FingerprintStats,
    analysed,
    cache_tables,
    clear_edges,
    fingerprint_stats,
    lineage_column_edges,
    lineage_table_edges,
    mark_counted,
    merge_edges,
    needs_recount,
    read_cache,
    read_schema,
    read_views,
    record_statements,
    restate,
    write_cache,
)
from athena_catalog.usage.columns import ViewColumns, column_rows, usage_columns

DEFAULT_DATABASE = "default"
ANALYSED = ("ok", "no lineage")
MAX_EXAMPLES = 20

_h = query_history.c
_COLUMNS = (
    _h.query_id,
    _h.query,
    _h.catalog,
    _h.database,
    _h.state,
    _h.statement_type,
    _h.source,
    _h.query_truncated,
    _h.submitted_at,
    _h.data_scanned_bytes,
    _h.billed_bytes,
    _h.parser_version,
)


@dataclass(frozen=True)
class Resolved:
    """The tables one query reads and writes, and the column pairs it joins them on."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    # (left fqn, right fqn, "left_column = right_column"), one per equated column pair
    joins: tuple[tuple[str, str, str], ...] = ()
    error: str | None = None


def usage_of(result: LineageResult) -> Resolved:
    """Usage's reading of a parse: S3 locations (UNLOAD targets, LOCATION sources) are not
    tables and are left out; CREATE VIEW writes the view and reads and joins nothing (its
    query runs when the view is read). Joins are the parser's join keys: columns equated by
    JOIN ... ON / USING, by WHERE across two tables, or by MERGE ... ON, traced to base table
    columns; tables merely read by the same query are not joined."""
    defining = result.statement == "view"
    sources = () if defining else result.sources
    reads = tuple(sorted(s.lower() for s in sources if not is_s3(s)))
    target = result.target
    writes = (target.lower(),) if target and not is_s3(target) else ()
    joins = () if defining else join_rows(result.joins)
    return Resolved(reads=reads, writes=writes, joins=joins, error=result.error)


def join_rows(keys: Iterable[tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    """``(left table, right table, "left_column = right_column")`` of sorted column pairs;
    a column holding a dot or a double quote is quoted, as in its column ref."""
    rows = set()
    for a, b in keys:
        left, left_column = split_column_ref(a)
        right, right_column = split_column_ref(b)
        rows.add((left, right, f"{quote_part(left_column)} = {quote_part(right_column)}"))
    return tuple(sorted(rows))


@dataclass
class ResolveStats:
    """What one resolution did, for both assets' metadata and messages."""

    queries: int = 0  # history rows resolved by this run
    re_resolved: int = 0  # of them, resolved before under another parser or schema
    parsed: int = 0  # distinct statements parsed (cache misses)
    cache_hits: int = 0
    skipped: int = 0  # own, failed, utility: resolved to nothing for usage
    parse_errors: int = 0  # usage: queries whose tables and joins may be incomplete
    unparsed: list[tuple[str, str]] = field(default_factory=list)  # first (query id, reason)
    outcomes: Counter[str] = field(default_factory=Counter)  # lineage: statements by outcome
    not_analysed: list[tuple[str, str]] = field(default_factory=list)  # (query id, outcome)
    recounted: bool = False  # lineage edges recounted from the statements and the cache


def lineage_schema(conn: Connection) -> LineageSchema:
    """The crawled schema with the view definitions: what every resolution is keyed on (usage
    and lineage build it the same way, so their digests agree)."""
    return LineageSchema(read_schema(conn), {v.fqn: v.sql for v in read_views(conn)})


def resolve_history(
    store: CatalogStore,
    *,
    workers: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    chunk_size: int = 5000,
    now: datetime | None = None,
) -> ResolveStats:
    """Resolve every row not resolved under the current parser version and schemas, chunk
    by chunk (one write transaction each), then recount lineage's edges if a counted
    statement was resolved again."""
    now = now or datetime.now(UTC)
    version = fingerprints.PARSER_VERSION
    with store.read() as conn:
        schema = lineage_schema(conn)
        stale = _stale(conn, schema, version)
    if stale:
        with store.write() as conn:
            unresolve(conn, version, stale)
    analyser = LineageAnalyser(schema, workers=workers, timeout_s=timeout_s, now=now)
    stats = ResolveStats()
    after = ""
    views: ViewColumns | None = None
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .where(unresolved(version), _h.query_id > after)
                .order_by(_h.query_id)
                .limit(chunk_size)
            ).all()
            if not rows:
                break
            if views is None:  # the views' parses, for column usage through them
                parsed = analyser.views(read_views(conn), lambda fps: read_cache(conn, fps))
                views = ViewColumns(parsed.views)
            after = rows[-1].query_id
            chunk = _Chunk(rows)
            batch = LineageBatch()
            results = analyser.results(chunk.todo, lambda fps: read_cache(conn, fps), batch)
        with store.write() as conn:
            if parsed.cache_rows:
                write_cache(conn, parsed.cache_rows)
                parsed.cache_rows = []
            if _save(conn, chunk, results, batch, schema, views, version, now, stats):
                stats.parsed += batch.parsed
                stats.cache_hits += batch.cache_hits
    with store.write() as conn:
        if needs_recount(conn):
            _recount(conn, analyser)
            stats.recounted = True
    return stats


def _stale(conn: Connection, schema: LineageSchema, version: str) -> list[tuple[str, str]]:
    """``(fingerprint, schema_version)`` pairs of resolved rows whose tables' schemas have
    changed since (or whose parse is no longer cached)."""
    pairs = resolutions(conn, version)
    tables = cache_tables(conn, {fp for fp, _ in pairs})
    return [(fp, sv) for fp, sv in pairs if fp not in tables or schema.digest(tables[fp]) != sv]


class _Chunk:
    """One chunk of history rows: what each consumer takes, and the statements to parse."""

    def __init__(self, rows: Sequence[Any]):  # query_history rows of _COLUMNS
        self.rows = rows
        self.fingerprints: dict[str, str] = {}  # query id -> fingerprint, for parsed rows
        self.todo: dict[str, tuple[str, str, str]] = {}
        for row in rows:
            if not (self.for_usage(row) or self.for_lineage(row)):
                continue
            catalog = (row.catalog or DEFAULT_CATALOG).lower()
            database = (row.database or DEFAULT_DATABASE).lower()
            fp = fingerprints.fingerprint(row.query, catalog, database)
            self.fingerprints[row.query_id] = fp
            self.todo.setdefault(fp, (row.query, catalog, database))

    @staticmethod
    def for_usage(row: Any) -> bool:
        return _succeeded(row) and row.statement_type != "UTILITY"

    @staticmethod
    def for_lineage(row: Any) -> bool:
        return _succeeded(row) and not row.query_truncated


def _succeeded(row: Any) -> bool:
    return row.source != SOURCE_SELF and row.state == "SUCCEEDED"


def _save(
    conn: Connection,
    chunk: _Chunk,
    results: dict[str, LineageResult],
    batch: LineageBatch,
    schema: LineageSchema,
    views: ViewColumns,
    version: str,
    now: datetime,
    stats: ResolveStats,
) -> bool:
    """Store the chunk's resolution, leaving out rows a concurrent run resolved since they
    were read (their edges would count twice); False when nothing was left."""
    done = resolved_already(conn, [r.query_id for r in chunk.rows], version)
    rows = [r for r in chunk.rows if r.query_id not in done]
    if not rows:
        return False
    counted = analysed(conn, [r.query_id for r in rows if chunk.for_lineage(r)])
    tables: list[dict[str, Any]] = []
    joins: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    usage: dict[str, _Usage] = {}  # fingerprint -> what each of its executions stores alike
    digests: dict[str, str] = {}  # fingerprint -> schema digest of its tables
    shapes: dict[str, str] = {}
    marks: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    edges = LineageBatch()
    for row in rows:
        stats.queries += 1
        stats.re_resolved += row.parser_version is not None
        fp = chunk.fingerprints.get(row.query_id)
        mark = {"query_id": row.query_id, "parser_version": version}
        if fp is None:
            stats.skipped += 1
            marks.append(mark | {"fingerprint": None, "schema_version": None})
            continue
        result = results[fp]
        if fp not in digests:
            digests[fp] = schema.digest(result.tables)
        marks.append(mark | {"fingerprint": fp, "schema_version": digests[fp]})
        if chunk.for_usage(row):
            if fp not in usage:
                usage[fp] = _Usage(usage_of(result), column_rows(usage_columns(result, views)))
                shapes[fp] = fingerprints.normalize(row.query)
            found = usage[fp].found
            if found.error:
                stats.parse_errors += 1
                if len(stats.unparsed) < MAX_EXAMPLES:
                    stats.unparsed.append((row.query_id, found.error))
            tables += _table_rows(row, fp, found)
            columns += [{"query_id": row.query_id} | c for c in usage[fp].columns]
            joins += [
                {"query_id": row.query_id, "left_fqn": a, "right_fqn": b, "columns": cols}
                for a, b, cols in found.joins
            ]
        else:
            stats.skipped += 1
        if chunk.for_lineage(row):
            said = outcome(result)
            stats.outcomes[said] += 1
            if said not in ANALYSED:
                stats.not_analysed.append((row.query_id, said))
            statement = {"query_id": row.query_id, "fingerprint": fp, "outcome": said}
            statement |= {"analysed_at": now, "submitted_at": row.submitted_at}
            if row.query_id in counted:
                again.append(statement)
            else:
                new.append(statement | {"counted": True})
                at = row.submitted_at
                edges.add(result, "query", EdgeStats(at, at, 1, row.query_id))
    write_cache(conn, batch.cache_rows)
    replace_usage(conn, (r.query_id for r in rows), tables, joins, shapes, columns)
    merge_edges(conn, lineage_table_edges, edges.table_edges)
    merge_edges(conn, lineage_column_edges, edges.column_edges)
    record_statements(conn, new)
    restate(conn, again)
    mark_resolved(conn, marks)
    return True


@dataclass(frozen=True)
class _Usage:
    found: Resolved
    columns: list[dict[str, Any]]  # query_columns rows but their query id


def _table_rows(row: Any, fp: str, found: Resolved) -> list[dict[str, Any]]:
    """Bytes rule: a query's scanned (and billed) bytes split equally across the distinct
    tables it reads; tables it only writes get none."""
    reads = len(found.reads)
    scanned, billed = row.data_scanned_bytes or 0, row.billed_bytes or 0
    base = {"query_id": row.query_id, "fingerprint": fp}
    return [
        base
        | {"table_fqn": fqn, "role": "read"}
        | {"bytes_share": scanned // reads, "billed_share": billed // reads}
        for fqn in found.reads
    ] + [
        base | {"table_fqn": fqn, "role": "write", "bytes_share": 0, "billed_share": 0}
        for fqn in found.writes
    ]


def _added_order(g: FingerprintStats) -> tuple[Any, ...]:
    """Adding one by one in this order makes the latest statement the example, as it was."""
    return (
        (0, g.example_query_id or "")
        if g.last_seen is None
        else (1, g.last_seen, g.example_query_id or "")
    )


def _recount(conn: Connection, analyser: LineageAnalyser) -> None:
    """Every edge again, from each fingerprint's cached parse and its statements' counts and
    times, plus the views: what adding the statements one by one would have built."""
    groups = fingerprint_stats(conn)
    cached = read_cache(conn, [g.fingerprint for g in groups])
    queries = LineageBatch()
    for g in sorted(groups, key=_added_order):
        row = cached.get(g.fingerprint)
        if row is not None:
            stats = EdgeStats(g.first_seen, g.last_seen, g.statements, g.example_query_id)
            queries.add(LineageResult.from_json(row["result"]), "query", stats)
    views = analyser.views(read_views(conn), lambda fps: read_cache(conn, fps))
    write_cache(conn, views.cache_rows)
    clear_edges(conn)
    for batch in (queries, views):
        merge_edges(conn, lineage_table_edges, batch.table_edges)
        merge_edges(conn, lineage_column_edges, batch.column_edges)
    mark_counted(conn)
