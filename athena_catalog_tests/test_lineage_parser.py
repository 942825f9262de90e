"""``parse_lineage`` beyond the corpus: robustness, bounds, fingerprints and degraded input."""

from __future__ import annotations

import time

import pytest

from athena_catalog.lineage import LineageResult, LineageSchema, parse_lineage
from athena_catalog.lineage.fingerprint import fingerprint, normalize

SCHEMA = {
    "awsdatacatalog.sales.orders": {"order_id": "bigint", "amount": "double", "dt": "string"},
    "awsdatacatalog.sales.summary": {"order_id": "bigint", "total": "double", "dt": "string"},
}


@pytest.mark.parametrize(
    "sql",
    ["", "   ", "-- only a comment", "SELEC 1", "SELECT (", "CREATE TABLE", "UNLOAD SELECT 1",
     "UNLOAD (SELECT 1", "MERGE INTO", "\x00\x01", "SELECT 'unterminated", "))))((((",
     "SELECT 1 FROM t WHERE", "SELECT 1; SELECT 2"],
)  # fmt: skip
def test_never_raises_and_says_why(sql: str) -> None:
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert isinstance(result, LineageResult)
    assert result.error
    assert result.target is None


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("INSERT INTO SELECT order_id FROM orders", "parse error: INSERT INTO has no target table"),
        (
            "INSERT INTO (dt, total) SELECT dt, amount FROM orders",
            "parse error: INSERT INTO has no target table",
        ),
        ("INSERT INTO VALUES (1)", "parse error: INSERT INTO has no target table"),
        ("/* unterminated", "parse error: unterminated comment at character 1"),
        ("  -- note\n/* open", "parse error: unterminated comment at character 11"),
        ("SELECT 1 /* open", "parse error: unterminated comment at character 10"),
        ("SELECT 'open FROM orders", "parse error: unterminated string at character 8"),
        ('SELECT "open FROM orders', "parse error: unterminated quoted identifier at character 8"),
        ("   1", "unsupported statement: Literal"),
    ],
)
def test_malformed_statements_get_a_precise_reason(sql: str, error: str) -> None:
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert (result.error, result.target) == (error, None)


@pytest.mark.parametrize(
    ("position", "clause", "shown"),
    [
        ("1111111111111111111111", "GROUP BY", "1111111111111111111111"),
        ("9" * 5000, "GROUP BY", "9" * 27 + "..."),  # past int()'s 4,300 digits
        ("0", "GROUP BY", "0"),  # sqlglot would silently take the last column
        ("3", "ORDER BY", "3"),
        ("99999999999999999999", "ORDER BY", "99999999999999999999"),
    ],
)
def test_a_position_outside_the_select_list_is_named(
    position: str, clause: str, shown: str
) -> None:
    sql = f"CREATE TABLE t AS SELECT dt, sum(amount) AS total FROM orders {clause} {position}"
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert result.warnings == [
        f"unresolved columns: {clause} position {shown} is not in the select list of 2 columns"
    ]
    # The tables are still exact; only the column lineage is lost, a warning, not an error.
    assert result.error is None
    assert (result.target, result.sources) == (
        "awsdatacatalog.sales.t",
        {"awsdatacatalog.sales.orders"},
    )


def test_pathological_nesting_is_refused_fast() -> None:
    started = time.perf_counter()
    result = parse_lineage("SELECT " + "(" * 5000 + "1" + ")" * 5000, "c", "d", {})
    assert result.error and result.error.startswith("too deeply nested")
    assert time.perf_counter() - started < 10  # refused up front; parsing it would not end


def test_deadline_bounds_a_slow_statement() -> None:
    # 150 nested CTEs each joining the previous one twice: far more work than 10 ms allows.
    ctes = ", ".join(
        f"c{i} AS (SELECT a.order_id, a.amount, a.dt"
        f" FROM c{i - 1} a JOIN c{i - 1} b ON a.dt = b.dt)"
        for i in range(1, 150)
    )
    sql = f"CREATE TABLE t AS WITH c0 AS (SELECT * FROM orders), {ctes} SELECT * FROM c149"
    started = time.perf_counter()
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA, timeout_s=0.01)
    if result.error is None:  # ran out of time in the columns: the tables are kept
        assert result.target == "awsdatacatalog.sales.t"
        assert result.sources == {"awsdatacatalog.sales.orders"}
        assert result.warnings == ["timeout: columns not analysed in time"]
    else:
        assert result.error.startswith("timeout")
    assert time.perf_counter() - started < 5


def test_without_schema_tables_are_exact_and_stars_are_reported() -> None:
    result = parse_lineage("CREATE TABLE t AS SELECT * FROM orders", "AwsDataCatalog", "Sales")
    assert result.target == "awsdatacatalog.sales.t"
    assert result.sources == {"awsdatacatalog.sales.orders"}
    assert result.columns == {}
    assert result.error is None
    assert result.warnings == ["unknown columns: SELECT * over a table not in the schema"]


def test_insert_without_list_into_unknown_table_keeps_tables() -> None:
    result = parse_lineage("INSERT INTO nowhere SELECT order_id FROM orders", "c", "sales", {})
    assert (result.target, result.sources) == ("c.sales.nowhere", {"c.sales.orders"})
    assert result.error is None
    assert result.warnings == ["unknown target columns: c.sales.nowhere (INSERT maps by position)"]


def test_insert_column_count_mismatch_is_reported() -> None:
    result = parse_lineage(
        "INSERT INTO summary SELECT order_id FROM orders", "awsdatacatalog", "sales", SCHEMA
    )
    assert result.target == "awsdatacatalog.sales.summary"
    assert result.error is None
    assert result.warnings == ["column count mismatch: 1 values, 3 columns"]


def test_a_shared_schema_index_gives_the_same_answer() -> None:
    sql = "INSERT INTO summary SELECT order_id, amount * 2, dt FROM orders"
    shared = LineageSchema(SCHEMA)
    assert parse_lineage(sql, "awsdatacatalog", "sales", shared) == parse_lineage(
        sql, "awsdatacatalog", "sales", SCHEMA
    )


def test_result_round_trips_through_json() -> None:
    result = parse_lineage(
        "INSERT INTO summary SELECT order_id, amount, dt FROM orders",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert LineageResult.from_json(result.to_json()) == result


def test_fingerprint_ignores_literals_whitespace_comments_and_case() -> None:
    a = "SELECT sum(amount) FROM orders WHERE dt >= '2024-01-01' AND order_id > 10 -- tile"
    b = "select  SUM(amount)\n from ORDERS where dt >= '2025-06-30' and order_id > 99999"
    assert fingerprint(a, "c", "d") == fingerprint(b, "c", "d")
    assert fingerprint(a, "c", "d") != fingerprint(a, "c", "other")
    assert normalize("SELECT col2 FROM t2 WHERE x = 1.5e3") == "select col2 from t2 where x = ?"


def test_fingerprint_keeps_s3_uris_and_quoted_identifiers_distinct() -> None:
    unload = "UNLOAD (SELECT 1) TO '{}'"
    assert fingerprint(unload.format("s3://b/Day=1/"), "c", "d") != fingerprint(
        unload.format("s3://b/Day=2/"), "c", "d"
    )
    assert "'s3://b/Day=1/'" in normalize(unload.format("s3://b/Day=1/"))
    assert normalize('SELECT "A b" FROM t') == 'select "a b" from t'


def test_join_keys_round_trip_through_json_and_older_cache_rows_load() -> None:
    result = parse_lineage(
        "INSERT INTO summary SELECT o.order_id, s.total, o.dt FROM orders o"
        " JOIN summary s ON s.order_id = o.order_id AND s.dt = o.dt",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert result.joins == {
        ("awsdatacatalog.sales.orders.dt", "awsdatacatalog.sales.summary.dt"),
        ("awsdatacatalog.sales.orders.order_id", "awsdatacatalog.sales.summary.order_id"),
    }
    data = result.to_json()
    assert data["joins"] == sorted(list(p) for p in result.joins)
    assert LineageResult.from_json(data) == result
    older = {k: v for k, v in data.items() if k != "joins"}  # a parse cached before joins
    assert LineageResult.from_json(older).joins == frozenset()


def test_join_keys_change_the_parser_version_in_the_fingerprint() -> None:
    from athena_catalog.lineage import fingerprint as module

    sql = "SELECT 1 FROM orders o JOIN summary s ON s.order_id = o.order_id"
    assert module.PARSER_VERSION != "1"  # cached parses of version 1 carry no join keys
    now = module.fingerprint(sql, "c", "d")
    module.PARSER_VERSION, saved = "1", module.PARSER_VERSION
    try:
        assert module.fingerprint(sql, "c", "d") != now
    finally:
        module.PARSER_VERSION = saved


def test_join_keys_without_schema_need_qualified_columns_and_add_no_error() -> None:
    qualified = parse_lineage("SELECT 1 FROM a JOIN b ON b.y = a.x", "c", "d")
    assert qualified.joins == {("c.d.a.x", "c.d.b.y")} and qualified.error is None
    ambiguous = parse_lineage("SELECT 1 FROM a JOIN b ON y = x", "c", "d")
    assert ambiguous.joins == frozenset() and ambiguous.error is None
    assert ambiguous.sources == {"c.d.a", "c.d.b"}


def test_join_keys_are_not_column_sources() -> None:
    result = parse_lineage(
        "CREATE TABLE t AS SELECT o.amount FROM orders o JOIN summary s ON s.order_id = o.order_id",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert result.columns == {"amount": {"awsdatacatalog.sales.orders.amount"}}
    assert result.joins == {
        ("awsdatacatalog.sales.orders.order_id", "awsdatacatalog.sales.summary.order_id")
    }


def test_a_read_whose_join_keys_time_out_keeps_its_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from athena_catalog.lineage import statements
    from athena_catalog.lineage.columns import DeadlineExceeded

    def expire(*_args: object, **_kwargs: object) -> None:
        raise DeadlineExceeded

    monkeypatch.setattr(statements, "trace_query", expire)
    sql = "SELECT o.dt FROM orders o JOIN summary s ON s.order_id = o.order_id"
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert result.sources == {"awsdatacatalog.sales.orders", "awsdatacatalog.sales.summary"}
    assert result.error is None
    assert result.warnings == ["timeout: columns not analysed in time"]
    assert result.joins == frozenset()


@pytest.mark.parametrize(
    ("failure", "warning"),
    [
        (RecursionError, "too deeply nested: columns hit the recursion limit"),
        (KeyError, "internal error: columns: KeyError: "),
    ],
)
def test_a_column_level_failure_never_costs_the_tables(
    monkeypatch: pytest.MonkeyPatch, failure: type[Exception], warning: str
) -> None:
    from athena_catalog.lineage import columns

    def fail(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(columns._Tracer, "outputs", fail)
    sql = "INSERT INTO summary SELECT o.order_id, o.amount, o.dt FROM orders o"
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert (result.target, result.sources) == (
        "awsdatacatalog.sales.summary",
        {"awsdatacatalog.sales.orders"},
    )
    assert result.error is None and result.columns == {}
    assert result.warnings == [warning]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t AS SELECT b AS a, a AS b FROM raw.x",  # a cycle of alias references
        "CREATE TABLE t AS SELECT a AS a, a || b AS b, b || a AS a FROM raw.x",
        "CREATE TABLE t AS SELECT "
        + ", ".join(f"c{i} || c{i} AS c{i + 1}" for i in range(400))
        + " FROM raw.x",
    ],
)
def test_select_list_alias_references_never_hit_the_recursion_limit(sql: str) -> None:
    result = parse_lineage(sql, "awsdatacatalog", "sales", SCHEMA)
    assert result.error is None
    assert (result.target, result.sources) == (
        "awsdatacatalog.sales.t",
        {"awsdatacatalog.raw.x"},
    )
    assert result.columns and all(result.columns.values())


def test_an_alias_chain_resolves_to_the_base_columns() -> None:
    chain = ", ".join(f"c{i} + 1 AS c{i + 1}" for i in range(1, 60))
    result = parse_lineage(
        f"CREATE TABLE t AS SELECT amount AS c1, {chain} FROM orders",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert result.columns["c60"] == {"awsdatacatalog.sales.orders.amount"}
    assert result.warnings == []


def test_warnings_and_roles_round_trip_and_older_cache_rows_load() -> None:
    result = parse_lineage(
        "INSERT INTO nowhere SELECT order_id FROM orders WHERE dt = '1' ORDER BY amount",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert result.warnings and result.roles == {
        "awsdatacatalog.sales.orders.order_id": {"select"},
        "awsdatacatalog.sales.orders.dt": {"filter"},
        "awsdatacatalog.sales.orders.amount": {"order"},
    }
    data = result.to_json()
    assert LineageResult.from_json(data) == result
    older = {k: v for k, v in data.items() if k not in ("warnings", "roles")}
    assert LineageResult.from_json(older).roles == {}
    assert LineageResult.from_json(older).warnings == []


@pytest.mark.parametrize(
    "body",
    [
        "(SELECT order_id, amount, dt FROM orders)",
        "((SELECT order_id, amount, dt FROM orders))",
        "(((SELECT order_id, amount, dt FROM orders)))",
        "(WITH a AS (SELECT * FROM orders), b AS (SELECT order_id, amount, dt FROM a)"
        " SELECT order_id, amount, dt FROM b)",
        "((WITH a AS (SELECT order_id, amount, dt FROM orders) SELECT * FROM a))",
    ],
)
@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE summary AS {body}",
        "CREATE VIEW summary (order_id, total, dt) AS {body}",
        "INSERT INTO summary (order_id, total, dt) {body}",
        "INSERT INTO summary {body}",
    ],
)
def test_a_query_body_in_parentheses_keeps_its_column_lineage(statement: str, body: str) -> None:
    result = parse_lineage(statement.format(body=body), "awsdatacatalog", "sales", SCHEMA)
    second = "amount" if statement.startswith("CREATE TABLE") else "total"
    assert result.columns == {
        "order_id": {"awsdatacatalog.sales.orders.order_id"},
        second: {"awsdatacatalog.sales.orders.amount"},
        "dt": {"awsdatacatalog.sales.orders.dt"},
    }
    assert (result.error, result.warnings) == (None, [])


def test_when_only_tables_can_be_qualified_the_walk_still_resolves_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from athena_catalog.lineage import columns

    real = columns.qualify

    def tables_only(expression: object, **options: object) -> object:
        if options.get("qualify_columns", True):
            raise KeyError("a qualifier bug")
        return real(expression, **options)

    monkeypatch.setattr(columns, "qualify", tables_only)
    result = parse_lineage(
        "INSERT INTO summary SELECT o.order_id, amount * 2, s.dt FROM orders o"
        " JOIN summary s ON s.order_id = o.order_id WHERE o.dt > '1' ORDER BY 2",
        "awsdatacatalog",
        "sales",
        SCHEMA,
    )
    assert result.error is None
    assert result.warnings == ["unresolved columns: 'a qualifier bug'"]
    orders, summary = "awsdatacatalog.sales.orders", "awsdatacatalog.sales.summary"
    # amount is unqualified across two sources: only orders has it in the schema.
    assert result.columns == {
        "order_id": {f"{orders}.order_id"},
        "total": {f"{orders}.amount"},
        "dt": {f"{summary}.dt"},
    }
    assert result.joins == {(f"{orders}.order_id", f"{summary}.order_id")}
    assert result.roles[f"{orders}.amount"] == {"select", "order"}
    assert result.roles[f"{orders}.dt"] == {"filter"}
