"""Every dbt test (generic or singular, on a model, seed, snapshot or source) as an asset
check on its table's asset, and each source's freshness as ``dbt_freshness``.

Check names are ``dbt_`` and the test's name (``dbt_unique_orders_order_id``), so they sit
beside the ``quality.yaml`` checks of the same table without clashing. Keys come from the table
translator. One checks definition holds them all, after ``dbt_artifacts`` in a run; it is
built with ``AssetChecksDefinition.create`` over numbered inputs and outputs, as the quality
checks are, since table keys may hold characters op names cannot.

An evaluation reports the newest stored dbt result of each selected test: ``pass`` passed;
``fail`` failed with ERROR, ``warn`` failed with WARN, ``error`` failed with dbt's message;
``skipped`` (or a test never run) yields nothing, which Dagster records as skipped.
"""

import re
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from athena_catalog.defs.dbt.assets import KEY as ARTIFACTS_KEY
from athena_catalog.defs.dbt.docs import sql_block
from athena_catalog.defs.resources import CatalogStoreResource
from athena_catalog.defs.tables.state import TablesState
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.store.dbt import DbtTest, DbtTestResult, latest_results
from athena_catalog.timeutil import as_utc

PREFIX = "dbt_"
FRESHNESS = "dbt_freshness"
OP_NAME = "dbt_tests"


def check_name(test: DbtTest) -> str:
    if test.kind == "freshness":
        return FRESHNESS
    return PREFIX + re.sub(r"[^A-Za-z0-9_]+", "_", test.name).strip("_")


def dbt_checks(
    state: TablesState, translator: AthenaTableTranslator | None = None
) -> list[dg.AssetChecksDefinition]:
    """The one checks definition of every dbt test on a table of ``state`` (none: [])."""
    translator = translator or AthenaTableTranslator()
    tests = [t for t in state.dbt_tests if t.table_fqn in state.tables]
    if not tests:
        return []
    specs: dict[dg.AssetCheckKey, tuple[DbtTest, dg.AssetCheckSpec]] = {}
    for test in tests:
        key = translator.get_asset_key(state.tables[test.table_fqn])
        name = check_name(test)
        if dg.AssetCheckKey(key, name) in specs:  # the same test name in two projects
            name = f"{name}__{re.sub(r'[^A-Za-z0-9_]+', '_', test.project)}"
        specs[dg.AssetCheckKey(key, name)] = (test, _spec(test, key, name))
    return [_definition(list(specs.values()))]


def _spec(test: DbtTest, key: dg.AssetKey, name: str) -> dg.AssetCheckSpec:
    what = test.test_name or ("source freshness" if test.kind == "freshness" else "singular")
    on = f" on column {test.column_name}" if test.column_name else ""
    metadata = {"dbt_unique_id": test.unique_id, "dbt_project": test.project, "dbt_test": what}
    if test.column_name:
        metadata["column"] = test.column_name
    return dg.AssetCheckSpec(
        name,
        asset=key,
        description=test.description or f"dbt test {test.name} ({what}{on})",
        additional_deps=[ARTIFACTS_KEY],
        metadata=metadata,
    )


def _definition(checks: Sequence[tuple[DbtTest, dg.AssetCheckSpec]]) -> dg.AssetChecksDefinition:
    keys = sorted({spec.asset_key for _, spec in checks}, key=lambda k: k.to_user_string())
    inputs = {f"table_{i}": key for i, key in enumerate(keys)}
    outputs = {f"check_{i}": spec for i, (_, spec) in enumerate(checks)}
    by_key = {spec.key: (test, spec) for test, spec in checks}

    @dg.op(
        name=OP_NAME,
        description="dbt tests' newest results, as the dbt artifacts reported them.",
        ins={name: dg.In(dg.Nothing) for name in [*inputs, "dbt_artifacts"]},
        out={name: dg.Out(is_required=False) for name in outputs},
        tags={"kind": "dbt"},
    )
    def evaluate(
        context: dg.OpExecutionContext, catalog_store: CatalogStoreResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = [by_key[k] for k in context.selected_asset_check_keys if k in by_key]
        projects = {test.project for test, _ in selected}
        with catalog_store.open() as store, store.read() as conn:
            latest = {project: latest_results(conn, project) for project in projects}
        for test, spec in selected:
            result = latest[test.project].get(test.unique_id)
            if result is None or result.passed is None:
                status = result.status if result else "never run"
                context.log.info(f"{spec.name} on {spec.asset_key.to_user_string()}: {status}")
                continue
            yield check_result(test, spec, result)

    return dg.AssetChecksDefinition.create(
        keys_by_input_name={**inputs, "dbt_artifacts": ARTIFACTS_KEY},
        node_def=evaluate,
        check_specs_by_output_name=outputs,
        can_subset=True,
    )


def check_result(
    test: DbtTest, spec: dg.AssetCheckSpec, result: DbtTestResult
) -> dg.AssetCheckResult:
    """dbt's outcome with its status, failures, message, time and compiled SQL."""
    metadata: dict[str, Any] = {
        "dbt_status": result.status,
        "dbt_unique_id": test.unique_id,
        "dbt_invocation_id": result.invocation_id,
        "dbt_evaluated_at": dg.MetadataValue.timestamp(as_utc(result.evaluated_at)),
    }
    optional = {
        "column": test.column_name,
        "failures": result.failures,
        "message": result.message and dg.MetadataValue.text(result.message),
        "execution_time_s": result.execution_time,
        "compiled_sql": result.compiled_code
        and dg.MetadataValue.md(sql_block(result.compiled_code)),
    }
    metadata |= {k: v for k, v in optional.items() if v is not None and v != ""}
    warn = result.status == "warn"
    return dg.AssetCheckResult(
        asset_key=spec.asset_key,
        check_name=spec.name,
        passed=bool(result.passed),
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=result.message if not result.passed else None,
    )
