"""Athena's ``QueryExecution`` structure -> a ``QueryExecution`` record: the one parser.

Every field is read by one rule set: dotted paths through objects, type checks (a bool is
no int), text a store can hold (no lone surrogate), counts within signed 64 bits, times as
datetimes, ISO-8601 text or epoch seconds (naive means UTC).

Two callers, two policies over the same checks:

* ``parse_query_execution`` (``import-history``, files written by anyone): strict. The first
  field that fails raises ``FieldError`` naming it; QUEUED / RUNNING come back as None.
* ``query_execution_from_api`` (Athena's own answers): what cannot identify or place a record
  (id, submission time, state, query text) makes it an ``UnreadableExecution`` with a counted
  reason; any other field that fails is passed on as Athena sent it, for ingestion to repair
  and count (``athena_catalog.usage.ingest.to_row``), so a value Athena adds later never loses
  a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from athena_catalog.engines.records import DEFAULT_WORK_GROUP, QueryExecution, UnreadableExecution
from athena_catalog.timeutil import as_utc

MAX_COUNT = 2**63 - 1  # the largest integer SQLite and PostgreSQL's BIGINT hold
QUERY_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
PENDING_STATES = ("QUEUED", "RUNNING")
STATEMENT_TYPES = ("DDL", "DML", "UTILITY")
_MISSING = object()


class FieldError(ValueError):
    """One field of a QueryExecution is missing or wrong; the message names it."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"field {name}: {problem}")
        self.field, self.problem = name, problem


def shown(value: Any) -> str:
    """A rejected value for an error message: short, and printable whatever it holds."""
    text = ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _get(item: Mapping[str, Any], name: str) -> Any:
    """The value at a dotted path, or None; FieldError when the path crosses a non-object."""
    value: Any = item
    for part in name.split("."):
        if not isinstance(value, Mapping):
            raise FieldError(name, "expected an object on the way")
        value = value.get(part)
        if value is None:
            return None
    return value


def _typed(item: Mapping[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    value = _get(item, name)
    if value is None:
        if required:
            raise FieldError(name, "is missing")
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise FieldError(name, f"expected {kind.__name__}, got {shown(value)}")
    return value


def _text(item: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A str field whose text any store holds (valid JSON may carry "\\ud800")."""
    value = _typed(item, name, str, required=required)
    return value if value is None else _encodable(name, value)


def _encodable(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FieldError(
            name, f"not valid UTF-8 text (lone surrogate at character {exc.start})"
        ) from None
    return value


def _count(item: Mapping[str, Any], name: str) -> int | None:
    """A non-negative count that fits the stores' signed 64-bit integers."""
    value = _typed(item, name, int)
    if value is not None and not 0 <= value <= MAX_COUNT:
        raise FieldError(name, f"expected a count >= 0 and <= 2**63-1, got {shown(value)}")
    return value


def _time(item: Mapping[str, Any], name: str, *, required: bool = False) -> datetime | None:
    """A datetime (boto3), ISO-8601 text or epoch seconds; naive times are UTC."""
    value = _typed(item, name, object, required=required)
    if value is None:
        return None
    if isinstance(value, str):
        _encodable(name, value)
    try:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            return as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError, OSError):
        pass
    raise FieldError(name, f"expected ISO-8601 text or epoch seconds, got {shown(value)}")


def _error_message(item: Mapping[str, Any]) -> str | None:
    return _text(item, "Status.AthenaError.ErrorMessage") or _text(item, "Status.StateChangeReason")


def parse_query_execution(item: Mapping[str, Any]) -> QueryExecution | None:
    """One QueryExecution, every field checked; None for queries still QUEUED or RUNNING.
    Raises FieldError for the first field that fails."""
    state = _text(item, "Status.State", required=True)
    if state in PENDING_STATES:
        return None
    if state not in QUERY_STATES:
        raise FieldError("Status.State", f"expected one of {QUERY_STATES}, got {shown(state)}")
    statement_type = _text(item, "StatementType")
    if statement_type is not None and statement_type not in STATEMENT_TYPES:
        raise FieldError("StatementType", f"expected one of {STATEMENT_TYPES}")
    query_id = _text(item, "QueryExecutionId", required=True)
    if query_id is None or not query_id.strip():
        raise FieldError("QueryExecutionId", "is empty")
    error = _error_message(item)
    query = _text(item, "Query", required=True)
    submitted_at = _time(item, "Status.SubmissionDateTime", required=True)
    assert query is not None and submitted_at is not None  # required=True raised otherwise
    return QueryExecution(
        query_id=query_id,
        query=query,
        statement_type=statement_type,
        state=state,
        work_group=_text(item, "WorkGroup") or DEFAULT_WORK_GROUP,
        catalog=_text(item, "QueryExecutionContext.Catalog"),
        database=_text(item, "QueryExecutionContext.Database"),
        submitted_at=submitted_at,
        completed_at=_time(item, "Status.CompletionDateTime"),
        data_scanned_bytes=_count(item, "Statistics.DataScannedInBytes"),
        engine_ms=_count(item, "Statistics.EngineExecutionTimeInMillis"),
        error_message=error,
    )


def _as_sent(item: Mapping[str, Any], name: str, read: Any, *args: Any) -> Any:
    """The checked value, or what Athena sent when the check fails (None past a non-object)."""
    try:
        return read(item, name, *args)
    except FieldError:
        try:
            return _get(item, name)
        except FieldError:
            return None


def _or_none(item: Mapping[str, Any], name: str) -> datetime | None:
    """An optional time, None when it cannot be read (nothing downstream repairs a time)."""
    try:
        return _time(item, name)
    except FieldError:
        return None


def query_execution_from_api(item: Mapping[str, Any]) -> QueryExecution | UnreadableExecution:
    """One QueryExecution of Athena's API; unreadable when it cannot be identified or placed.
    States, statement types and counts are passed on for ingestion to judge."""
    query_id = _as_sent(item, "QueryExecutionId", _typed, str)
    if not isinstance(query_id, str) or not query_id:
        return UnreadableExecution(None, "missing_query_id", repr(dict(item))[:500])
    required = (
        ("Status.SubmissionDateTime", "missing_submitted_at", _time, ()),
        ("Status.State", "missing_state", _typed, (str,)),
        ("Query", "missing_query", _typed, (str,)),
    )
    found: dict[str, Any] = {}
    for name, reason, read, args in required:
        try:
            found[name] = read(item, name, *args, required=True)
        except FieldError:
            return UnreadableExecution(query_id, reason)
    work_group = _as_sent(item, "WorkGroup", _text)
    error = _as_sent(item, "Status.AthenaError.ErrorMessage", _text) or _as_sent(
        item, "Status.StateChangeReason", _text
    )
    return QueryExecution(
        query_id=query_id,
        query=found["Query"],
        statement_type=_as_sent(item, "StatementType", _text),
        state=found["Status.State"],
        work_group=work_group or DEFAULT_WORK_GROUP,
        catalog=_as_sent(item, "QueryExecutionContext.Catalog", _text),
        database=_as_sent(item, "QueryExecutionContext.Database", _text),
        submitted_at=found["Status.SubmissionDateTime"],
        completed_at=_or_none(item, "Status.CompletionDateTime"),
        data_scanned_bytes=_as_sent(item, "Statistics.DataScannedInBytes", _typed, int),
        engine_ms=_as_sent(item, "Statistics.EngineExecutionTimeInMillis", _typed, int),
        error_message=error,
    )
