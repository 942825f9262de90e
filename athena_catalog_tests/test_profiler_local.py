"""The profiler end to end on the embedded engine over the demo lakehouse: every metric
checked against independent DuckDB queries of the same files (exact metrics exactly,
approximate ones within their documented error), statements counted in the engine's own
history, sampling, partition predicates, the time budget, and the store on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from athena_catalog.demo import build_demo
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import Table
from athena_catalog.markers import MARKER
from athena_catalog.profiler.metrics import Kind, TableProfile, leaves
from athena_catalog.profiler.options import parse_options
from athena_catalog.profiler.run import profile_table, profile_tables
from athena_catalog.profiler.sql import MAX_QUERY_BYTES
from athena_catalog.store import CatalogStore
from athena_catalog.store.profiles import (
    last_profiled_at,
    latest_profiles,
    profile_history,
    write_profiles,
)
from athena_catalog_tests.demo_fixtures import demo_duckdb, demo_engine

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
NOW = ANCHOR + timedelta(hours=3)
PROFILED = [
    ("raw", "orders"),  # struct leaves, an array of structs, decimals, a partition key
    ("raw", "customers"),  # nested struct (address.geo.lat), map, array, NULL-heavy email
    ("raw", "web_events"),  # NULL user ids, two partition keys, a map
    ("sandbox", "survey_responses"),  # Iceberg, a map
    ("Odd-Names", "select"),  # reserved words, spaces
    ("Odd-Names", "Mixed Case Table"),  # unicode, a struct with spaced / reserved field names
    ("Odd-Names", "café_ventes"),  # unicode names, € sign
    ("Odd-Names", "order-lines"),  # dashes, skewed ints
]
APPROX_DISTINCT_ERROR = 0.023 * 3  # Athena's approx_distinct: 2.3% standard error; 3 sigma
RANK_ERROR = 0.01  # approx_percentile: rank error of Athena's default accuracy


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("profiler-demo")
    build_demo(home, days=1, anchor=ANCHOR)
    return home


@pytest.fixture(scope="module")
def engine(home: Path) -> Iterator[LocalEngine]:
    yield from demo_engine(home)


@pytest.fixture(scope="module")
def duck(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    yield from demo_duckdb(home)


def table_of(engine: LocalEngine, database: str, name: str) -> Table:
    (table,) = [t for t in engine.list_tables("AwsDataCatalog", database) if t.name == name]
    return table


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source(database: str, name: str) -> str:
    return f"awsdatacatalog.{q(database)}.{q(name)}"


def history_of(engine: LocalEngine, profile: TableProfile) -> list[Any]:
    ids = set(profile.query_ids)
    return [e for e in engine.query_history(NOW - timedelta(days=400)) if e.query_id in ids]


@pytest.fixture(scope="module")
def profiles(engine: LocalEngine) -> dict[str, TableProfile]:
    tables = [table_of(engine, db, name) for db, name in PROFILED]
    done = profile_tables(engine, tables, parse_options({"thread_count": 3}), now=NOW)
    return {p.table_fqn: p for p in done}


def _reference(
    duck: duckdb.DuckDBPyConnection,
    database: str,
    name: str,
    path: tuple[str, ...],
    kind: Kind,
    data_type: str,
) -> dict[str, Any]:
    """Exact metrics of one column, written in DuckDB's own SQL."""
    col = "src." + ".".join(q(p) for p in path)
    aggregates = {"rows": "count(*)", "values": f"count({col})"}
    if kind in (Kind.NUMBER, Kind.STRING, Kind.TEMPORAL, Kind.BOOLEAN):
        aggregates["distinct"] = f"count(DISTINCT {col})"
    if kind in (Kind.NUMBER, Kind.STRING, Kind.TEMPORAL):
        aggregates |= {"min": f"min({col})", "max": f"max({col})"}
    if kind is Kind.NUMBER:
        d = f"CAST({col} AS DOUBLE)"
        aggregates |= {"mean": f"avg({d})", "sum": f"sum({d})", "stddev": f"stddev_pop({d})"}
    if kind is Kind.STRING:
        aggregates |= {"min_length": f"min(length({col}))", "max_length": f"max(length({col}))"}
    if kind is Kind.COLLECTION:
        size = f"len({col})" if data_type.startswith("array") else f"cardinality({col})"
        aggregates |= {
            "min_length": f"min({size})",
            "max_length": f"max({size})",
            "mean": f"avg({size})",
        }
    sql = ", ".join(f"{v} AS {k}" for k, v in aggregates.items())
    row = duck.execute(f"SELECT {sql} FROM {source(database, name)} AS src").fetchone()
    assert row is not None
    return dict(zip(aggregates, row, strict=True))


def _rank(
    duck: duckdb.DuckDBPyConnection, database: str, name: str, path: tuple[str, ...], value: float
) -> tuple[float, float]:
    """The share of values below and at or below ``value``."""
    col = "CAST(src." + ".".join(q(p) for p in path) + " AS DOUBLE)"
    row = duck.execute(
        f"SELECT count_if({col} < ?) / count({col}), count_if({col} <= ?) / count({col})"
        f" FROM {source(database, name)} AS src",
        [value, value],
    ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def _as_json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return float(value) if hasattr(value, "as_tuple") else value


@pytest.mark.parametrize(("database", "name"), PROFILED)
def test_every_metric_matches_an_independent_duckdb_query(
    engine: LocalEngine,
    duck: duckdb.DuckDBPyConnection,
    profiles: dict[str, TableProfile],
    database: str,
    name: str,
) -> None:
    table = table_of(engine, database, name)
    profile = profiles[table.fqn]
    assert profile.error is None
    assert profile.column_count == len(table.columns)
    assert profile.column_names == tuple(c.name for c in table.columns)
    expected_leaves = leaves(table.columns)
    assert [c.column_name for c in profile.columns] == [leaf.name for leaf in expected_leaves]
    for leaf in expected_leaves:
        got = profile.column(leaf.name)
        ref = _reference(duck, database, name, leaf.path, leaf.kind, leaf.data_type)
        where = f"{table.fqn} {leaf.name}"
        assert profile.row_count == ref["rows"], where
        assert got.values_count == ref["values"], where
        assert got.null_count == ref["rows"] - ref["values"], where
        assert got.null_proportion == pytest.approx((ref["rows"] - ref["values"]) / ref["rows"])
        if "distinct" in ref:
            assert got.distinct_count == pytest.approx(
                ref["distinct"], rel=APPROX_DISTINCT_ERROR, abs=1
            ), where
            assert got.distinct_proportion == pytest.approx(got.distinct_count / ref["values"])
        else:
            assert got.distinct_count is None, where
        for metric in ("min", "max"):
            if metric in ref:
                assert got.metrics()[metric] == _as_json(ref[metric]), (where, metric)
        for metric in ("mean", "sum", "stddev"):
            if metric in ref:
                assert got.metrics()[metric] == pytest.approx(ref[metric], rel=1e-9), where
        for metric in ("min_length", "max_length"):
            if metric in ref:
                assert got.metrics()[metric] == ref[metric], (where, metric)
        if leaf.kind is Kind.NUMBER:
            for share, value in (
                (0.25, got.first_quartile),
                (0.5, got.median),
                (0.75, got.third_quartile),
            ):
                assert value is not None, where
                below, at_or_below = _rank(duck, database, name, leaf.path, value)
                assert below - RANK_ERROR <= share <= at_or_below + RANK_ERROR, (where, share)
            assert got.inter_quartile_range == pytest.approx(
                got.third_quartile - got.first_quartile  # type: ignore[operator]
            )
            if got.stddev:
                assert got.non_parametric_skew == pytest.approx(
                    (got.mean - got.median) / got.stddev  # type: ignore[operator]
                )
        else:
            assert got.median is None and got.non_parametric_skew is None, where


def test_one_marked_select_per_table_in_the_engines_history(
    engine: LocalEngine, profiles: dict[str, TableProfile]
) -> None:
    for profile in profiles.values():
        (ran,) = history_of(engine, profile)
        assert ran.state == "SUCCEEDED"
        assert ran.query.startswith(MARKER)
        assert ran.query.removeprefix(MARKER).strip() == profile.statements[0]
        assert ran.query.lstrip(MARKER + " ").startswith("SELECT ")
        assert profile.bytes_scanned == ran.data_scanned_bytes > 0
        assert profile.cost_usd is not None and profile.cost_usd > 0


def test_skewed_and_null_heavy_columns(profiles: dict[str, TableProfile]) -> None:
    orders = profiles["awsdatacatalog.raw.orders"]
    skewed = orders.column("customer_id")  # the demo's hash piles orders on low ids
    assert skewed.non_parametric_skew is not None and skewed.non_parametric_skew > 0.2
    assert orders.column("shipping.cost").null_count > 0
    events = profiles["awsdatacatalog.raw.web_events"]
    assert events.column("user_id").null_proportion > 0.05
    customers = profiles["awsdatacatalog.raw.customers"]
    assert customers.column("address.geo.lat").values_count == customers.row_count
    assert customers.column("attributes").max_length == 2  # map cardinality
    mixed = profiles["awsdatacatalog.odd-names.mixed case table"]
    assert mixed.column("Nested-Field.Inner Key").distinct_count == 5


def test_opt_in_metrics_cost_one_more_statement_and_are_exact(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    options = parse_options(
        {
            "compute_unique_count": True,
            "compute_exact_distinct_count": True,
            "compute_histogram": True,
            "histogram_bins": 5,
        }
    )
    # Parquet read whole: one grouped subquery per column, cross joined; a profile query of
    # the same rows, or a CSV table: one scan grouped by GROUPING SETS. Same numbers.
    for database, name, column, shape in (
        ("Odd-Names", "order-lines", "order", "CROSS JOIN"),
        ("raw", "orders", "amount", "CROSS JOIN"),
        ("raw", "orders", "status", "CROSS JOIN"),
        ("raw", "orders", "shipping.method", "CROSS JOIN"),
        ("raw", "orders", "amount", "GROUPING SETS"),
        ("raw", "orders", "shipping.method", "GROUPING SETS"),
        ("raw", "products", "list_price", "GROUPING SETS"),
    ):
        table = table_of(engine, database, name)
        query = {"fully_qualified_name": table.fqn, "profile_query": f"SELECT * FROM {name}"}
        with_query = shape == "GROUPING SETS" and table.storage_format == "parquet"
        chosen = parse_options(
            options.model_dump() | {"table_config": [query] if with_query else []}
        )
        profile = profile_table(engine, table, chosen, now=NOW)
        assert profile.error is None and len(profile.statements) == 2
        assert shape in profile.statements[1]
        assert len(history_of(engine, profile)) == 2
        got = profile.column(column)
        path = ".".join(q(part) for part in column.split("."))
        row = duck.execute(
            f"SELECT count(DISTINCT k), count_if(n = 1), sum(n) - count(*) FROM"
            f" (SELECT {path} AS k, count(*) AS n FROM {source(database, name)}"
            f" WHERE {path} IS NOT NULL GROUP BY 1)"
        ).fetchone()
        assert row is not None
        assert (got.distinct_count, got.unique_count, got.duplicate_count) == tuple(row)
        if column in ("status", "shipping.method"):
            assert got.histogram is None
            continue
        assert got.histogram is not None and len(got.histogram) == 5
        assert sum(b["count"] for b in got.histogram) == got.values_count
        for b in got.histogram:
            upper = "<=" if b is got.histogram[-1] else "<"
            counted = duck.execute(
                f"SELECT count(*) FROM {source(database, name)} WHERE CAST({path} AS DOUBLE)"
                f" >= ? AND CAST({path} AS DOUBLE) {upper} ?",
                [b["lower"], b["upper"]],
            ).fetchone()
            assert counted is not None and b["count"] == counted[0]


def _count(duck: duckdb.DuckDBPyConnection, database: str, name: str, where: str) -> int:
    row = duck.execute(f"SELECT count(*) FROM {source(database, name)} WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


def test_partition_configs_become_predicates(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    cases = [
        (
            "raw",
            "orders",
            {
                "partition_column_name": "dt",
                "partition_interval_type": "TIME-UNIT",
                "partition_interval": 45,
                "partition_interval_unit": "DAY",
            },
            "\"dt\" >= '2026-04-17'",
            "dt >= '2026-04-17'",
        ),
        (
            "Odd-Names",
            "Mixed Case Table",
            {
                "partition_column_name": "Region",
                "partition_interval_type": "COLUMN-VALUE",
                "partition_values": ["EMEA", "APAC"],
            },
            "\"Region\" IN ('EMEA', 'APAC')",
            "\"Region\" IN ('EMEA', 'APAC')",
        ),
        (
            "Odd-Names",
            "select",
            {
                "partition_column_name": "order",
                "partition_interval_type": "INTEGER-RANGE",
                "partition_integer_range_start": 10,
                "partition_integer_range_end": 19,
            },
            '"order" BETWEEN 10 AND 19',
            '"order" BETWEEN 10 AND 19',
        ),
    ]
    for database, name, config, predicate, duck_where in cases:
        table = table_of(engine, database, name)
        options = parse_options(
            {
                "table_config": [
                    {
                        "fully_qualified_name": table.fqn,
                        "partition_config": {"enable_partitioning": True, **config},
                    }
                ]
            }
        )
        profile = profile_table(engine, table, options, now=NOW)
        assert profile.error is None
        assert profile.partition_predicate == predicate
        assert f'WHERE "t".{predicate}' in profile.statements[0]
        assert profile.row_count == _count(duck, database, name, duck_where) > 0


def test_samples(engine: LocalEngine, duck: duckdb.DuckDBPyConnection) -> None:
    table = table_of(engine, "raw", "orders")
    total = _count(duck, "raw", "orders", "true")

    def sampled(**config: Any) -> TableProfile:
        options = parse_options(
            {"table_config": [{"fully_qualified_name": "raw.orders", **config}]}
        )
        profile = profile_table(engine, table, options, now=NOW)
        assert profile.error is None
        return profile

    bernoulli = sampled(profile_sample=20)
    assert "TABLESAMPLE BERNOULLI (20)" in bernoulli.statements[0]
    assert (bernoulli.sample_type, bernoulli.sample_value) == ("PERCENTAGE", 20.0)
    sigma = (total * 0.2 * 0.8) ** 0.5
    assert abs(bernoulli.row_count - total * 0.2) < 6 * sigma  # type: ignore[operator]
    system = sampled(profile_sample=50, sampling_method_type="SYSTEM")
    assert "TABLESAMPLE SYSTEM (50)" in system.statements[0]
    assert 0 < system.row_count < total  # type: ignore[operator]
    rows = sampled(profile_sample=250, profile_sample_type="ROWS")
    assert 'LIMIT 250) AS "t"' in rows.statements[0]
    assert rows.row_count == 250 and rows.sample_type == "ROWS"
    both = sampled(
        profile_sample=300,
        profile_sample_type="ROWS",
        partition_config={
            "enable_partitioning": True,
            "partition_column_name": "dt",
            "partition_interval_type": "COLUMN-VALUE",
            "partition_values": ["2026-04-30"],
        },
    )
    assert 'WHERE "t"."dt" IN (\'2026-04-30\') LIMIT 300' in both.statements[0]
    assert both.column("dt").distinct_count == 1


def test_profile_query_and_column_config(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection
) -> None:
    table = table_of(engine, "raw", "customers")
    options = parse_options(
        {
            "table_config": [
                {
                    "fully_qualified_name": "raw.customers",
                    "profile_query": "SELECT customer_id, email, address FROM raw.customers"
                    " WHERE segment = 'smb'",
                    "column_config": {"exclude_columns": ["address.geo"]},
                }
            ]
        }
    )
    profile = profile_table(engine, table, options, now=NOW)
    assert profile.error is None
    assert profile.row_count == _count(duck, "raw", "customers", "segment = 'smb'")
    assert [c.column_name for c in profile.columns] == [
        "customer_id",
        "email",
        "address.street",
        "address.city",
        "address.zip",
    ]


@pytest.mark.parametrize(
    "comment", ["-- smb customers only", "/* smb customers only */", "-- a /* b */ c"]
)
def test_a_profile_query_ending_in_a_comment_is_wrapped_whole(
    engine: LocalEngine, duck: duckdb.DuckDBPyConnection, comment: str
) -> None:
    table = table_of(engine, "raw", "customers")
    query = f"SELECT customer_id, segment FROM raw.customers WHERE segment = 'smb' {comment}"
    for sample in ({}, {"profile_sample": 5, "profile_sample_type": "ROWS"}):
        options = parse_options(
            {
                "compute_unique_count": True,
                "table_config": [
                    {"fully_qualified_name": "raw.customers", "profile_query": query, **sample}
                ],
            }
        )
        profile = profile_table(engine, table, options, now=NOW)
        assert profile.error is None and len(profile.statements) == 2
        expected = 5 if sample else _count(duck, "raw", "customers", "segment = 'smb'")
        assert profile.row_count == expected
        assert profile.column("segment").unique_count == (0 if expected > 1 else 1)


def test_a_failing_table_records_its_error_and_the_others_go_on(engine: LocalEngine) -> None:
    tables = [table_of(engine, "raw", "products"), table_of(engine, "raw", "payments")]
    options = parse_options(
        {
            "table_config": [
                {
                    "fully_qualified_name": "raw.products",
                    "profile_query": "SELECT * FROM raw.no_such_table",
                },
                {
                    "fully_qualified_name": "raw.payments",
                    "partition_config": {
                        "enable_partitioning": True,
                        "partition_column_name": "nope",
                        "partition_interval_type": "COLUMN-VALUE",
                        "partition_values": ["x"],
                    },
                },
            ]
        }
    )
    seen: list[str] = []
    broken, unknown = profile_tables(
        engine, tables, options, now=NOW, on_profile=lambda p: seen.append(p.table_fqn)
    )
    assert broken.error and "FAILED" in broken.error and "no_such_table" in broken.error
    assert len(broken.statements) == 1 and broken.columns == ()
    assert unknown.error and "'nope' is not a column" in unknown.error
    assert unknown.statements == ()
    assert sorted(seen) == sorted(t.fqn for t in tables)
    fine = profile_tables(engine, tables[:1], parse_options({}), now=NOW)[0]
    assert fine.error is None


def test_timeout_stops_the_statement(engine: LocalEngine) -> None:
    table = table_of(engine, "raw", "web_events")
    options = parse_options(
        {
            "timeout_seconds": 0.5,
            "table_config": [
                {
                    "fully_qualified_name": "raw.web_events",
                    "profile_query": "SELECT a.* FROM raw.web_events a CROSS JOIN raw.web_events b",
                }
            ],
        }
    )
    profile = profile_table(engine, table, options, now=NOW)
    assert profile.error and profile.error.startswith("TIMEOUT")
    (ran,) = history_of(engine, profile)
    assert ran.state == "CANCELLED"


def test_a_table_too_wide_for_one_statement_is_split(tmp_path: Path) -> None:
    engine = LocalEngine(tmp_path, read_only=False)
    names = [f"c{i:03d}_" + "x" * 200 for i in range(400)]
    engine.execute("CREATE DATABASE wide")
    columns = ", ".join(f"`{n}` string" for n in names)
    engine.execute(f"CREATE EXTERNAL TABLE wide.t ({columns}) LOCATION 's3://w/t/'")
    values = ", ".join(f"'{i % 7}'" for i in range(400))
    engine.execute(f"INSERT INTO wide.t VALUES ({values}), ({values})")
    (table,) = engine.list_tables("AwsDataCatalog", "wide")
    profile = profile_table(engine, table, parse_options({}), now=NOW)
    engine.close()
    assert profile.error is None
    assert len(profile.statements) == 3
    assert all(len((MARKER + " " + s).encode()) <= MAX_QUERY_BYTES for s in profile.statements)
    assert [c.column_name for c in profile.columns] == names
    assert all(c.values_count == 2 and c.distinct_count == 1 for c in profile.columns)
    assert profile.row_count == 2


def test_profiles_are_a_time_series_in_the_store(
    store_url: str, profiles: dict[str, TableProfile]
) -> None:
    store = CatalogStore(store_url)
    first = list(profiles.values())
    later = [
        p.__class__(**{**p.__dict__, "profiled_at": NOW + timedelta(days=1)}) for p in first[:2]
    ]
    failed = first[2].with_error("TIMEOUT: stopped")
    failed = failed.__class__(
        **{**failed.__dict__, "profiled_at": NOW + timedelta(days=2), "columns": ()}
    )
    assert write_profiles(store, first, run_id="r1") == len(first)
    write_profiles(store, [*later, failed], run_id="r2")
    latest = latest_profiles(store)
    assert set(latest) == set(profiles)
    orders = latest[first[0].table_fqn]
    assert orders.profiled_at == NOW + timedelta(days=1)
    assert orders.columns == first[0].columns  # every metric, histogram and min/max types kept
    assert len(orders.statements) == 1 and orders.bytes_scanned == first[0].bytes_scanned
    assert latest[failed.table_fqn].error == "TIMEOUT: stopped"
    assert latest[failed.table_fqn].columns == ()
    history = profile_history(store, first[0].table_fqn)
    assert [h["run_id"] for h in history] == ["r1", "r2"]
    last = last_profiled_at(store)
    assert last[failed.table_fqn] == NOW  # the failed one is not a profile of the data
    assert last_profiled_at(store, successful=False)[failed.table_fqn] == NOW + timedelta(days=2)
    assert latest_profiles(store, [first[1].table_fqn]).keys() == {first[1].table_fqn}
    store.close()
