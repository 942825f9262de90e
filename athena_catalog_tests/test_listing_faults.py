"""A failed, partial or fallback listing never changes the store: faults injected on the wire in
front of moto's server, the metadata assets run by Dagster, the store on SQLite and PostgreSQL.

Each fault test crawls a good catalog first, then crawls again with one AWS call denied or
throttled past the retry budget, and compares every row of the catalog tables before and after
(``last_seen`` aside: it says when an object was last listed, and listed ones were).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from sqlalchemy import func, select

from athena_catalog.crawl import CrawlOptions, Listing, Snapshot, crawl, schema_key
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import EXTERNAL_TABLE, Column, Database, DataCatalog, Table
from athena_catalog.store import CatalogStore, DeletionPolicy, apply_snapshot
from athena_catalog.store.catalog import MassDeletionError
from athena_catalog.store.schema import (
    catalog_catalogs,
    catalog_columns,
    catalog_schemas,
    catalog_tables,
    crawl_runs,
    schema_changes,
)
from athena_catalog_tests.aws_fakes import HttpFaults, http_response
from athena_catalog_tests.conftest import FAKE_REGION
from athena_catalog_tests.e2e_helpers import SESSION_HOOKS, failure_text
from athena_catalog_tests.glue_seed import MOTO_ACCOUNT, seed_glue
from athena_catalog_tests.test_metadata_aws import materialized_metadata, run

LEVELS = ("databases", "schemas", "tables")
PII_TABLE = ("sales_000", "t0001_orc")  # carries an LF-Tag in the fault tests


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return request.getfixturevalue("fresh_postgres_url")


def store_rows(url: str) -> dict[str, Any]:
    """Every row of the catalog tables, ``last_seen`` left out, plus the history's length."""
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            out: dict[str, Any] = {}
            for table in (catalog_catalogs, catalog_schemas, catalog_tables, catalog_columns):
                rows = conn.execute(select(table)).mappings().all()
                out[table.name] = sorted(
                    ({k: v for k, v in r.items() if k != "last_seen"} for r in rows),
                    key=repr,
                )
            out["schema_changes"] = conn.execute(
                select(func.count()).select_from(schema_changes)
            ).scalar_one()
    finally:
        store.close()
    return out


@pytest.fixture
def faults() -> HttpFaults:
    hook = HttpFaults()
    SESSION_HOOKS.append(("before-send", hook))
    return hook


def lf_tagged(body: dict[str, Any]) -> Any:
    """SearchTablesByLFTags as Lake Formation answers it (moto lacks the action)."""
    table = {"CatalogId": MOTO_ACCOUNT, "DatabaseName": PII_TABLE[0], "Name": PII_TABLE[1]}
    tagged = {"Table": table, "LFTagsOnTable": [{"TagKey": "pii", "TagValues": ["yes"]}]}
    return http_response(200, {"TableList": [tagged]}, {"Content-Type": "application/json"})


@pytest.fixture
def lake(moto_endpoint: str, faults: HttpFaults) -> str:
    """AwsDataCatalog and a cross-account Glue catalog, with resource tags and one LF-Tag."""
    clients = {
        name: boto3.client(name, region_name=FAKE_REGION, endpoint_url=moto_endpoint)
        for name in ("glue", "athena", "lakeformation")
    }
    seed_glue(clients["glue"], databases=2, tables_per_database=8)
    clients["athena"].create_data_catalog(
        Name="partner", Type="GLUE", Parameters={"catalog-id": MOTO_ACCOUNT}
    )
    clients["lakeformation"].create_lf_tag(TagKey="pii", TagValues=["yes"])
    faults.rules["SearchTablesByLFTags"] = lf_tagged
    return moto_endpoint


# fault -> (operation, how it fails, what the listing error names)
FAULTS = {
    "ListDataCatalogs denied": ("ListDataCatalogs", "deny", "athena:ListDataCatalogs"),
    "GetDataCatalog denied": ("GetDataCatalog", "deny", "data catalog partner left out"),
    "GetDatabases denied": ("GetDatabases", "deny", "glue:GetDatabases"),
    "GetDatabases throttled": ("GetDatabases", "throttle", "glue:GetDatabases"),
    "GetTables denied": ("GetTables", "deny", "glue:GetTables"),
    "GetTables throttled": ("GetTables", "throttle", "glue:GetTables"),
    "GetResources denied": ("GetResources", "deny", "tagging:GetResources"),
    "GetResources throttled": ("GetResources", "throttle", "tagging:GetResources"),
    "ListLFTags denied": ("ListLFTags", "deny", "lakeformation:ListLFTags"),
    "ListLFTags throttled": ("ListLFTags", "throttle", "lakeformation:ListLFTags"),
    "SearchTablesByLFTags denied": (
        "SearchTablesByLFTags",
        "deny",
        "lakeformation:SearchTablesByLFTags",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_listing_changes_nothing_and_says_so(
    fault: str, lake: str, faults: HttpFaults, store_url: str
) -> None:
    assert run(lake, store_url).success
    before = store_rows(store_url)
    # the seed as stored: both catalogs, resource tags and the LF-Tag
    assert {r["name"] for r in before["catalog_catalogs"]} == {"awsdatacatalog", "partner"}
    tagged = {r["fqn"]: r["tags"] for r in before["catalog_tables"]}
    assert tagged["awsdatacatalog.sales_000.t0000_parquet"] == {"domain": "sales", "tier": "t0"}
    assert tagged["partner.sales_000.t0001_orc"] == {"pii": "yes"}

    operation, how, expected = FAULTS[fault]
    getattr(faults, how)(operation)
    result = run(lake, store_url, retry_max_seconds=1, max_attempts=1)
    assert result.success, failure_text(result)
    assert faults.answered[operation] >= 1
    assert store_rows(store_url) == before
    md = materialized_metadata(result)
    for level in LEVELS:
        errors = md[level]["listing_errors"].value
        assert any(expected in e for e in errors), (level, errors)
    assert md["tables"]["changed"].value == md["tables"]["deleted"].value == 0


# -- the embedded engine: a Glue row the warehouse lacks ---------------------------------------


def test_local_table_missing_from_the_warehouse_is_not_deleted(
    tmp_path: Path, store_url: str
) -> None:
    home = tmp_path / "lake"
    engine = LocalEngine(home, read_only=False)
    engine.execute("CREATE DATABASE raw")
    for name in ("orders", "customers"):
        engine.execute(f"CREATE EXTERNAL TABLE raw.{name} (id bigint) LOCATION 's3://l/{name}/'")
    engine.close()
    store = CatalogStore(store_url)

    def crawl_and_apply() -> tuple[Snapshot, Any]:
        with closing(LocalEngine(home)) as reader:
            snap = crawl(reader, CrawlOptions())
        return snap, apply_snapshot(
            store, snap, CrawlOptions(), DeletionPolicy(), engine_kind="local"
        )

    try:
        crawl_and_apply()
        # The relation goes while Glue still has the table (a writer that died halfway).
        with duckdb.connect(str(home / "warehouse" / "awsdatacatalog.duckdb")) as duck:
            duck.execute('DROP TABLE "raw"."orders"')
        snap, result = crawl_and_apply()
        with store.read() as conn:
            deleted = dict(
                conn.execute(select(catalog_tables.c.name, catalog_tables.c.deleted)).all()
            )
    finally:
        store.close()
    assert deleted == {"orders": False, "customers": False}
    assert result.deleted_tables == []
    assert any("orders" in e and "not in the warehouse" in e for e in snap.errors), snap.errors


# -- one rule for empty listings, restores included ----------------------------------------------


def snapshot(catalogs: dict[str, dict[str, list[str]]], *, tables_listed: bool = True) -> Snapshot:
    """Complete listings of these catalogs -> databases -> tables; with ``tables_listed``
    False every table listing comes back empty."""
    snap = Snapshot(
        catalogs=[DataCatalog(c, "GLUE") for c in catalogs],
        catalog_listing=Listing(ok=True, proves_absence=True),
    )
    for catalog, databases in catalogs.items():
        snap.databases[catalog.lower()] = [Database(catalog, d) for d in databases]
        snap.database_listings[catalog.lower()] = Listing(True, True)
        for database, names in databases.items():
            key = schema_key(catalog, database)
            tables = [
                Table(catalog, database, n, EXTERNAL_TABLE, (Column("id", "bigint"),))
                for n in names
            ]
            snap.tables[key] = tables if tables_listed else []
            snap.table_listings[key] = Listing(True, tables_listed and bool(tables))
    return snap


def deleted_flags(store: CatalogStore) -> dict[str, bool]:
    with store.read() as conn:
        flags = dict(conn.execute(select(catalog_tables.c.fqn, catalog_tables.c.deleted)).all())
        flags |= {
            f"schema {k}": v
            for k, v in conn.execute(select(catalog_schemas.c.fqn, catalog_schemas.c.deleted)).all()
        }
    return flags


def test_empty_listing_after_a_restore_keeps_tables_as_everywhere_else(store_url: str) -> None:
    store = CatalogStore(store_url)
    options, policy = CrawlOptions(), DeletionPolicy(max_deletion_ratio=1)

    def apply(snap: Snapshot):
        return apply_snapshot(store, snap, options, policy, engine_kind="aws")

    try:
        both = {"home": {"db": ["a", "b"]}, "partner": {"db": ["a", "b"]}}
        apply(snapshot(both))
        apply(snapshot({"home": {"db": ["a", "b"]}, "partner": {"db": ["a"]}}))  # b dropped
        apply(snapshot({"home": {"db": ["a", "b"]}}))  # partner gone: cascade
        assert deleted_flags(store)["partner.db.a"] is True
        # partner is back, and both databases list no tables (e.g. Lake Formation hides them)
        result = apply(snapshot(both, tables_listed=False))
        flags = deleted_flags(store)
    finally:
        store.close()
    assert flags == {
        "home.db.a": False,
        "home.db.b": False,
        "partner.db.a": False,  # live again, like home's: the cascade is undone
        "partner.db.b": True,  # its own complete listing proved it gone before the cascade
        "schema home.db": False,
        "schema partner.db": False,
    }
    assert result.restored_tables == ["partner.db.a"]


# -- max_deletion_ratio ---------------------------------------------------------------------------


def test_mass_deletion_is_refused_unless_intended(moto_endpoint: str, store_url: str) -> None:
    glue = boto3.client("glue", region_name=FAKE_REGION, endpoint_url=moto_endpoint)
    seed_glue(glue, databases=2, tables_per_database=8)
    assert run(moto_endpoint, store_url).success
    before = store_rows(store_url)
    excludes_all = {"table_filter_pattern": {"excludes": [".*"]}}

    refused = run(moto_endpoint, store_url, excludes_all)
    assert not refused.success
    text = failure_text(refused)
    assert "16 of the 16 live tables" in text and "max_deletion_ratio 0.5" in text, text
    assert "allow_mass_deletion" in text
    assert store_rows(store_url) == before
    store = CatalogStore(store_url)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(crawl_runs)).scalar_one() == 1
    store.close()

    # a share at the limit passes: one database of two excluded deletes half the tables
    half = {"schema_filter_pattern": {"excludes": ["sales_001"]}}
    assert run(moto_endpoint, store_url, half).success
    # OpenMetadata's behaviour, when asked for: everything excluded, everything deleted
    intended = run(moto_endpoint, store_url, {**excludes_all, "allow_mass_deletion": True})
    assert intended.success
    assert all(r["deleted"] for r in store_rows(store_url)["catalog_tables"])


def test_max_deletion_ratio_is_validated(moto_endpoint: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    result = run(moto_endpoint, url, {"max_deletion_ratio": 1.5})
    assert not result.success
    text = failure_text(result)
    assert "max_deletion_ratio" in text and "less than or equal to 1" in text, text
    with pytest.raises(ValueError, match="max_deletion_ratio must be between 0 and 1"):
        DeletionPolicy(max_deletion_ratio=-0.1)


def test_store_refuses_the_apply_as_one_transaction(store_url: str) -> None:
    store = CatalogStore(store_url)
    options = CrawlOptions()
    try:
        names = [f"t{i}" for i in range(8)]
        apply_snapshot(
            store, snapshot({"home": {"db": names}}), options, DeletionPolicy(), engine_kind="aws"
        )
        before = deleted_flags(store)
        six_gone = snapshot({"home": {"db": names[:2]}})
        with pytest.raises(MassDeletionError) as refused:
            apply_snapshot(store, six_gone, options, DeletionPolicy(), engine_kind="aws")
        assert (refused.value.deleting, refused.value.live) == (6, 8)
        assert deleted_flags(store) == before
        lenient = DeletionPolicy(max_deletion_ratio=0.75)
        result = apply_snapshot(store, six_gone, options, lenient, engine_kind="aws")
        assert len(result.deleted_tables) == 6
    finally:
        store.close()


def test_the_guard_judges_the_listings_that_delete_not_the_whole_store(store_url: str) -> None:
    """One database lists 1 of its 10 tables (complete as far as AWS says) while the big one's
    listing fails: 9 of the 14 judged tables would go, though only 9 of the store's 104."""
    store = CatalogStore(store_url)
    options, policy = CrawlOptions(), DeletionPolicy()
    sales = [f"s{i}" for i in range(10)]
    big = [f"b{i}" for i in range(90)]
    tiny = ["x", "y", "z", "w"]
    try:
        full = snapshot({"home": {"sales": sales, "big": big, "tiny": tiny}})
        apply_snapshot(store, full, options, policy, engine_kind="aws")
        before = deleted_flags(store)
        hidden = snapshot({"home": {"sales": sales[:1], "big": big, "tiny": tiny}})
        hidden.tables[schema_key("home", "big")] = []
        hidden.table_listings[schema_key("home", "big")] = Listing(False, False, "denied")
        with pytest.raises(MassDeletionError) as refused:
            apply_snapshot(store, hidden, options, policy, engine_kind="aws")
        assert (refused.value.deleting, refused.value.live) == (9, 14)  # sales and tiny
        assert deleted_flags(store) == before
        # Routine drops stay routine: fewer than min_mass_deletion tables, whatever the share.
        small = snapshot({"home": {"sales": sales, "big": big, "tiny": tiny[:1]}})
        result = apply_snapshot(store, small, options, policy, engine_kind="aws")
        assert sorted(result.deleted_tables) == ["home.tiny.w", "home.tiny.y", "home.tiny.z"]
    finally:
        store.close()
