"""The ``dg`` CLI from the repo root, as the README shows it: ``dg check defs``, ``dg list defs``,
``dg launch --assets tables`` and ``dg dev`` on a small demo lakehouse, in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests

from athena_catalog.demo import build_demo
from athena_catalog_tests.conftest import free_port
from athena_catalog_tests.e2e_helpers import dump_store, stop_process_group
from athena_catalog_tests.test_metadata_local import REPO, _cli_env, expected_from_engine

DG = str(Path(sys.executable).parent / "dg")


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo lakehouse with one simulated day of history: every table, few statements."""
    home = tmp_path_factory.mktemp("home")
    build_demo(home, days=1)
    return home


@pytest.fixture
def dg_env(small_home: Path, tmp_path: Path) -> dict[str, str]:
    """The environment a user has after ``source .venv/bin/activate``, with an empty store."""
    env = _cli_env(small_home, f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path / "dagster_home")
    return {**env, "VIRTUAL_ENV": sys.prefix}


def run_dg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DG, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def list_defs(env: dict[str, str]) -> dict[str, Any]:
    listed = run_dg(env, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    return json.loads(listed.stdout)


def test_dg_checks_and_lists_the_code_location(dg_env: dict[str, str]):
    check = run_dg(dg_env, "check", "defs")
    assert check.returncode == 0, check.stderr[-3000:]
    assert "All definitions loaded successfully" in check.stdout + check.stderr

    listed = list_defs(dg_env)
    assets = {a["asset_key"]: a for a in listed["assets"]}
    for key, group in [
        ("databases", "metadata"), ("schemas", "metadata"), ("tables", "metadata"),
        ("query_history", "usage"), ("lineage", "lineage"),
    ]:  # fmt: skip
        assert assets[key]["group_name"] == group
    assert "schemas" in assets["tables"]["dependency_keys"]
    assert {"refresh_catalog", "usage", "test_connection"} <= {j["name"] for j in listed["jobs"]}
    schedules = {s["name"]: s["cron_schedule"] for s in listed["schedules"]}
    assert schedules["refresh_catalog_schedule"] == "0 3 * * *"
    assert {"new_queries_sensor"} <= {s["name"] for s in listed["sensors"]}
    assert {"athena", "catalog_store"} <= {r["name"] for r in listed["resources"]}
    # The store is empty: no table has an asset of its own yet.
    assert not any(key.startswith("athena/") for key in assets)


def test_dg_launch_materializes_tables_into_the_store(small_home: Path, dg_env: dict[str, str]):
    launch = run_dg(dg_env, "launch", "--assets", "tables")
    assert launch.returncode == 0, launch.stderr[-3000:]
    url = dg_env["ATHENA_CATALOG_STORE_URL"]
    assert dump_store(url) == expected_from_engine(small_home)
    # The run went into the instance under DAGSTER_HOME, so the UI shows it.
    instance = dg.DagsterInstance.from_config(dg_env["DAGSTER_HOME"])
    try:
        assert instance.get_latest_materialization_event(dg.AssetKey("tables")) is not None
    finally:
        instance.dispose()
    # Now the stored tables are assets of their own, and dg lists them.
    keys = {a["asset_key"] for a in list_defs(dg_env)["assets"]}
    assert "athena/awsdatacatalog/analytics/daily_revenue" in keys
    assert "athena/awsdatacatalog/analytics/v_active_customers" in keys


def test_dg_dev_serves_the_code_location(dg_env: dict[str, str]):
    port = free_port()
    proc = subprocess.Popen(
        [DG, "dev", "--port", str(port)],
        cwd=REPO, env=dg_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
    query += "locationOrLoadError { __typename ... on RepositoryLocation { repositories { "
    query += "jobs { name } } } } } } } }"
    try:
        entries: list[dict[str, Any]] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = requests.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=10
                ).json()
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:] if proc.stdout else ""
        assert [e["name"] for e in entries] == ["athena_catalog"]
        location = entries[0]["locationOrLoadError"]
        assert location["__typename"] == "RepositoryLocation", location
        jobs = {j["name"] for repo in location["repositories"] for j in repo["jobs"]}
        assert {"refresh_catalog", "usage", "test_connection"} <= jobs
    finally:
        stop_process_group(proc)
