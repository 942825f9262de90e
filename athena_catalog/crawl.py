"""Crawl an engine's catalog into a snapshot: the database → schema → table graph.

Plain Python, no Dagster. The crawl only reads; the store decides what the snapshot changes.
Each listing remembers whether it succeeded and was complete, because a failed, empty or
partial listing must never be taken as proof that something was deleted. An engine's answer
that is partial (a fallback, a catalog it could not describe, a tag read that failed) says so
(``engines.listing``); the crawl turns that into a listing error, never into absence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TypeVar

from athena_catalog.engines.contract import Engine
from athena_catalog.engines.listing import incomplete
from athena_catalog.engines.records import Database, DataCatalog, EngineError, Table
from athena_catalog.filters import FilterPattern
from athena_catalog.names import schema_fqn

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class CrawlOptions:
    """The ingestion options of OpenMetadata's Athena connector that shape what is read."""

    DEPTHS = ("catalogs", "schemas", "tables")

    database_filter: FilterPattern = field(default_factory=FilterPattern)
    schema_filter: FilterPattern = field(default_factory=FilterPattern)
    table_filter: FilterPattern = field(default_factory=FilterPattern)
    include_views: bool = True
    include_tags: bool = True
    only_database: str | None = None  # the connection's ``database`` option: read just this one
    max_workers: int = 4
    depth: str = "tables"  # "catalogs", "schemas" or "tables": how far down to crawl


@dataclass(frozen=True)
class Listing:
    """One listing call's outcome. ``proves_absence`` is True only for a successful,
    complete, non-empty, unrestricted listing: the one case where a missing child is really
    gone. A partial listing is ``ok`` (what it lists is stored) and carries an ``error``."""

    ok: bool
    proves_absence: bool
    error: str | None = None


@dataclass
class Snapshot:
    """What one crawl saw. Keys are lower case: catalog, ``catalog.database``."""

    catalogs: list[DataCatalog] = field(default_factory=list)
    catalog_listing: Listing = field(
        default_factory=lambda: Listing(ok=False, proves_absence=False)
    )
    databases: dict[str, list[Database]] = field(default_factory=dict)
    database_listings: dict[str, Listing] = field(default_factory=dict)
    tables: dict[str, list[Table]] = field(default_factory=dict)
    table_listings: dict[str, Listing] = field(default_factory=dict)
    tag_listings: dict[str, Listing] = field(default_factory=dict)  # per catalog, lower case
    filtered_out: int = 0

    @property
    def errors(self) -> list[str]:
        listings = [self.catalog_listing, *self.database_listings.values()]
        listings += [*self.table_listings.values(), *self.tag_listings.values()]
        return [x.error for x in listings if x.error]

    def tags_known(self, catalog: str) -> bool:
        """Whether this crawl's tags of ``catalog`` replace the stored ones: not when the tag
        read failed, was partial or came back empty (the same rule as for tables)."""
        listing = self.tag_listings.get(catalog.lower())
        return listing is None or listing.proves_absence

    def all_tables(self) -> Iterable[Table]:
        for tables in self.tables.values():
            yield from tables


def schema_key(catalog: str, database: str) -> str:
    """A database's key in snapshots and the store: its unambiguous ``schema_fqn``."""
    return schema_fqn(catalog, database)


def crawl(engine: Engine, options: CrawlOptions) -> Snapshot:
    """Lists catalogs, then databases per kept catalog, then tables of kept databases in
    parallel. Errors are recorded per listing, never raised, so one denied database does
    not stop the rest of the crawl."""
    snap = Snapshot()
    try:
        catalogs = engine.list_data_catalogs()
        snap.catalog_listing = listed(catalogs, "data catalogs")
    except EngineError as e:
        snap.catalog_listing = Listing(ok=False, proves_absence=False, error=f"data catalogs: {e}")
        return snap
    snap.catalogs = _keep(catalogs, lambda c: c.name, options.database_filter, snap)
    if options.depth == "catalogs":
        return snap

    for catalog in snap.catalogs:
        key = catalog.name.lower()
        try:
            databases = engine.list_databases(catalog.name)
        except EngineError as e:
            snap.database_listings[key] = Listing(False, False, f"databases of {catalog.name}: {e}")
            continue
        only = options.only_database
        listing = listed(databases, f"databases of {catalog.name}")
        if only is not None:
            databases = [d for d in databases if d.name.lower() == only.lower()]
            listing = replace(listing, proves_absence=False)
        snap.database_listings[key] = listing
        snap.databases[key] = _keep(databases, lambda d: d.name, options.schema_filter, snap)

    if options.depth == "schemas":
        return snap
    schemas = [d for dbs in snap.databases.values() for d in dbs]
    tags = _tags(engine, snap) if options.include_tags else {}
    results = parallel_map(
        lambda d: _list_tables(engine, d), schemas, max_workers=options.max_workers
    )
    for database, result in zip(schemas, results, strict=True):
        key = schema_key(database.catalog, database.name)
        if isinstance(result, EngineError):
            error = f"tables of {database.catalog}.{database.name}: {result}"
            snap.table_listings[key] = Listing(ok=False, proves_absence=False, error=error)
            continue
        snap.table_listings[key] = listed(result, f"tables of {database.catalog}.{database.name}")
        kept = _keep(result, lambda t: t.name, options.table_filter, snap)
        if not options.include_views:
            kept = [t for t in kept if not t.is_view]
        catalog_tags = tags.get(database.catalog.lower(), {})
        snap.tables[key] = [
            replace(t, tags=catalog_tags.get((t.database.lower(), t.name.lower()), t.tags))
            if options.include_tags
            else replace(t, tags={})
            for t in kept
        ]
    return snap


def parallel_map(
    fn: Callable[[T], R], items: list[T], *, max_workers: int
) -> list[R | EngineError]:
    """Runs ``fn`` over items on a bounded thread pool; an EngineError becomes that item's
    result instead of aborting the others."""

    def guarded(item: T) -> R | EngineError:
        try:
            return fn(item)
        except EngineError as e:
            return e

    if max_workers <= 1 or len(items) <= 1:
        return [guarded(i) for i in items]
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="crawl") as pool:
        return list(pool.map(guarded, items))


def _list_tables(engine: Engine, database: Database) -> list[Table]:
    log.debug("listing tables of %s.%s", database.catalog, database.name)
    return engine.list_tables(database.catalog, database.name)


def listed(items: list | dict, what: str) -> Listing:
    """The Listing of an engine's answer: proof of absence only when complete and non-empty."""
    note = incomplete(items)
    return Listing(
        ok=True,
        proves_absence=bool(items) and note is None,
        error=f"{what}: {note}" if note else None,
    )


def _tags(engine: Engine, snap: Snapshot) -> dict[str, dict[tuple[str, str], dict[str, str]]]:
    """Tags per catalog in bulk, each read recorded in ``snap.tag_listings``; a failure here
    only leaves tags as stored, never touches tables."""
    out: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
    for catalog in snap.catalogs:
        key = catalog.name.lower()
        try:
            raw = engine.list_table_tags(catalog.name)
        except EngineError as e:
            snap.tag_listings[key] = Listing(False, False, f"tags of {catalog.name}: {e}")
            continue
        snap.tag_listings[key] = listed(raw, f"tags of {catalog.name}")
        out[key] = {(db.lower(), t.lower()): v for (db, t), v in raw.items()}
    return out


def _keep(
    items: list[T], name: Callable[[T], str], pattern: FilterPattern, snap: Snapshot
) -> list[T]:
    kept = [i for i in items if pattern.keeps(name(i))]
    snap.filtered_out += len(items) - len(kept)
    return kept
