"""Profiling tables through an engine: one scan per table, the opt-in statement, the table's
time budget, and errors kept per table so one bad table never stops the others."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from athena_catalog.engines.contract import Engine
from athena_catalog.engines.records import EngineError, Table
from athena_catalog.profiler.metrics import (
    ColumnProfile,
    Kind,
    Leaf,
    TableProfile,
    derive,
    leaves,
    plain,
)
from athena_catalog.profiler.options import ProfilerOptions
from athena_catalog.profiler.sql import (
    COLUMNAR_FORMATS,
    MAX_QUERY_BYTES,
    OptIn,
    ProfileConfigError,
    Source,
    Statement,
    default_statements,
    opt_in_statement,
    query_columns,
    source,
)
from athena_catalog.usage.ingest import billed_bytes

DEFAULT_PRICE_PER_TB_USD = 5.0  # Athena's price per TB scanned (usage's UsageOptions default)
TB = 10**12
_INTEGER_METRICS = frozenset(
    (
        "values_count",
        "distinct_count",
        "unique_count",
        "duplicate_count",
        "min_length",
        "max_length",
    )
)


@dataclass(frozen=True)
class ProfilePlan:
    """What a profile of one table will read and send, before anything is sent: the cost
    guard estimates from ``source`` (its ``partition`` filter and sample)."""

    table: Table
    leaves: tuple[Leaf, ...]
    source: Source
    statements: tuple[Statement, ...]  # the default-metrics SELECTs
    opt_in: OptIn | None  # None: no opt-in statement


def plan_profile(
    table: Table, options: ProfilerOptions, *, now: datetime, max_query_bytes: int = MAX_QUERY_BYTES
) -> ProfilePlan:
    """The table's plan under ``options`` and its ``table_config``; ProfileConfigError when
    the config does not fit the table (an unknown partition column, no column left)."""
    config = options.for_table(table.fqn)
    sample = options.profile_sample
    sample_type = options.profile_sample_type
    method = options.sampling_method_type
    query = partition = columns = None
    if config is not None:
        if config.profile_sample is not None:
            sample = config.profile_sample
            sample_type = config.profile_sample_type or sample_type
        method = config.sampling_method_type or method
        query, partition, columns = (
            config.profile_query,
            config.partition_config,
            config.column_config,
        )
    profiled = leaves(table.columns) if options.compute_column_metrics else []
    if columns is not None:
        profiled = [leaf for leaf in profiled if columns.keeps(leaf.name)]
        if options.compute_column_metrics and not profiled:
            raise ProfileConfigError(
                f"column_config of {table.fqn} keeps none of its columns"
                f" ({', '.join(c.name for c in table.columns)})"
            )
    if query is not None:
        output = query_columns(query)
        if output is not None:
            profiled = [leaf for leaf in profiled if leaf.path[0].lower() in output]
    read = source(
        table,
        now=now,
        profile_query=query,
        sample=sample,
        sample_type=sample_type,
        method=method,
        partition=partition,
    )
    opt_in = OptIn(
        unique_count=options.compute_unique_count,
        exact_distinct=options.compute_exact_distinct_count,
        histogram_bins=options.histogram_bins if options.compute_histogram else None,
    )
    return ProfilePlan(
        table,
        tuple(profiled),
        read,
        tuple(default_statements(profiled, read, max_bytes=max_query_bytes)),
        opt_in if options.opt_in and profiled else None,
    )


@dataclass
class _Sent:
    """The statements one profile sent, with their ids and the bytes they scanned."""

    engine: Engine
    table: Table
    work_group: str | None
    deadline: float
    timeout_s: float
    sql: list[str] = field(default_factory=list)
    query_ids: list[str] = field(default_factory=list)
    scanned: list[int] = field(default_factory=list)

    def row(self, sql: str) -> tuple[Any, ...]:
        """Run one SELECT within the table's time budget: past it the engine stops it
        (StopQueryExecution / DuckDB interrupt) and this raises EngineError CANCELLED."""
        self.sql.append(sql)
        query_id = self.engine.start_select(
            sql,
            catalog=self.table.catalog,
            database=self.table.database,
            work_group=self.work_group,
        )
        self.query_ids.append(query_id)
        remaining = max(self.deadline - time.monotonic(), 0.001)
        try:
            result = self.engine.select_result(query_id, timeout_s=remaining)
        except EngineError as exc:
            if exc.code == "CANCELLED" and time.monotonic() >= self.deadline:
                raise EngineError(
                    f"timeout_seconds ({self.timeout_s:g} s) passed: statement {query_id}"
                    " was stopped",
                    code="TIMEOUT",
                ) from exc
            raise
        if result.bytes_scanned is not None:
            self.scanned.append(result.bytes_scanned)
        if len(result.rows) != 1:
            raise EngineError(f"profile statement {query_id} returned {len(result.rows)} rows")
        return result.rows[0]

    def cost_usd(self, price_per_tb_usd: float) -> float:
        return sum(billed_bytes("SUCCEEDED", "DML", b) for b in self.scanned) * (
            price_per_tb_usd / TB
        )


def _read(statement: Statement, row: tuple[Any, ...], table: dict, columns: list[dict]) -> None:
    for (index, reader), value in zip(statement.readers, row, strict=True):
        reader(value, table if index is None else columns[index])


def _ranges(plan: ProfilePlan, columns: list[dict[str, Any]]) -> dict[int, tuple[float, float]]:
    """(min, max) of each numeric column from the default scan: the histograms' bounds."""
    return {
        i: (float(values["min"]), float(values["max"]))
        for i, (leaf, values) in enumerate(zip(plan.leaves, columns, strict=True))
        if leaf.kind is Kind.NUMBER
        and values.get("min") is not None
        and values.get("max") is not None
    }


def _column_profile(leaf: Leaf, values: dict[str, Any], row_count: int | None) -> ColumnProfile:
    converted: dict[str, Any] = {}
    for name, value in values.items():
        value = plain(value)
        if value is not None and name in _INTEGER_METRICS:
            value = int(value)
        elif isinstance(value, int | float) and name not in ("min", "max"):
            value = float(value)
        converted[name] = value
    return derive(ColumnProfile(leaf.name, leaf.data_type, **converted), row_count)


def profile_table(
    engine: Engine,
    table: Table,
    options: ProfilerOptions,
    *,
    now: datetime,
    work_group: str | None = None,
    estimated_bytes: int | None = None,
    size_bytes: int | None = None,
    price_per_tb_usd: float = DEFAULT_PRICE_PER_TB_USD,
    plan: ProfilePlan | None = None,
) -> TableProfile:
    """Profile one table: the default-metrics SELECT (one, unless the table is so wide the
    statement would pass Athena's query-size limit), then at most one opt-in statement.

    ``now`` is the time the profile is stamped with and the time TIME-UNIT partition
    intervals count back from. ``estimated_bytes`` (the cost guard's estimate) and
    ``size_bytes`` (the table's size where the source states it) are recorded as given;
    ``plan`` is ``plan_profile``'s, when the caller made it already. Never raises for a
    table's own trouble (config that does not fit it, SQL errors, the ``timeout_seconds``
    budget passing: its statement is stopped with the engine's cancel): the returned
    profile's ``error`` says what went wrong, with what was sent and the metrics read until
    then.
    """
    profile = TableProfile(
        table_fqn=table.fqn,
        profiled_at=now,
        estimated_bytes=estimated_bytes,
        size_bytes=size_bytes,
        last_modified=table.updated_at,
    )
    try:
        plan = plan or plan_profile(table, options, now=now)
    except (ProfileConfigError, ValueError) as exc:
        return profile.with_error(f"{type(exc).__name__}: {exc}")
    profile = replace(
        profile,
        sample_type=plan.source.sample_type,
        sample_value=plan.source.sample_value,
        partition_predicate=plan.source.partition_predicate,
    )
    sent = _Sent(
        engine,
        table,
        work_group,
        time.monotonic() + options.timeout_seconds,
        options.timeout_seconds,
    )
    table_values: dict[str, Any] = {}
    column_values: list[dict[str, Any]] = [{} for _ in plan.leaves]
    error = None
    try:
        for statement in plan.statements:
            _read(statement, sent.row(statement.sql), table_values, column_values)
        if plan.opt_in is not None:
            extra = opt_in_statement(
                plan.leaves,
                plan.source,
                plan.opt_in,
                _ranges(plan, column_values),
                columnar=(table.storage_format or "").lower() in COLUMNAR_FORMATS,
            )
            if extra is not None:
                _read(extra, sent.row(extra.sql), table_values, column_values)
    except EngineError as exc:
        error = f"{exc.code or 'FAILED'}: {exc}"
    row_count = table_values.get("row_count")
    table_metrics = options.compute_table_metrics
    return replace(
        profile,
        row_count=int(row_count) if table_metrics and row_count is not None else None,
        column_count=len(table.columns) if table_metrics else None,
        column_names=tuple(c.name for c in table.columns) if table_metrics else (),
        statements=tuple(sent.sql),
        query_ids=tuple(sent.query_ids),
        bytes_scanned=sum(sent.scanned) if sent.scanned else None,
        cost_usd=sent.cost_usd(price_per_tb_usd) if sent.scanned else None,
        error=error,
        # what was read before a failure is kept: Athena billed it (an opt-in statement or a
        # later part of a split scan failing leaves the default metrics read so far)
        columns=tuple(
            _column_profile(leaf, values, row_count)
            for leaf, values in zip(plan.leaves, column_values, strict=True)
            if values
        ),
    )


def skipped_profile(
    table: Table,
    *,
    now: datetime,
    reason: str,
    estimated_bytes: int | None = None,
    size_bytes: int | None = None,
    plan: ProfilePlan | None = None,
) -> TableProfile:
    """The record of a table the cost guard did not scan: no statements, ``error`` = why."""
    return TableProfile(
        table_fqn=table.fqn,
        profiled_at=now,
        size_bytes=size_bytes,
        last_modified=table.updated_at,
        sample_type=plan.source.sample_type if plan else None,
        sample_value=plan.source.sample_value if plan else None,
        partition_predicate=plan.source.partition_predicate if plan else None,
        estimated_bytes=estimated_bytes,
        error=reason,
    )


def profile_tables(
    engine: Engine,
    tables: Sequence[Table],
    options: ProfilerOptions,
    *,
    now: datetime,
    work_group: str | None = None,
    estimates: Mapping[str, int | None] | None = None,
    price_per_tb_usd: float = DEFAULT_PRICE_PER_TB_USD,
    on_profile: Callable[[TableProfile], None] | None = None,
) -> list[TableProfile]:
    """Profile ``tables`` (already selected: see ``ProfilerOptions.select_tables``) on
    ``options.thread_count`` threads; one profile per table, in the order given.
    ``estimates`` maps a table's fqn to the cost guard's byte estimate; ``on_profile`` is
    called (from the worker thread) as each profile completes, e.g. to store it at once."""
    estimates = estimates or {}

    def one(table: Table) -> TableProfile:
        try:
            profile = profile_table(
                engine,
                table,
                options,
                now=now,
                work_group=work_group,
                estimated_bytes=estimates.get(table.fqn),
                price_per_tb_usd=price_per_tb_usd,
            )
        except Exception as exc:  # a bug for one table must not lose the others' profiles
            profile = TableProfile(table.fqn, now, error=f"{type(exc).__name__}: {exc}")
        if on_profile is not None:
            on_profile(profile)
        return profile

    with ThreadPoolExecutor(options.thread_count, thread_name_prefix="profiler") as pool:
        return list(pool.map(one, tables))
