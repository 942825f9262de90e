"""Run one table's test cases through Great Expectations, as SQL where the data lives.

One ephemeral GX context, one SQL datasource on ``Engine.sqlalchemy_engine`` (the
``awsathena`` dialect on either engine, no temp tables), one batch of the whole table, found
through the engine's listings (no probe statement). The expectations' metrics are resolved
as one graph whose bundled metrics all go out together: a passing suite of OpenMetadata tests
is one SELECT per table (see ``_Run._compute``). Nothing row-level is fetched for a check
that passes (``BOOLEAN_ONLY``'s metrics; observed values come from the same resolved
metrics, ``BASIC``'s shape). Only a failed row-level check costs one more statement: its
capped sample of unexpected values. Results are matched to cases by each expectation's
``meta``.

A check whose SQL fails becomes a failed ``Outcome`` with the error; a shared SELECT that
fails is halved until the failing metric is alone, so only the check that broke it records
the error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

import sqlalchemy
from sqlalchemy import event

from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.names import table_fqn
from athena_catalog.quality.cases import Outcome, Severity, TestCase
from athena_catalog.quality.definitions import DEFINITIONS, expectation_kwargs

if TYPE_CHECKING:
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.validator.validator import Validator

    from athena_catalog.engines.contract import Engine

SAMPLE_SIZE = 20  # unexpected values kept per failed check
STAND_IN = "<athena_catalog: a value not computed yet>"
SAMPLE_FAILED = "the check failed; its sample of unexpected values could not be fetched"
CASE_KEY = "athena_catalog_case"  # the expectation's meta key holding its case index
# GX's severities -> the check's.
SEVERITIES: dict[str, Severity] = {"critical": "error", "warning": "warn", "info": "warn"}
GX_SEVERITY = {"error": "critical", "warn": "warning"}


class _Column(Protocol):
    @property
    def name(self) -> str: ...


class TableRef(Protocol):
    """The table the cases run on, as Athena spells its parts, with its columns: an
    ``engines.records.Table`` or the tables state's ``TableRecord``."""

    @property
    def catalog(self) -> str: ...

    @property
    def database(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> Sequence[_Column]: ...


@dataclass
class _Statements:
    """Statements one SQLAlchemy engine sent: query ids and bytes, in order."""

    ids: list[str] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)

    def mark(self) -> int:
        return len(self.ids)

    def since(self, mark: int) -> tuple[list[str], int]:
        return self.ids[mark:], sum(self.bytes[mark:])


@contextmanager
def _counted(sa_engine: sqlalchemy.Engine) -> Iterator[_Statements]:
    statements = _Statements()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        statements.ids.append(str(getattr(cursor, "query_id", None) or uuid.uuid4()))
        statements.bytes.append(int(getattr(cursor, "data_scanned_in_bytes", None) or 0))
        statements.sql.append(statement)

    event.listen(sa_engine, "after_cursor_execute", after)
    try:
        yield statements
    finally:
        event.remove(sa_engine, "after_cursor_execute", after)


class _StandInRead(Exception):
    """A metric function read the value of an input that is still waiting for the bundle."""


class _Waiting:
    """The stand-in value of a bundled metric not sent yet: any use of it fails."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise _StandInRead("an input of this metric is not computed yet")

    __bool__ = __int__ = __float__ = __index__ = __len__ = __iter__ = __getitem__ = _fail
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __floordiv__ = __mod__ = __pow__ = __neg__ = _fail
    __str__ = __format__ = _fail
    __clause_element__ = _fail  # SQLAlchemy asks for it before it uses a value in SQL
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return STAND_IN  # named in SQLAlchemy's "Literal Python value expected, got ..."


_WAITING = _Waiting()


def _read_a_stand_in(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _StandInRead) or STAND_IN in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def json_ready(value: Any) -> Any:
    """Observed values and samples as JSON: no numpy scalars, Decimals, dates or NaN."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, list | dict):
        value = value.item()  # numpy scalar
    if isinstance(value, decimal.Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def build_expectation(case: TestCase, table: TableRef, index: int) -> Expectation:
    """The GX expectation of one (valid) case, its case index in ``meta``."""
    from great_expectations.expectations.registry import get_expectation_impl

    import athena_catalog.quality.expectations as ours

    name, kwargs = expectation_kwargs(case)
    if name == "ExpectTableToMatchOtherTable" and not kwargs.get("use_columns"):
        keys = {k.lower() for k in kwargs["key_columns"]}
        kwargs["use_columns"] = [c.name for c in table.columns if c.name.lower() not in keys]
    if case.native:
        cls = get_expectation_impl(name)
    else:
        import great_expectations.expectations as gxe

        cls = getattr(ours, name, None) or getattr(gxe, name)
    kwargs.setdefault("severity", GX_SEVERITY[case.severity])
    expectation: Expectation = cls(**kwargs)
    expectation.meta = {**(expectation.meta or {}), CASE_KEY: index}
    return expectation


def run_cases(
    engine: Engine,
    table: TableRef,
    cases: Sequence[TestCase],
    *,
    sample_size: int = SAMPLE_SIZE,
    result_format: Literal["BOOLEAN_ONLY", "BASIC"] = "BOOLEAN_ONLY",
) -> list[Outcome]:
    """One ``Outcome`` per case, in the order of ``cases``; never raises for a case's SQL.

    ``result_format`` BOOLEAN_ONLY fetches nothing row-level for passing checks; BASIC asks GX
    for unexpected values of every row-level check (one more statement each, for comparison).
    """
    if not cases:
        return []
    sa_engine = engine.sqlalchemy_engine(table.catalog or DEFAULT_CATALOG)
    try:
        with _counted(sa_engine) as statements:
            return _Run(sa_engine, table, cases, statements, sample_size, result_format).run()
    finally:
        sa_engine.dispose()


class _Run:
    def __init__(
        self,
        sa_engine: sqlalchemy.Engine,
        table: TableRef,
        cases: Sequence[TestCase],
        statements: _Statements,
        sample_size: int,
        result_format: str,
    ):
        self.sa_engine, self.table, self.cases = sa_engine, table, list(cases)
        self.statements, self.sample_size, self.result_format = (
            statements,
            sample_size,
            result_format,
        )
        self.outcomes: dict[int, Outcome] = {}
        self.own: dict[int, tuple[list[str], int]] = {}  # statements one case cost alone
        self.resolved: dict[Any, Any] = {}  # metric id -> value, for the whole run

    def run(self) -> list[Outcome]:
        expectations: dict[int, Expectation] = {}
        for i, case in enumerate(self.cases):
            try:
                expectations[i] = build_expectation(case, self.table, i)
            except Exception as exc:  # a bad native kwarg: this case only
                self.outcomes[i] = Outcome(case, False, error=f"cannot build the check: {exc}")
        start = self.statements.mark()
        try:
            validator = self._validator()
        except Exception as exc:  # the table cannot be read: every case says so
            fqn = table_fqn(self.table.catalog, self.table.database, self.table.name)
            message = f"cannot read {fqn}: {_message(exc)}"
            shared_ids, shared_bytes = self.statements.since(start)
            for i in expectations:
                self.outcomes[i] = Outcome(
                    self.cases[i], False, error=message, statement_ids=tuple(shared_ids)
                )
            return [self.outcomes[i] for i in range(len(self.cases))]
        self._evaluate(validator, expectations)
        shared_ids, shared_bytes = self.statements.since(start)
        own_ids = {s for ids, _ in self.own.values() for s in ids}
        shared = [s for s in shared_ids if s not in own_ids]
        shared_share = (shared_bytes - sum(b for _, b in self.own.values())) // max(
            len(expectations), 1
        )
        for i in expectations:
            ids, spent = self.own.get(i, ([], 0))
            self.outcomes[i] = replace(
                self.outcomes[i],
                statement_ids=tuple(shared + ids),
                bytes_scanned=shared_share + spent,
            )
        return [self.outcomes[i] for i in range(len(self.cases))]

    def _validator(self) -> Validator:
        import great_expectations as gx
        from great_expectations.validator.validator import Validator

        from athena_catalog.quality.datasource import bind_datasource

        context = gx.get_context(mode="ephemeral")
        with bind_datasource(context, self.sa_engine) as datasource:
            asset = datasource.add_table_asset(
                "table",
                # Bracketed: GX then always quotes it (unbracketed names are never quoted).
                table_name=f'"{self.table.name}"',
                schema_name=self.table.database,
            )
            batch = asset.add_batch_definition_whole_table("whole table").get_batch()
            return Validator(execution_engine=datasource.get_execution_engine(), batches=[batch])

    def _evaluate(self, validator: Validator, expectations: Mapping[int, Expectation]) -> None:
        errors = self._resolve(validator, expectations)
        for i, message in errors.items():
            self.outcomes[i] = Outcome(self.cases[i], False, error=message)
        self._samples(validator, expectations)

    def _resolve(
        self, validator: Validator, expectations: Mapping[int, Expectation]
    ) -> dict[int, str]:
        """Resolve the expectations' metrics in one graph; outcomes for those that resolved,
        the error message of those that did not."""
        engine = validator.execution_engine
        runtime = self._runtime()
        dependencies = {
            i: e.get_validation_dependencies(execution_engine=engine, runtime_configuration=runtime)
            for i, e in expectations.items()
        }
        configurations = {
            c.id: c for d in dependencies.values() for c in d.get_metric_configurations()
        }
        try:
            resolved, aborted = self._compute(validator, list(configurations.values()))
        except Exception as exc:
            return {i: _message(exc) for i in expectations}
        errors: dict[int, str] = {}
        for i, expectation in expectations.items():
            needed = dependencies[i].get_metric_configurations()
            failed = [aborted[c.id] for c in needed if c.id in aborted]
            if failed or any(c.id not in resolved for c in needed):
                errors[i] = _aborted_message(failed)
                continue
            try:
                self.outcomes[i] = self._outcome(
                    self.cases[i], expectation, engine, resolved, dependencies[i]
                )
            except Exception as exc:
                errors[i] = _message(exc)
        return errors

    def _outcome(
        self,
        case: TestCase,
        expectation: Expectation,
        engine: Any,
        resolved: Mapping[Any, Any],
        dependencies: Any,
    ) -> Outcome:
        runtime = self._runtime() if _is_map(expectation) else {"result_format": "BASIC"}
        result = expectation.metrics_validate(
            metrics=dict(resolved), execution_engine=engine, runtime_configuration=runtime
        )
        severity = SEVERITIES.get(
            str(getattr(expectation.severity, "value", expectation.severity)), case.severity
        )
        map_metric = getattr(expectation, "map_metric", None)
        if map_metric:

            def metric(name: str) -> Any:
                config = dependencies.get_metric_configuration(name)
                return json_ready(resolved[config.id]) if config is not None else None

            element_count = metric("table.row_count")
            unexpected = metric(f"{map_metric}.unexpected_count")
            nulls = metric("column_values.nonnull.unexpected_count") or 0
            nonnull = (element_count or 0) - nulls
            percent = unexpected / nonnull * 100 if unexpected is not None and nonnull else 0.0
            values = metric(f"{map_metric}.unexpected_values")
            return Outcome(
                case,
                bool(result.success),
                observed_value=None,
                element_count=element_count,
                unexpected_count=unexpected,
                unexpected_percent=percent,
                sample=values[: self.sample_size] if values and not result.success else None,
                severity=severity,
            )
        found = result.result or {}
        if "observed_value" not in found and "unexpected_count" in found:
            # GX's map shape from an aggregate expectation (ours for uniqueness)
            return Outcome(
                case,
                bool(result.success),
                element_count=json_ready(found.get("element_count")),
                unexpected_count=json_ready(found["unexpected_count"]),
                unexpected_percent=json_ready(found.get("unexpected_percent")),
                severity=severity,
            )
        return Outcome(
            case,
            bool(result.success),
            observed_value=json_ready(found.get("observed_value")),
            severity=severity,
        )

    def _compute(
        self, validator: Validator, configurations: list[Any]
    ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        """Resolve metrics in one GX graph, seeded with every metric this run resolved
        already (a later step, such as a sample, never recomputes the row count).

        GX resolves its graph level by level and sends one bundle of aggregates per level,
        mostly because every expression it builds declares the table's row count as an
        input it never reads. Here every bundled metric waits, and all of them go out
        together once nothing else can be resolved: one SELECT per domain. The expressions
        they are made of (GX's partial metric functions) are built meanwhile, with a
        stand-in for any input still waiting that fails if it is read; a function that
        reads one waits too, as do metrics computed by a query of their own.
        """
        from great_expectations.core.metric_function_types import MetricPartialFunctionTypes
        from great_expectations.expectations.registry import get_metric_provider

        engine = validator.execution_engine
        graph = validator.metrics_calculator.build_metric_dependency_graph(
            configurations, runtime_configuration={"catch_exceptions": True}
        )
        resolved = dict(self.resolved)
        aborted: dict[Any, str] = {}
        deferred: dict[Any, Any] = {}  # bundled metrics waiting for the one bundle
        reads_values: set[Any] = set()  # expressions that read a stand-in: they wait

        def function(metric: Any) -> Any:
            return get_metric_provider(metric.metric_name, engine)[1]

        def may_wait_for_values(metric: Any) -> bool:
            if function(metric) is None:  # bundled: its inputs' values are never read
                return False
            partial = isinstance(
                getattr(function(metric), "metric_fn_type", None), MetricPartialFunctionTypes
            )
            return not partial or metric.id in reads_values

        while True:
            inputs = {**resolved, **dict.fromkeys(deferred, _WAITING)}
            ready, _ = graph._parse(metrics={**inputs, **aborted})
            now = [
                m
                for m in ready
                if not (
                    may_wait_for_values(m)
                    and any(d.id in deferred for d in m.metric_dependencies.values())
                )
            ]
            later = [m for m in now if function(m) is None]
            deferred.update((m.id, m) for m in later)
            direct = [m for m in now if function(m) is not None]
            if later:
                continue
            if direct:
                for metric in direct:  # one at a time: a failure is that metric's alone
                    error = self._resolve_part(engine, [metric], inputs, resolved, aborted)
                    if error is not None and _read_a_stand_in(error):
                        del aborted[metric.id]
                        reads_values.add(metric.id)
            elif deferred:
                bundle = sorted(deferred.values(), key=lambda m: m.id)  # the same SQL each run
                self._resolve_part(engine, bundle, inputs, resolved, aborted)
                deferred.clear()
            else:
                break
        self.resolved.update(resolved)
        return resolved, aborted

    def _resolve_part(
        self,
        engine: Any,
        metrics: list[Any],
        inputs: Mapping[Any, Any],
        resolved: dict[Any, Any],
        aborted: dict[Any, str],
    ) -> BaseException | None:
        """Resolve ``metrics`` (bundled ones in one SELECT per domain) into ``resolved``; if
        that fails, halve the set until each failing metric is alone and record its error
        in ``aborted``. Returns the last error, if any.

        GX's own fallback (every metric of a failed bundle alone) would cost one statement
        per metric; halving costs about two per level of halving."""
        try:
            direct, bundle = engine._build_direct_and_bundled_metric_computation_configurations(
                metrics_to_resolve=metrics,
                metrics=dict(inputs),
                runtime_configuration={"catch_exceptions": True},
            )
            values = engine._process_direct_and_bundled_metric_computation_configurations(
                metric_fn_direct_configurations=direct, metric_fn_bundle_configurations=[]
            )
            values.update(engine.resolve_metric_bundle(metric_fn_bundle=bundle) if bundle else {})
        except Exception as exc:
            if len(metrics) == 1:
                aborted[metrics[0].id] = _message(exc)
                return exc
            half = len(metrics) // 2
            first = self._resolve_part(engine, metrics[:half], inputs, resolved, aborted)
            return self._resolve_part(engine, metrics[half:], inputs, resolved, aborted) or first
        resolved.update(values)
        return None

    def _runtime(self) -> dict[str, Any]:
        if self.result_format == "BOOLEAN_ONLY":
            return {"result_format": "BOOLEAN_ONLY"}
        return {
            "result_format": {
                "result_format": "BASIC",
                "partial_unexpected_count": self.sample_size,
            }
        }

    def _samples(self, validator: Validator, expectations: Mapping[int, Expectation]) -> None:
        """A capped sample of unexpected values (or rows) for each failed row-level check. A
        sample that cannot be fetched leaves its case failed, with why; the others go on."""
        for i, expectation in expectations.items():
            outcome = self.outcomes[i]
            if outcome.passed or outcome.error or outcome.sample is not None:
                continue
            mark = self.statements.mark()
            try:
                error = self._sample(validator, i, expectation)
            except Exception as exc:  # this case's sample only
                error = _message(exc)
            ids, spent = self.statements.since(mark)
            before_ids, before_bytes = self.own.get(i, ([], 0))
            self.own[i] = (before_ids + ids, before_bytes + spent)
            if error is not None:
                self.outcomes[i] = replace(self.outcomes[i], error=f"{SAMPLE_FAILED}: {error}")

    def _sample(self, validator: Validator, i: int, expectation: Expectation) -> str | None:
        """Fetch case ``i``'s sample into its outcome; the error message if its SQL failed."""
        from great_expectations.validator.metric_configuration import MetricConfiguration

        import athena_catalog.quality.expectations as ours

        engine = validator.execution_engine
        outcome = self.outcomes[i]
        map_metric = getattr(expectation, "map_metric", None)
        if map_metric:
            dependencies = expectation.get_validation_dependencies(
                execution_engine=engine,
                runtime_configuration={
                    "result_format": {
                        "result_format": "BASIC",
                        "partial_unexpected_count": self.sample_size,
                    }
                },
            )
            config = dependencies.get_metric_configuration(f"{map_metric}.unexpected_values")
        elif type(expectation) in ours.SAMPLE_METRICS:
            if getattr(expectation, "strategy", "ROWS") != "ROWS":
                return None
            main = expectation.get_validation_dependencies(
                execution_engine=engine
            ).get_metric_configurations()[0]
            config = MetricConfiguration(
                ours.SAMPLE_METRICS[type(expectation)],
                metric_domain_kwargs=main.metric_domain_kwargs,
                metric_value_kwargs=main.metric_value_kwargs,
            )
        else:
            return None
        if config is None:
            return None
        resolved, aborted = self._compute(validator, [config])
        if config.id not in resolved:
            return _aborted_message([aborted[config.id]] if config.id in aborted else [])
        found = json_ready(resolved[config.id])
        if isinstance(found, dict):  # the exact unexpected count comes with the sample
            count = found["unexpected_count"]
            self.outcomes[i] = replace(
                outcome,
                sample=found["values"][: self.sample_size],
                unexpected_count=count,
                unexpected_percent=_rescaled(
                    outcome.unexpected_percent, outcome.unexpected_count, count
                ),
            )
        else:
            self.outcomes[i] = replace(outcome, sample=found[: self.sample_size])
        return None


def _rescaled(percent: float | None, before: int | None, after: int) -> float | None:
    """``percent`` of ``before`` unexpected values, for ``after`` of them (same base)."""
    if percent is None or not before:
        return percent
    return percent * after / before


def _is_map(expectation: Expectation) -> bool:
    return bool(getattr(expectation, "map_metric", None))


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:1000]


def _aborted_message(failed: Sequence[str]) -> str:
    for message in failed:
        return message
    return "the check's metrics could not be computed"


def is_row_level(case: TestCase) -> bool:
    """Whether a failed ``case`` fetches a sample (row-level OpenMetadata tests, native map
    expectations)."""
    definition = DEFINITIONS.get(case.test_definition)
    return bool(definition and definition.row_level) or case.native
