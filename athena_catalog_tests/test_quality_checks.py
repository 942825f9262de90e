"""Data-quality checks end to end on the embedded engine: the demo's quality.yaml through
``dagster job execute`` and through in-process runs on a real Dagster instance, every outcome
checked against an independent DuckDB query of the same data; subsetting, severity, blocking,
the results kept on both store backends, and the write-triggered sensor."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from sqlalchemy import select

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.quality.definitions import quality_definitions, read_spec
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.state import TablesState, read_tables_state
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.defs.usage.assets import query_history
from athena_catalog.engines.local import LocalEngine
from athena_catalog.markers import MARKER
from athena_catalog.quality.definitions import DEFINITIONS
from athena_catalog.quality.spec import QualitySpec, parse_spec
from athena_catalog.store import CatalogStore
from athena_catalog.store.quality import latest_results, results
from athena_catalog.store.schema import quality_results
from athena_catalog.store.table_writes import table_writes
from athena_catalog.timeutil import utc_now
from athena_catalog_tests.demo_fixtures import RUN_CONFIG, materialized_demo

REPO = Path(__file__).resolve().parents[1]
QUALITY_FILE = REPO / "quality.yaml"
DAGSTER = str(Path(sys.executable).parent / "dagster")


@dataclass(frozen=True)
class Demo:
    home: Path
    url: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("quality_demo")
    return Demo(home, materialized_demo(home))


def resources(home: Path, url: str) -> dict[str, Any]:
    return {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=url),
    }


def demo_defs(
    demo: Demo, spec_text: str | None = None, url: str | None = None
) -> tuple[dg.Definitions, QualitySpec, TablesState]:
    """The quality domain on the demo's tables: the repo's quality.yaml, or ``spec_text``."""
    state = read_tables_state(url or demo.url)
    if spec_text is None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ATHENA_CATALOG_QUALITY_FILE", str(QUALITY_FILE))
            spec = read_spec(state)
    else:
        catalog = {f: {c.name: c.data_type for c in t.columns} for f, t in state.tables.items()}
        spec = parse_spec(textwrap.dedent(spec_text), catalog, "custom.yaml")
    defs = dg.Definitions.merge(
        quality_definitions(spec, state),
        dg.Definitions(resources=resources(demo.home, url or demo.url)),
    )
    return defs, spec, state


def key_of(state: TablesState, fqn: str) -> dg.AssetKey:
    return AthenaTableTranslator().get_asset_key(state.tables[fqn])


# -- the independent answer: DuckDB over the warehouse files, no GX, no engine -----------------


@pytest.fixture
def duck(demo: Demo) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    for path in sorted((demo.home / "warehouse").glob("*.duckdb")):
        con.execute(f"ATTACH '{path}' AS \"{path.stem}\" (READ_ONLY)")
    yield con
    con.close()


ORDERS = "awsdatacatalog.raw.orders"
ODD = '"Odd-Names"'
# (table fqn, check) -> (kind, DuckDB SQL over the table as t, what passes). kind "rows": the SQL
# gives the unexpected count (element count second when the check reports it); "value": the
# observed value.
Oracle = tuple[str, str, Any]
ORACLES: dict[tuple[str, str], Oracle] = {
    (ORDERS, "order_id_unique"): (
        "rows",
        "SELECT count_if(order_id IN (SELECT order_id FROM t GROUP BY 1 HAVING count(*) > 1)),"
        " count(*) FROM t",
        None,
    ),
    (ORDERS, "customer_id_not_null"): (
        "rows",
        "SELECT count_if(customer_id IS NULL), count(*) FROM t",
        None,
    ),
    (ORDERS, "amount_in_range"): (
        "rows",
        "SELECT count_if(amount < 0 OR amount > 10000), count(*) FROM t",
        None,
    ),
    (ORDERS, "amount_min_not_negative"): ("value", "SELECT min(amount) FROM t", lambda v: v >= 0),
    (ORDERS, "customers_evenly_spread"): (
        "value",
        "SELECT avg(customer_id) FROM t",
        lambda v: 4000 <= v <= 6000,
    ),
    (ORDERS, "amount_median"): (  # approx_percentile: rank error at most 1%
        "approx",
        "SELECT quantile_disc(amount, 0.49), quantile_disc(amount, 0.51) FROM t",
        lambda v: 150 <= v <= 250,
    ),
    (ORDERS, "amount_stddev"): (
        "value",
        "SELECT stddev_samp(amount) FROM t",
        lambda v: 50 <= v <= 200,
    ),
    (ORDERS, "status_known"): (
        "rows",
        "SELECT count_if(status NOT IN ('completed', 'shipped', 'cancelled', 'returned',"
        " 'pending')), count(*) FROM t",
        None,
    ),
    (ORDERS, "no_test_currency"): (
        "rows",
        "SELECT count_if(currency IN ('XXX', 'TST')), count(*) FROM t",
        None,
    ),
    (ORDERS, "channel_lower_case"): (
        "rows",
        "SELECT count_if(NOT regexp_matches(channel, '^[a-z]+$')), count(*) FROM t",
        None,
    ),
    (ORDERS, "row_count"): ("value", "SELECT count(*) FROM t", lambda v: 100_000 <= v <= 1_000_000),
    (ORDERS, "column_count"): ("columns", "", lambda v: v == 10),
    (ORDERS, "has_order_ts"): ("exists", "order_ts", None),
    (ORDERS, "orders_last_week"): (
        "value",
        "SELECT count_if(order_ts >= current_date - INTERVAL 7 DAY) FROM t",
        lambda v: v >= 1000,
    ),
    (ORDERS, "currencies_known"): (
        "value",
        "SELECT count(*) FROM t WHERE currency NOT IN ('USD', 'EUR', 'GBP', 'JPY')",
        lambda v: v == 0,
    ),
    (ORDERS, "order_ts_present"): (
        "rows",
        "SELECT count_if(order_ts IS NULL), count(*) FROM t",
        lambda unexpected, total: unexpected <= 0.01 * total,  # mostly: 0.99
    ),
    ("awsdatacatalog.raw.payments", "no_negative_captures"): (
        "value",
        "SELECT count(*) FROM t WHERE status = 'captured' AND amount < 0",
        lambda v: v <= 0,
    ),
    ("awsdatacatalog.raw.customers", "email_unique"): (
        "rows",
        "SELECT count_if(email IN (SELECT email FROM t GROUP BY 1 HAVING count(*) > 1)),"
        " count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.raw.customers", "email_missing"): (
        "value",
        "SELECT count_if(email IS NULL OR email = '') FROM t",
        lambda v: v == 199,
    ),
    ("awsdatacatalog.raw.customers", "email_format"): (
        "rows",
        "SELECT count_if(NOT regexp_matches(email, '^user[0-9]+@example\\.com$')), count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.raw.customers", "name_length"): (
        "rows",
        "SELECT count_if(length(full_name) NOT BETWEEN 3 AND 64), count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.raw.customers", "lifetime_value_max"): (
        "value",
        "SELECT max(lifetime_value) FROM t",
        lambda v: v <= 5000,
    ),
    ("awsdatacatalog.raw.customers", "column_count"): ("columns", "", lambda v: 10 <= v <= 14),
    ("awsdatacatalog.raw.inventory_snapshots", "on_hand_not_negative"): (
        "rows",
        "SELECT count_if(on_hand < 0), count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.staging.stg_orders", "order_id_unique"): (
        "rows",
        "SELECT count_if(order_id IN (SELECT order_id FROM t GROUP BY 1 HAVING count(*) > 1)),"
        " count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.staging.stg_orders", "amount_min_not_negative"): (
        "value",
        "SELECT min(amount) FROM t",
        lambda v: v >= 0,
    ),
    ("awsdatacatalog.staging.stg_orders", "matches_raw_orders"): (
        "value",
        "SELECT count(*) FROM (SELECT order_id, amount, status FROM t) a FULL JOIN"
        " (SELECT order_id, amount, status FROM awsdatacatalog.raw.orders) b"
        " ON a.order_id = b.order_id WHERE a.order_id IS NULL OR b.order_id IS NULL"
        " OR a.amount IS DISTINCT FROM b.amount OR a.status IS DISTINCT FROM b.status",
        lambda v: v == 0,
    ),
    ("awsdatacatalog.staging.customer_dim_ice", "matches_stg_customers"): (
        "value",
        "SELECT count(*) FROM (SELECT customer_id, email, country FROM t) a FULL JOIN"
        " (SELECT customer_id, email, country FROM awsdatacatalog.staging.stg_customers) b"
        " ON a.customer_id = b.customer_id WHERE a.customer_id IS NULL OR b.customer_id IS NULL"
        " OR a.email IS DISTINCT FROM b.email OR a.country IS DISTINCT FROM b.country",
        lambda v: v == 0,
    ),
    ("awsdatacatalog.staging.customer_dim_ice", "one_row_per_customer"): (
        "value",
        "SELECT count(*) FROM t",
        lambda v: v == 9780,
    ),
    ("partner_lake.reference.country_codes", "alpha2_unique"): (
        "rows",
        "SELECT count_if(alpha2 IN (SELECT alpha2 FROM t GROUP BY 1 HAVING count(*) > 1)),"
        " count(*) FROM t",
        None,
    ),
    ("partner_lake.reference.country_codes", "columns"): (
        "column_list",
        "",
        lambda v: v == ["alpha2", "name", "region"],
    ),
    ("partner_lake.reference.country_codes", "alpha2_two_letters"): (
        "rows",
        "SELECT count_if(length(alpha2) <> 2), count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.odd-names.select", "order_unique"): (
        "rows",
        'SELECT count_if("order" IN (SELECT "order" FROM t GROUP BY 1 HAVING count(*) > 1)),'
        " count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.odd-names.select", "user_id_format"): (
        "rows",
        """SELECT count_if(NOT regexp_matches("user id", '^u-[0-9]+$')), count(*) FROM t""",
        None,
    ),
    ("awsdatacatalog.odd-names.select", "source_has_no_digits"): (
        "rows",
        """SELECT count_if(regexp_matches("from", '[0-9]')), count(*) FROM t""",
        None,
    ),
    ("awsdatacatalog.odd-names.select", "amount_eur_in_range"): (
        "rows",
        'SELECT count_if("Amount EUR" NOT BETWEEN 0 AND 1000), count(*) FROM t',
        None,
    ),
    ("awsdatacatalog.odd-names.select", "row_count"): (
        "value",
        "SELECT count(*) FROM t",
        lambda v: v == 2000,
    ),
    ("awsdatacatalog.odd-names.café_ventes", "categorie_known"): (
        "rows",
        "SELECT count_if(\"catégorie\" NOT IN ('boisson', 'pâtisserie', 'sandwich')),"
        " count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.odd-names.café_ventes", "prix_mean"): (
        "value",
        'SELECT avg("prix_€") FROM t',
        lambda v: 5 <= v <= 6,
    ),
    ("awsdatacatalog.odd-names.mixed case table", "camel_case_id_unique"): (
        "rows",
        'SELECT count_if("CamelCaseId" IN (SELECT "CamelCaseId" FROM t GROUP BY 1'
        " HAVING count(*) > 1)), count(*) FROM t",
        None,
    ),
    ("awsdatacatalog.odd-names.mixed case table", "unicode_name_format"): (
        "rows",
        """SELECT count_if(NOT regexp_matches("ünïcode_näme", '^näme [0-9]+$')), count(*) FROM t""",
        None,
    ),
    ("awsdatacatalog.odd-names.order-lines", "qty_max"): (
        "value",
        "SELECT max(qty) FROM t",
        lambda v: 1 <= v <= 5,
    ),
    ("awsdatacatalog.odd-names.order-lines", "qty_sum"): (
        "value",
        "SELECT sum(qty) FROM t",
        lambda v: 10_000 <= v <= 15_000,
    ),
    ("awsdatacatalog.odd-names.order-lines", "line_id_not_null"): (
        "rows",
        'SELECT count_if("line-id" IS NULL), count(*) FROM t',
        None,
    ),
}


def duck_table(state: TablesState, fqn: str) -> str:
    t = state.tables[fqn]
    catalog = t.catalog.lower()
    return f'"{catalog}"."{t.database}"."{t.name}"'


def expected_outcome(
    con: duckdb.DuckDBPyConnection, state: TablesState, fqn: str, check: str
) -> dict[str, Any]:
    """What the check must report, from DuckDB alone."""
    kind, sql, passes = ORACLES[(fqn, check)]
    table = duck_table(state, fqn)
    if kind in ("columns", "column_list", "exists"):
        t = state.tables[fqn]
        names = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = ?"
                " AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [t.catalog.lower(), t.database, t.name],
            ).fetchall()
        ]
        if kind == "exists":
            return {"passed": sql in names}
        value: Any = len(names) if kind == "columns" else names
        return {"passed": passes(value), "observed_value": value}
    row = con.execute(sql.replace("FROM t", f"FROM {table} t")).fetchone()
    assert row is not None
    if kind == "approx":  # the observed value is within these bounds; passed follows from it
        return {"observed_between": (float(row[0]), float(row[1])), "passes": passes}
    if kind == "value":
        value = float(row[0]) if not isinstance(row[0], int) else row[0]
        return {"passed": passes(value), "observed_value": value}
    unexpected, total = row
    passed = passes(unexpected, total) if passes else unexpected == 0
    return {"passed": passed, "unexpected_count": unexpected, "element_count": total}


def assert_observed(where: str, passed: bool, observed: Any, expected: dict[str, Any]) -> None:
    """The outcome, and for an approximate statistic its observed value within the bounds."""
    if "observed_between" in expected:
        low, high = expected["observed_between"]
        assert observed is not None and low <= float(observed) <= high, (where, observed)
        assert passed == expected["passes"](float(observed)), where
    else:
        assert passed == expected["passed"], (where, observed, expected)


def assert_matches(evaluation: dg.AssetCheckEvaluation, expected: dict[str, Any]) -> None:
    where = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    md = {k: v.value for k, v in evaluation.metadata.items()}
    assert "error" not in md, (where, md.get("error"))
    assert_observed(where, evaluation.passed, md.get("observed_value"), expected)
    for field in ("observed_value", "unexpected_count", "element_count"):
        if field not in expected:
            continue
        got, want = md.get(field), expected[field]
        if isinstance(want, float):
            assert got is not None and math.isclose(float(got), want, rel_tol=1e-9), (where, field)
        else:
            assert got == want, (where, field, got, want)
    assert md["bytes_scanned"] > 0, where
    assert md["statement_ids"], where
    if evaluation.passed:
        assert "unexpected_sample" not in md, where
    elif "unexpected_count" in expected:
        assert 0 < len(md["unexpected_sample"]) <= 20, where


def marked_statements(home: Path, since: datetime) -> list[Any]:
    engine = LocalEngine(home)
    try:
        return [q for q in engine.query_history(since) if MARKER in q.query]
    finally:
        engine.close()


def run_in_repo(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A CLI command from the repo root, as the README runs it; it must succeed."""
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def results_since(url: str, started: datetime, table: str | None = None) -> list[Any]:
    store = CatalogStore(url)
    with store.read() as conn:
        found = [r for r in results(conn, table) if r.evaluated_at >= started]
    store.close()
    return found


# -- the tests -------------------------------------------------------------------------------


def test_the_demo_file_uses_every_test_definition_and_has_an_oracle_for_each_check(
    demo: Demo,
) -> None:
    _, spec, _ = demo_defs(demo)
    assert spec.errors == ()
    cases = [(fqn, c) for fqn, cs in spec.suites.items() for c in cs]
    assert {c.test_definition for _, c in cases if not c.native} == set(DEFINITIONS)
    assert any(c.native for _, c in cases)
    assert {(fqn, c.name) for fqn, c in cases} == set(ORACLES)
    assert any(fqn.startswith("awsdatacatalog.odd-names.") for fqn, _ in cases)


def test_every_demo_check_in_process_matches_duckdb_and_is_kept(
    demo: Demo, duck: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    defs, spec, state = demo_defs(demo)
    started = utc_now()
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = defs.resolve_job_def("data_quality").execute_in_process(
            instance=instance, raise_on_error=False
        )
        # The one blocking check passes on the demo, so the run succeeds.
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        stored_events = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(key_of(state, ORDERS), "order_id_unique")
        )
        assert stored_events is not None and stored_events.event is not None
    fqn_of = {key_of(state, fqn): fqn for fqn in spec.suites}
    assert len(evaluations) == len(ORACLES)
    failed = set()
    for evaluation in evaluations:
        fqn = fqn_of[evaluation.asset_key]
        assert_matches(evaluation, expected_outcome(duck, state, fqn, evaluation.check_name))
        if not evaluation.passed:
            failed.add((fqn, evaluation.check_name))
    # The planted faults fail exactly the checks written to find them.
    assert failed == {
        (ORDERS, "order_id_unique"),
        (ORDERS, "customer_id_not_null"),
        (ORDERS, "amount_in_range"),
        (ORDERS, "amount_min_not_negative"),
        (ORDERS, "customers_evenly_spread"),
        ("awsdatacatalog.raw.payments", "no_negative_captures"),
        ("awsdatacatalog.raw.customers", "email_unique"),
        ("awsdatacatalog.raw.inventory_snapshots", "on_hand_not_negative"),
        ("awsdatacatalog.staging.stg_orders", "matches_raw_orders"),
        ("partner_lake.reference.country_codes", "alpha2_unique"),
    }
    severities = {(fqn_of[e.asset_key], e.check_name): e.severity for e in evaluations}
    assert severities[(ORDERS, "customer_id_not_null")] == dg.AssetCheckSeverity.WARN
    assert severities[(ORDERS, "order_id_unique")] == dg.AssetCheckSeverity.ERROR
    # Every statement id a check reports is a marked SELECT the engine ran.
    ran = {q.query_id: q for q in marked_statements(demo.home, started)}
    reported = {i for e in evaluations for i in e.metadata["statement_ids"].value}
    assert reported <= set(ran)
    assert all(ran[i].query.lstrip().upper().startswith(("/*", "SELECT", "WITH")) for i in reported)
    # One row per evaluation in the store, mirroring the results.
    store = CatalogStore(demo.url)
    with store.read() as conn:
        latest = latest_results(conn)
    store.close()
    for evaluation in evaluations:
        row = latest[(fqn_of[evaluation.asset_key], evaluation.check_name)]
        assert row.passed == evaluation.passed
        assert row.evaluated_at >= started
        md = evaluation.metadata
        assert row.unexpected_count == (
            md["unexpected_count"].value if "unexpected_count" in md else None
        )


def test_dagster_job_execute_runs_every_check_into_the_store(
    demo: Demo, duck: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from athena_catalog_tests.test_metadata_local import _cli_env

    env = _cli_env(demo.home, demo.url, tmp_path / "dagster_home")
    env["ATHENA_CATALOG_QUALITY_FILE"] = str(QUALITY_FILE)
    started = utc_now()
    run_in_repo(
        [DAGSTER, "job", "execute", "-m", "athena_catalog.definitions", "-j", "data_quality"], env
    )
    rows = results_since(demo.url, started)
    state = read_tables_state(demo.url)
    assert {(r.table_fqn, r.check_name) for r in rows} == set(ORACLES)
    assert len(rows) == len(ORACLES)
    for row in rows:
        expected = expected_outcome(duck, state, row.table_fqn, row.check_name)
        assert_observed(row.check_name, row.passed, row.observed_value, expected)
        assert row.error is None, row
        for field in ("unexpected_count", "element_count"):
            if field in expected:
                assert getattr(row, field) == expected[field], (row, field)
        if "observed_value" in expected and isinstance(expected["observed_value"], float):
            assert math.isclose(float(row.observed_value), expected["observed_value"], rel_tol=1e-9)
        elif "observed_value" in expected:
            assert row.observed_value == expected["observed_value"], row
        assert row.statement_ids and row.bytes_scanned
        if row.passed:
            assert row.sample is None, row
        elif "unexpected_count" in expected:
            assert row.sample, row
    # The run is in the instance the UI reads.
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    [run] = instance.get_runs(limit=1)
    assert (run.job_name, run.is_success) == ("data_quality", True)
    instance.dispose()


def test_one_selected_check_runs_one_expectation(demo: Demo, tmp_path: Path) -> None:
    defs, _, state = demo_defs(demo)
    key = key_of(state, ORDERS)
    job = defs.resolve_job_def("data_quality")
    runs = {}
    both = frozenset({"row_count", "customers_evenly_spread"})
    for selection in ({"row_count"}, {"channel_lower_case"}, both):
        started = utc_now()
        result = job.get_subset(
            asset_check_selection={dg.AssetCheckKey(key, name) for name in selection}
        ).execute_in_process(instance=dg.DagsterInstance.ephemeral())
        assert result.success
        assert {e.check_name for e in result.get_asset_check_evaluations()} == selection
        statements = marked_statements(demo.home, started)
        runs[frozenset(selection)] = statements
        rows = results_since(demo.url, started, ORDERS)
        assert {r.check_name for r in rows} == selection
    only_count = runs[frozenset({"row_count"})]
    # One aggregate expectation: its bundled SELECT (and GX's probe of the table), nothing of
    # the other 15 checks of the table.
    assert 1 <= len(only_count) <= 2, [q.query for q in only_count]
    texts = " ".join(q.query for q in only_count).lower()
    assert "regexp_like" not in texts and "customer_id" not in texts and "status" not in texts
    only_regex = " ".join(q.query for q in runs[frozenset({"channel_lower_case"})]).lower()
    assert "regexp_like" in only_regex and "status" not in only_regex
    two = " ".join(q.query for q in runs[both]).lower()
    assert "count(*)" in two and "avg(" in two and "regexp_like" not in two


BLOCKING = """\
suites:
  - entityFullyQualifiedName: awsdatacatalog."Odd-Names"."order-lines"
    testCases:
      - name: qty_small_blocking
        testDefinitionName: columnValuesToBeBetween
        columnName: qty
        blocking: true
        parameterValues: [{name: maxValue, value: 3}]
      - name: qty_small_warn_blocking
        testDefinitionName: columnValuesToBeBetween
        columnName: qty
        blocking: true
        severity: warn
        parameterValues: [{name: maxValue, value: 3}]
      - name: line_id_unique
        testDefinitionName: columnValuesToBeUnique
        columnName: line-id
"""


def test_severity_and_blocking(demo: Demo) -> None:
    defs, _, state = demo_defs(demo, BLOCKING)
    key = key_of(state, "awsdatacatalog.odd-names.order-lines")
    specs = {s.name: s for c in defs.asset_checks or [] for s in c.check_specs}  # type: ignore[union-attr]
    assert specs["qty_small_blocking"].blocking and not specs["line_id_unique"].blocking
    job = defs.resolve_job_def("data_quality")

    # A blocking check failing with ERROR severity fails the step, after every result is out.
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {n: (e.passed, e.severity) for n, e in evaluations.items()} == {
        "qty_small_blocking": (False, dg.AssetCheckSeverity.ERROR),
        "qty_small_warn_blocking": (False, dg.AssetCheckSeverity.WARN),
        "line_id_unique": (True, dg.AssetCheckSeverity.ERROR),
    }
    assert all(e.blocking for n, e in evaluations.items() if n != "line_id_unique")
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "qty_small_blocking" in str(failure.step_failure_data.error)

    # A blocking check failing with WARN severity does not.
    warn_only = job.get_subset(
        asset_check_selection={
            dg.AssetCheckKey(key, "qty_small_warn_blocking"),
            dg.AssetCheckKey(key, "line_id_unique"),
        }
    ).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert warn_only.success


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
def test_results_are_a_time_series_on_both_backends(demo: Demo, store_url: str) -> None:
    materialized = dg.materialize([metadata], resources=resources(demo.home, store_url))
    assert materialized.success
    spec = """\
        suites:
          - entityFullyQualifiedName: partner_lake.reference.country_codes
            testCases:
              - {name: alpha2_unique, testDefinitionName: columnValuesToBeUnique,
                 columnName: alpha2}
              - {name: rows, testDefinitionName: tableRowCountToEqual,
                 parameterValues: [{name: value, value: 11}]}
              - {name: bad, testDefinitionName: tableRowCountToEqual}
        """
    defs, _, _ = demo_defs(demo, spec, store_url)
    job = defs.resolve_job_def("data_quality")
    runs = [job.execute_in_process(instance=dg.DagsterInstance.ephemeral()) for _ in range(2)]
    store = CatalogStore(store_url)
    with store.read() as conn:
        rows = results(conn, "partner_lake.reference.country_codes")
        raw = conn.execute(select(quality_results.c.run_id)).scalars().all()
    store.close()
    assert len(rows) == 6  # two evaluations of each check: nothing overwritten
    assert sorted(set(raw)) == sorted(r.run_id for r in runs)
    by_check = {r.check_name: r for r in rows}  # the newer of each
    unique, count, bad = by_check["alpha2_unique"], by_check["rows"], by_check["bad"]
    assert (unique.passed, unique.unexpected_count, unique.element_count) == (False, 2, 11)
    assert set(unique.sample or ()) == {"NL"}
    assert unique.unexpected_percent == pytest.approx(200 / 11)
    assert (count.passed, count.observed_value, count.sample) == (True, 11, None)
    assert (unique.severity, unique.test_definition, unique.column_name) == (
        "error",
        "columnValuesToBeUnique",
        "alpha2",
    )
    assert not bad.passed and "custom.yaml:" in (bad.error or "")
    assert "missing parameter 'value'" in (bad.error or "")
    assert all(r.statement_ids for r in rows if r.check_name != "bad")


def test_history_writes_are_ctas_insert_merge_update_delete_only(demo: Demo) -> None:
    store = CatalogStore(demo.url)
    with store.read() as conn:
        writes = table_writes(
            conn,
            [
                "awsdatacatalog.staging.stg_orders_today",  # CTAS daily
                "awsdatacatalog.staging.customer_dim_ice",  # MERGE nightly
                "awsdatacatalog.analytics.funnel_daily",  # DELETE then INSERT
                "awsdatacatalog.raw.orders",  # INSERT
                "awsdatacatalog.analytics.v_active_customers",  # CREATE OR REPLACE VIEW only
            ],
        )
    store.close()
    assert writes["awsdatacatalog.staging.stg_orders_today"].statement == "ctas"
    assert writes["awsdatacatalog.staging.customer_dim_ice"].statement == "merge"
    assert writes["awsdatacatalog.analytics.funnel_daily"].statement == "insert"
    assert writes["awsdatacatalog.raw.orders"].statement == "insert"
    assert "awsdatacatalog.analytics.v_active_customers" not in writes


PRODUCTS = """\
suites:
  - entityFullyQualifiedName: awsdatacatalog.raw.products
    testCases:
      - {name: sku_unique, testDefinitionName: columnValuesToBeUnique, columnName: sku}
      - {name: rows, testDefinitionName: tableRowCountToBeBetween,
         parameterValues: [{name: minValue, value: 1}]}
"""


def test_the_sensor_runs_a_tables_checks_after_a_write_since_its_last_check(
    demo: Demo,
) -> None:
    """It writes to raw.products, which no other test of the module reads."""
    defs, _, state = demo_defs(demo, PRODUCTS)
    key = key_of(state, "awsdatacatalog.raw.products")
    sensor = defs.resolve_sensor_def("data_quality_write_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    checks = {dg.AssetCheckKey(key, "sku_unique"), dg.AssetCheckKey(key, "rows")}
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor: str | None) -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=resources(demo.home, demo.url)
        )
        return sensor(context)

    # Never checked, and the build wrote the table: a run of its checks.
    first = tick(None)
    assert isinstance(first, dg.SensorResult), first
    [request] = first.run_requests or []
    assert set(request.asset_check_keys or ()) == checks
    assert request.run_key and request.run_key.startswith("awsdatacatalog.raw.products@")
    # The same history again: the cursor already holds that write.
    again = tick(first.cursor)
    assert isinstance(again, dg.SkipReason)

    # Run what the sensor asked for: the table is now checked after its last write.
    job = defs.resolve_job_def("data_quality")
    ran = job.get_subset(
        asset_check_selection=set(request.asset_check_keys or ())
    ).execute_in_process(instance=instance)
    assert ran.success
    assert isinstance(tick(None), dg.SkipReason)  # even without a cursor: checked since

    # A new INSERT, read into the store by the usage assets, is a write since the last check.
    engine = LocalEngine(demo.home, read_only=False)
    try:
        new = engine.execute(
            "INSERT INTO raw.products VALUES ('SKU-9999', 'new item', 'toys', 1.00, 'Acme', false)"
        )
    finally:
        engine.close()
    usage = dg.materialize(
        [query_history, lineage], resources=resources(demo.home, demo.url), run_config=RUN_CONFIG
    )
    assert usage.success
    second = tick(first.cursor)
    assert isinstance(second, dg.SensorResult), second
    [request] = second.run_requests or []
    assert request.run_key == f"awsdatacatalog.raw.products@{new.query_id}"
    assert set(request.asset_check_keys or ()) == checks
    assert isinstance(tick(second.cursor), dg.SkipReason)
    assert os.environ.get("ATHENA_CATALOG_QUALITY_FILE") is None  # nothing leaked


def test_dg_launch_runs_the_data_quality_job(demo: Demo, tmp_path: Path) -> None:
    from athena_catalog_tests.test_metadata_local import _cli_env

    spec = tmp_path / "quality.yaml"
    spec.write_text(
        textwrap.dedent("""\
        suites:
          - entityFullyQualifiedName: awsdatacatalog."Odd-Names"."café_ventes"
            testCases:
              - {name: numero_unique, testDefinitionName: columnValuesToBeUnique,
                 columnName: numéro}
        """)
    )
    env = _cli_env(demo.home, demo.url, tmp_path / "dagster_home")
    env |= {"ATHENA_CATALOG_QUALITY_FILE": str(spec), "VIRTUAL_ENV": sys.prefix}
    started = utc_now()
    run_in_repo([str(Path(sys.executable).parent / "dg"), "launch", "--job", "data_quality"], env)
    rows = results_since(demo.url, started)
    assert [(r.table_fqn, r.check_name, r.passed) for r in rows] == [
        ("awsdatacatalog.odd-names.café_ventes", "numero_unique", True)
    ]
