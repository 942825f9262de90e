"""Applying a crawl snapshot to the store: upserts, soft deletes and the schema-change history.

The whole apply runs in one write transaction, after the crawl has finished, so a crawl that
fails midway never reaches the store and an apply that fails midway rolls back.

One rule decides what is deleted, for catalogs, databases and tables alike: an object is
marked deleted only on proof, i.e. a complete, non-empty listing of its parent that lacks it,
or the deletion of its parent (the cascade). A failed, partial or empty listing changes
nothing below it. When a deleted parent is listed again its cascade is undone: the children
that were live when it was last seen come back with it, and only a complete listing of their
own can then delete them again. So an empty listing gives the same result whether or not its
parent was away in between.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, Table, delete, func, insert, or_, select, update

from athena_catalog.batching import chunks
from athena_catalog.crawl import CrawlOptions, Snapshot, schema_key
from athena_catalog.engines.records import VIRTUAL_VIEW, Column
from athena_catalog.engines.records import Table as CatalogTable
from athena_catalog.names import split_fqn
from athena_catalog.store.connection import CatalogStore
from athena_catalog.store.schema import (
    catalog_catalogs,
    catalog_columns,
    catalog_schemas,
    catalog_tables,
    crawl_runs,
    schema_changes,
)

IN_LIST = 500  # ids per IN-list: SQLite caps bound parameters per statement
# The table fields whose change makes a table "changed" (timestamps excluded: AWS bumps them).
_COMPARED = (
    "table_type",
    "description",
    "location",
    "storage_format",
    "view_sql",
    "owner",
    "parameters",
    "tags",
)


@dataclass(frozen=True)
class DeletionPolicy:
    """OpenMetadata's ``markDeletedTables`` and ``markDeletedTablesFromFilterOnly``, plus a
    guard: an apply that would soft-delete at least ``min_mass_deletion`` tables and more than
    ``max_deletion_ratio`` of the live tables its deletions were judged on (the stored live
    tables of every listing that proved absence and of every schema deleted with its tables)
    is refused unless ``allow_mass_deletion`` says it is intended. A filter that excludes
    everything deletes everything, as in OpenMetadata, but never by accident; and a listing
    that shows one table of ten is caught even while the rest of the store was not listed."""

    mark_deleted_tables: bool = True
    from_filter_only: bool = False
    max_deletion_ratio: float = 0.5
    allow_mass_deletion: bool = False
    min_mass_deletion: int = 5  # fewer deletions are routine drops, whatever their share

    def __post_init__(self) -> None:
        if not 0 <= self.max_deletion_ratio <= 1:
            raise ValueError(
                f"max_deletion_ratio must be between 0 and 1, not {self.max_deletion_ratio!r}"
            )
        if self.min_mass_deletion < 1:
            raise ValueError(f"min_mass_deletion must be >= 1, not {self.min_mass_deletion!r}")


class MassDeletionError(Exception):
    """The apply would soft-delete more of the live tables than the policy allows."""

    def __init__(self, deleting: int, live: int, ratio: float):
        super().__init__(
            f"refused: this crawl would soft-delete {deleting} of the {live} live tables its"
            f" listings covered ({deleting / live:.0%}), more than max_deletion_ratio {ratio:g}"
            " allows;"
            " nothing was applied. If that is intended (a filter that now excludes them, a"
            " catalog really emptied), run again with allow_mass_deletion: true"
        )
        self.deleting, self.live, self.ratio = deleting, live, ratio


@dataclass
class ApplyResult:
    counts: Counter[str] = field(default_factory=Counter)
    new_tables: list[str] = field(default_factory=list)
    changed_tables: list[str] = field(default_factory=list)
    deleted_tables: list[str] = field(default_factory=list)
    restored_tables: list[str] = field(default_factory=list)
    schema_changes: list[dict[str, Any]] = field(default_factory=list)


def apply_snapshot(
    store: CatalogStore,
    snap: Snapshot,
    options: CrawlOptions,
    policy: DeletionPolicy,
    *,
    engine_kind: str,
    run_id: str | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    now = now or datetime.now(UTC)
    result = ApplyResult()
    with store.write() as conn:
        applier = _Applier(conn, options, policy, now, run_id, result)
        applier.undo_cascades(snap)
        applier.catalogs(snap)
        applier.schemas(snap)
        applier.tables(snap)
        deleting, judged = len(result.deleted_tables), len(applier.judged)
        if (
            deleting >= policy.min_mass_deletion
            and deleting / judged > policy.max_deletion_ratio
            and not policy.allow_mass_deletion
        ):
            raise MassDeletionError(deleting, judged, policy.max_deletion_ratio)  # rolls back
        if result.schema_changes:
            conn.execute(insert(schema_changes), result.schema_changes)
        summary = {**result.counts, "errors": snap.errors, "filtered_out": snap.filtered_out}
        conn.execute(
            insert(crawl_runs).values(
                run_id=run_id,
                engine=engine_kind,
                started_at=now,
                finished_at=datetime.now(UTC),
                summary=summary,
            )
        )
    return result


class _Applier:
    def __init__(
        self,
        conn: Connection,
        options: CrawlOptions,
        policy: DeletionPolicy,
        now: datetime,
        run_id: str | None,
        result: ApplyResult,
    ):
        self.conn, self.options, self.policy = conn, options, policy
        self.now, self.run_id, self.result = now, run_id, result
        # Live tables some deletion decision looked at: the mass-deletion guard's denominator.
        self.judged: set[str] = set()

    # -- restores: a parent listed again brings back what its deletion took along

    def undo_cascades(self, snap: Snapshot) -> None:
        """Runs before anything is written, on the stored state: for each deleted catalog or
        schema this crawl lists again whose own children's listing proves nothing, revive the
        children that were live when it was last seen (``last_seen`` no older than its)."""
        catalogs = self._rows(catalog_catalogs, "name")
        schemas = self._rows(catalog_schemas, "fqn")
        listed = {schema_key(d.catalog, d.name) for dbs in snap.databases.values() for d in dbs}
        revived = [row for key, row in schemas.items() if row["deleted"] and key in listed]
        for c in snap.catalogs:
            row = catalogs.get(c.name.lower())
            if row is None or not row["deleted"] or _proves(snap.database_listings, row["name"]):
                continue
            for schema in schemas.values():
                if (
                    schema["deleted"]
                    and schema["catalog"].lower() == row["name"]
                    and _naive(schema["last_seen"]) >= _naive(row["last_seen"])
                ):
                    self.conn.execute(
                        update(catalog_schemas)
                        .where(catalog_schemas.c.fqn == schema["fqn"])
                        .values(deleted=False)
                    )
                    revived.append(schema)
        for schema in revived:
            if _proves(snap.table_listings, schema["fqn"]):
                continue
            fqns = (
                self.conn.execute(
                    select(catalog_tables.c.fqn).where(
                        func.lower(catalog_tables.c.catalog) == schema["catalog"].lower(),
                        func.lower(catalog_tables.c.database) == schema["name"].lower(),
                        catalog_tables.c.deleted.is_(True),
                        catalog_tables.c.last_seen >= schema["last_seen"],
                    )
                )
                .scalars()
                .all()
            )
            for chunk in chunks(list(fqns), IN_LIST):
                self.conn.execute(
                    update(catalog_tables)
                    .where(catalog_tables.c.fqn.in_(chunk))
                    .values(deleted=False)
                )
            for fqn in fqns:
                self.result.restored_tables.append(fqn)
                self._change(fqn, "table_restored")

    # -- catalogs and schemas: upsert, then soft-delete what a complete listing no longer has

    def catalogs(self, snap: Snapshot) -> None:
        stored = self._rows(catalog_catalogs, "name")
        seen = set()
        for c in snap.catalogs:
            key = c.name.lower()
            seen.add(key)
            values = {
                "display_name": c.name,
                "catalog_type": c.type,
                "description": c.description,
                "parameters": c.parameters,
            }
            self._upsert(catalog_catalogs, "name", key, values, stored.get(key), "catalogs")
        if snap.catalog_listing.proves_absence and self.policy.mark_deleted_tables:
            for key, row in stored.items():
                if (
                    key not in seen
                    and not row["deleted"]
                    and self._in_scope(self.options.database_filter, row["display_name"])
                ):
                    self._soft_delete(catalog_catalogs, catalog_catalogs.c.name == key, "catalogs")
                    self._delete_schemas(func.lower(catalog_schemas.c.catalog) == key)

    def schemas(self, snap: Snapshot) -> None:
        stored = self._rows(catalog_schemas, "fqn")
        for catalog_key, listing in snap.database_listings.items():
            if not listing.ok:
                continue
            seen = set()
            for d in snap.databases.get(catalog_key, []):
                key = schema_key(d.catalog, d.name)
                seen.add(key)
                values = {
                    "catalog": d.catalog,
                    "name": d.name,
                    "description": d.description,
                    "location": d.location,
                    "parameters": d.parameters,
                }
                self._upsert(catalog_schemas, "fqn", key, values, stored.get(key), "schemas")
            if not (listing.proves_absence and self.policy.mark_deleted_tables):
                continue
            gone = [
                key
                for key, row in stored.items()
                if key.startswith(catalog_key + ".")
                and key not in seen
                and not row["deleted"]
                and self._in_scope(self.options.schema_filter, row["name"])
            ]
            for key in gone:
                self._delete_schemas(catalog_schemas.c.fqn == key)

    def _delete_schemas(self, where: Any) -> None:
        rows = self.conn.execute(select(catalog_schemas).where(where)).mappings().all()
        for row in rows:
            if not row["deleted"]:
                self._soft_delete(catalog_schemas, catalog_schemas.c.fqn == row["fqn"], "schemas")
            tables = self.conn.execute(
                select(catalog_tables.c.fqn).where(
                    func.lower(catalog_tables.c.catalog) == row["catalog"].lower(),
                    func.lower(catalog_tables.c.database) == row["name"].lower(),
                    catalog_tables.c.deleted.is_(False),
                )
            ).scalars()
            doomed = list(tables)
            self.judged.update(doomed)
            self._delete_tables(doomed)

    # -- tables and columns

    def tables(self, snap: Snapshot) -> None:
        for key, listing in snap.table_listings.items():
            if not listing.ok:
                continue
            stored = self._stored_tables(key)
            columns = self._stored_columns(stored)
            batch = _TableBatch()
            for t in snap.tables.get(key, []):
                row = stored.get(t.fqn)
                if row is not None and not snap.tags_known(t.catalog):
                    t = replace(t, tags=row["tags"])  # a failed tag read changes no tag
                self._table(t, row, columns.get(t.fqn, []), batch)
            self._flush(batch)
            if listing.proves_absence and self.policy.mark_deleted_tables:
                live = [
                    fqn
                    for fqn, row in stored.items()
                    if not row["deleted"] and self._table_in_scope(row)
                ]
                self.judged.update(live)
                self._delete_tables([fqn for fqn in live if fqn not in batch.seen])

    def _table(
        self, t: CatalogTable, row: Any, old_columns: list[Column], batch: _TableBatch
    ) -> None:
        """Sorts one listed table into the batch: new, changed, or only seen again."""
        self.result.counts["views" if t.is_view else "tables"] += 1
        self.result.counts["columns"] += len(t.columns)
        batch.seen.add(t.fqn)
        values = {
            "catalog": t.catalog,
            "database": t.database,
            "name": t.name,
            "table_type": t.table_type,
            "description": t.description,
            "location": t.location,
            "storage_format": t.storage_format,
            "view_sql": t.view_sql,
            "owner": t.owner,
            "parameters": t.parameters,
            "tags": t.tags,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
        }
        if row is None:
            new_row = {"fqn": t.fqn, **values, "deleted": False}
            batch.new.append(new_row | {"first_seen": self.now, "last_seen": self.now})
            batch.columns += _column_rows(t.fqn, t.columns)
            self.result.new_tables.append(t.fqn)
            self._change(t.fqn, "table_created")
            return
        changed = any(row[k] != values[k] for k in _COMPARED)
        column_changes = _column_changes(old_columns, t.columns)
        if column_changes or _column_details(old_columns) != _column_details(t.columns):
            changed = True
            batch.replaced_columns.append(t.fqn)
            batch.columns += _column_rows(t.fqn, t.columns)
        if row["deleted"]:
            self.result.restored_tables.append(t.fqn)
            self._change(t.fqn, "table_restored")
        elif changed:
            self.result.changed_tables.append(t.fqn)
        for change, name, old, new in column_changes:
            self._change(t.fqn, change, name, old, new)
        if changed or row["deleted"] or _naive(row["updated_at"]) != _naive(t.updated_at):
            batch.updated.append((t.fqn, values))
        else:
            batch.unchanged.append(t.fqn)

    def _flush(self, batch: _TableBatch) -> None:
        """A few statements per schema, not a few per table: crawls of 10,000 tables."""
        if batch.new:
            self.conn.execute(insert(catalog_tables), batch.new)
        for fqn, values in batch.updated:
            self.conn.execute(
                update(catalog_tables)
                .where(catalog_tables.c.fqn == fqn)
                .values(**values, deleted=False, last_seen=self.now)
            )
        for chunk in chunks(batch.unchanged, IN_LIST):
            self.conn.execute(
                update(catalog_tables)
                .where(catalog_tables.c.fqn.in_(chunk))
                .values(last_seen=self.now)
            )
        for chunk in chunks(batch.replaced_columns, IN_LIST):
            self.conn.execute(delete(catalog_columns).where(catalog_columns.c.table_fqn.in_(chunk)))
        if batch.columns:
            self.conn.execute(insert(catalog_columns), batch.columns)

    def _stored_columns(self, tables: dict[str, Any]) -> dict[str, list[Column]]:
        out: dict[str, list[Column]] = {}
        if not tables:
            return out
        rows = self.conn.execute(
            select(catalog_columns)
            .where(catalog_columns.c.table_fqn.in_(list(tables)))
            .order_by(catalog_columns.c.table_fqn, catalog_columns.c.ordinal)
        ).mappings()
        for r in rows:
            out.setdefault(r["table_fqn"], []).append(
                Column(r["name"], r["data_type"], r["description"], r["is_partition_key"])
            )
        return out

    def _delete_tables(self, fqns: list[str]) -> None:
        for chunk in chunks(fqns, IN_LIST):
            self.conn.execute(
                update(catalog_tables).where(catalog_tables.c.fqn.in_(chunk)).values(deleted=True)
            )
        for fqn in fqns:
            self.result.deleted_tables.append(fqn)
            self._change(fqn, "table_deleted")
        self.result.counts["tables_deleted"] += len(fqns)

    # -- helpers

    def _in_scope(self, pattern: Any, name: str) -> bool:
        """Without ``from_filter_only`` anything missing from a complete listing goes; with
        it, only what this crawl's filters cover."""
        return not self.policy.from_filter_only or pattern.keeps(name)

    def _table_in_scope(self, row: Any) -> bool:
        if not self.policy.from_filter_only:
            return True
        if row["table_type"] == VIRTUAL_VIEW and not self.options.include_views:
            return False
        return self.options.table_filter.keeps(row["name"])

    def _stored_tables(self, key: str) -> dict[str, Any]:
        """Stored rows of one database's tables by fqn, matched on their parts, never by
        splitting a dotted name. An fqn stored before names were quoted (a dotted part bare)
        is found too, so the crawl re-keys that table instead of leaving a ghost row."""
        catalog, database = split_fqn(key, 2)
        fqn = catalog_tables.c.fqn
        prefixes = {f"{key}.", f"{catalog}.{database}."}
        rows = self.conn.execute(
            select(catalog_tables).where(
                or_(*(fqn.startswith(p, autoescape=True) for p in sorted(prefixes)))
            )
        ).mappings()
        return {r["fqn"]: r for r in rows if schema_key(r["catalog"], r["database"]) == key}

    def _rows(self, table: Table, key: str) -> dict[str, Any]:
        return {r[key]: r for r in self.conn.execute(select(table)).mappings()}

    def _upsert(
        self, table: Table, key_col: str, key: str, values: dict, row: Any, what: str
    ) -> None:
        if row is None:
            self.conn.execute(
                insert(table).values(
                    {
                        key_col: key,
                        **values,
                        "deleted": False,
                        "first_seen": self.now,
                        "last_seen": self.now,
                    }
                )
            )
            self.result.counts[f"{what}_new"] += 1
        else:
            if row["deleted"] or any(row[k] != v for k, v in values.items()):
                self.result.counts[f"{what}_changed"] += 1
            self.conn.execute(
                update(table)
                .where(table.c[key_col] == key)
                .values(**values, deleted=False, last_seen=self.now)
            )
        self.result.counts[what] += 1

    def _soft_delete(self, table: Table, where: Any, what: str) -> None:
        self.conn.execute(update(table).where(where).values(deleted=True))
        self.result.counts[f"{what}_deleted"] += 1

    def _change(
        self,
        fqn: str,
        change: str,
        column: str | None = None,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        row = {
            "detected_at": self.now,
            "table_fqn": fqn,
            "change": change,
            "column_name": column,
            "old_type": old,
            "new_type": new,
            "run_id": self.run_id,
        }
        self.result.schema_changes.append(row)  # written in one go by apply_snapshot


@dataclass
class _TableBatch:
    """One schema's table writes, collected so they go out as a few bulk statements."""

    seen: set[str] = field(default_factory=set)
    new: list[dict[str, Any]] = field(default_factory=list)
    updated: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced_columns: list[str] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)


def _proves(listings: dict[str, Any], key: str) -> bool:
    """Whether this crawl's listing under ``key`` proves absence (and so judges children)."""
    listing = listings.get(key)
    return listing is not None and listing.proves_absence


@overload
def _naive(value: datetime) -> datetime: ...
@overload
def _naive(value: None) -> None: ...
def _naive(value: datetime | None) -> datetime | None:
    """SQLite returns timestamps without their zone: compare in UTC, zone dropped."""
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _column_rows(fqn: str, columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [
        {
            "table_fqn": fqn,
            "name": c.name.lower(),
            "ordinal": i,
            "data_type": c.data_type,
            "description": c.description,
            "is_partition_key": c.is_partition_key,
        }
        for i, c in enumerate(_unique_columns(columns))
    ]


def _unique_columns(columns: Sequence[Column]) -> list[Column]:
    """Glue allows a partition key to repeat a data column's name; the store keeps the first."""
    seen: set[str] = set()
    out = []
    for c in columns:
        if c.name.lower() not in seen:
            seen.add(c.name.lower())
            out.append(c)
    return out


def _column_details(columns: Sequence[Column]) -> list[tuple[Any, ...]]:
    return [
        (c.name.lower(), c.data_type, c.description, c.is_partition_key)
        for c in _unique_columns(columns)
    ]


def _column_changes(
    old: Sequence[Column], new: Sequence[Column]
) -> list[tuple[str, str, str | None, str | None]]:
    before = {c.name.lower(): c.data_type for c in _unique_columns(old)}
    after = {c.name.lower(): c.data_type for c in _unique_columns(new)}
    changes: list[tuple[str, str, str | None, str | None]] = []
    changes += [("column_added", n, None, t) for n, t in after.items() if n not in before]
    changes += [("column_removed", n, t, None) for n, t in before.items() if n not in after]
    changes += [
        ("column_type_changed", n, before[n], t)
        for n, t in after.items()
        if n in before and before[n] != t
    ]
    return changes
