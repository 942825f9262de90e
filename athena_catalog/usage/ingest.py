"""Query history into the store: validate, repair or reject each record, chunk, and keep
per-work-group cursors.

Ingestion never fails on a bad record: each one is stored (repaired where the repair is
lossless in meaning) or skipped, and every repair or skip is counted under a reason.
Executions stream into the store in chunks of ``chunk_size`` rows, one transaction per chunk;
a cursor moves only in the transaction that stores the last row it covers.

Every engine is read the same way, by the contract's cursor rules
(``athena_catalog.engines.contract``): per log the engine lists (aws: each enabled work group;
local: its one log for all), from where the engine says a read starts (aws: the cursor, first
run now minus ``query_log_days``; local: the cursor or the lookback window, whichever is
older, as imports can add old executions). Ids already stored are never fetched again. A
query still QUEUED or RUNNING holds its log's cursor at its submission time, so it is read
once finished.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from athena_catalog.engines.contract import Engine, StoredTimes
from athena_catalog.engines.records import EngineError, QueryExecution, UnreadableExecution
from athena_catalog.engines.retry import ACCESS_DENIED, RETRYABLE_CODES
from athena_catalog.markers import query_source
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.history import (
    dialect_insert,
    history_cursors,
    history_rejects,
    query_history,
)
from athena_catalog.timeutil import as_utc, utc_now

MAX_QUERY_BYTES = 262_144  # Athena's limit on a query string
FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
PENDING_STATES = frozenset({"QUEUED", "RUNNING"})
STATEMENT_TYPES = frozenset({"DDL", "DML", "UTILITY"})
CHUNK_TEXT_BYTES = 64 * 1024 * 1024
MB = 1024 * 1024
MIN_BILLED_BYTES = 10 * MB
# How undecodable bytes arrive in Python text (surrogateescape and friends).
_SURROGATE = re.compile("[\ud800-\udfff]")
# Query ids and work group names: AWS caps both at 128 characters, imports cap nothing, and
# PostgreSQL indexes them (a B-tree entry holds at most 2704 bytes), so longer ones are rejected.
MAX_ID_BYTES = 1024
BIGINT_MAX = 2**63 - 1  # the largest count both stores hold


def billed_bytes(state: str, statement_type: str | None, scanned: int | None) -> int:
    """What Athena bills: data scanned rounded up to the megabyte, 10 MB minimum per query.

    Failed queries are free, and so are DDL and UTILITY statements that scan nothing
    (CREATE, DROP, SHOW ...); a CTAS is DDL but pays for what it reads. Cancelled queries pay
    for what they scanned.
    """
    if state == "FAILED" or (statement_type in ("DDL", "UTILITY") and not scanned):
        return 0
    return max(MIN_BILLED_BYTES, math.ceil((scanned or 0) / MB) * MB)


@dataclass
class IngestStats:
    """What one ingestion did, for the asset's metadata."""

    stored: int = 0
    already_stored: int = 0
    pending: int = 0
    outside_window: int = 0
    chunks: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    by_work_group: Counter[str] = field(default_factory=Counter)
    work_groups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fallbacks and incomplete work groups
    errors: list[str] = field(default_factory=list)  # work groups not read completely
    throttled: int = 0  # calls still throttled after the retry budget (never fatal)
    fallback_calls: int = 0  # GetQueryExecution calls made because BatchGet is missing


def _clean_text(value: str, stats: IngestStats) -> str:
    """Text any store accepts: lone surrogates (undecodable bytes) and NULs become U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        stats.repaired["invalid_utf8"] += 1
        value = _SURROGATE.sub("\ufffd", value)
    if "\x00" in value:
        stats.repaired["nul_character"] += 1
        value = value.replace("\x00", "\ufffd")
    return value


def _count(value: Any, name: str, stats: IngestStats) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BIGINT_MAX:
        stats.repaired[f"invalid_{name}"] += 1
        return None
    return value


class RejectedRecord(ValueError):
    """A record that cannot be stored; ``reason`` is the counted key."""

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _identifier(value: Any, field: str) -> str:
    """A query id or work group name the store can key on, else RejectedRecord."""
    if not isinstance(value, str) or not value:
        raise RejectedRecord(f"missing_{field}", repr(value)[:100])
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        raise RejectedRecord(f"{field}_too_long", f"{size} bytes, at most {MAX_ID_BYTES}")
    if "\x00" in value or _SURROGATE.search(value):
        raise RejectedRecord(f"invalid_{field}", "holds a NUL or an undecodable character")
    return value


def _storable(value: Any) -> str | None:
    """Text of a rejected record as any store holds it: NULs and lone surrogates replaced."""
    if not isinstance(value, str):
        return None
    return _SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd"))


def _shown(value: Any) -> str | None:
    """A rejected record's id or work group, storable and cut to a readable length."""
    value = _storable(value)
    return value if value is None or len(value) <= 256 else value[:255] + "\u2026"


def to_row(q: QueryExecution, stats: IngestStats) -> dict[str, Any] | None:
    """The stored row of an execution; None while it is QUEUED or RUNNING.

    Repairs are counted in ``stats.repaired``; an unusable record raises RejectedRecord.
    """
    if q.state in PENDING_STATES:
        return None
    if q.state not in FINAL_STATES:
        raise RejectedRecord("unknown_state", repr(q.state)[:100])
    query_id = _identifier(q.query_id, "query_id")
    work_group = _identifier(q.work_group, "work_group")
    text = q.query.decode("utf-8", "replace") if isinstance(q.query, bytes) else q.query
    if not isinstance(text, str) or not text.strip():
        raise RejectedRecord("empty_query")
    text = _clean_text(text, stats)
    truncated = len(text.encode("utf-8")) >= MAX_QUERY_BYTES
    if truncated:
        stats.repaired["query_at_size_limit"] += 1
    statement_type = q.statement_type
    if statement_type is not None and statement_type not in STATEMENT_TYPES:
        stats.repaired["unknown_statement_type"] += 1
        statement_type = None
    scanned = _count(q.data_scanned_bytes, "data_scanned_bytes", stats)
    submitted_at = as_utc(q.submitted_at)
    source = query_source(text)
    stats.sources[source] += 1
    return {
        "query_id": query_id,
        "query": text,
        "statement_type": statement_type,
        "state": q.state,
        "work_group": work_group,
        "catalog": _clean_text(q.catalog, stats) if q.catalog else None,
        "database": _clean_text(q.database, stats) if q.database else None,
        "submitted_at": submitted_at,
        "completed_at": as_utc(q.completed_at) if q.completed_at else None,
        "day": submitted_at.date(),
        "data_scanned_bytes": scanned,
        "billed_bytes": billed_bytes(q.state, statement_type, scanned),
        "engine_ms": _count(q.engine_ms, "engine_ms", stats),
        "error_message": _clean_text(q.error_message, stats) if q.error_message else None,
        "source": source,
        "query_truncated": truncated,
    }


class HistoryWriter:
    """The store side of ingestion: known ids, chunked inserts, cursors, rejects."""

    def __init__(self, store: CatalogStore, engine_kind: str, run_id: str | None = None):
        self.store = store
        self.engine_kind = engine_kind
        self.run_id = run_id

    def cursors(self) -> dict[str, datetime]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(history_cursors.c.work_group, history_cursors.c.submitted_at).where(
                    history_cursors.c.engine == self.engine_kind
                )
            ).all()
        return {wg: as_utc(ts) for wg, ts in rows}

    def known(self, ids: Sequence[str]) -> dict[str, datetime]:
        """Which of ``ids`` are stored, with their submission times."""
        if not ids:
            return {}
        with self.store.read() as conn:
            rows = conn.execute(
                select(query_history.c.query_id, query_history.c.submitted_at).where(
                    query_history.c.query_id.in_(bindparam("ids", expanding=True))
                ),
                {"ids": list(ids)},
            ).all()
        return {qid: as_utc(ts) for qid, ts in rows}

    def write(
        self,
        rows: list[dict[str, Any]],
        rejects: list[dict[str, Any]],
        cursor: tuple[str, datetime] | None = None,
    ) -> None:
        """One transaction: the rows, the rejects, and the cursor they complete."""
        with self.store.write() as conn:
            if rows:
                conn.execute(dialect_insert(conn, query_history).on_conflict_do_nothing(), rows)
            if rejects:
                now = utc_now()
                conn.execute(
                    insert(history_rejects),
                    [r | {"seen_at": now, "run_id": self.run_id} for r in rejects],
                )
            if cursor is not None:
                _upsert_cursor(conn, self.engine_kind, *cursor)


def _upsert_cursor(conn: Connection, engine: str, work_group: str, at: datetime) -> None:
    """Moves the cursor forward only: a concurrent run that read an older cursor must not
    pull back one a faster run already advanced."""
    now = utc_now()
    values = {"engine": engine, "work_group": work_group, "submitted_at": at, "updated_at": now}
    conn.execute(
        dialect_insert(conn, history_cursors)
        .values(values)
        .on_conflict_do_update(
            index_elements=["engine", "work_group"],
            set_={"submitted_at": at, "updated_at": now},
            where=history_cursors.c.submitted_at < at,
        )
    )


@dataclass(frozen=True)
class IngestOptions:
    query_log_days: int = 7
    chunk_size: int = 5000
    now: datetime | None = None  # tests and the benchmark pin it

    def floor(self) -> datetime:
        return (self.now or utc_now()) - timedelta(days=self.query_log_days)


def ingest(
    engine: Engine, store: CatalogStore, options: IngestOptions, run_id: str | None = None
) -> IngestStats:
    """Bring the store's ``query_history`` up to date with the engine's history."""
    writer = HistoryWriter(store, engine.kind, run_id)
    stats = IngestStats()
    cursors = writer.cursors()
    listing = engine.list_work_groups(read_before=cursors)
    if listing.note:
        stats.notes.append(listing.note)
    stats.throttled += listing.throttled
    stats.work_groups.extend(listing.names)

    def known(ids: Sequence[str]) -> dict[str, datetime]:
        found = writer.known(ids)
        stats.already_stored += len(found)
        return found

    for work_group in listing.names:
        _ingest_work_group(
            engine, writer, options, stats, work_group, cursors.get(work_group), known
        )
    read = engine.history_read_notes()
    stats.fallback_calls = read.fallback_calls
    stats.notes.extend(read.notes)
    return stats


class _Chunker:
    """Buffers rows and rejects, and writes a chunk (without a cursor) per ``size`` rows or
    ``CHUNK_TEXT_BYTES`` of query text, whichever comes first (texts reach 256 KB)."""

    def __init__(self, writer: HistoryWriter, stats: IngestStats, size: int):
        self.writer, self.stats, self.size = writer, stats, size
        self.rows: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.text_bytes = 0

    def add(self, q: QueryExecution) -> dict[str, Any] | None:
        """Buffer one execution; returns its row, or None when pending or rejected."""
        try:
            row = to_row(q, self.stats)
        except RejectedRecord as exc:
            self.reject(q.query_id, q.work_group, exc.reason, exc.detail)
            return None
        if row is None:
            self.stats.pending += 1
            return None
        self.rows.append(row)
        self.text_bytes += len(row["query"])
        self.stats.by_work_group[row["work_group"]] += 1
        if len(self.rows) >= self.size or self.text_bytes >= CHUNK_TEXT_BYTES:
            self.flush()
        return row

    def reject(
        self, query_id: str | None, work_group: str | None, reason: str, detail: str | None
    ) -> None:
        self.stats.rejected[reason] += 1
        self.rejects.append(
            {
                "query_id": _shown(query_id),
                "work_group": _shown(work_group),
                "reason": reason,
                "detail": _storable(detail),
            }
        )

    def flush(self, cursor: tuple[str, datetime] | None = None) -> None:
        if self.rows or self.rejects or cursor is not None:
            self.writer.write(self.rows, self.rejects, cursor)
            self.stats.stored += len(self.rows)
            self.stats.chunks += 1
        self.rows, self.rejects, self.text_bytes = [], [], 0


def _ingest_work_group(
    engine: Engine,
    writer: HistoryWriter,
    options: IngestOptions,
    stats: IngestStats,
    work_group: str,
    cursor: datetime | None,
    known: StoredTimes,
) -> None:
    """One log: its executions into chunks, then the cursor past what was stored."""
    since = engine.history_start(cursor, options.floor())
    chunker = _Chunker(writer, stats, options.chunk_size)
    newest: datetime | None = None
    oldest_pending: datetime | None = None
    try:
        for found in engine.query_executions(work_group, since, known):
            if isinstance(found, UnreadableExecution):
                chunker.reject(found.query_id, work_group, found.reason, found.detail)
                continue
            submitted = as_utc(found.submitted_at)
            if submitted < since:
                stats.outside_window += 1
                continue
            if found.state in PENDING_STATES:
                oldest_pending = min(oldest_pending or submitted, submitted)
            if chunker.add(found) is not None:
                newest = max(newest or submitted, submitted)
    except EngineError as exc:
        # Throttled past the retry budget, or denied: keep what was read, hold the cursor.
        if exc.code not in RETRYABLE_CODES and exc.code not in ACCESS_DENIED:
            raise
        stats.throttled += exc.code in RETRYABLE_CODES
        chunker.flush()
        stats.errors.append(f"{work_group}: {exc}")
        return
    chunker.flush(_next_cursor(work_group, cursor, newest, oldest_pending))


def _next_cursor(
    work_group: str,
    cursor: datetime | None,
    newest: datetime | None,
    oldest_pending: datetime | None,
) -> tuple[str, datetime] | None:
    """Past the newest stored row, but never past a query still running; never backwards."""
    candidates = [t for t in (newest, cursor) if t is not None]
    if not candidates:
        return None
    moved = max(candidates)
    if oldest_pending is not None:
        moved = min(moved, oldest_pending)
    if cursor is not None:
        moved = max(moved, cursor)
    return None if moved == cursor else (work_group, moved)
