"""One parse pipeline for usage and lineage, on SQLite and PostgreSQL: a small lakehouse on the
local engine, crawled, its history stored, then ``table_usage`` and ``lineage`` materialized by
Dagster. Each distinct statement is parsed once for both; a new parser version or a changed
table schema re-resolves what both hold for the statements concerned, and nothing else."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.engines.local import LocalEngine
from athena_catalog.lineage import fingerprint as fingerprints
from athena_catalog.lineage import graph, parse_lineage
from athena_catalog.lineage.resolve import join_rows
from athena_catalog.lineage.result import LineageSchema
from athena_catalog.names import sql_name
from athena_catalog.store import CatalogStore
from athena_catalog.store.history import query_history as history_table
from athena_catalog.store.history import query_joins, query_tables, table_usage_daily
from athena_catalog.store.lineage import (
    lineage_column_edges,
    lineage_statements,
    lineage_table_edges,
    read_edges,
    read_schema,
    read_views,
)

A, B, C = (f"awsdatacatalog.raw.{t}" for t in "abc")
JOIN = "SELECT count(*) FROM raw.a JOIN raw.b ON id = bid"  # unqualified: the schema decides
STATEMENTS = [
    "CREATE EXTERNAL TABLE raw.a (id bigint, v int) STORED AS PARQUET LOCATION 's3://l/a/'",
    "CREATE EXTERNAL TABLE raw.b (bid bigint, w int) STORED AS PARQUET LOCATION 's3://l/b/'",
    "INSERT INTO raw.a SELECT 1, 2",
    *(f"SELECT v, count(*) FROM raw.a WHERE id > {n} GROUP BY v" for n in range(3)),
    *(f"SELECT w FROM raw.b WHERE bid = {n}" for n in range(3)),
    JOIN,
    JOIN,
    "CREATE TABLE raw.c AS SELECT * FROM raw.a",
    "CREATE VIEW raw.v AS SELECT id FROM raw.a",
    "SHOW TABLES IN raw",
]


@pytest.fixture
def lake(store_url: str, tmp_path: Path) -> dict[str, Any]:
    engine = LocalEngine(tmp_path, read_only=False)
    engine.execute("CREATE DATABASE raw")
    for sql in STATEMENTS:
        engine.execute(sql, database="raw")
    engine.close()
    graph.parse_counts.clear()
    lake = {"home": tmp_path, "url": store_url}
    run(lake, [metadata, query_history, table_usage, lineage])
    return lake


def run(lake: dict[str, Any], assets: list) -> dg.ExecuteInProcessResult:
    names = {a.node_def.name for a in assets}
    config = {"query_history": {"config": {"query_log_days": 30}}}
    result = dg.materialize(
        assets,
        resources={
            "athena": AthenaResource(engine="local", local_home=str(lake["home"])),
            "catalog_store": CatalogStoreResource(url=lake["url"]),
        },
        run_config={"ops": {k: v for k, v in config.items() if k in names}},
    )
    assert result.success
    return result


def state(url: str) -> dict[str, Any]:
    """What usage and lineage hold, and what each row was resolved under."""
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            h = history_table.c
            return {
                "history": {
                    r.query_id: r
                    for r in conn.execute(
                        select(
                            h.query_id, h.query, h.catalog, h.database, h.source, h.state
                        ).add_columns(h.parser_version, h.fingerprint, h.schema_version)
                    )
                },
                "tables": {
                    (r.query_id, r.table_fqn, r.role): r.fingerprint
                    for r in conn.execute(select(query_tables))
                },
                "joins": {tuple(r) for r in conn.execute(select(query_joins))},
                "daily": {tuple(r) for r in conn.execute(select(table_usage_daily))},
                "statements": {
                    r.query_id: (r.fingerprint, r.outcome, r.counted)
                    for r in conn.execute(select(lineage_statements))
                },
                "table_edges": read_edges(conn, lineage_table_edges),
                "column_edges": read_edges(conn, lineage_column_edges),
                "schema": LineageSchema(read_schema(conn)),
                "views": read_views(conn),
            }
    finally:
        store.close()


def statement_fingerprints(s: dict[str, Any]) -> dict[str, str]:
    """Query id -> fingerprint of every stored statement either consumer parses, computed here
    from the stored text and context."""
    return {
        q: fingerprints.fingerprint(r.query, r.catalog or "awsdatacatalog", r.database or "default")
        for q, r in s["history"].items()
        if r.state == "SUCCEEDED" and r.source != "athena_catalog"
    }


def view_fingerprints(s: dict[str, Any]) -> set[str]:
    return {
        fingerprints.fingerprint(
            f"CREATE OR REPLACE VIEW {sql_name(v.catalog, v.database, v.name)} AS\n{v.sql}",
            v.catalog,
            v.database,
        )
        for v in s["views"]
    }


def ids(s: dict[str, Any], sql: str) -> set[str]:
    return {q for q, r in s["history"].items() if r.query == sql}


def test_each_distinct_statement_is_parsed_once_for_usage_and_lineage(lake: dict) -> None:
    s = state(lake["url"])
    expected = set(statement_fingerprints(s).values()) | view_fingerprints(s)
    assert graph.parse_counts == Counter(dict.fromkeys(expected, 1))
    assert len(expected) < len(statement_fingerprints(s))  # dashboards and the join repeat
    # Both consumers hold every statement: usage its tables, lineage its outcome.
    assert {q for q, _, _ in s["tables"]} >= ids(s, JOIN) | ids(s, STATEMENTS[3])
    assert set(s["statements"]) == set(statement_fingerprints(s))
    # Neither consumer parses again, whichever runs next.
    run(lake, [table_usage])
    run(lake, [lineage])
    assert graph.parse_counts == Counter(dict.fromkeys(expected, 1))


def test_a_new_parser_version_re_resolves_usage_and_lineage(
    lake: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(lake["url"])
    old = statement_fingerprints(before)
    monkeypatch.setattr(fingerprints, "PARSER_VERSION", "next")
    graph.parse_counts.clear()
    run(lake, [table_usage])  # usage first: it resolves for lineage too
    after = state(lake["url"])
    new = statement_fingerprints(after)
    assert not set(new.values()) & set(old.values())
    # every statement and view once under the new parser (the views for lineage's recount)
    assert graph.parse_counts == Counter(
        dict.fromkeys(set(new.values()) | view_fingerprints(after), 1)
    )
    assert {r.parser_version for r in after["history"].values()} == {"next"}
    # usage's rows and lineage's statements now carry the new parser's fingerprints
    assert after["tables"] and all(fp == new[q] for (q, _, _), fp in after["tables"].items())
    assert all(fp == new[q] for q, (fp, _, _) in after["statements"].items())
    assert set(after["statements"]) == set(new)
    result = run(lake, [lineage])
    meta = result.asset_materializations_for_node("lineage")[0].metadata
    assert meta["statements_analysed"].value == 0  # usage did the work
    after = state(lake["url"])
    assert all(counted for _, _, counted in after["statements"].values())
    # The same parser under a new version: the same figures and edges, rebuilt.
    for key in ("joins", "daily", "table_edges", "column_edges"):
        assert after[key] == before[key], key
    assert set(after["tables"]) == set(before["tables"])


def test_a_schema_change_re_resolves_the_statements_touching_the_table(lake: dict) -> None:
    before = state(lake["url"])
    joins_before = {j for j in before["joins"] if j[0] in ids(before, JOIN)}
    assert {(j[1], j[2], j[3]) for j in joins_before} == {(A, B, "id = bid")}
    assert (A, "v", C, "v", "query") in before["column_edges"]
    assert not [k for k in before["column_edges"] if k[1] == "bid" and k[2] == C]
    engine = LocalEngine(lake["home"], read_only=False)
    engine.execute("ALTER TABLE raw.a ADD COLUMNS (bid bigint)", database="raw")
    engine.close()
    graph.parse_counts.clear()
    run(lake, [metadata, lineage])  # the recrawl sees the new column; lineage resolves
    after = state(lake["url"])
    schema = after["schema"]
    assert "bid" in schema.tables[A]
    fps = statement_fingerprints(after)
    old = {q: r for q, r in after["history"].items() if q in before["history"]}
    touching_a = {q for q, r in old.items() if q in fps and A in _tables(r, schema)}
    new = {fps[q] for q in fps if q not in old}  # the ALTER TABLE itself
    # Parsed again: the statements and the view touching raw.a, once each, and no other one.
    expected = {fps[q] for q in touching_a} | new | view_fingerprints(after)
    assert graph.parse_counts == Counter(dict.fromkeys(expected, 1))
    for q, r in old.items():
        was = before["history"][q]
        assert (r.schema_version != was.schema_version) == (q in touching_a), r.query
    # Lineage: CREATE TABLE c AS SELECT * FROM a now carries the new column.
    assert (A, "bid", C, "bid", "query") in after["column_edges"]
    # Usage: the unqualified join is read against the new schema (bid is now in both tables).
    want = _joins(JOIN, schema)
    assert {(j[1], j[2], j[3]) for j in after["joins"] if j[0] in ids(after, JOIN)} == want
    assert want != {(A, B, "id = bid")}
    # Statements of raw.b only kept their resolution.
    only_b = ids(after, STATEMENTS[6])
    assert only_b and not only_b & touching_a
    assert all(
        after["history"][q].schema_version == before["history"][q].schema_version for q in only_b
    )
    # table_usage finds everything resolved: no parse.
    graph.parse_counts.clear()
    run(lake, [table_usage])
    assert not graph.parse_counts


def _tables(row: Any, schema: LineageSchema) -> set[str]:
    return set(parse_lineage(row.query, "awsdatacatalog", row.database, schema).tables)


def _joins(sql: str, schema: LineageSchema) -> set[tuple[str, str, str]]:
    return set(join_rows(parse_lineage(sql, "awsdatacatalog", "raw", schema).joins))
