"""Table identity: names holding dots, quotes, backticks, spaces, unicode and Glue's longest
names stay distinct tables through the crawl, the store, lineage, usage and the asset keys, on
both engines and both store backends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from athena_catalog.crawl import CrawlOptions, Listing, Snapshot, schema_key
from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.defs.usage.assets import query_history, table_usage
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import EXTERNAL_TABLE, Column, Database, DataCatalog, Table
from athena_catalog.lineage import parse_lineage
from athena_catalog.names import (
    column_ref,
    schema_fqn,
    split_column_ref,
    split_fqn,
    table_fqn,
    table_parts,
)
from athena_catalog.store import CatalogStore, DeletionPolicy, apply_snapshot
from athena_catalog.store.history import table_joins
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
from athena_catalog.store.schema import catalog_columns, catalog_schemas, catalog_tables
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import HookedAthenaResource, failure_text

CAT = "awsdatacatalog"
LONG_DB, LONG_TABLE = "d" * 255, "t" * 255  # Glue's name limit
# (database, table) -> the fqn the store must key it by.
HOSTILE = {
    ("x", "a.b"): f'{CAT}.x."a.b"',
    ("x.a", "b"): f'{CAT}."x.a".b',
    ("x", 'q"uote'): f'{CAT}.x."q""uote"',
    ("x", "back`tick"): f"{CAT}.x.back`tick",
    ("x", "sp ace tab"): f"{CAT}.x.sp ace tab",
    ("x", "ünï.cødé"): f'{CAT}.x."ünï.cødé"',
    ("x", LONG_TABLE): f"{CAT}.x.{LONG_TABLE}",
    (LONG_DB, LONG_TABLE): f"{CAT}.{LONG_DB}.{LONG_TABLE}",
}
VIEW = ("x.a", "v.w")  # a view over x."a.b"


# -- the readable form and its parser --------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "fqn"),
    [
        (("AwsDataCatalog", "raw", "orders"), "awsdatacatalog.raw.orders"),
        (("AwsDataCatalog", "Odd-Names", "Mixed Case Table"), f"{CAT}.odd-names.mixed case table"),
        (("c", "x", "a.b"), 'c.x."a.b"'),
        (("c", "x.a", "b"), 'c."x.a".b'),
        (("c.x", "a", "b"), '"c.x".a.b'),
        (("c", "d", 'q"uote'), 'c.d."q""uote"'),
        (("c", "d", '"'), 'c.d.""""'),
        (("c", "d", "."), 'c.d."."'),
        (("c", "d", "back`tick"), "c.d.back`tick"),
        (("c", "d", "Café Ventes"), "c.d.café ventes"),
        (("c", "", "t"), "c..t"),
    ],
)
def test_table_fqn_quotes_only_parts_with_a_dot_or_a_quote(parts: tuple, fqn: str) -> None:
    assert table_fqn(*parts) == fqn
    assert split_fqn(fqn, 3) == tuple(p.lower() for p in parts)
    assert table_parts(fqn) == tuple(p.lower() for p in parts)


def test_schema_fqn_and_column_refs() -> None:
    assert schema_fqn("Cat", "x.a") == 'cat."x.a"'
    assert schema_fqn("cat.x", "a") == '"cat.x".a'
    ref = column_ref(table_fqn("c", "x", "a.b"), "c.d")
    assert ref == 'c.x."a.b"."c.d"'
    assert split_column_ref(ref) == ('c.x."a.b"', "c.d")
    assert split_column_ref("c.x.a.b") == ("c.x.a", "b")


@pytest.mark.parametrize(
    ("text", "parts", "message"),
    [
        ('c.x."a.b', 3, "unterminated quoted part at 4 in name 'c.x.\"a.b'"),
        ('c.x.a"b', 3, "expected '.' at 5"),
        ('c.x."a"b', 3, "expected '.' at 7"),
        ("c.x.a.b", 3, "expected 3 parts, found 4"),
        ("c.x", 3, "expected 3 parts, found 2"),
    ],
)
def test_split_fqn_names_what_is_wrong_and_where(text: str, parts: int, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        split_fqn(text, parts)


@settings(max_examples=300, deadline=None)  # a loaded CI machine must not flake
@given(st.lists(st.text(), min_size=3, max_size=3), st.text())
def test_fqn_round_trip_is_exact_for_any_names(parts: list[str], column: str) -> None:
    catalog, database, name = parts
    fqn = table_fqn(catalog, database, name)
    assert split_fqn(fqn) == (catalog.lower(), database.lower(), name.lower())
    assert split_column_ref(column_ref(fqn, column)) == (fqn, column.lower())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet='ab."` ', max_size=4), min_size=3, max_size=3),
    st.lists(st.text(alphabet='ab."` ', max_size=4), min_size=3, max_size=3),
)
def test_different_tables_never_share_an_fqn(a: list[str], b: list[str]) -> None:
    if a != b:
        assert table_fqn(*a) != table_fqn(*b)


def test_lineage_parser_resolves_dotted_names_to_distinct_tables() -> None:
    schema = {
        table_fqn(CAT, "x.a", "b"): {"id": "int", "c.d": "string"},
        table_fqn(CAT, "x", "a.b"): {"id": "int", "c.d": "string"},
    }
    one = parse_lineage('SELECT * FROM "x.a".b', CAT, "x", schema)
    two = parse_lineage('SELECT * FROM x."a.b"', CAT, "x", schema)
    assert one.sources == {f'{CAT}."x.a".b'} and one.error is None
    assert two.sources == {f'{CAT}.x."a.b"'} and two.error is None
    insert = parse_lineage('INSERT INTO "x.a".b SELECT id, "c.d" FROM x."a.b"', CAT, "x", schema)
    assert insert.target == f'{CAT}."x.a".b' and insert.sources == {f'{CAT}.x."a.b"'}
    assert insert.columns == {
        "id": {f'{CAT}.x."a.b".id'},
        "c.d": {f'{CAT}.x."a.b"."c.d"'},
    }
    joined = parse_lineage(
        'SELECT count(*) FROM "x.a".b t JOIN x."a.b" u ON t."c.d" = u."c.d"', CAT, "x", schema
    )
    assert joined.joins == {(f'{CAT}."x.a".b."c.d"', f'{CAT}.x."a.b"."c.d"')}


# -- end to end: crawl, store, lineage, usage, asset keys ------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return request.getfixturevalue("fresh_postgres_url")


def _ident(name: str) -> str:
    """A Hive DDL identifier: backticks, a backtick inside doubled."""
    return "`" + name.replace("`", "``") + "`"


def _sql(name: str) -> str:
    """A Trino DML identifier: double quotes, a double quote inside doubled."""
    return '"' + name.replace('"', '""') + '"'


def _hostile_local_home(home: Path) -> None:
    engine = LocalEngine(home, read_only=False)
    try:
        for database in sorted({db for db, _ in HOSTILE}):
            engine.execute(f"CREATE DATABASE IF NOT EXISTS {_ident(database)}")
        for database, name in HOSTILE:
            engine.execute(
                f"CREATE EXTERNAL TABLE {_ident(database)}.{_ident(name)} "
                f"(id int, `c.d` string) LOCATION 's3://lake/{len(name)}/'"
            )
        source, target = (_sql("x"), _sql("a.b")), (_sql("x.a"), _sql("b"))
        engine.execute(f"INSERT INTO {'.'.join(source)} VALUES (1, 'one')")
        engine.execute(f'INSERT INTO {".".join(target)} SELECT id, "c.d" FROM {".".join(source)}')
        engine.execute(
            f"CREATE OR REPLACE VIEW {_sql(VIEW[0])}.{_sql(VIEW[1])} AS "
            f'SELECT id, "c.d" FROM {".".join(source)}'
        )
        engine.execute(
            f"SELECT count(*) FROM {'.'.join(target)} t JOIN {'.'.join(source)} u "
            'ON t."c.d" = u."c.d"'
        )
    finally:
        engine.close()


def _stored(url: str) -> tuple[dict[tuple[str, str], str], set[str]]:
    """(database, table) -> fqn of every live table, and the schema fqns."""
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            t = catalog_tables.c
            rows = conn.execute(select(t.database, t.name, t.fqn).where(t.deleted.is_(False)))
            tables = {(db.lower(), name.lower()): fqn for db, name, fqn in rows}
            schemas = set(conn.execute(select(catalog_schemas.c.fqn)).scalars())
    finally:
        store.close()
    assert len(set(tables.values())) == len(tables)  # distinct rows, distinct fqns
    return tables, schemas


def _keys(url: str) -> dict[tuple[str, ...], dg.AssetSpec]:
    specs = athena_table_specs(url)
    keys = {tuple(s.key.path): s for s in specs}
    assert len(keys) == len(specs)
    return keys


def _assert_hostile_catalog(url: str) -> dict[tuple[str, ...], dg.AssetSpec]:
    tables, schemas = _stored(url)
    for (database, name), fqn in HOSTILE.items():
        assert tables[(database, name)] == fqn
    assert {f'{CAT}."x.a"', f"{CAT}.x", f"{CAT}.{LONG_DB}"} <= schemas
    keys = _keys(url)
    for database, name in HOSTILE:
        assert ("athena", CAT, database, name) in keys
    return keys


def test_local_engine_crawl_lineage_usage_and_asset_keys(tmp_path: Path, store_url: str) -> None:
    home = tmp_path / "home"
    _hostile_local_home(home)
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=store_url),
    }
    result = dg.materialize(
        [metadata, query_history, lineage, table_usage], resources=resources, raise_on_error=False
    )
    assert result.success, failure_text(result)
    keys = _assert_hostile_catalog(store_url)
    assert _stored(store_url)[0][VIEW] == f'{CAT}."x.a"."v.w"'

    source, target = HOSTILE[("x", "a.b")], HOSTILE[("x.a", "b")]
    view = table_fqn(CAT, *VIEW)
    store = CatalogStore(store_url)
    try:
        with store.read() as conn:
            edges = set(
                conn.execute(
                    select(lineage_table_edges.c.source_fqn, lineage_table_edges.c.target_fqn)
                )
            )
            ce = lineage_column_edges.c
            column_edges = set(
                conn.execute(
                    select(ce.source_table_fqn, ce.source_column, ce.target_table_fqn)
                ).all()
            )
            j = table_joins.c
            joins = set(conn.execute(select(j.left_fqn, j.right_fqn, j.columns)).all())
    finally:
        store.close()
    assert {(source, target), (source, view)} <= edges
    assert {(source, "c.d", target), (source, "id", target), (source, "c.d", view)} <= column_edges
    assert (target, source, '"c.d" = "c.d"') in joins

    source_key = ("athena", CAT, "x", "a.b")
    target_spec = keys[("athena", CAT, "x.a", "b")]
    assert {tuple(d.asset_key.path) for d in target_spec.deps} == {source_key}
    lineage_of = target_spec.metadata["dagster/column_lineage"].deps_by_column
    assert [(tuple(d.asset_key.path), d.column_name) for d in lineage_of["c.d"]] == [
        (source_key, "c.d")
    ]
    assert {tuple(d.asset_key.path) for d in keys[("athena", CAT, *VIEW)].deps} == {source_key}
    dg.Definitions.validate_loadable(dg.Definitions(assets=list(keys.values())))


def test_aws_engine_crawl_and_asset_keys(moto_endpoint: str, store_url: str) -> None:
    glue = boto3.client("glue", region_name=FAKE_REGION, endpoint_url=moto_endpoint)
    for database in sorted({db for db, _ in HOSTILE}):
        glue.create_database(DatabaseInput={"Name": database})
    for database, name in HOSTILE:
        glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {
                    "Columns": [{"Name": "id", "Type": "int"}, {"Name": "c.d", "Type": "string"}],
                    "Location": f"s3://lake/{len(name)}/",
                },
            },
        )
    athena = HookedAthenaResource(engine="aws", region_name=FAKE_REGION, endpoint_url=moto_endpoint)
    resources: dict[str, Any] = {
        "athena": athena,
        "catalog_store": CatalogStoreResource(url=store_url),
    }
    result = dg.materialize([metadata], resources=resources, raise_on_error=False)
    assert result.success, failure_text(result)
    _assert_hostile_catalog(store_url)
    # A second crawl finds the same tables: nothing new, nothing deleted, no key collision.
    again = dg.materialize([metadata], resources=resources, raise_on_error=False)
    assert again.success, failure_text(again)
    assert set(_stored(store_url)[0]) == set(HOSTILE)


@pytest.mark.parametrize(("database", "name"), [("x", "a.b"), ("x.a", "b")])
def test_a_table_stored_under_its_old_unquoted_fqn_is_re_keyed(
    store_url: str, database: str, name: str
) -> None:
    """Stores written before names were quoted hold ``cat.x.a.b`` for ``a.b`` in ``x`` (or for
    ``b`` in ``x.a``): the next crawl replaces that row by the quoted one, instead of failing
    or keeping a ghost row that no crawl ever sees again."""
    legacy, fqn = f"{CAT}.{database}.{name}", table_fqn(CAT, database, name)
    tables = {database: [_t(database, n) for n in ("p", "q", "r", name)]}
    store = CatalogStore(store_url)
    try:
        apply_snapshot(
            store, _snapshot(tables), CrawlOptions(), DeletionPolicy(), engine_kind="local"
        )
        with store.write() as conn:  # as the code before quoting keyed it
            conn.execute(
                update(catalog_tables).where(catalog_tables.c.fqn == fqn).values(fqn=legacy)
            )
            conn.execute(
                update(catalog_columns)
                .where(catalog_columns.c.table_fqn == fqn)
                .values(table_fqn=legacy)
            )
        result = apply_snapshot(
            store, _snapshot(tables), CrawlOptions(), DeletionPolicy(), engine_kind="local"
        )
        with store.read() as conn:
            t = catalog_tables.c
            rows = {r.fqn: r.deleted for r in conn.execute(select(t.fqn, t.deleted))}
    finally:
        store.close()
    others = {table_fqn(CAT, database, n): False for n in "pqr"}
    assert rows == {legacy: True, fqn: False, **others}
    assert result.deleted_tables == [legacy] and result.new_tables == [fqn]


def _t(database: str, name: str) -> Table:
    return Table(CAT, database, name, EXTERNAL_TABLE, (Column("id", "int"),))


def _snapshot(tables: dict[str, list[Table]]) -> Snapshot:
    """A complete crawl of these databases of the default catalog."""
    snap = Snapshot(catalogs=[DataCatalog(CAT, "GLUE")], catalog_listing=Listing(True, True))
    snap.databases[CAT] = [Database(CAT, db) for db in tables]
    snap.database_listings[CAT] = Listing(ok=True, proves_absence=True)
    for database, found in tables.items():
        snap.tables[schema_key(CAT, database)] = found
        snap.table_listings[schema_key(CAT, database)] = Listing(True, True)
    return snap
