"""What lineage analysis returns, and the schema it resolves names against."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot.schema import MappingSchema

from athena_catalog.names import table_parts

DIALECT = "athena"
# How a statement uses a column: in its output (SELECT), in WHERE / HAVING, in a join
# condition, in GROUP BY, in ORDER BY.
ROLES = ("select", "filter", "join", "group", "order")


@dataclass
class LineageResult:
    """One statement's lineage. Table names are fqns and columns of tables column refs
    (``athena_catalog.names``): fully qualified, lower case, a part holding a dot or a double
    quote double-quoted; S3 URIs verbatim."""

    target: str | None = None
    sources: set[str] = field(default_factory=set)
    columns: dict[str, set[str]] = field(default_factory=dict)
    # Set only when nothing could be analysed; what is merely partial (a column that did not
    # resolve, INSERT mapped by position) is a warning, and the rest of the result holds.
    error: str | None = None
    # select, ctas, view, insert, merge, update, delete, unload, create_table, utility
    statement: str | None = None
    # Join keys: pairs of base columns equated by JOIN ... ON / USING, by WHERE across two
    # sources (implicit joins) and by MERGE ... ON; each pair sorted. Not value sources.
    joins: frozenset[tuple[str, str]] = frozenset()
    warnings: list[str] = field(default_factory=list)
    # Column usage: base column ref -> how the statement used it (a subset of ROLES), through
    # CTEs and derived tables; views are resolved by the usage pipeline, which knows them.
    roles: dict[str, frozenset[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sources": sorted(self.sources),
            "columns": {k: sorted(v) for k, v in self.columns.items()},
            "error": self.error,
            "statement": self.statement,
            "joins": sorted(list(pair) for pair in self.joins),
            "warnings": list(self.warnings),
            "roles": {k: sorted(v) for k, v in sorted(self.roles.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineageResult:
        return cls(
            target=data["target"],
            sources=set(data["sources"]),
            columns={k: set(v) for k, v in data["columns"].items()},
            error=data["error"],
            statement=data["statement"],
            joins=frozenset((a, b) for a, b in data.get("joins", ())),
            warnings=list(data.get("warnings", ())),
            roles={k: frozenset(v) for k, v in data.get("roles", {}).items()},
        )

    @property
    def tables(self) -> set[str]:
        """Catalog tables the statement touches: whose schema its column lineage depends on."""
        named = self.sources | ({self.target} if self.target else set())
        return {n for n in named if not is_s3(n)}


def is_s3(name: str) -> bool:
    return name.startswith(("s3://", "s3a://", "s3n://"))


class LineageSchema:
    """The crawled schema, ``{table fqn: {column: athena_type}}`` (fqns as the store writes
    them, see ``athena_catalog.names``), indexed once and shared by every statement of a run
    (building sqlglot's schema is not free)."""

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, str]] | None = None,
        views: Mapping[str, str] | None = None,
    ):
        self.tables: dict[str, dict[str, str]] = {
            fqn.lower(): {c.lower(): t for c, t in cols.items()}
            for fqn, cols in (tables or {}).items()
        }
        # View definitions (fqn -> SQL): a read of a view is resolved to base columns through
        # the views' SQL, so a definition that changes (its columns or not) must change the
        # digest of every statement reading a view. One digest of them all covers views
        # defined over views.
        self.views = {fqn.lower() for fqn in (views or {})}
        h = hashlib.blake2b(digest_size=12)
        for fqn, sql in sorted((views or {}).items()):
            h.update(f"{fqn.lower()}\0{sql}\0".encode())
        self._views_digest = h.digest()
        self._mapping: MappingSchema | None = None

    @property
    def mapping(self) -> MappingSchema:
        if self._mapping is None:
            nested: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
            for fqn, cols in self.tables.items():
                parts = _table_parts(fqn)
                if parts is not None and cols:
                    catalog, database, name = parts
                    nested.setdefault(catalog, {}).setdefault(database, {})[name] = cols
            # sqlglot types the schema as dict[str, object]; a shallow copy widens it.
            self._mapping = MappingSchema({**nested}, dialect=DIALECT, normalize=False)
        return self._mapping

    def columns(self, fqn: str) -> list[str] | None:
        cols = self.tables.get(fqn)
        return list(cols) if cols else None

    def digest(self, fqns: Iterable[str]) -> str:
        """Changes whenever a column of one of these tables is added, dropped, retyped or
        moved, or a table appears or disappears, or (when one of them is a view) a view's
        definition changes: the cache key's schema part."""
        h = hashlib.blake2b(digest_size=12)
        names = sorted(fqns)
        for fqn in names:
            h.update(fqn.encode())
            h.update(repr(list(self.tables.get(fqn, {}).items())).encode())
        if self.views.intersection(names):
            h.update(self._views_digest)
        return h.hexdigest()


def _table_parts(fqn: str) -> tuple[str, str, str] | None:
    """(catalog, database, table) of a schema key; None for a key that is no table fqn,
    which resolves nothing rather than failing every statement."""
    try:
        return table_parts(fqn)
    except ValueError:
        return None
