"""quality.yaml: OpenMetadata's test-suite shape read into test cases, and every mistake named
by file, line and test without stopping the other tables' checks from loading."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from athena_catalog.defs.quality.definitions import quality_definitions
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.state import ColumnRecord, TableRecord, TablesState
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.quality.spec import load_spec, parse_spec
from athena_catalog.store import CatalogStore
from athena_catalog.store.schema import quality_results
from athena_catalog_tests.test_quality_checks import run_in_repo

REPO = Path(__file__).parents[1]


def _table(catalog: str, database: str, name: str, *columns: str) -> TableRecord:
    from athena_catalog.names import table_fqn

    return TableRecord(
        table_fqn(catalog, database, name),
        catalog,
        database,
        name,
        columns=tuple(ColumnRecord(c, "bigint") for c in columns),
    )


TABLES = [
    _table("AwsDataCatalog", "raw", "orders", "order_id", "amount", "status"),
    _table("AwsDataCatalog", "Odd-Names", "select", "order", "user id"),
    _table("AwsDataCatalog", "odd.db", "t.1", "x"),
]
STATE = TablesState(tables={t.fqn: t for t in TABLES})
CATALOG = {t.fqn: {c.name: c.data_type for c in t.columns} for t in TABLES}


def spec_of(text: str, path: str = "q.yaml"):  # type: ignore[no-untyped-def]
    return parse_spec(textwrap.dedent(text), CATALOG, path)


GOOD = """\
suites:
  - entityFullyQualifiedName: AwsDataCatalog.raw.orders
    testCases:
      - name: order_id_unique
        testDefinitionName: columnValuesToBeUnique
        columnName: order_id
        severity: warn
        blocking: true
      - name: amount_in_range
        testDefinitionName: columnValuesToBeBetween
        columnName: amount
        parameterValues:
          - {name: minValue, value: 0}
          - {name: maxValue, value: 10000}
"""


def test_a_good_file_gives_its_cases_in_order_with_their_lines() -> None:
    spec = spec_of(GOOD)
    assert spec.errors == ()
    cases = spec.suites["awsdatacatalog.raw.orders"]
    assert [c.name for c in cases] == ["order_id_unique", "amount_in_range"]
    first, second = cases
    assert (first.test_definition, first.column_name) == ("columnValuesToBeUnique", "order_id")
    assert (first.severity, first.blocking, first.where) == ("warn", True, "q.yaml:4")
    assert second.parameters == {"minValue": 0, "maxValue": 10000}
    assert (second.severity, second.blocking, second.where) == ("error", False, "q.yaml:9")


def test_quoted_and_bare_names_of_the_same_table_are_one_table() -> None:
    spec = spec_of("""\
        suites:
          - entityFullyQualifiedName: awsdatacatalog."Odd-Names"."select"
            testCases:
              - {name: a, testDefinitionName: columnValuesToBeUnique, columnName: order}
          - entityFullyQualifiedName: AWSDATACATALOG.Odd-Names.SELECT
            testCases:
              - {name: b, testDefinitionName: columnValuesToBeNotNull, columnName: user id}
          - entityFullyQualifiedName: awsdatacatalog."odd.db"."t.1"
            testCases:
              - {name: c, testDefinitionName: tableRowCountToEqual,
                 parameterValues: [{name: value, value: 1}]}
        """)
    assert spec.errors == ()
    assert [c.name for c in spec.suites["awsdatacatalog.odd-names.select"]] == ["a", "b"]
    assert [c.name for c in spec.suites['awsdatacatalog."odd.db"."t.1"']] == ["c"]


BAD = """\
suites:
  - entityFullyQualifiedName: awsdatacatalog.raw.orders
    testCases:
      - name: typo_definition
        testDefinitionName: columnValuesToBeBetwen
        columnName: amount
      - name: missing_parameter
        testDefinitionName: tableRowCountToEqual
      - name: mistyped_parameter
        testDefinitionName: columnValuesToBeBetween
        columnName: amount
        parameterValues:
          - {name: minValue, value: zero}
      - name: unknown_column
        testDefinitionName: columnValuesToBeNotNull
        columnName: amont
      - name: bad_severity
        testDefinitionName: columnValuesToBeNotNull
        columnName: amount
        severity: fatal
      - name: order_id_unique
        testDefinitionName: columnValuesToBeUnique
        columnName: order_id
      - name: order_id_unique
        testDefinitionName: columnValuesToBeNotNull
        columnName: order_id
      - name: fine
        testDefinitionName: columnValuesToBeNotNull
        columnName: status
      - name: has space
        testDefinitionName: columnValuesToBeNotNull
        columnName: status
  - entityFullyQualifiedName: awsdatacatalog.raw.ordrs
    testCases:
      - {name: x, testDefinitionName: columnValuesToBeUnique, columnName: order_id}
  - entityFullyQualifiedName: awsdatacatalog."Odd-Names"."select"
    testCases:
      - {name: order_unique, testDefinitionName: columnValuesToBeUnique, columnName: order}
"""


def test_every_error_names_the_file_the_line_and_the_test() -> None:
    spec = spec_of(BAD, "conf/quality.yaml")
    messages = [str(e) for e in spec.errors]
    orders = "table awsdatacatalog.raw.orders"
    expected_starts = [
        f"conf/quality.yaml:4: {orders}, test 'typo_definition': unknown testDefinitionName",
        f"conf/quality.yaml:7: {orders}, test 'missing_parameter': missing parameter 'value'",
        f"conf/quality.yaml:9: {orders}, test 'mistyped_parameter': parameter 'minValue':",
        f"conf/quality.yaml:14: {orders}, test 'unknown_column': columnName: unknown column",
        f"conf/quality.yaml:17: {orders}, test 'bad_severity': severity must be error or warn",
        f"conf/quality.yaml:24: {orders}, test 'order_id_unique': duplicate name: first declared "
        "on line 21",
        f"conf/quality.yaml:30: {orders}: a name may hold only letters, digits and underscores",
        "conf/quality.yaml:33: table awsdatacatalog.raw.ordrs: unknown table: not in the catalog "
        "store (did you mean awsdatacatalog.raw.orders?)",
    ]
    assert len(messages) == len(expected_starts), messages
    for message, start in zip(messages, expected_starts, strict=True):
        assert message.startswith(start), (message, start)
    assert "(did you mean 'columnValuesToBeBetween'?)" in messages[0]
    assert "expected a number, got 'zero'" in messages[2]
    assert "(did you mean 'amount'?)" in messages[3]


def test_bad_tests_stay_as_failing_checks_and_the_rest_load() -> None:
    spec = spec_of(BAD)
    orders = "awsdatacatalog.raw.orders"
    assert [c.name for c in spec.valid_cases(orders)] == ["fine"]
    assert sorted(name for fqn, name in spec.invalid if fqn == orders) == [
        "bad_severity",
        "missing_parameter",
        "mistyped_parameter",
        "order_id_unique",
        "typo_definition",
        "unknown_column",
    ]
    # The first of two same-named tests keeps the name and says where the other one is.
    assert str(spec.invalid[(orders, "order_id_unique")]).startswith(
        "q.yaml:21: table awsdatacatalog.raw.orders, test 'order_id_unique': duplicate name: "
        "declared again on line 24"
    )
    assert [c.name for c in spec.valid_cases("awsdatacatalog.odd-names.select")] == ["order_unique"]
    assert "awsdatacatalog.raw.ordrs" not in spec.suites


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("suites:\n  - entityFullyQualifiedName: a.b.c\n    testCases: [\n", 4, "invalid YAML"),
        ("suites:\n  - name: a\n    name: b\n", 3, "duplicate key 'name' (first on line 2)"),
        ("suites:\n\t- x\n", 2, "invalid YAML"),
        ("suites: {}\n", 1, "'suites' must be a list"),
        ("tests: []\n", 1, "expected a mapping with a 'suites' list"),
        ("suites:\n  - testCases: []\n", 2, "a suite needs entityFullyQualifiedName"),
        ('suites:\n  - entityFullyQualifiedName: a."b\n', 2, "unterminated quoted part"),
        ("suites:\n  - entityFullyQualifiedName: a.b\n", 2, "expected 3 parts"),
    ],
)
def test_file_level_errors_name_the_file_and_line(text: str, line: int, problem: str) -> None:
    spec = spec_of(text)
    assert spec.suites == {}
    assert len(spec.errors) == 1
    assert str(spec.errors[0]).startswith(f"q.yaml:{line}: "), spec.errors[0]
    assert problem in str(spec.errors[0])


def test_a_missing_file_is_no_tests_unless_it_was_configured(tmp_path: Path) -> None:
    assert load_spec(tmp_path / "quality.yaml", CATALOG, required=False).errors == ()
    spec = load_spec(tmp_path / "quality.yaml", CATALOG, required=True)
    assert [str(e) for e in spec.errors] == [f"{tmp_path / 'quality.yaml'}:1: file not found"]
    assert parse_spec("", CATALOG).errors == ()  # an empty file: no tests, no error


def with_resources(defs: dg.Definitions, folder: Path) -> dg.Definitions:
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(folder / "no_lakehouse")),
        "catalog_store": CatalogStoreResource(url=f"sqlite:///{folder / 'catalog.db'}"),
    }
    return dg.Definitions.merge(defs, dg.Definitions(resources=resources))


def test_the_checks_of_a_bad_file_load_and_its_errors_are_in_the_job_metadata(
    tmp_path: Path,
) -> None:
    spec = spec_of(BAD)
    defs = with_resources(quality_definitions(spec, STATE), tmp_path)
    dg.Definitions.validate_loadable(defs)
    translator = AthenaTableTranslator()
    orders = translator.get_asset_key(STATE.tables["awsdatacatalog.raw.orders"])
    odd = translator.get_asset_key(STATE.tables["awsdatacatalog.odd-names.select"])
    keys = {k for c in defs.asset_checks or [] for k in c.check_keys}  # type: ignore[union-attr]
    assert dg.AssetCheckKey(odd, "order_unique") in keys
    assert dg.AssetCheckKey(orders, "fine") in keys
    assert dg.AssetCheckKey(orders, "typo_definition") in keys  # fails with its error
    assert len(keys) == 8  # 7 names on orders (one of them twice), 1 on select
    job = defs.resolve_job_def("data_quality")
    errors = job.metadata["load_errors"].value
    assert "q.yaml:33: table awsdatacatalog.raw.ordrs: unknown table" in errors
    assert "8 errors in the file" in (job.description or "")


def test_a_bad_test_fails_its_check_with_the_error_and_is_recorded(tmp_path: Path) -> None:
    """Selecting only a bad test needs no engine: it fails with the file, line and message."""
    spec = spec_of(BAD)
    defs = with_resources(quality_definitions(spec, STATE), tmp_path)
    orders = AthenaTableTranslator().get_asset_key(STATE.tables["awsdatacatalog.raw.orders"])
    job = defs.resolve_job_def("data_quality").get_subset(
        asset_check_selection={dg.AssetCheckKey(orders, "typo_definition")}
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("typo_definition", False)
    error = evaluation.metadata["error"].value
    assert error.startswith("q.yaml:4: table awsdatacatalog.raw.orders, test 'typo_definition'")
    store = CatalogStore(f"sqlite:///{tmp_path / 'catalog.db'}")
    with store.read() as conn:
        rows = conn.execute(select(quality_results)).mappings().all()
    store.close()
    assert [(r["check_name"], r["passed"], r["error"]) for r in rows] == [
        ("typo_definition", False, error)
    ]


@pytest.mark.parametrize(
    "content", ["suites: [\n  {entityFullyQualifiedName: a.b.c", None, "suites: []\n"]
)
def test_the_code_location_loads_with_a_bad_missing_or_empty_file_and_no_store(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "quality.yaml"
    if content is not None:
        path.write_text(content)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ATHENA_CATALOG_HOME": str(tmp_path / "home"),
        "ATHENA_CATALOG_QUALITY_FILE": str(path),
    }
    done = run_in_repo(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "athena_catalog.definitions",
        ],
        env,
    )
    if content is None:
        assert f"{path}:1: file not found" in done.stderr
    elif content.startswith("suites: [\n"):
        assert f"{path}:2: invalid YAML" in done.stderr


def test_openmetadata_string_values_are_typed_like_yaml_scalars() -> None:
    """OpenMetadata's exports write every parameter value as a string: "0" is a number,
    "true" a boolean, and what is no number still names the parameter."""
    from athena_catalog.quality.cases import TestCase
    from athena_catalog.quality.definitions import parameter_errors, typed_parameters

    columns = {"amount": "double", "order_id": "bigint"}
    between = TestCase(
        "awsdatacatalog.raw.orders",
        "amount_in_range",
        "columnValuesToBeBetween",
        "amount",
        {"minValue": "0", "maxValue": " 10000.5 "},
    )
    assert parameter_errors(between, columns) == []
    assert typed_parameters(between) == {"minValue": 0, "maxValue": 10000.5}
    match = TestCase(
        "awsdatacatalog.raw.orders",
        "columns",
        "tableColumnToMatchSet",
        parameters={"columnNames": "amount, order_id", "ordered": "true"},
    )
    assert parameter_errors(match, columns) == []
    assert typed_parameters(match)["ordered"] is True
    bad = TestCase(
        "awsdatacatalog.raw.orders",
        "bad",
        "columnValuesToBeBetween",
        "amount",
        {"minValue": "nan", "maxValue": "ten"},
    )
    errors = parameter_errors(bad, columns)
    assert any("'minValue'" in e and "expected a number" in e for e in errors), errors
    assert any("'maxValue'" in e and "'ten'" in e for e in errors), errors
