"""The store's schema under Alembic, on SQLite and PostgreSQL: a store created before Alembic
(the committed DDL of revision 0001) upgrades without losing a row, the revisions build the
schema the tables module declares, and a store this code cannot read is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from athena_catalog.cli import main as cli_main
from athena_catalog.store import CatalogStore, StoreError, migrations
from athena_catalog.store.schema import metadata

FIXTURES = Path(__file__).parent / "fixtures"
ROWS_PER_TABLE = 3


def _baseline() -> sa.MetaData:
    """The tables as revision 0001 (the code before Alembic) declared them."""
    return migrations._script().get_revision(migrations.BASELINE).module._meta


def _create_legacy_store(url: str) -> None:
    """The DDL the code before Alembic ran (``create_all``), from the committed snapshot."""
    dialect = sa.make_url(url).get_backend_name()
    ddl = (FIXTURES / f"store_schema_0001.{dialect}.sql").read_text()
    if dialect == "sqlite":
        with sqlite3.connect(sa.make_url(url).database) as conn:
            conn.executescript(ddl)
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(ddl)
    engine.dispose()


def _value(column: sa.Column, i: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, sa.Float):
        return i + 0.5
    if isinstance(kind, sa.DateTime):
        return datetime(2024, 1, 2, 3, 4, 5, i, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(2024, 1, 2 + i)
    if isinstance(kind, sa.JSON):
        return {"row": i, "values": ["a", None, 1.5]}
    length = getattr(kind, "length", None) or 64
    return f"{i}-{column.name}-{'x' * 20}"[:length]


def _fill(url: str, tables: sa.MetaData) -> dict[str, list[tuple]]:
    """Rows in every table; what each table reads back, in key order."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in tables.sorted_tables:
            rows = [{c.name: _value(c, i) for c in table.c} for i in range(ROWS_PER_TABLE)]
            conn.execute(sa.insert(table), rows)
    contents = _read(engine, tables)
    engine.dispose()
    return contents


def _read(engine: sa.Engine, tables: sa.MetaData) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            t.name: [
                tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns or t.c))
            ]
            for t in tables.sorted_tables
        }


# Columns revision 0003 replaced: the one-way resolved flag (every row is re-resolved once).
DROPPED = {("query_history", "resolved")}


def _kept(tables: sa.MetaData) -> sa.MetaData:
    """``tables`` without the columns a later revision dropped."""
    kept = sa.MetaData()
    for t in tables.sorted_tables:
        sa.Table(t.name, kept, *(c.copy() for c in t.c if (t.name, c.name) not in DROPPED))
    return kept


def _without_dropped(rows: dict[str, list[tuple]], tables: sa.MetaData) -> dict[str, list[tuple]]:
    """``rows`` read with ``tables``, without the values of the columns a later revision dropped."""
    keep = {t.name: [(t.name, c.name) not in DROPPED for c in t.c] for t in tables.sorted_tables}
    return {
        name: [tuple(v for v, k in zip(row, keep[name], strict=True) if k) for row in table]
        for name, table in rows.items()
    }


def _assert_0003_columns(engine: sa.Engine) -> None:
    """What 0003 added: every history row unresolved (re-resolved once, through the cache),
    lineage statements counted and timed from the history they came from."""
    h, s = metadata.tables["query_history"].c, metadata.tables["lineage_statements"].c
    with engine.connect() as conn:
        assert conn.execute(sa.select(h.parser_version, h.fingerprint).distinct()).all() == [
            (None, None)
        ]
        times = dict(conn.execute(sa.select(h.query_id, h.submitted_at)).all())
        statements = conn.execute(sa.select(s.query_id, s.submitted_at, s.counted)).all()
    assert statements and all(counted for _, _, counted in statements)
    assert all(at == times.get(q) for q, at, _ in statements)


def test_snapshot_fixture_is_the_baseline_revision() -> None:
    """The committed DDL and revision 0001 are the same schema, so the upgrade test below
    starts from what the code before Alembic really created."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        _baseline().create_all(conn)
        created = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY tbl_name, type DESC, name"
        ).scalars()
        expected = ";\n".join(s.strip() for s in created) + ";\n"
    snapshot = (FIXTURES / "store_schema_0001.sqlite.sql").read_text()
    assert snapshot.split("\n", 2)[2] == expected
    # Later revisions add tables; none drops one, so every baseline table is still declared.
    assert set(_baseline().tables) <= set(metadata.tables)


def test_pre_alembic_store_upgrades_without_losing_a_row(store_url: str) -> None:
    _create_legacy_store(store_url)
    before = _fill(store_url, _baseline())
    assert all(len(rows) == ROWS_PER_TABLE for rows in before.values())

    store = CatalogStore(store_url)
    try:
        assert store.upgraded_from == migrations.BASELINE
        with store.read() as conn:
            assert migrations.current(conn) == migrations.head()
        before = _without_dropped(before, _baseline())
        assert _read(store.engine, _kept(_baseline())) == before
        _assert_0003_columns(store.engine)
        # What 0001's VARCHARs refused on PostgreSQL now fits, next to the old rows.
        long_id = "q" * 300
        with store.write() as conn:
            conn.execute(
                sa.insert(metadata.tables["lineage_statements"]).values(
                    query_id=long_id,
                    fingerprint="f",
                    outcome="ok",
                    analysed_at=datetime.now(UTC),
                )
            )
    finally:
        store.close()
    reopened = CatalogStore(store_url)
    try:
        assert reopened.upgraded_from == migrations.head()
        after = _read(reopened.engine, _kept(_baseline()))
    finally:
        reopened.close()
    statements = after.pop("lineage_statements")
    assert set(statements) > set(before.pop("lineage_statements"))
    assert long_id in {row[0] for row in statements} and len(statements) == ROWS_PER_TABLE + 1
    assert after == before


def test_0002_store_upgrades_to_0003_keeping_every_row(store_url: str) -> None:
    """A store of the release before the one parse pipeline (revision 0002, its tables as
    that revision built them), filled, upgrades with every row and value it held but the
    dropped ``resolved`` flag; its history is then re-resolved once."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0002")
        old = sa.MetaData()
        old.reflect(conn)
    engine.dispose()
    old.remove(old.tables[migrations.VERSION_TABLE])
    assert "resolved" in old.tables["query_history"].c
    before = _without_dropped(_fill(store_url, old), old)
    assert all(len(rows) == ROWS_PER_TABLE for rows in before.values())

    store = CatalogStore(store_url)
    try:
        assert store.upgraded_from == "0002"
        with store.read() as conn:
            assert migrations.current(conn) == migrations.head()
        assert _read(store.engine, _kept(old)) == before
        _assert_0003_columns(store.engine)
    finally:
        store.close()


def test_0003_store_upgrades_to_head_keeping_every_row(store_url: str) -> None:
    """The release before quality, profiles, dbt and column usage (0003): their revisions only
    add tables, so every row of every existing table survives and the new tables start empty."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0003")
        old = sa.MetaData()
        old.reflect(conn)
    engine.dispose()
    old.remove(old.tables[migrations.VERSION_TABLE])
    before = _fill(store_url, old)
    assert all(len(rows) == ROWS_PER_TABLE for rows in before.values())

    store = CatalogStore(store_url)
    try:
        assert store.upgraded_from == "0003"
        assert _read(store.engine, _kept(old)) == before
        added = set(metadata.tables) - set(old.tables)
        assert {"quality_results", "table_profiles", "dbt_nodes", "column_usage_daily"} <= added
        with store.read() as conn:
            assert all(
                conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[t])).scalar()
                == 0
                for t in added
            )
    finally:
        store.close()


def test_revisions_build_the_schema_the_tables_module_declares(store_url: str) -> None:
    """A new store is built by ``create_all`` and stamped; an old one by the revisions: both
    must end the same, or a future revision is missing."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "head")
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    diffs = [d for d in diffs if not (d[0] == "remove_table" and d[1].name.endswith("version"))]
    assert diffs == []


def test_new_store_is_stamped_at_head(store_url: str) -> None:
    store = CatalogStore(store_url)
    try:
        assert store.upgraded_from is None
        with store.read() as conn:
            assert migrations.current(conn) == migrations.head()
            assert migrations.VERSION_TABLE in sa.inspect(conn).get_table_names()
    finally:
        store.close()


def test_store_at_an_unknown_revision_is_refused(store_url: str) -> None:
    CatalogStore(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"revision .9999.*newer athena-catalog"):
        CatalogStore(store_url)


def test_upgrade_store_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    _create_legacy_store(url)
    assert cli_main(["upgrade-store", "--url", url]) == 0
    assert f"from revision 0001 to {migrations.head()}" in capsys.readouterr().out
    assert cli_main(["upgrade-store", "--url", url]) == 0
    assert "already at revision" in capsys.readouterr().out


def test_store_url_under_a_file_is_a_store_error(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    url = f"sqlite:///{a_file / 'catalog.db'}"
    with pytest.raises(StoreError) as e:
        CatalogStore(url)
    assert url in str(e.value) and "is a file, not a folder" in str(e.value)
    assert cli_main(["upgrade-store", "--url", url]) == 2
