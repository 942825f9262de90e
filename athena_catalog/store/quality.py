"""Data-quality results in the store: one ``quality_results`` row per check evaluation, a time
series never overwritten, and each table's last evaluation, which the write-triggered sensor
compares with :mod:`athena_catalog.store.table_writes`.

Nothing here updates or deletes a row: a new evaluation is a new row, so the history of a
check is every row of its ``(table_fqn, check_name)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from athena_catalog.quality.cases import Outcome
from athena_catalog.store.schema import quality_results
from athena_catalog.timeutil import as_utc


def record_outcomes(
    conn: Connection, outcomes: Iterable[Outcome], *, evaluated_at: datetime, run_id: str | None
) -> int:
    """Append one row per outcome (inside the caller's write transaction); how many."""
    rows = [_row(o, as_utc(evaluated_at), run_id) for o in outcomes]
    if rows:
        conn.execute(insert(quality_results), rows)
    return len(rows)


def _row(outcome: Outcome, evaluated_at: datetime, run_id: str | None) -> dict[str, Any]:
    case = outcome.case
    return {
        "table_fqn": case.table_fqn,
        "check_name": case.name,
        "test_definition": case.test_definition,
        "column_name": case.column_name,
        "evaluated_at": evaluated_at,
        "passed": outcome.passed,
        "severity": outcome.severity or case.severity,
        "observed_value": outcome.observed_value,
        "element_count": outcome.element_count,
        "unexpected_count": outcome.unexpected_count,
        "unexpected_percent": outcome.unexpected_percent,
        "sample": list(outcome.sample) if outcome.sample is not None else None,
        "error": outcome.error,
        "bytes_scanned": outcome.bytes_scanned,
        "statement_ids": list(outcome.statement_ids),
        "run_id": run_id,
    }


@dataclass(frozen=True)
class StoredResult:
    """One stored evaluation."""

    table_fqn: str
    check_name: str
    test_definition: str
    column_name: str | None
    evaluated_at: datetime
    passed: bool
    severity: str
    observed_value: Any
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any] | None
    error: str | None
    bytes_scanned: int | None
    statement_ids: list[str]
    run_id: str | None


def results(conn: Connection, table_fqn: str | None = None) -> list[StoredResult]:
    """Every stored evaluation (of one table), oldest first."""
    q = quality_results.c
    query = select(quality_results).order_by(q.evaluated_at, q.id)
    if table_fqn is not None:
        query = query.where(q.table_fqn == table_fqn)
    return [_stored(row) for row in conn.execute(query).mappings()]


def latest_results(
    conn: Connection, table_fqn: str | None = None
) -> dict[tuple[str, str], StoredResult]:
    """The newest evaluation of each check, keyed by ``(table_fqn, check_name)``."""
    q = quality_results.c
    newest = select(func.max(q.id).label("id")).group_by(q.table_fqn, q.check_name)
    if table_fqn is not None:
        newest = newest.where(q.table_fqn == table_fqn)
    rows = conn.execute(select(quality_results).where(q.id.in_(newest.scalar_subquery())))
    found = (_stored(row) for row in rows.mappings())
    return {(r.table_fqn, r.check_name): r for r in found}


def last_evaluated(conn: Connection) -> dict[str, datetime]:
    """When each table's checks were last evaluated."""
    q = quality_results.c
    rows = conn.execute(select(q.table_fqn, func.max(q.evaluated_at)).group_by(q.table_fqn))
    return {fqn: as_utc(at) for fqn, at in rows}


def _stored(row: Any) -> StoredResult:
    return StoredResult(
        table_fqn=row["table_fqn"],
        check_name=row["check_name"],
        test_definition=row["test_definition"],
        column_name=row["column_name"],
        evaluated_at=as_utc(row["evaluated_at"]),
        passed=bool(row["passed"]),
        severity=row["severity"],
        observed_value=row["observed_value"],
        element_count=row["element_count"],
        unexpected_count=row["unexpected_count"],
        unexpected_percent=row["unexpected_percent"],
        sample=row["sample"],
        error=row["error"],
        bytes_scanned=row["bytes_scanned"],
        statement_ids=list(row["statement_ids"] or []),
        run_id=row["run_id"],
    )
