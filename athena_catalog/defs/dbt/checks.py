"""Every dbt test (generic or singular, on a model, seed, snapshot or source) as an asset
check on its table's asset, and each source's freshness as ``dbt_freshness``.

Check names are ``dbt_`` and the test's name (``dbt_unique_orders_order_id``), so they sit
beside the ``quality.yaml`` checks of the same table without clashing. Keys come from the table
translator. One checks definition holds them all, after ``dbt_artifacts`` in a run; it is
built with ``AssetChecksDefinition.create`` over numbered inputs and outputs, as the quality
checks are, since table keys may hold characters op names cannot.

A run reports, oldest first, every stored dbt result of each selected test that the instance
has not seen: the results after the one in the check's last evaluation (its ``dbt_result_id``),
so several run_results files give several evaluations and a re-run with nothing new yields
nothing (Dagster then shows the check as skipped in that run; its last evaluation stands).
``pass`` passed; ``fail`` failed with ERROR, ``warn`` failed with WARN, ``error`` failed with
dbt's message; ``skipped`` is not reported.
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
from athena_catalog.store.dbt import DbtTest, DbtTestResult, results_after
from athena_catalog.timeutil import as_utc

PREFIX = "dbt_"
FRESHNESS = "dbt_freshness"
OP_NAME = "dbt_tests"
RESULT_ID = "dbt_result_id"  # the stored result's row: what was reported


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
        description="dbt tests' stored results not reported yet, oldest first.",
        ins={name: dg.In(dg.Nothing) for name in [*inputs, "dbt_artifacts"]},
        out={name: dg.Out(is_required=False) for name in outputs},
        tags={"kind": "dbt"},
    )
    def evaluate(
        context: dg.OpExecutionContext, catalog_store: CatalogStoreResource
    ) -> Iterator[dg.AssetCheckResult | dg.AssetCheckEvaluation]:
        selected = [by_key[k] for k in context.selected_asset_check_keys if k in by_key]
        reported = last_reported(context.instance, [spec.key for _, spec in selected])
        by_project: dict[str, dict[str, int | None]] = {}
        for test, spec in selected:
            by_project.setdefault(test.project, {})[test.unique_id] = reported.get(spec.key)
        with catalog_store.open() as store, store.read() as conn:
            new = {p: results_after(conn, p, tests) for p, tests in by_project.items()}
        for test, spec in selected:
            stored = new[test.project].get(test.unique_id, [])
            outcomes = [r for r in stored if r.passed is not None]
            if not outcomes:
                status = stored[-1].status if stored else "nothing new"
                context.log.info(f"{spec.name} on {spec.asset_key.to_user_string()}: {status}")
                continue
            *earlier, newest = [check_result(test, spec, r) for r in outcomes]
            # One output per check and run: the earlier results are plain evaluations.
            yield from (_evaluation(result) for result in earlier)
            yield newest

    return dg.AssetChecksDefinition.create(
        keys_by_input_name={**inputs, "dbt_artifacts": ARTIFACTS_KEY},
        node_def=evaluate,
        check_specs_by_output_name=outputs,
        can_subset=True,
    )


def last_reported(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetCheckKey]
) -> dict[dg.AssetCheckKey, int]:
    """The stored result row each check last reported, from the instance's last completed
    evaluation of it (a check never evaluated, or by something else, has none)."""
    summaries = instance.event_log_storage.get_asset_check_summary_records(list(keys))
    out: dict[dg.AssetCheckKey, int] = {}
    for key, summary in summaries.items():
        record = summary.last_completed_check_execution_record
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        value = evaluation.metadata.get(RESULT_ID) if evaluation else None
        if value is not None and isinstance(value.value, int):
            out[key] = value.value
    return out


def _evaluation(result: dg.AssetCheckResult) -> dg.AssetCheckEvaluation:
    assert result.asset_key is not None and result.check_name is not None
    return dg.AssetCheckEvaluation(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        metadata=result.metadata,
        severity=result.severity,
        description=result.description,
    )


def check_result(
    test: DbtTest, spec: dg.AssetCheckSpec, result: DbtTestResult
) -> dg.AssetCheckResult:
    """dbt's outcome with its status, failures, message, time and compiled SQL."""
    metadata: dict[str, Any] = {
        RESULT_ID: result.id,
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
