"""One multi-asset check per table with tests: every test of ``quality.yaml`` is an
``AssetCheckSpec`` on the table's asset, and a run evaluates only the selected checks.

The key is the table translator's (``AthenaTableTranslator.get_asset_key``), so checks sit on
the table assets ``defs/tables`` declares. The checks definition is built with
``AssetChecksDefinition.create`` over an op of our own rather than ``@multi_asset_check``:
that decorator names its outputs and inputs after the asset key, and Dagster refuses names
outside ``[A-Za-z0-9_]``, which ``Odd-Names`` tables (spaces, ``é``) have. The op's outputs
are numbered instead; everything else (``can_subset``, the pool, severity, blocking) is what
the decorator would build.
"""

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg

from athena_catalog.defs.pools import ATHENA_SQL_POOL
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.state import TableRecord
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.engines.records import EngineError
from athena_catalog.quality.cases import Outcome, TestCase
from athena_catalog.quality.definitions import DEFINITIONS
from athena_catalog.quality.runner import run_cases
from athena_catalog.quality.spec import QualitySpec
from athena_catalog.store.quality import record_outcomes
from athena_catalog.timeutil import utc_now

SAMPLE_CAP = 20  # unexpected values shown in a failed check's metadata
SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def table_checks(
    spec: QualitySpec,
    tables: Mapping[str, TableRecord],
    translator: AthenaTableTranslator | None = None,
) -> dict[str, dg.AssetChecksDefinition]:
    """The checks definition of every table of ``spec`` that is in ``tables``, by fqn."""
    translator = translator or AthenaTableTranslator()
    return {
        fqn: _table_checks(spec, tables[fqn], cases, translator.get_asset_key(tables[fqn]))
        for fqn, cases in spec.suites.items()
        if cases and fqn in tables
    }


def op_name(fqn: str) -> str:
    """A valid, unique op name for a table's checks: readable part plus a digest of the fqn."""
    readable = re.sub(r"[^a-z0-9_]+", "_", fqn.lower()).strip("_")[:48]
    return f"quality__{readable}__{hashlib.sha1(fqn.encode()).hexdigest()[:8]}"


def check_spec(case: TestCase, key: dg.AssetKey) -> dg.AssetCheckSpec:
    definition = DEFINITIONS.get(case.test_definition)
    about = definition.description if definition else f"Great Expectations' {case.test_definition}"
    on = f" on column {case.column_name}" if case.column_name else ""
    return dg.AssetCheckSpec(
        case.name,
        asset=key,
        description=f"{case.test_definition}{on}: {about}",
        blocking=case.blocking,
        metadata={
            "test_definition": case.test_definition,
            "parameters": dg.MetadataValue.json(_jsonable(dict(case.parameters))),
            "severity": case.severity,
            "defined_at": case.where,
            **({"column": case.column_name} if case.column_name else {}),
        },
    )


def _table_checks(
    spec: QualitySpec,
    table: TableRecord,
    cases: Sequence[TestCase],
    key: dg.AssetKey,
) -> dg.AssetChecksDefinition:
    outputs = {f"check_{i}": check_spec(case, key) for i, case in enumerate(cases)}
    by_name = {case.name: case for case in cases}
    invalid = {
        name: spec.invalid[(table.fqn, name)]
        for name in by_name
        if (table.fqn, name) in spec.invalid
    }

    @dg.op(
        name=op_name(table.fqn),
        description=f"Data-quality tests of {table.fqn} ({spec.path}).",
        ins={"table": dg.In(dg.Nothing)},
        out={name: dg.Out(is_required=False) for name in outputs},
        pool=ATHENA_SQL_POOL,
    )
    def evaluate(
        context: dg.OpExecutionContext,
        athena: AthenaResource,
        catalog_store: CatalogStoreResource,
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == key}
        chosen = [case for case in cases if case.name in selected]
        runnable = [case for case in chosen if case.name not in invalid]
        context.log.info(
            f"{table.fqn}: {len(runnable)} tests to run, {len(chosen) - len(runnable)} invalid"
        )
        found = {o.case.name: o for o in _run(athena, table, runnable)}
        found |= {
            name: Outcome(by_name[name], passed=False, error=str(error))
            for name, error in invalid.items()
            if name in selected
        }
        outcomes = [found[case.name] for case in chosen]
        with catalog_store.open() as store, store.write() as conn:
            record_outcomes(conn, outcomes, evaluated_at=utc_now(), run_id=context.run_id)
        for outcome in outcomes:
            yield check_result(outcome, key)

    return dg.AssetChecksDefinition.create(
        keys_by_input_name={"table": key},
        node_def=evaluate,
        check_specs_by_output_name=outputs,
        can_subset=True,
    )


def _run(athena: AthenaResource, table: TableRecord, cases: list[TestCase]) -> list[Outcome]:
    """The runner's outcomes. Whatever stops the run (an engine that cannot start, a denied
    AssumeRole, a bug) fails every case with its message, not the op: the results still
    record. The message only, never the traceback (its frames hold the resource's values)."""
    if not cases:
        return []
    try:
        with athena.get_engine() as engine:
            return run_cases(engine, table, cases)
    except Exception as exc:
        text = " ".join(str(exc).split())[:1000]
        error = text if isinstance(exc, EngineError) else f"{type(exc).__name__}: {text}"
        return [Outcome(case, passed=False, error=error) for case in cases]


def check_result(outcome: Outcome, key: dg.AssetKey) -> dg.AssetCheckResult:
    """The check's result with what the Checks tab shows: definition, parameters, observed
    value, counts, the sample of unexpected values (failures only), cost and statement ids."""
    case = outcome.case
    metadata: dict[str, Any] = {
        "test_definition": case.test_definition,
        "parameters": dg.MetadataValue.json(_jsonable(dict(case.parameters))),
    }
    if case.column_name:
        metadata["column"] = case.column_name
    if outcome.observed_value is not None:
        metadata["observed_value"] = _observed(outcome.observed_value)
    counts = {
        "element_count": outcome.element_count,
        "unexpected_count": outcome.unexpected_count,
        "unexpected_percent": outcome.unexpected_percent,
        "bytes_scanned": outcome.bytes_scanned,
    }
    metadata |= {k: v for k, v in counts.items() if v is not None}
    if not outcome.passed and outcome.sample:
        metadata["unexpected_sample"] = dg.MetadataValue.json(
            _jsonable(list(outcome.sample)[:SAMPLE_CAP])
        )
    metadata["statement_ids"] = dg.MetadataValue.json(list(outcome.statement_ids))
    if outcome.error:
        metadata["error"] = dg.MetadataValue.text(outcome.error)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=case.name,
        passed=outcome.passed,
        severity=SEVERITY[outcome.severity or case.severity],
        metadata=metadata,
        description=outcome.error,
    )


def _observed(value: Any) -> Any:
    """Numbers and text as themselves (numbers are plotted over runs), the rest as JSON."""
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int | float | str):
        return value
    plain = _jsonable(value)
    return dg.MetadataValue.json(plain) if isinstance(plain, dict | list) else str(plain)


def _jsonable(value: Any) -> Any:
    """JSON metadata needs a dict or list at the top and plain values inside."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
