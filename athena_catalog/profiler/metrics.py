"""The metric set (OpenMetadata's default profile) and the records a profile fills.

Which metrics a column gets follows from its Athena type (:func:`kind_of`): numbers get the
full set, strings counts and lengths, dates and timestamps counts and min/max, booleans counts,
arrays and maps counts and cardinality stats, and a struct is profiled leaf by leaf
(``shipping.method``). The metrics computed from others (``null_count``, proportions,
``inter_quartile_range``, ``non_parametric_skew``) are derived here, not in SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from athena_catalog.engines.records import Column


class Kind(StrEnum):
    NUMBER = "number"
    STRING = "string"
    TEMPORAL = "temporal"  # date, timestamp
    BOOLEAN = "boolean"
    COLLECTION = "collection"  # array, map: counts and cardinality
    OTHER = "other"  # binary and what Athena cannot aggregate: counts only


_NUMBER_PREFIXES = ("tinyint", "smallint", "int", "bigint", "float", "double", "real", "decimal")
_STRING_PREFIXES = ("string", "varchar", "char")

# Every metric a column profile holds, in the store's column order.
COLUMN_METRICS = (
    "values_count",
    "null_count",
    "null_proportion",
    "distinct_count",
    "distinct_proportion",
    "unique_count",
    "duplicate_count",
    "min",
    "max",
    "mean",
    "sum",
    "stddev",
    "median",
    "first_quartile",
    "third_quartile",
    "inter_quartile_range",
    "non_parametric_skew",
    "min_length",
    "max_length",
    "histogram",
)
TABLE_METRICS = ("row_count", "column_count", "column_names")


def kind_of(data_type: str) -> Kind:
    t = data_type.strip().lower()
    if t.startswith(("array", "map")):
        return Kind.COLLECTION
    if t.startswith(_NUMBER_PREFIXES):
        return Kind.NUMBER
    if t.startswith(_STRING_PREFIXES):
        return Kind.STRING
    if t.startswith(("date", "timestamp")):
        return Kind.TEMPORAL
    if t.startswith("boolean"):
        return Kind.BOOLEAN
    return Kind.OTHER


@dataclass(frozen=True)
class Leaf:
    """One profiled column: a top-level column or a struct leaf, by its path of field names."""

    path: tuple[str, ...]
    data_type: str
    is_partition_key: bool = False

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def kind(self) -> Kind:
        return kind_of(self.data_type)


def leaves(columns: tuple[Column, ...] | list[Column]) -> list[Leaf]:
    """Every column, structs expanded into their leaves (structs inside arrays stay whole)."""
    found: list[Leaf] = []
    for column in columns:
        found += _expand((column.name,), column.data_type, column.is_partition_key)
    return found


def _expand(path: tuple[str, ...], data_type: str, partition_key: bool) -> list[Leaf]:
    fields = struct_fields(data_type)
    if fields is None:
        return [Leaf(path, data_type, partition_key)]
    return [leaf for name, t in fields for leaf in _expand((*path, name), t, partition_key)]


def struct_fields(data_type: str) -> list[tuple[str, str]] | None:
    """``[(name, type)]`` of a ``struct<a:int,b:array<string>>`` type, None for a non-struct.
    Field names are as Glue writes them: unquoted, so they may hold spaces or dashes."""
    t = data_type.strip()
    if not t.lower().startswith("struct<") or not t.endswith(">"):
        return None
    fields = []
    for part in _split_top_level(t[len("struct<") : -1]):
        name, sep, field_type = part.partition(":")
        if not sep:
            raise ValueError(f"struct field {part!r} has no type in {data_type!r}")
        fields.append((name.strip().strip("`"), field_type.strip()))
    return fields


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


@dataclass(frozen=True)
class ColumnProfile:
    """One column's metrics; None where the column's kind has no such metric.

    For arrays and maps ``min_length`` / ``max_length`` / ``mean`` are over ``cardinality``.
    ``histogram`` is ``[{"lower", "upper", "count"}]``, the last bin closed.
    """

    column_name: str
    data_type: str
    values_count: int | None = None
    null_count: int | None = None
    null_proportion: float | None = None
    distinct_count: int | None = None
    distinct_proportion: float | None = None
    unique_count: int | None = None
    duplicate_count: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    sum: float | None = None
    stddev: float | None = None
    median: float | None = None
    first_quartile: float | None = None
    third_quartile: float | None = None
    inter_quartile_range: float | None = None
    non_parametric_skew: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    histogram: list[dict[str, Any]] | None = None

    def metrics(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMN_METRICS}


@dataclass(frozen=True)
class TableProfile:
    """One table's profile, failed or skipped ones included (``error`` says why).

    ``statements`` are the SQL texts sent, ``query_ids`` their engine ids, in order;
    ``bytes_scanned`` sums what the engine reported (Athena's DataScannedInBytes).
    """

    table_fqn: str
    profiled_at: datetime
    row_count: int | None = None
    column_count: int | None = None
    column_names: tuple[str, ...] = ()
    size_bytes: int | None = None
    last_modified: datetime | None = None
    sample_type: str | None = None
    sample_value: float | None = None
    partition_predicate: str | None = None
    statements: tuple[str, ...] = ()
    query_ids: tuple[str, ...] = ()
    estimated_bytes: int | None = None
    bytes_scanned: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    columns: tuple[ColumnProfile, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.column_name == name)

    def with_error(self, error: str) -> TableProfile:
        return replace(self, error=error)


def plain(value: Any) -> Any:
    """A metric value as JSON holds it: Decimal to float, dates to ISO text, NaN to None."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _ratio(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def derive(profile: ColumnProfile, row_count: int | None) -> ColumnProfile:
    """Fill the metrics computed from others, as OpenMetadata defines them."""
    nulls = (
        None
        if row_count is None or profile.values_count is None
        else (row_count - profile.values_count)
    )
    iqr = None
    if profile.first_quartile is not None and profile.third_quartile is not None:
        iqr = profile.third_quartile - profile.first_quartile
    skew = None
    if profile.mean is not None and profile.median is not None and profile.stddev:
        skew = (profile.mean - profile.median) / profile.stddev
    return replace(
        profile,
        null_count=nulls,
        null_proportion=_ratio(nulls, row_count),
        distinct_proportion=_ratio(profile.distinct_count, profile.values_count),
        inter_quartile_range=iqr,
        non_parametric_skew=skew,
    )
