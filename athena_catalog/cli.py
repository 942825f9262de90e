"""The ``athena-catalog`` command: the demo, test-connection, history import, store upgrade."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, func, select


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="athena-catalog", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build the demo lakehouse and materialize every asset on it")
    sub.add_parser("build-demo", help="only (re)build the demo lakehouse")
    sub.add_parser(
        "test-connection", help="check each permission the catalog needs", add_help=False
    )
    sub.add_parser(
        "lineage", help="print a table's or column's stored lineage as a tree", add_help=False
    )
    imp = sub.add_parser("import-history", help="import a JSONL query log into the local engine")
    imp.add_argument("path", help="one Athena QueryExecution JSON object per line")
    upg = sub.add_parser(
        "upgrade-store", help="bring the catalog store's schema to this version's revision"
    )
    upg.add_argument(
        "--url", help="SQLAlchemy URL of the store (default: ATHENA_CATALOG_STORE_URL, else SQLite)"
    )
    args, rest = parser.parse_known_args(argv)

    if args.command == "test-connection":
        from athena_catalog.connection_check import main as check_main

        return check_main(rest)
    if args.command == "lineage":
        from athena_catalog.lineage.tree import main as lineage_main

        return lineage_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "import-history":
        return _import_history(args.path)
    if args.command == "upgrade-store":
        return _upgrade_store(args.url)
    failed = _build_demo()
    if args.command == "demo" and not failed:
        return _materialize_demo()
    return failed


def _build_demo() -> int:
    from athena_catalog.demo import build_demo
    from athena_catalog.store import default_home

    home = default_home()
    started = time.perf_counter()
    summary = build_demo(home)
    print(f"Demo lakehouse built in {time.perf_counter() - started:.1f}s under {home}:")
    print(
        f"  {summary.catalogs} data catalogs, {summary.databases} databases, "
        f"{summary.tables} tables, {summary.views} views, {summary.rows:,} rows; "
        f"{summary.statements:,} statements of query history "
        f"({summary.failed} failed, {summary.cancelled} cancelled)"
    )
    return _build_demo_dbt(home)


def _build_demo_dbt(home: Path) -> int:
    """The demo's dbt project, before the crawl; without dbt installed the demo goes on."""
    from athena_catalog.demo.dbt_run import DbtDemoError, dbt_python, demo_target, run_dbt_demo

    if dbt_python() is None:
        print("dbt is not installed (`make demo` installs it): the demo has no dbt project")
        shutil.rmtree(demo_target(home), ignore_errors=True)  # an earlier build's artifacts
        return 0
    try:
        dbt = run_dbt_demo(home)
    except DbtDemoError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    tests = ", ".join(f"{n} {status}" for status, n in sorted(dbt.tests.items()))
    print(
        f"Demo dbt project built with dbt-duckdb in {dbt.seconds:.1f}s: {dbt.models} models, "
        f"{dbt.seeds} seeds, {dbt.tests.total()} tests ({tests}); artifacts in {dbt.target}"
    )
    return 0


def _materialize_demo() -> int:
    os.environ["ATHENA_CATALOG_ENGINE"] = "local"  # the demo never touches AWS
    import dagster as dg

    from athena_catalog.definitions import build_defs, defs
    from athena_catalog.demo.dbt_run import demo_target
    from athena_catalog.demo.workload import DAYS
    from athena_catalog.store import CatalogStore, default_home
    from athena_catalog.store.history import query_history, table_usage_daily
    from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
    from athena_catalog.store.schema import (
        catalog_columns,
        catalog_tables,
        dbt_nodes,
        dbt_test_results,
        table_profiles,
    )

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    # The first history read covers the build night and the simulated days, which end the
    # day before the build; table_usage's default window covers them, as later runs' will.
    demo_jobs: list[tuple[str, dict[str, object]]] = [
        ("refresh_catalog", {"ops": {"query_history": {"config": {"query_log_days": DAYS + 2}}}}),
        ("profile_tables", {}),
    ]
    # refresh_catalog's dbt_artifacts reads the demo's dbt project (none without dbt).
    dbt_target = demo_target(default_home())
    if dbt_target.is_dir():
        os.environ["ATHENA_CATALOG_DBT_TARGET"] = str(dbt_target)
    else:
        os.environ.pop("ATHENA_CATALOG_DBT_TARGET", None)
    observed = 0  # events on the table assets' pages (crawl, usage, lineage, profiler)
    for job_name, run_config in demo_jobs:
        result = defs.resolve_job_def(job_name).execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
        observed += len(result.get_asset_observation_events())
        if not result.success:
            print(f"The demo's {job_name} run failed; see the errors above.", file=sys.stderr)
            return 1
    # Checks are declared from the store's tables: loaded again now that the crawl filled it.
    reloaded = build_defs()
    quality = reloaded.resolve_job_def("data_quality")
    if not quality.execute_in_process(instance=instance, raise_on_error=False).success:
        print("The demo's data_quality run failed; see the errors above.", file=sys.stderr)
        return 1
    # The dbt tests are checks once refresh_catalog stored them: the dbt job, on the unchanged
    # artifacts, evaluates them.
    if dbt_target.is_dir():
        checked = reloaded.resolve_job_def("dbt").execute_in_process(
            instance=instance, raise_on_error=False
        )
        if not checked.success:
            print("The demo's dbt checks run failed; see the errors above.", file=sys.stderr)
            return 1
    dbt_node = dbt_nodes.c.resource_type.in_(["model", "seed", "snapshot", "source"])
    dbt_result = dbt_test_results.c
    dbt_test = dbt_result.test_unique_id.like("test.%")  # not a source's freshness
    store = CatalogStore()
    with store.read() as conn:
        lines = [
            (
                label,
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one(),
            )
            for label, table, where in [
                ("tables and views", catalog_tables, [catalog_tables.c.deleted.is_(False)]),
                ("columns", catalog_columns, []),
                ("queries in history", query_history, []),
                ("table-days of usage", table_usage_daily, []),
                ("table lineage edges", lineage_table_edges, []),
                ("column lineage edges", lineage_column_edges, []),
                ("tables profiled", table_profiles, [table_profiles.c.error.is_(None)]),
                ("dbt nodes on tables", dbt_nodes, [dbt_node, dbt_nodes.c.table_fqn.is_not(None)]),
                ("dbt tests passed", dbt_test_results, [dbt_test, dbt_result.passed.is_(True)]),
                ("dbt tests warned", dbt_test_results, [dbt_test, dbt_result.status.in_(["warn"])]),
                (
                    "dbt tests failed",
                    dbt_test_results,
                    [dbt_test, dbt_result.status.in_(["fail", "error"])],
                ),
            ]
        ]
        checks = _quality_lines(conn)
    store.close()
    print(f"Catalog materialized into {store.url}:")
    for label, n in [*lines, ("table observations", observed)]:
        print(f"  {label:<22} {n:>7,}")
    print("Data-quality checks (quality.yaml) per table:")
    print("\n".join(checks))
    print("Open the Dagster UI with `make ui`, then http://127.0.0.1:3000")
    return 0


def _quality_lines(conn: Connection) -> list[str]:
    """Passed and failed checks per table, by each check's latest evaluation."""
    from athena_catalog.store.quality import latest_results

    counts: dict[str, list[int]] = {}
    for (fqn, _), result in sorted(latest_results(conn).items()):
        counts.setdefault(fqn, [0, 0])[0 if result.passed else 1] += 1
    return [f"  {fqn:<44} {ok:>3} passed {bad:>3} failed" for fqn, (ok, bad) in counts.items()]


def _upgrade_store(url: str | None) -> int:
    """Opening a store upgrades it; this says from which revision (for deploy scripts)."""
    from athena_catalog.store import CatalogStore, StoreError
    from athena_catalog.store.migrations import head

    try:
        store = CatalogStore(url)
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    store.close()
    was = store.upgraded_from
    if was is None:
        print(f"Created the catalog store {store.url} at revision {head()}")
    elif was == head():
        print(f"The catalog store {store.url} is already at revision {head()}")
    else:
        print(f"Upgraded the catalog store {store.url} from revision {was} to {head()}")
    return 0


def _import_history(path: str) -> int:
    from athena_catalog.engines.local import LocalEngine
    from athena_catalog.store import default_home

    engine = LocalEngine(default_home(), read_only=False)
    try:
        n = engine.import_history(path)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        engine.close()
    print(f"Imported {n} query executions from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
