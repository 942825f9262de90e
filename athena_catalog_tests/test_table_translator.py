"""The table assets as store state -> translator -> specs: a subclassed translator changes
every spec consistently, owners follow one rule, and the plain modules never load Dagster."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import pytest
from dagster._core.definitions.utils import is_valid_owner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.defs.tables.state import TableRecord, read_tables_state
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.owners import dagster_owner
from athena_catalog.store import CatalogStore
from athena_catalog.store.lineage import lineage_column_edges, lineage_table_edges
from athena_catalog.store.schema import catalog_columns, catalog_tables

PACKAGE = Path(__file__).parents[1] / "athena_catalog"

# fqn -> (Glue owner, tags)
TABLES = {
    "cat.sales.orders": ("hadoop", {"owner": "Team_Shop", "tier": "gold"}),
    "cat.sales.daily": ("ana@example.com", {}),
    "cat.sales.raw": ("hadoop", {"note": "loaded 06:00Z"}),
}


@pytest.fixture
def filled_store(store_url: str) -> str:
    """Three tables, raw -> orders -> daily, with column lineage daily.amount <- orders.amount."""
    now = datetime.now(UTC)
    store = CatalogStore(store_url)
    try:
        with store.write() as conn:
            conn.execute(
                insert(catalog_tables),
                [
                    {"fqn": fqn, "catalog": "cat", "database": "sales", "name": fqn.split(".")[2],
                     "table_type": "EXTERNAL_TABLE", "owner": owner, "parameters": {},
                     "tags": tags, "deleted": False, "first_seen": now, "last_seen": now}
                    for fqn, (owner, tags) in TABLES.items()
                ],
            )  # fmt: skip
            conn.execute(
                insert(catalog_columns),
                [
                    {"table_fqn": fqn, "name": "amount", "ordinal": 0, "data_type": "double",
                     "is_partition_key": False, "first_seen": now, "last_seen": now}
                    for fqn in TABLES
                ],
            )  # fmt: skip
            conn.execute(
                insert(lineage_table_edges),
                [
                    {"source_fqn": s, "target_fqn": t, "kind": "query", "query_count": 3}
                    for s, t in [("cat.sales.raw", "cat.sales.orders"),
                                 ("cat.sales.orders", "cat.sales.daily")]
                ],
            )  # fmt: skip
            conn.execute(
                insert(lineage_column_edges),
                [{"source_table_fqn": "cat.sales.orders", "source_column": "amount",
                  "target_table_fqn": "cat.sales.daily", "target_column": "amount",
                  "kind": "query", "query_count": 3}],
            )  # fmt: skip
    finally:
        store.close()
    return store_url


class Warehouse(AthenaTableTranslator):
    """A user's translator: its own key prefix, a group per database, one team for all."""

    def get_asset_key(self, table):  # type: ignore[no-untyped-def]
        return dg.AssetKey(["warehouse", table.database, table.name])

    def get_group_name(self, table: TableRecord) -> str:
        return f"db_{table.database}"

    def get_owners(self, table: TableRecord) -> list[str]:
        return ["team:data-platform"]


def by_name(specs: list[dg.AssetSpec]) -> dict[str, dg.AssetSpec]:
    return {s.key.path[-1]: s for s in specs}


def test_a_subclassed_translator_shapes_every_spec(filled_store: str) -> None:
    specs = by_name(athena_table_specs(filled_store, translator=Warehouse()))
    assert {s.key.to_user_string() for s in specs.values()} == {
        "warehouse/sales/orders",
        "warehouse/sales/daily",
        "warehouse/sales/raw",
    }
    daily = specs["daily"]
    # Deps and column lineage point at the translator's keys, not the default ones.
    assert [d.asset_key for d in daily.deps] == [dg.AssetKey(["warehouse", "sales", "orders"])]
    lineage = daily.metadata["dagster/column_lineage"].deps_by_column["amount"]
    assert [d.asset_key for d in lineage] == [dg.AssetKey(["warehouse", "sales", "orders"])]
    assert {s.group_name for s in specs.values()} == {"db_sales"}
    assert all(s.owners == ["team:data-platform"] for s in specs.values())
    dg.Definitions.validate_loadable(dg.Definitions(assets=list(specs.values())))


def test_owners_come_from_the_owner_tag_else_glue_and_live_in_one_place(
    filled_store: str,
) -> None:
    specs = by_name(athena_table_specs(filled_store))
    assert specs["orders"].owners == ["team:team-shop"]  # the tag wins over Glue's "hadoop"
    assert specs["daily"].owners == ["ana@example.com"]  # no tag: Glue's Owner, an e-mail
    assert specs["raw"].owners == []  # "hadoop" names nobody
    # The Glue owner is no longer repeated as free-text metadata; the Athena tags stay tags.
    assert not [s for s in specs.values() if "owner" in s.metadata]
    assert {k: specs["orders"].tags[k] for k in ("owner", "tier")} == TABLES["cat.sales.orders"][1]
    assert specs["raw"].metadata["athena_tags"].value == {"note": "loaded 06:00Z"}


class Relation(NamedTuple):
    """What a check, a profile or a dbt source knows of a table: its three parts."""

    catalog: str
    database: str
    name: str


def test_the_key_of_a_plain_record_is_the_spec_key(filled_store: str) -> None:
    state = read_tables_state(filled_store)
    translator = AthenaTableTranslator()
    spec_keys = {s.key for s in athena_table_specs(filled_store)}
    assert {translator.get_asset_key(t) for t in state.tables.values()} == spec_keys
    assert translator.get_asset_key(Relation("Cat", "Sales", "Orders")) in spec_keys


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("ana@example.com", "ana@example.com"),
        (" team-bi ", "team:team-bi"),
        ("Team BI", "team:team-bi"),
        ("team:Finance Ops", "team:finance-ops"),
        ("équipe café", "team:équipe-café"),
        ("arn:aws:iam::123456789012:user/analyst", "team:arn-aws-iam-123456789012-user-analyst"),
        ("hadoop", None),
        ("", None),
        ("--", None),
        (None, None),
    ],
)
def test_owner_mapping(text: str | None, owner: str | None) -> None:
    assert dagster_owner(text) == owner


@given(st.text())
def test_every_owner_text_maps_to_one_dagster_accepts(text: str) -> None:
    owner = dagster_owner(text)
    assert owner is None or is_valid_owner(owner)
    assert dagster_owner(text) == owner


def test_plain_modules_never_import_dagster() -> None:
    """Everything outside defs/ (but the code location and the command) imports without it."""
    modules = sorted(
        ".".join(("athena_catalog", *p.relative_to(PACKAGE).with_suffix("").parts))
        for p in PACKAGE.rglob("*.py")
        if "defs" not in p.relative_to(PACKAGE).parts
        and p.name not in {"definitions.py", "cli.py", "__main__.py"}
        and "versions" not in p.parts
        and p.parent.name != "migrations"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        "    assert 'dagster' not in sys.modules, name\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
