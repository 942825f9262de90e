"""The catalog store on SQLite and on a real PostgreSQL server: upserts, soft deletes,
the empty-listing guard, schema-change history, atomicity and concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from athena_catalog.crawl import CrawlOptions, Listing, Snapshot, schema_key
from athena_catalog.engines.records import (
    EXTERNAL_TABLE,
    VIRTUAL_VIEW,
    Column,
    Database,
    DataCatalog,
    Table,
)
from athena_catalog.filters import FilterPattern
from athena_catalog.store import CatalogStore, DeletionPolicy, StoreError, apply_snapshot
from athena_catalog.store.schema import (
    catalog_columns,
    catalog_schemas,
    catalog_tables,
)
from athena_catalog_tests.e2e_helpers import schema_change_rows

CAT = "AwsDataCatalog"


def table(db: str, name: str, *cols: tuple[str, str], view: bool = False, **kw) -> Table:
    columns = tuple(Column(n, t) for n, t in (cols or (("id", "bigint"),)))
    return Table(CAT, db, name, VIRTUAL_VIEW if view else EXTERNAL_TABLE, columns, **kw)


def snapshot(tables_by_db: dict[str, list[Table] | None], *, catalogs_ok: bool = True) -> Snapshot:
    """A crawl result; a None table list is a failed listing of that database."""
    snap = Snapshot(
        catalogs=[DataCatalog(CAT, "GLUE")],
        catalog_listing=Listing(ok=catalogs_ok, proves_absence=catalogs_ok),
    )
    key = CAT.lower()
    snap.databases[key] = [Database(CAT, db) for db in tables_by_db]
    snap.database_listings[key] = Listing(ok=True, proves_absence=bool(tables_by_db))
    for db, tables in tables_by_db.items():
        if tables is None:
            snap.table_listings[schema_key(CAT, db)] = Listing(False, False, "AccessDenied")
        else:
            snap.tables[schema_key(CAT, db)] = tables
            snap.table_listings[schema_key(CAT, db)] = Listing(True, bool(tables))
    return snap


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    s = CatalogStore(url)
    yield s
    s.close()


def apply(store: CatalogStore, snap: Snapshot, **kw):
    options = kw.pop("options", CrawlOptions())
    policy = DeletionPolicy(**kw)
    return apply_snapshot(store, snap, options, policy, engine_kind="local")


def live_tables(store: CatalogStore) -> dict[str, bool]:
    with store.read() as conn:
        return dict(conn.execute(select(catalog_tables.c.fqn, catalog_tables.c.deleted)).all())


def changes(store: CatalogStore) -> list[tuple]:
    return schema_change_rows(store)


def test_first_apply_stores_every_field(store: CatalogStore) -> None:
    t = table(
        "Sales",
        "Orders",
        ("order_id", "bigint"),
        ("items", "array<struct<sku:string,qty:int>>"),
        description="all orders",
        location="s3://lake/orders/",
        storage_format="parquet",
        parameters={"classification": "parquet"},
        tags={"owner": "sales"},
    )
    pk = Column("dt", "string", "partition day", is_partition_key=True)
    t = Table(**{**t.__dict__, "columns": (*t.columns, pk)})
    v = table("Sales", "recent", view=True, view_sql="SELECT * FROM orders")
    result = apply(store, snapshot({"Sales": [t, v]}))
    assert sorted(result.new_tables) == [
        "awsdatacatalog.sales.orders",
        "awsdatacatalog.sales.recent",
    ]
    assert result.counts["tables"] == 1 and result.counts["views"] == 1
    with store.read() as conn:
        row = (
            conn.execute(
                select(catalog_tables).where(catalog_tables.c.fqn == "awsdatacatalog.sales.orders")
            )
            .mappings()
            .one()
        )
        cols = (
            conn.execute(
                select(catalog_columns)
                .where(catalog_columns.c.table_fqn == "awsdatacatalog.sales.orders")
                .order_by(catalog_columns.c.ordinal)
            )
            .mappings()
            .all()
        )
        schema = conn.execute(select(catalog_schemas)).mappings().one()
    assert (row["catalog"], row["database"], row["name"]) == (CAT, "Sales", "Orders")
    assert row["table_type"] == EXTERNAL_TABLE
    assert row["description"] == "all orders"
    assert row["location"] == "s3://lake/orders/"
    assert row["storage_format"] == "parquet"
    assert row["parameters"] == {"classification": "parquet"}
    assert row["tags"] == {"owner": "sales"}
    assert row["deleted"] is False
    assert row["first_seen"] is not None and row["last_seen"] is not None
    assert [(c["name"], c["ordinal"], c["data_type"], c["is_partition_key"]) for c in cols] == [
        ("order_id", 0, "bigint", False),
        ("items", 1, "array<struct<sku:string,qty:int>>", False),
        ("dt", 2, "string", True),
    ]
    assert cols[2]["description"] == "partition day"
    assert schema["fqn"] == "awsdatacatalog.sales"
    assert ("awsdatacatalog.sales.orders", "table_created", None, None, None) in changes(store)


def test_reapply_same_snapshot_changes_nothing(store: CatalogStore) -> None:
    snap = snapshot({"db": [table("db", "a"), table("db", "b")]})
    apply(store, snap)
    again = apply(store, snap)
    assert again.new_tables == again.changed_tables == again.deleted_tables == []
    assert len(changes(store)) == 2


def test_column_changes_are_recorded(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "t", ("a", "int"), ("b", "string"))]}))
    result = apply(store, snapshot({"db": [table("db", "t", ("a", "bigint"), ("c", "date"))]}))
    assert result.changed_tables == ["awsdatacatalog.db.t"]
    assert changes(store)[1:] == [
        ("awsdatacatalog.db.t", "column_added", "c", None, "date"),
        ("awsdatacatalog.db.t", "column_removed", "b", "string", None),
        ("awsdatacatalog.db.t", "column_type_changed", "a", "int", "bigint"),
    ]


def test_missing_table_is_soft_deleted_and_restored(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a"), table("db", "b")]}))
    result = apply(store, snapshot({"db": [table("db", "a")]}))
    assert result.deleted_tables == ["awsdatacatalog.db.b"]
    assert live_tables(store) == {"awsdatacatalog.db.a": False, "awsdatacatalog.db.b": True}
    result = apply(store, snapshot({"db": [table("db", "a"), table("db", "b")]}))
    assert result.restored_tables == ["awsdatacatalog.db.b"]
    assert live_tables(store)["awsdatacatalog.db.b"] is False
    kinds = [c[1] for c in changes(store) if c[0] == "awsdatacatalog.db.b"]
    assert kinds == ["table_created", "table_deleted", "table_restored"]


def test_mark_deleted_off_keeps_missing_tables(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a"), table("db", "b")]}))
    apply(store, snapshot({"db": [table("db", "a")]}), mark_deleted_tables=False)
    assert live_tables(store)["awsdatacatalog.db.b"] is False


def test_failed_or_empty_listing_never_deletes(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a")], "other": [table("other", "x")]}))
    apply(store, snapshot({"db": None, "other": [table("other", "x")]}))  # listing failed
    apply(store, snapshot({"db": [], "other": [table("other", "x")]}))  # empty listing
    assert live_tables(store)["awsdatacatalog.db.a"] is False


def test_empty_database_listing_never_deletes_schemas(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a")]}))
    apply(store, snapshot({}))  # the catalog answered with no databases at all
    assert live_tables(store)["awsdatacatalog.db.a"] is False


def test_dropped_database_deletes_its_tables(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a")], "gone": [table("gone", "x")]}))
    result = apply(store, snapshot({"db": [table("db", "a")]}))
    assert result.deleted_tables == ["awsdatacatalog.gone.x"]
    assert result.counts["schemas_deleted"] == 1


def test_filtered_out_tables_deleted_unless_from_filter_only(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "keep"), table("db", "tmp_x")]}))
    narrowed = CrawlOptions(table_filter=FilterPattern.compile(excludes=["tmp_"]))
    snap = snapshot({"db": [table("db", "keep")]})
    apply(store, snap, options=narrowed, from_filter_only=True)
    assert live_tables(store)["awsdatacatalog.db.tmp_x"] is False
    apply(store, snap, options=narrowed, from_filter_only=False)
    assert live_tables(store)["awsdatacatalog.db.tmp_x"] is True


def test_from_filter_only_still_deletes_tables_the_filter_covers(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "keep"), table("db", "dropped")]}))
    options = CrawlOptions(table_filter=FilterPattern.compile(excludes=["tmp_"]))
    apply(store, snapshot({"db": [table("db", "keep")]}), options=options, from_filter_only=True)
    assert live_tables(store)["awsdatacatalog.db.dropped"] is True


def test_failure_inside_apply_rolls_back(store: CatalogStore) -> None:
    apply(store, snapshot({"db": [table("db", "a"), table("db", "b")]}))
    before = live_tables(store)
    # Two tables with the same fqn in one listing make the insert fail halfway.
    broken = snapshot({"db": [table("db", "a"), table("db", "new"), table("db", "NEW")]})
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        apply(store, broken)
    assert live_tables(store) == before
    assert len(changes(store)) == 2


def test_bad_store_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a SQLAlchemy URL"):
        CatalogStore("not a url")
    with pytest.raises(StoreError, match="SQLite or PostgreSQL"):
        CatalogStore("mysql://u:pw@h/db")


def test_password_never_in_store_errors_or_repr() -> None:
    url = "postgresql+psycopg2://u:SECRET-canary-pw@127.0.0.1:1/db"
    with pytest.raises(StoreError) as e:
        CatalogStore(url)
    assert "SECRET-canary-pw" not in str(e.value)
    assert "SECRET-canary-pw" not in repr(e.value)


def _writer(url: str, db: str, n: int) -> None:
    """One ingestion pipeline of several, each filtered to its own database."""
    store = CatalogStore(url)
    options = CrawlOptions(schema_filter=FilterPattern.compile([f"^{db}$"]))
    for round_ in range(3):
        tables = [table(db, f"t{i}", ("c", f"varchar({round_ + 1})")) for i in range(n)]
        apply(store, snapshot({db: tables}), options=options, from_filter_only=True)
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writers_all_succeed_and_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'catalog.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, f"db{i}", 40)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = CatalogStore(url)
    tables = live_tables(store)
    assert len(tables) == 160 and not any(tables.values())
    with store.read() as conn:
        types = set(conn.execute(select(catalog_columns.c.data_type)).scalars())
    assert types == {"varchar(3)"}
    store.close()
