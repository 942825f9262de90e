"""Recipe: run dbt from Dagster with dagster-dbt, in one code location with the catalog.

``AthenaDbtTranslator`` gives each dbt model, seed and snapshot the key of the catalog's table
asset for its relation, and ``build_defs`` lets those dbt assets replace the catalog's external
specs of the same tables: one asset per table, materialized by dbt, with the catalog's lineage,
docs and checks around it. Needs ``pip install 'athena_catalog[dbt]'`` (dagster-dbt; running
``dbt build`` also needs dbt-core and your adapter, e.g. dbt-athena, where dbt runs)::

    DBT_PROJECT_DIR=path/to/dbt/project dg dev -f examples/dagster_dbt_recipe.py

``DBT_MANIFEST`` (default ``$DBT_PROJECT_DIR/target/manifest.json``) is read when the code
location loads, without dbt-core (run ``dbt parse`` once to make it).
"""

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from athena_catalog.definitions import build_defs
from athena_catalog.defs.dbt.dagster_dbt import AthenaDbtTranslator

PROJECT_DIR = Path(os.environ.get("DBT_PROJECT_DIR", "dbt"))
MANIFEST = Path(os.environ.get("DBT_MANIFEST", str(PROJECT_DIR / "target" / "manifest.json")))


@dbt_assets(manifest=MANIFEST, dagster_dbt_translator=AthenaDbtTranslator())
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):  # type: ignore[no-untyped-def]
    yield from dbt.cli(["build"], context=context).stream()


dbt = DbtCliResource(
    project_dir=str(PROJECT_DIR), dbt_executable=os.environ.get("DBT_EXECUTABLE", "dbt")
)
defs = build_defs(dg.Definitions(assets=[dbt_models], resources={"dbt": dbt}))
