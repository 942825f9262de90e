"""The profiler's SQL, in Athena's dialect: what a profile reads (sample, partitions, profile
query) and the statements that compute every metric of every column from it.

Shape of the default statement (one per table; more only past Athena's query-size limit)::

    SELECT count(*) AS "m0", count("t"."amount") AS "m1", approx_distinct("t"."amount") AS "m2",
           min("t"."amount") AS "m3", ..., approx_percentile(CAST("t"."amount" AS double),
           ARRAY[0.25, 0.5, 0.75]) AS "m8", ...
    FROM "awsdatacatalog"."raw"."orders" AS "t" TABLESAMPLE BERNOULLI (10)
    WHERE "t"."dt" >= '2026-05-25'

The opt-in statement (exact distinct, unique and duplicate counts, histograms) is one more
statement. On a columnar table read unsampled, one grouped subquery per column, cross joined
(each reads only its column, so Athena bills one scan's worth of those columns)::

    SELECT "m0", "m1", ... FROM (SELECT count_if("k" IS NOT NULL AND "n" = 1) AS "m0", ...
          FROM (SELECT "t"."amount" AS "k", count(*) AS "n" FROM <source>
                GROUP BY "t"."amount") AS "v") AS "s0" CROSS JOIN (...) AS "s1" ...

Otherwise one scan grouping every column at once with GROUPING SETS::

    SELECT count_if("g0" = 0 AND "k0" IS NOT NULL) AS "m0", ...
    FROM (SELECT grouping("k0") AS "g0", ..., "k0", ..., count(*) AS "n"
          FROM (SELECT "t"."amount" AS "k0", ... FROM <source>) AS "v"
          GROUP BY GROUPING SETS (("k0"), ...)) AS "s"

Every identifier is double-quoted (``names.sql_name``), so names holding quotes, dots,
spaces, dashes or any unicode read back as exactly themselves.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from athena_catalog.engines.records import Table
from athena_catalog.markers import mark
from athena_catalog.names import sql_name
from athena_catalog.profiler.metrics import Kind, Leaf, kind_of
from athena_catalog.profiler.options import (
    PartitionConfig,
    PartitionIntervalType,
    PartitionIntervalUnit,
    ProfileSampleType,
    SamplingMethodType,
)

MAX_QUERY_BYTES = 262_144  # Athena's limit on a query string, in bytes
COLUMNAR_FORMATS = frozenset(("parquet", "orc", "iceberg"))  # Athena reads named columns only
ALIAS = sql_name("t")
QUARTILES = (0.25, 0.5, 0.75)


class ProfileConfigError(ValueError):
    """A table's profile settings do not fit the table (a missing partition column)."""


def ref(leaf: Leaf, alias: str = ALIAS) -> str:
    """``"t"."shipping"."method"``: the relation's alias first, so a column named like a
    table can never be read as one."""
    return f"{alias}.{sql_name(*leaf.path)}"


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- what a profile reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionFilter:
    """A partition config resolved against a table and a "now": the predicate Athena prunes
    on, and the same rule as ``keeps`` for a partition value read off an S3 prefix."""

    column: str
    data_type: str
    interval_type: PartitionIntervalType
    values: tuple[Any, ...] = ()  # COLUMN-VALUE
    low: Any = None  # TIME-UNIT: the earliest kept value; INTEGER-RANGE: inclusive bounds
    high: Any = None
    is_partition_key: bool = True  # False: a data column, so Athena reads every file

    def glue_expression(self) -> str | None:
        """The same filter in Glue GetPartitions' expression grammar (for the cost guard's
        partition listing); None when the column is no partition key."""
        if not self.is_partition_key:
            return None
        name = self.column if self.column.isidentifier() else f"`{self.column}`"
        if self.interval_type is PartitionIntervalType.COLUMN_VALUE:
            return f"{name} IN ({', '.join(string_literal(str(v)) for v in self.values)})"
        if self.interval_type is PartitionIntervalType.INTEGER_RANGE:
            return f"{name} BETWEEN {int(self.low)} AND {int(self.high)}"
        return f"{name} >= {string_literal(_text(self.low))}"

    def predicate(self, column_sql: str) -> str:
        if self.interval_type is PartitionIntervalType.COLUMN_VALUE:
            return f"{column_sql} IN ({', '.join(self._literal(v) for v in self.values)})"
        if self.interval_type is PartitionIntervalType.INTEGER_RANGE:
            target = (
                column_sql
                if kind_of(self.data_type) is Kind.NUMBER
                else (f"CAST({column_sql} AS bigint)")
            )
            return f"{target} BETWEEN {int(self.low)} AND {int(self.high)}"
        return f"{column_sql} >= {self._literal(self.low)}"

    def keeps(self, value: str) -> bool:
        """Whether a partition whose key holds ``value`` (text, as in ``dt=2026-05-01/``) is
        read; a value that does not parse is kept (a listing never proves it is not read)."""
        try:
            if self.interval_type is PartitionIntervalType.COLUMN_VALUE:
                return any(str(v) == value for v in self.values)
            if self.interval_type is PartitionIntervalType.INTEGER_RANGE:
                return int(self.low) <= int(value) <= int(self.high)
            if isinstance(self.low, str):
                return value >= self.low
            return _as_datetime(value) >= _as_datetime(_text(self.low))
        except ValueError:
            return True

    def _literal(self, value: Any) -> str:
        kind = kind_of(self.data_type)
        if kind is Kind.NUMBER and isinstance(value, int | float):
            return repr(value)
        if isinstance(value, datetime):
            return f"TIMESTAMP {string_literal(value.strftime('%Y-%m-%d %H:%M:%S'))}"
        if isinstance(value, date):
            return f"DATE {string_literal(value.isoformat())}"
        if kind is Kind.NUMBER:
            return repr(float(value))
        text = string_literal(str(value))
        if self.data_type.lower().startswith("date"):
            return f"DATE {text}"
        if self.data_type.lower().startswith("timestamp"):
            return f"TIMESTAMP {text}"
        return text


def _text(value: Any) -> str:
    """A TIME-UNIT bound as the text a partition value holds."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat() if isinstance(value, date) else str(value)


def _as_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("/", "-"))


def partition_filter(table: Table, config: PartitionConfig, now: datetime) -> PartitionFilter:
    """Resolve ``config`` on ``table`` at ``now`` (never the calendar: the caller's clock).

    TIME-UNIT keeps values from ``now`` minus the interval on: a ``date`` / ``timestamp``
    column is compared with a DATE / TIMESTAMP literal, a string key (Hive's ``dt``) with
    ISO text (``yyyy-MM-dd``, ``yyyy-MM-dd HH:00:00`` for HOUR), which orders as dates do.
    """
    name = config.partition_column_name or ""
    column = next((c for c in table.columns if c.name.lower() == name.lower()), None)
    if column is None:
        raise ProfileConfigError(
            f"partition_config.partition_column_name: {name!r} is not a column of"
            f" {table.fqn} (columns: {', '.join(c.name for c in table.columns)})"
        )
    kind = config.partition_interval_type or PartitionIntervalType.TIME_UNIT
    key = column.is_partition_key
    if kind is PartitionIntervalType.COLUMN_VALUE:
        values = tuple(config.partition_values or ())
        return PartitionFilter(column.name, column.data_type, kind, values, is_partition_key=key)
    if kind is PartitionIntervalType.INTEGER_RANGE:
        return PartitionFilter(
            column.name,
            column.data_type,
            kind,
            low=config.partition_integer_range_start,
            high=config.partition_integer_range_end,
            is_partition_key=key,
        )
    unit = config.partition_interval_unit or PartitionIntervalUnit.DAY
    start = _back(now, unit, config.partition_interval or 1)
    t = column.data_type.lower()
    low: Any
    if t.startswith("timestamp"):
        low = start
    elif t.startswith("date"):
        low = start.date()
    elif unit is PartitionIntervalUnit.HOUR:
        low = start.strftime("%Y-%m-%d %H:00:00")
    else:
        low = start.date().isoformat()
    return PartitionFilter(column.name, column.data_type, kind, low=low, is_partition_key=key)


def _back(now: datetime, unit: PartitionIntervalUnit, n: int) -> datetime:
    if unit is PartitionIntervalUnit.HOUR:
        return (now - timedelta(hours=n)).replace(minute=0, second=0, microsecond=0)
    if unit is PartitionIntervalUnit.DAY:
        return (now - timedelta(days=n)).replace(hour=0, minute=0, second=0, microsecond=0)
    months = n * (12 if unit is PartitionIntervalUnit.YEAR else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(
        year=year, month=month + 1, day=day, hour=0, minute=0, second=0, microsecond=0
    )


@dataclass(frozen=True)
class Source:
    """The FROM clause of every profile statement of a table, and what it says about it."""

    from_sql: str  # "<relation> AS "t" [TABLESAMPLE ...] [WHERE ...]"
    sample_type: str | None = None  # PERCENTAGE or ROWS when sampled
    sample_value: float | None = None
    sampling_method: str | None = None
    partition: PartitionFilter | None = None
    partition_predicate: str | None = None  # as readable text, on the bare column name
    rereadable: bool = False  # the table itself, unsampled: every read sees the same rows


def source(
    table: Table,
    *,
    now: datetime,
    profile_query: str | None = None,
    sample: float | None = None,
    sample_type: ProfileSampleType = ProfileSampleType.PERCENTAGE,
    method: SamplingMethodType = SamplingMethodType.BERNOULLI,
    partition: PartitionConfig | None = None,
) -> Source:
    """PERCENTAGE samples with ``TABLESAMPLE``; ROWS with ``LIMIT`` over a subquery, the
    partition predicate inside it so only the kept partitions are read."""
    relation = (
        f"({profile_query}\n)"  # the newline ends a trailing ``-- comment`` before the ")"
        if profile_query
        else sql_name(table.catalog.lower(), table.database, table.name)
    )
    pf = (
        partition_filter(table, partition, now)
        if partition and partition.enable_partitioning
        else None
    )
    where = f" WHERE {pf.predicate(f'{ALIAS}.{sql_name(pf.column)}')}" if pf else ""
    readable = pf.predicate(sql_name(pf.column)) if pf else None
    if sample is None or (sample_type is ProfileSampleType.PERCENTAGE and sample >= 100):
        return Source(
            f"{relation} AS {ALIAS}{where}",
            partition=pf,
            partition_predicate=readable,
            rereadable=not profile_query,
        )
    if sample_type is ProfileSampleType.ROWS:
        inner = f"SELECT * FROM {relation} AS {ALIAS}{where} LIMIT {int(sample)}"
        return Source(
            f"({inner}) AS {ALIAS}",
            ProfileSampleType.ROWS.value,
            float(int(sample)),
            None,
            pf,
            readable,
        )
    return Source(
        f"{relation} AS {ALIAS} TABLESAMPLE {method.value} ({sample:g}){where}",
        ProfileSampleType.PERCENTAGE.value,
        float(sample),
        method.value,
        pf,
        readable,
    )


def query_columns(profile_query: str) -> set[str] | None:
    """Lower-cased names a profile query's SELECT outputs; None when it selects ``*``."""
    query = sqlglot.parse_one(profile_query, read="athena")
    assert isinstance(query, exp.Query)
    names = set()
    for projection in query.selects:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            return None
        names.add(projection.alias_or_name.lower())
    return names


# -- the statements ---------------------------------------------------------------------------

# How one select item's value becomes metrics: the leaf index (None: the table) and a setter.
Reader = Callable[[Any, dict[str, Any]], None]


@dataclass
class Statement:
    """One SELECT and, per select item in order, where its value goes."""

    sql: str
    readers: list[tuple[int | None, Reader]] = field(default_factory=list)


def _set(name: str) -> Reader:
    def reader(value: Any, into: dict[str, Any]) -> None:
        into[name] = value

    return reader


def _quartiles(value: Any, into: dict[str, Any]) -> None:
    if value is not None:
        into["first_quartile"], into["median"], into["third_quartile"] = (
            None if v is None else float(v) for v in list(value)[:3]
        )


def leaf_items(leaf: Leaf) -> list[tuple[str, Reader]]:
    """The default metrics of one column as (Athena SQL, reader) pairs."""
    r = ref(leaf)
    items: list[tuple[str, Reader]] = [(f"count({r})", _set("values_count"))]
    kind = leaf.kind
    if kind in (Kind.NUMBER, Kind.STRING, Kind.TEMPORAL, Kind.BOOLEAN):
        items.append((f"approx_distinct({r})", _set("distinct_count")))
    if kind in (Kind.NUMBER, Kind.STRING, Kind.TEMPORAL):
        items += [(f"min({r})", _set("min")), (f"max({r})", _set("max"))]
    if kind is Kind.NUMBER:
        d = f"CAST({r} AS double)"
        quartiles = ", ".join(repr(q) for q in QUARTILES)
        items += [
            (f"avg({d})", _set("mean")),
            (f"sum({d})", _set("sum")),
            (f"stddev_pop({d})", _set("stddev")),
            (f"approx_percentile({d}, ARRAY[{quartiles}])", _quartiles),
        ]
    elif kind is Kind.STRING:
        items += [
            (f"min(length({r}))", _set("min_length")),
            (f"max(length({r}))", _set("max_length")),
        ]
    elif kind is Kind.COLLECTION:
        size = (
            f"cardinality({r})"
            if leaf.data_type.lower().startswith("array")
            else (f"cardinality(map_keys({r}))")
        )
        items += [
            (f"min({size})", _set("min_length")),
            (f"max({size})", _set("max_length")),
            (f"avg(CAST({size} AS double))", _set("mean")),
        ]
    return items


def default_statements(
    leaves: Sequence[Leaf], source: Source, *, max_bytes: int = MAX_QUERY_BYTES
) -> list[Statement]:
    """One SELECT of ``count(*)`` and every leaf's default metrics; split by whole leaves
    only when the marked statement would pass ``max_bytes``."""
    tail = f" FROM {source.from_sql}"
    head = 'SELECT count(*) AS "m0"'
    budget = max_bytes - len(mark("").encode()) - len(tail.encode())
    statements: list[Statement] = []
    parts: list[str] = [head]
    readers: list[tuple[int | None, Reader]] = [(None, _set("row_count"))]
    for index, leaf in enumerate(leaves):
        items = leaf_items(leaf)
        texts = _aliased(items, len(readers))
        if _length(parts + texts) > budget and len(parts) > 1:
            statements.append(Statement(", ".join(parts) + tail, readers))
            parts, readers = [head], [(None, _set("row_count"))]
            texts = _aliased(items, 1)
        if _length(parts + texts) > budget:
            raise ProfileConfigError(
                f"column {leaf.name!r}: its metrics alone pass the {max_bytes}-byte query limit"
            )
        parts += texts
        readers += [(index, reader) for _, reader in items]
    statements.append(Statement(", ".join(parts) + tail, readers))
    return statements


def _aliased(items: list[tuple[str, Reader]], first: int) -> list[str]:
    """Select items ``"m<first>"``, ``"m<first + 1>"`` ...: read back by position."""
    return [f"{sql} AS {sql_name(f'm{first + i}')}" for i, (sql, _) in enumerate(items)]


def _length(parts: list[str]) -> int:
    return len(", ".join(parts).encode())


@dataclass(frozen=True)
class OptIn:
    """Which opt-in metrics the second statement computes."""

    unique_count: bool = False
    exact_distinct: bool = False
    histogram_bins: int | None = None  # None: no histograms


def opt_in_statement(
    leaves: Sequence[Leaf],
    source: Source,
    opt_in: OptIn,
    ranges: dict[int, tuple[float, float]],
    *,
    columnar: bool = False,
    max_bytes: int = MAX_QUERY_BYTES,
) -> Statement | None:
    """The one extra statement: the exact distinct, unique and duplicate counts and
    (numeric columns, bins over ``ranges``: leaf index -> (min, max) from the default scan)
    histograms of every profiled scalar column, over its values grouped with their counts.
    None when there is nothing to compute.

    On a ``columnar`` table (Parquet, ORC, Iceberg: Athena reads only the columns a scan
    names) read unsampled, one grouped subquery per column, cross joined: each reads its
    column once, so Athena bills what one scan of those columns costs, and no column's
    aggregates run over the other columns' groups (3x faster on the embedded engine).
    Otherwise (a row format, where each subquery would re-read whole rows; a sample or
    profile query, which each subquery would draw again) one scan grouped by GROUPING SETS.
    """
    counts = opt_in.unique_count or opt_in.exact_distinct
    chosen = [
        (i, leaf)
        for i, leaf in enumerate(leaves)
        if (counts and leaf.kind in (Kind.NUMBER, Kind.STRING, Kind.TEMPORAL, Kind.BOOLEAN))
        or (opt_in.histogram_bins and leaf.kind is Kind.NUMBER and i in ranges)
    ]
    if not chosen:
        return None
    if columnar and source.rereadable:
        statement = _per_column(chosen, source, opt_in, ranges)
        if len(mark(statement.sql).encode()) <= max_bytes:
            return statement
    return _grouping_sets(chosen, source, opt_in, ranges)


def _per_column(
    chosen: list[tuple[int, Leaf]],
    source: Source,
    opt_in: OptIn,
    ranges: dict[int, tuple[float, float]],
) -> Statement:
    names: list[str] = []
    subqueries: list[str] = []
    readers: list[tuple[int | None, Reader]] = []
    key = sql_name("k")
    for n, (i, leaf) in enumerate(chosen):
        items = _column_items(i, leaf, key, None, opt_in, ranges)
        aliases = [sql_name(f"m{len(names) + j}") for j in range(len(items))]
        selects = ", ".join(f"{sql} AS {a}" for (sql, _, _), a in zip(items, aliases, strict=True))
        subqueries.append(
            f'(SELECT {selects} FROM (SELECT {ref(leaf)} AS {key}, count(*) AS "n"'
            f' FROM {source.from_sql} GROUP BY {ref(leaf)}) AS "v") AS {sql_name(f"s{n}")}'
        )
        names += aliases
        readers += [(index, reader) for _, index, reader in items]
    return Statement(f"SELECT {', '.join(names)} FROM {' CROSS JOIN '.join(subqueries)}", readers)


def _grouping_sets(
    chosen: list[tuple[int, Leaf]],
    source: Source,
    opt_in: OptIn,
    ranges: dict[int, tuple[float, float]],
) -> Statement:
    keys = [sql_name(f"k{n}") for n in range(len(chosen))]
    groups = [sql_name(f"g{n}") for n in range(len(chosen))]
    items: list[tuple[str, int, Reader]] = []
    for n, (i, leaf) in enumerate(chosen):
        items += _column_items(i, leaf, keys[n], groups[n], opt_in, ranges)
    selects = ", ".join(f"{sql} AS {sql_name(f'm{m}')}" for m, (sql, _, _) in enumerate(items))
    inner = ", ".join(f"{ref(leaf)} AS {keys[n]}" for n, (_, leaf) in enumerate(chosen))
    grouping = ", ".join(f"grouping({k}) AS {g}" for k, g in zip(keys, groups, strict=True))
    sets = ", ".join(f"({k})" for k in keys)
    sql = (
        f'SELECT {selects} FROM (SELECT {grouping}, {", ".join(keys)}, count(*) AS "n"'
        f' FROM (SELECT {inner} FROM {source.from_sql}) AS "v"'
        f' GROUP BY GROUPING SETS ({sets})) AS "s"'
    )
    return Statement(sql, [(i, reader) for _, i, reader in items])


def _column_items(
    index: int,
    leaf: Leaf,
    key: str,
    group: str | None,
    opt_in: OptIn,
    ranges: dict[int, tuple[float, float]],
) -> list[tuple[str, int, Reader]]:
    """One column's opt-in aggregates over rows of (``key``: a value, ``"n"``: its count);
    with ``group``, only the rows of the column's grouping set (``grouping(key) = 0``)."""
    mine = f"{group} = 0 AND " if group else ""
    present = f"{mine}{key} IS NOT NULL"
    items: list[tuple[str, int, Reader]] = []
    if opt_in.exact_distinct:
        items.append((f"count_if({present})", index, _set("distinct_count")))
    if opt_in.unique_count:
        items.append((f'count_if({present} AND "n" = 1)', index, _set("unique_count")))
        items.append((f'sum(IF({present}, "n" - 1, 0))', index, _set("duplicate_count")))
    if opt_in.histogram_bins and leaf.kind is Kind.NUMBER and index in ranges:
        items += _histogram_items(key, mine, index, ranges[index], opt_in.histogram_bins)
    return items


def _histogram_items(
    key: str, mine: str, index: int, bounds: tuple[float, float], bins: int
) -> list[tuple[str, int, Reader]]:
    """``bins`` equal-width bins from min to max, the last one closed; one aggregate each,
    appended in order to the column's ``histogram``. ``mine``: the condition prefix that
    keeps the column's own rows."""
    low, high = bounds
    bins = 1 if high <= low else bins
    width = (high - low) / bins
    value = f"CAST({key} AS double)"
    items = []
    for j in range(bins):
        lo, hi = low + j * width, high if j == bins - 1 else low + (j + 1) * width
        upper = "<=" if j == bins - 1 else "<"
        condition = f"{mine}{value} >= {_double(lo)} AND {value} {upper} {_double(hi)}"
        items.append((f'sum(IF({condition}, "n", 0))', index, _bin(lo, hi)))
    return items


def _bin(lower: float, upper: float) -> Reader:
    def reader(value: Any, into: dict[str, Any]) -> None:
        into.setdefault("histogram", []).append(
            {"lower": lower, "upper": upper, "count": int(value or 0)}
        )

    return reader


def _double(value: float) -> str:
    """A double literal Athena reads as a double (``1.5E0``), never a decimal."""
    return f"{value!r}E0" if "e" not in repr(value) else repr(value).replace("e", "E")
