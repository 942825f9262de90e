"""The metadata assets end to end on the embedded engine: the demo lakehouse, Dagster's
in-process API and the ``dagster`` CLI, and two CLI runs at once on one store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.demo import build_demo
from athena_catalog.engines.local import LocalEngine
from athena_catalog_tests.e2e_helpers import dump_store

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    build_demo(home)
    return home


def expected_from_engine(home: Path) -> dict[str, dict]:
    """The same dump shape as the store's, read straight from the engine's own listings."""
    engine = LocalEngine(home)
    out = {}
    try:
        for catalog in engine.list_data_catalogs():
            for database in engine.list_databases(catalog.name):
                tags = engine.list_table_tags(catalog.name)
                for t in engine.list_tables(catalog.name, database.name):
                    out[t.fqn] = {
                        "catalog": t.catalog, "database": t.database, "name": t.name,
                        "table_type": t.table_type, "description": t.description,
                        "location": t.location, "storage_format": t.storage_format,
                        "view_sql": t.view_sql, "owner": t.owner, "parameters": t.parameters,
                        "tags": tags.get((t.database, t.name), t.tags), "deleted": False,
                        "columns": [
                            (c.name.lower(), c.data_type, c.description, c.is_partition_key)
                            for c in t.columns
                        ],
                    }  # fmt: skip
    finally:
        engine.close()
    return out


def test_materialize_stores_the_engine_catalog_field_by_field(demo_home: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = dg.materialize(
        [metadata],
        resources={
            "athena": AthenaResource(engine="local", local_home=str(demo_home)),
            "catalog_store": CatalogStoreResource(url=url),
        },
    )
    assert result.success
    stored = dump_store(url)
    expected = expected_from_engine(demo_home)
    assert stored == expected
    # What the demo promises, seen through the store.
    types = [row["table_type"] for row in stored.values()]
    assert types.count("VIRTUAL_VIEW") >= 4
    assert types.count("ICEBERG") >= 1
    assert len(stored) - types.count("VIRTUAL_VIEW") >= 25
    assert len({(r["catalog"].lower(), r["database"].lower()) for r in stored.values()}) >= 5
    assert any(c[3] for r in stored.values() for c in r["columns"])  # partition keys
    assert any(c[1].startswith("struct<") for r in stored.values() for c in r["columns"])
    assert any(c[1].startswith("array<") for r in stored.values() for c in r["columns"])
    assert any(c[1].startswith("map<") for r in stored.values() for c in r["columns"])
    assert any(c[1].startswith("decimal(") for r in stored.values() for c in r["columns"])
    assert any(r["tags"] for r in stored.values())
    assert any(r["description"] for r in stored.values())
    assert any(c[2] for r in stored.values() for c in r["columns"])  # column comments
    assert all(r["view_sql"] for r in stored.values() if r["table_type"] == "VIRTUAL_VIEW")


def _cli_env(home: Path, store_url: str, dagster_home: Path) -> dict[str, str]:
    dagster_home.mkdir(exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    # Create Dagster's own storage once, as a deployed instance has it: two processes
    # creating a fresh instance's SQLite tables at the same moment race inside Dagster.
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    instance.get_runs(limit=1)
    instance.get_latest_materialization_event(dg.AssetKey("tables"))
    instance.dispose()
    return {
        **os.environ,
        "ATHENA_CATALOG_ENGINE": "local",
        "ATHENA_CATALOG_HOME": str(home),
        "ATHENA_CATALOG_STORE_URL": store_url,
        "DAGSTER_HOME": str(dagster_home),
    }


def test_dagster_cli_validates_and_materializes(demo_home: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = _cli_env(demo_home, url, tmp_path / "dagster_home")
    validate = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "athena_catalog.definitions"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert validate.returncode == 0, validate.stderr
    run = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "athena_catalog.definitions", "--select", "tables"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert dump_store(url) == expected_from_engine(demo_home)
    # The run went into the instance under DAGSTER_HOME, so the UI shows it.
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    assert instance.get_latest_materialization_event(dg.AssetKey("tables")) is not None
    instance.dispose()


def test_two_cli_runs_at_once_on_one_store(demo_home: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = _cli_env(demo_home, url, tmp_path / "dagster_home")
    cmd = [DAGSTER, "asset", "materialize", "-m", "athena_catalog.definitions", "--select", "*"]
    procs = [
        subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][1][-2000:]
    assert dump_store(url) == expected_from_engine(demo_home)


def test_schedule_and_jobs_are_wired(monkeypatch: pytest.MonkeyPatch):
    from athena_catalog.definitions import defs
    from athena_catalog.defs.refresh.schedules import refresh_catalog_schedule

    schedule = defs.resolve_schedule_def("refresh_catalog_schedule")
    assert schedule.cron_schedule == "0 3 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "refresh_catalog"
    assert defs.resolve_job_def("test_connection") is not None
    monkeypatch.setenv("ATHENA_CATALOG_REFRESH_CRON", "0 */6 * * *")
    assert refresh_catalog_schedule().cron_schedule == "0 */6 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=__import__("datetime").datetime(2026, 11, 28, 3)
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1


def test_resource_fields_are_settable_in_run_config(demo_home: Path, tmp_path: Path):
    """What the launchpad does: run config overrides the resource's configured values."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = dg.materialize(
        [metadata],
        resources={
            "athena": AthenaResource(engine="local", local_home=str(tmp_path / "nowhere")),
            "catalog_store": CatalogStoreResource(url=f"sqlite:///{tmp_path / 'unused.db'}"),
        },
        run_config={
            "resources": {
                "athena": {"config": {"local_home": str(demo_home), "database": "raw"}},
                "catalog_store": {"config": {"url": url}},
            }
        },
    )
    assert result.success
    stored = dump_store(url)
    assert stored and {r["database"] for r in stored.values()} == {"raw"}


def test_debug_log_toggle(demo_home: Path, tmp_path: Path):
    overrides = {"python_logs": {"managed_python_loggers": ["athena_catalog"]}}

    def debug_lines(enabled: bool) -> list[str]:
        with dg.instance_for_test(overrides=overrides) as instance:
            result = dg.materialize(
                [metadata],
                instance=instance,
                resources={
                    "athena": AthenaResource(engine="local", local_home=str(demo_home)),
                    "catalog_store": CatalogStoreResource(url=f"sqlite:///{tmp_path / 'c.db'}"),
                },
                run_config={"ops": {"metadata": {"config": {"enable_debug_log": enabled}}}},
            )
            assert result.success
            return [
                e.user_message
                for e in instance.all_logs(result.run_id)
                if "listing tables of" in e.user_message
            ]

    assert debug_lines(False) == []
    assert any("raw" in line for line in debug_lines(True))


def test_test_connection_command_and_job_on_the_demo(demo_home: Path, tmp_path: Path):
    cli = Path(sys.executable).parent / "athena-catalog"
    run = subprocess.run(
        [str(cli), "test-connection", "--engine", "local", "--local-home", str(demo_home)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SELECT 1" in run.stdout and "FAIL" not in run.stdout
    from athena_catalog.defs.connection.jobs import test_connection

    result = test_connection.execute_in_process(
        resources={"athena": AthenaResource(engine="local", local_home=str(demo_home))}
    )
    assert result.success
    empty = subprocess.run(
        [str(cli), "test-connection", "--engine", "local", "--local-home", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert empty.returncode == 1 and "FAIL" in empty.stdout
    assert "no embedded lakehouse" in empty.stdout
    assert not (tmp_path / "none").exists()  # a read-only check creates nothing
