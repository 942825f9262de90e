"""The code location's keys against a committed snapshot, so that renaming an asset, a check,
a job, a schedule or a sensor (which orphans its history in Dagster) is always deliberate.

After an intended change, ``ATHENA_CATALOG_UPDATE_SNAPSHOTS=1 pytest
athena_catalog_tests/test_definitions_snapshot.py`` rewrites the snapshot: commit it with the
change.
"""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from athena_catalog_tests.demo_fixtures import materialized_demo

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE_ENV = "ATHENA_CATALOG_UPDATE_SNAPSHOTS"


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """What must not change by accident, in a stable order: every asset with its group and
    kinds, asset check keys, jobs, schedules with their crons, sensors."""
    graph = defs.resolve_asset_graph()
    nodes = [graph.get(key) for key in graph.get_all_asset_keys()]
    assets = {
        n.key.to_user_string(): {"group": n.group_name, "kinds": sorted(n.kinds)} for n in nodes
    }
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    repository = defs.get_repository_def()
    jobs = sorted(j.name for j in repository.get_all_jobs() if not j.name.startswith("__"))
    return {
        "assets": dict(sorted(assets.items())),
        "asset_checks": checks,
        "jobs": jobs,
        "schedules": dict(sorted((s.name, s.cron_schedule) for s in repository.schedule_defs)),
        "sensors": sorted(s.name for s in repository.sensor_defs),
    }


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return materialized_demo(tmp_path_factory.mktemp("home"))


# runpy re-executes the module without replacing the imported one other tests hold, and warns
# that it is already imported: that is the point here.
@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
def test_definitions_match_the_snapshot(demo_store: str, monkeypatch: pytest.MonkeyPatch):
    for name in [n for n in os.environ if n.startswith("ATHENA_CATALOG_") and n != UPDATE_ENV]:
        monkeypatch.delenv(name)  # the defaults, whatever this machine's environment holds
    monkeypatch.setenv("ATHENA_CATALOG_STORE_URL", demo_store)
    # A fresh run of the module, as a code server does: it reads the store when it loads.
    defs = runpy.run_module("athena_catalog.definitions")["defs"]
    actual = describe(defs)
    assert any(key.startswith("athena/") for key in actual["assets"])  # the demo's tables
    if os.environ.get(UPDATE_ENV) == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert SNAPSHOT.exists(), f"no snapshot: run with {UPDATE_ENV}=1 to write {SNAPSHOT}"
    expected = json.loads(SNAPSHOT.read_text())
    for part in expected:
        assert actual[part] == expected[part], (
            f"the code location's {part} differ from {SNAPSHOT.name}; if that is intended, "
            f"rerun with {UPDATE_ENV}=1 and commit the snapshot"
        )
    assert actual.keys() == expected.keys()
