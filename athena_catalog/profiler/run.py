"""Profiling tables through an engine: one scan per table, the opt-in statement, the table's
time budget, and errors kept per table so one bad table never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from athena_catalog.engines.contract import Engine
from athena_catalog.engines.records import Table
from athena_catalog.profiler.metrics import TableProfile
from athena_catalog.profiler.options import ProfilerOptions

DEFAULT_PRICE_PER_TB_USD = 5.0  # Athena's price per TB scanned (usage's UsageOptions default)


def profile_table(
    engine: Engine,
    table: Table,
    options: ProfilerOptions,
    *,
    now: datetime,
    work_group: str | None = None,
    estimated_bytes: int | None = None,
    price_per_tb_usd: float = DEFAULT_PRICE_PER_TB_USD,
) -> TableProfile:
    """Profile one table: the default-metrics SELECT (one, unless the table is so wide the
    statement would pass Athena's query-size limit), then at most one opt-in statement.

    ``now`` is the time the profile is stamped with and the time TIME-UNIT partition
    intervals count back from. ``estimated_bytes`` is the cost guard's estimate, recorded
    as given. Never raises for a table's own trouble (bad config for it, SQL errors, the
    ``timeout_seconds`` budget passing: its statement is stopped with ``engine.cancel``):
    the returned profile's ``error`` says what went wrong.
    """
    raise NotImplementedError


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
    raise NotImplementedError
