"""The cost guard: what a profile would scan, estimated before any statement is sent, and the
decision to skip a table whose scan would pass ``max_bytes_per_table``.

Athena bills the bytes it reads. Only two things make it read less: a predicate on partition
keys (the partitions it selects are the only ones read) and a sample that drops whole splits
(``TABLESAMPLE SYSTEM``) or stops early (``ROWS``: a ``LIMIT``). A ``BERNOULLI`` sample keeps
rows at random out of every file, so it reads everything. The estimate follows those rules
over what the engine can tell without a query (``Engine.scan_estimates``: Glue's size
parameters, an S3 listing, or the embedded engine's estimate).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from athena_catalog.engines.contract import Engine
from athena_catalog.engines.records import EngineError, Table
from athena_catalog.profiler.options import (
    GIB,
    PartitionConfig,
    ProfilerOptions,
    ProfileSampleType,
    SamplingMethodType,
    TableConfig,
)
from athena_catalog.profiler.sql import ProfileConfigError, partition_filter


@dataclass(frozen=True)
class CostEstimate:
    """What one table's profile would read, and whether the guard lets it run.

    ``table_bytes`` is the whole table, ``estimated_bytes`` what this profile reads after its
    partition filter and sample (None: the source cannot tell; the profile then runs only
    when a partition filter or sample bounds it, or ``profile_unknown_size`` is set).
    ``reductions`` say what brought the estimate down, ``notes`` why an option did not,
    ``skipped`` why the profile is not run (None: it runs).
    """

    table_fqn: str
    table_bytes: int | None
    estimated_bytes: int | None
    source: str | None
    max_bytes: int
    reductions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def runs(self) -> bool:
        return self.skipped is None

    def summary(self) -> str:
        """One line for the asset's metadata and the run's log."""
        size = "unknown" if self.estimated_bytes is None else bytes_text(self.estimated_bytes)
        parts = [f"{size} ({self.source or 'no estimate'})", *self.reductions, *self.notes]
        return "; ".join(parts)


def bytes_text(n: int) -> str:
    if n >= GIB:
        return f"{n / GIB:,.2f} GiB"
    return f"{n / 1024**2:,.1f} MiB" if n >= 1024**2 else f"{n:,} bytes"


def estimate(engine: Engine, table: Table, options: ProfilerOptions, now: datetime) -> CostEstimate:
    """The guard's estimate and decision for one table, under its ``table_config``.

    Never raises for the table's own trouble: a size the engine cannot give (S3 listing
    denied, a federated catalog) cannot be held to ``max_bytes_per_table``, so the table is
    skipped unless something bounds its scan anyway (``_unknown_size``).
    """
    config = options.for_table(table.fqn)
    reductions: list[str] = []
    notes: list[str] = []
    try:
        whole = engine.scan_estimates(table.catalog, table.database, table.name)
    except EngineError as exc:
        unknown = CostEstimate(table.fqn, None, None, None, options.max_bytes_per_table)
        return _unknown_size(unknown, f"size unknown ({exc})", table, options, config, now)
    size, rows, source = whole.size_bytes, whole.row_count, whole.source
    partition = config.partition_config if config else None
    if partition is not None and partition.enable_partitioning:
        expression, why_not = _glue_filter(table, partition, now)
        if expression is None:
            notes.append(f"partition_config does not prune: {why_not}")
        else:
            try:
                selected = engine.scan_estimates(
                    table.catalog, table.database, table.name, partition_filter=expression
                )
            except EngineError as exc:
                notes.append(f"partitions not estimated ({exc}): the whole table counts")
            else:
                size, rows, source = selected.size_bytes, selected.row_count, selected.source
                reductions.append(f"partition filter {expression}")
    if config is not None and config.profile_query:
        notes.append("profile_query: estimated as a scan of the whole table")
        size, source = whole.size_bytes, whole.source
        reductions.clear()
    else:
        size = _sampled(size, rows, options, config, reductions, notes)
    result = CostEstimate(
        table.fqn,
        whole.size_bytes,
        size,
        source,
        options.max_bytes_per_table,
        tuple(reductions),
        tuple(notes),
    )
    if size is None:
        return _unknown_size(result, "size unknown", table, options, config, now)
    if size > options.max_bytes_per_table:
        hint = (
            "; a partition_config on a partition key, or a SYSTEM or ROWS profile_sample in"
            " its table_config, can bring it under"
        )
        skipped = (
            f"skipped by the cost guard: the profile would scan {bytes_text(size)}, above"
            f" max_bytes_per_table {bytes_text(options.max_bytes_per_table)}"
            f"{hint if not reductions else ' even with ' + ', '.join(reductions)}"
        )
        return replace(result, skipped=skipped)
    return result


def _unknown_size(
    result: CostEstimate,
    why: str,
    table: Table,
    options: ProfilerOptions,
    config: TableConfig | None,
    now: datetime,
) -> CostEstimate:
    """A table of unknown size runs only when its scan is bounded whatever the size (a
    partition filter on a partition key, a SYSTEM or ROWS sample) or the run opts in with
    ``profile_unknown_size``: a 10 TB table must never be read in full by surprise."""
    bounds = (
        [] if config is not None and config.profile_query else _bounds(table, options, config, now)
    )
    if bounds:
        note = f"{why}: profiled, bounded by {', '.join(bounds)}"
    elif options.profile_unknown_size:
        note = f"{why}: profiled in full, as profile_unknown_size allows"
    else:
        return replace(
            result,
            notes=(*result.notes, why),
            skipped=(
                f"skipped by the cost guard: {why}, so max_bytes_per_table cannot bound its"
                " scan; a partition_config on a partition key or a SYSTEM or ROWS"
                " profile_sample in its table_config, or profile_unknown_size: true, lets it run"
            ),
        )
    return replace(result, notes=(*result.notes, note))


def _bounds(
    table: Table, options: ProfilerOptions, config: TableConfig | None, now: datetime
) -> list[str]:
    """What keeps the profile's scan to part of the table, whatever the table's size."""
    bounds = []
    partition = config.partition_config if config else None
    if partition is not None and partition.enable_partitioning:
        expression, _ = _glue_filter(table, partition, now)
        if expression is not None:
            bounds.append(f"partition filter {expression}")
    sample = (config and config.profile_sample) or options.profile_sample
    kind = (config and config.profile_sample_type) or options.profile_sample_type
    method = (config and config.sampling_method_type) or options.sampling_method_type
    if sample is not None and kind == ProfileSampleType.ROWS:
        bounds.append(f"ROWS sample of {sample:g}")
    elif sample is not None and sample < 100 and method == SamplingMethodType.SYSTEM:
        bounds.append(f"SYSTEM sample of {sample:g}%")
    return bounds


def _sampled(
    size: int | None,
    rows: int | None,
    options: ProfilerOptions,
    config: TableConfig | None,
    reductions: list[str],
    notes: list[str],
) -> int | None:
    """``size`` after the profile's sample, as Athena would read it."""
    sample = (config and config.profile_sample) or options.profile_sample
    if sample is None or size is None:
        return size
    kind = (config and config.profile_sample_type) or options.profile_sample_type
    method = (config and config.sampling_method_type) or options.sampling_method_type
    if kind == ProfileSampleType.ROWS:
        if not rows:
            notes.append(f"ROWS sample of {sample:g}: row count unknown, the whole scan counts")
            return size
        reductions.append(f"ROWS sample of {sample:g} of {rows:,} rows")
        return round(size * min(1.0, sample / rows))
    if method == SamplingMethodType.SYSTEM:
        reductions.append(f"SYSTEM sample of {sample:g}%")
        return round(size * sample / 100)
    notes.append(f"BERNOULLI sample of {sample:g}%: Athena still reads every file")
    return size


def _glue_filter(
    table: Table, config: PartitionConfig, now: datetime
) -> tuple[str | None, str | None]:
    """``(expression, None)``: the profile's partition filter (``profiler.sql``'s, the one its
    statements carry) in Glue's GetPartitions grammar; ``(None, why)`` when it selects no
    partitions, so Athena reads them all."""
    try:
        found = partition_filter(table, config, now)
    except ProfileConfigError as exc:
        return None, str(exc)
    expression = found.glue_expression()
    if expression is None:
        return None, f"{found.column!r} is not a partition key of {table.fqn}"
    return expression, None
