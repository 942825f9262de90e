"""The demo's dbt project (``dbt_project/``), run with dbt-duckdb into the embedded engine's
files, then registered in its Glue store, so the crawl finds the models as Athena tables.

dbt-duckdb writes straight into ``warehouse/awsdatacatalog.duckdb`` (dbt's database
``awsdatacatalog``, as dbt-athena names the default catalog) with each model's schema as its
Glue database; the partner catalog's file is attached read-only for a source. The local
engine lists a DuckDB relation only in a database its Glue store knows, so the built seeds and
models get the Glue rows dbt-athena's CTAS would leave. dbt runs as a subprocess from its own
environment (``dbt_python``): dbt-core 1.11 pins pathspec<0.13, the dev tools need >=1.0.

The artifacts land in ``<home>/dbt/target`` (``demo_target``): manifest.json and
run_results.json of one ``dbt build``, sources.json of ``dbt source freshness`` and
catalog.json of ``dbt docs generate``; the last two run in a scratch folder so that neither
replaces the build's run_results.json (docs generate writes compile-only results).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

import athena_catalog
from athena_catalog.dbt.targets import local_target
from athena_catalog.engines.local.glue_store import GlueStore, GlueTable
from athena_catalog.engines.records import EXTERNAL_TABLE, VIRTUAL_VIEW, Database
from athena_catalog.timeutil import utc_now

PROJECT_DIR = Path(__file__).with_name("dbt_project")
DBT_VENV = ".venv-dbt"  # `make demo` installs the `demo` extra there (see the Makefile)
LOCATION_ROOT = "s3://acme-lake-dbt"  # dbt-athena's s3_data_dir of the demo
BUILT = ("model", "seed", "snapshot")


class DbtDemoError(RuntimeError):
    """dbt is missing, or the demo project did not build what it should."""


@dataclass(frozen=True)
class DbtDemoSummary:
    target: Path
    models: int  # built models (ephemeral ones are not built)
    seeds: int
    tests: Counter[str]  # run_results status of each test: pass, warn, fail, error, skipped
    seconds: float


def demo_target(home: str | Path) -> Path:
    """Where the demo keeps its dbt artifacts: the folder ``dbt_artifacts`` reads by default
    on the local engine."""
    return local_target(home)


def dbt_requirements(pyproject: Path) -> list[str]:
    """What ``.venv-dbt`` needs: pyproject's ``demo`` extra, and this environment's DuckDB,
    since dbt's DuckDB must open the files this one writes (and the other way round)."""
    demo = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]["demo"]
    return [*demo, f"duckdb=={duckdb.__version__}"]


def dbt_python() -> Path | None:
    """An interpreter with dbt-core: this one, else the repository's ``.venv-dbt``, else the
    one behind ``dbt`` on PATH (its console script's ``#!`` line)."""
    try:
        if importlib.util.find_spec("dbt.cli.main") is not None:
            return Path(sys.executable)
    except ModuleNotFoundError:  # no dbt package at all
        pass
    repo = Path(athena_catalog.__file__).resolve().parents[1] / DBT_VENV / "bin" / "python"
    if repo.is_file():
        return repo
    script = shutil.which("dbt")
    if script is None:
        return None
    first = Path(script).read_bytes()[:512].split(b"\n", 1)[0].decode(errors="replace")
    return Path(first[2:].strip()) if first.startswith("#!") else None


def dbt_executable() -> Path | None:
    """The ``dbt`` command beside :func:`dbt_python` (what dagster-dbt's DbtCliResource runs)."""
    python = dbt_python()
    if python is None:
        return None
    script = python.parent / "dbt"
    if script.is_file():
        return script
    found = shutil.which("dbt")
    return Path(found) if found else None


def run_dbt_demo(home: str | Path, python: Path | None = None) -> DbtDemoSummary:
    """Build the demo project into the lakehouse under ``home`` (already built, no engine
    open on it), write its artifacts to ``demo_target(home)`` and register its relations."""
    started = time.perf_counter()
    home = Path(home).resolve()
    python = python or dbt_python()
    if python is None:
        raise DbtDemoError(
            "dbt is not installed: `make demo` installs it into .venv-dbt, or run "
            "`pip install -e '.[demo]'` in an environment without the dev extra"
        )
    work = home / "dbt"
    shutil.rmtree(work, ignore_errors=True)
    target, scratch = demo_target(home), work / "scratch"
    _invoke(python, home, target, scratch)
    manifest = _read_json(target / "manifest.json")
    results = _read_json(target / "run_results.json")["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    broken = [
        f"{uid}: {status}"
        for uid, status in statuses.items()
        if uid.split(".")[0] in BUILT and status != "success"
    ]
    if broken:
        raise DbtDemoError(f"the demo's dbt build failed ({'; '.join(broken)}); see {work}/logs")
    for artifact in ("sources.json", "catalog.json"):
        shutil.copy(scratch / artifact, target / artifact)
    shutil.rmtree(scratch)
    built = [manifest["nodes"][uid] for uid, status in statuses.items() if status == "success"]
    built = [n for n in built if n["resource_type"] in BUILT]
    register_relations(home, built)
    return DbtDemoSummary(
        target=target,
        models=sum(n["resource_type"] == "model" for n in built),
        seeds=sum(n["resource_type"] == "seed" for n in built),
        tests=Counter(s for uid, s in statuses.items() if uid.startswith("test.")),
        seconds=round(time.perf_counter() - started, 1),
    )


def register_relations(home: Path, nodes: list[dict[str, Any]]) -> None:
    """Glue rows for dbt-built relations, as dbt-athena leaves them: each schema a database,
    tables and seeds external Parquet tables under it, views Presto views of their SQL."""
    glue = GlueStore(home / "warehouse" / "glue.sqlite")
    now = utc_now()
    try:
        with glue.transaction():
            for node in nodes:
                catalog = glue.catalog(node["database"]).name
                schema, name = node["schema"], node["alias"] or node["name"]
                location = f"{LOCATION_ROOT}/{schema}/"
                glue.put_database(
                    Database(catalog, schema, f"dbt models of {node['package_name']}", location)
                )
                if node["config"].get("materialized") == "view":
                    table = GlueTable(
                        VIRTUAL_VIEW,
                        parameters={"presto_view": "true", "comment": "Presto View"},
                        view_sql=node["compiled_code"].strip(),
                        created_at=now,
                        updated_at=now,
                    )
                else:
                    table = GlueTable(
                        EXTERNAL_TABLE,
                        f"{location}{name}/",
                        "parquet",
                        {"classification": "parquet", "EXTERNAL": "TRUE"},
                        created_at=now,
                        updated_at=now,
                    )
                glue.put_table(catalog, schema, name, table)
    finally:
        glue.conn.close()


def _invoke(python: Path, home: Path, target: Path, scratch: Path) -> None:
    """dbt_invoke.py in dbt's interpreter, isolated (-I: this folder is not on its path, where
    dbt_run.py would shadow dbt's own modules); its output is kept for the error."""
    env = os.environ | {
        "ATHENA_CATALOG_HOME": str(home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }
    script = Path(__file__).with_name("dbt_invoke.py")
    folders = [PROJECT_DIR, target, scratch, home / "dbt" / "logs"]
    done = subprocess.run(
        [str(python), "-I", str(script), *map(str, folders)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise DbtDemoError(f"dbt on the demo project exited {done.returncode}:\n{tail}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DbtDemoError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise DbtDemoError(f"{path}: not a JSON object")
    return data


if __name__ == "__main__":  # the Makefile: `python -m athena_catalog.demo.dbt_run requirements`
    if sys.argv[1:] != ["requirements"]:
        sys.exit("usage: python -m athena_catalog.demo.dbt_run requirements")
    print("\n".join(dbt_requirements(Path("pyproject.toml"))))
