"""What a profile puts on its table's page: one ``AssetObservation`` per profiled table and
run, on the key the table translator gives, so the page shows the latest profile and Dagster
plots its numbers (row count, size, bytes scanned, cost) with one point per run."""

from __future__ import annotations

from typing import Any

import dagster as dg

from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.tables.observations import OBSERVED_BY
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.engines.records import Table
from athena_catalog.profiler.metrics import ColumnProfile, TableProfile
from athena_catalog.timeutil import as_utc

COLUMN_ROWS = 200  # columns shown in the markdown table; the store keeps every one
COLUMN_HEADER = [
    "column",
    "type",
    "values",
    "null %",
    "distinct",
    "min",
    "max",
    "mean",
    "median",
    "stddev",
    "length",
]


def profile_observation(
    table: Table, profile: TableProfile, translator: AthenaTableTranslator
) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=translator.get_asset_key(table),
        description=f"Profile of {profile.table_fqn} (table_profiles)",
        metadata=profile_metadata(profile),
        tags={OBSERVED_BY: "profiler"},
    )


def profile_metadata(profile: TableProfile) -> dict[str, Any]:
    """Numbers first (Dagster plots them), then the column profile as a table."""
    numbers = {
        "dagster/row_count": profile.row_count,
        "size_bytes": profile.size_bytes,
        "column_count": profile.column_count,
        "profile_bytes_scanned": profile.bytes_scanned,
        "profile_cost_usd": profile.cost_usd,
        "profile_statements": len(profile.statements),
    }
    metadata: dict[str, Any] = {k: v for k, v in numbers.items() if v is not None}
    metadata["profiled_at"] = dg.MetadataValue.timestamp(as_utc(profile.profiled_at))
    if profile.last_modified is not None:
        metadata["last_modified"] = dg.MetadataValue.timestamp(as_utc(profile.last_modified))
    if profile.sample_type:
        unit = "%" if profile.sample_type == "PERCENTAGE" else " rows"
        metadata["sample"] = f"{profile.sample_value:g}{unit}"
    if profile.partition_predicate:
        metadata["partition_predicate"] = profile.partition_predicate
    if profile.columns:
        metadata["column_profile"] = dg.MetadataValue.md(column_markdown(profile.columns))
    return metadata


def column_markdown(columns: tuple[ColumnProfile, ...]) -> str:
    rows = [_row(c) for c in columns[:COLUMN_ROWS]]
    shown = md_table(COLUMN_HEADER, rows)
    if len(columns) > COLUMN_ROWS:
        shown += f"\n\n{len(columns) - COLUMN_ROWS} more columns in the store (column_profiles)"
    return shown


def _row(c: ColumnProfile) -> list[object]:
    nulls = "-" if c.null_proportion is None else f"{c.null_proportion * 100:.1f}"
    length = "-"
    if c.min_length is not None or c.max_length is not None:
        length = f"{_num(c.min_length)}-{_num(c.max_length)}"
    return [
        f"`{c.column_name}`",
        c.data_type,
        _num(c.values_count),
        nulls,
        _num(c.distinct_count),
        _num(c.min),
        _num(c.max),
        _num(c.mean),
        _num(c.median),
        _num(c.stddev),
        length,
    ]


def _num(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e15 else f"{value:.4e}"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
