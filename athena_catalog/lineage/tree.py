"""``athena-catalog lineage TABLE[.COLUMN]``: the stored lineage of a table or a column, printed
as a tree, upstream (what it is computed from) and downstream (what is computed from it).

Names are written in the store's fqn form (:mod:`athena_catalog.names`: a part holding a dot
or a double quote is double-quoted), case-insensitive; ``database.table`` means the
``awsdatacatalog`` catalog, and an S3 location (an UNLOAD target) is named by its URI. A node
reached twice is expanded once (later ``(shown above)``), a node on its own path is marked
``(cycle)``, and ``--depth`` cuts the tree, saying where more lies beyond.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.names import column_ref, quote_part, split_fqn, table_fqn
from athena_catalog.store import CatalogStore, StoreError, default_store_url
from athena_catalog.store.lineage_reads import column_edges, known_names, table_edges
from athena_catalog.store.schema import catalog_columns, catalog_tables

UPSTREAM, DOWNSTREAM = "upstream", "downstream"
HEADINGS = {UPSTREAM: "upstream (computed from)", DOWNSTREAM: "downstream (computed from it)"}


class UnknownName(ValueError):
    """The name is not a table or column the store knows; the message says what was tried."""


@dataclass(frozen=True)
class Target:
    table: str  # fqn, or an S3 URI
    column: str | None = None

    def label(self) -> str:
        if self.column is None:
            return self.table
        if self.table.startswith("s3://"):  # a location, not an fqn: the column beside it
            return f"{self.table} ({quote_part(self.column)})"
        return column_ref(self.table, self.column)


@dataclass
class Node:
    target: Target
    detail: str = ""  # the edge that led here: kind, statements, last seen
    note: str = ""  # (cycle), (shown above), (more beyond --depth N)
    children: list[Node] = field(default_factory=list)


# One hop: the neighbours of a node in one direction, with the edge's detail.
Hop = Callable[[Target], list[tuple[Target, str]]]


def resolve(conn: Connection, text: str) -> Target:
    """The table or column ``text`` names; ``UnknownName`` names what was looked for."""
    text = text.strip()
    if text.lower().startswith("s3://"):
        if text in known_names(conn, [text]):
            return Target(text)
        raise UnknownName(f"unknown S3 location {text!r}: no lineage edge names it")
    try:
        parts = split_fqn(text)
    except ValueError as e:
        raise UnknownName(f"not a table or column name: {e}") from None
    if not 2 <= len(parts) <= 4 or any(not p for p in parts):
        raise UnknownName(
            f"not a table or column name: {text!r} (expected [catalog.]database.table[.column])"
        )
    readings = _readings(parts)
    for table, column in readings:
        if _table_known(conn, table) and (column is None or _column_known(conn, table, column)):
            return Target(table, column)
    for table, column in readings:
        if column is not None and _table_known(conn, table):
            names = ", ".join(quote_part(n) for n in _columns_of(conn, table)) or "none stored"
            raise UnknownName(
                f"unknown column {quote_part(column)} of {table} (its columns: {names})"
            )
    first = readings[0][0]
    close = difflib.get_close_matches(first, _all_tables(conn), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownName(f"unknown table {first}: not in the catalog store nor its lineage{hint}")


def _readings(parts: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """What the parts can mean, most specific first: 3 parts are a table, or a column of a
    table in ``awsdatacatalog``."""
    if len(parts) == 2:
        return [(table_fqn(DEFAULT_CATALOG, *parts), None)]
    if len(parts) == 3:
        return [
            (table_fqn(*parts), None),
            (table_fqn(DEFAULT_CATALOG, *parts[:2]), parts[2].lower()),
        ]
    return [(table_fqn(*parts[:3]), parts[3].lower())]


def _table_known(conn: Connection, fqn: str) -> bool:
    t = catalog_tables.c
    if conn.execute(select(t.fqn).where(t.fqn == fqn)).first():
        return True
    return bool(known_names(conn, [fqn]))


def _column_known(conn: Connection, fqn: str, column: str) -> bool:
    if column in _columns_of(conn, fqn):
        return True
    edges = column_edges(conn, targets=[fqn], sources=[fqn])
    return any(
        (e.target_table, e.target_column) == (fqn, column)
        or (e.source_table, e.source_column) == (fqn, column)
        for e in edges
    )


def _columns_of(conn: Connection, fqn: str) -> list[str]:
    c = catalog_columns.c
    return list(
        conn.execute(select(c.name).where(c.table_fqn == fqn).order_by(c.ordinal)).scalars()
    )


def _all_tables(conn: Connection) -> list[str]:
    t = catalog_tables.c
    return list(conn.execute(select(t.fqn).where(t.deleted.is_(False))).scalars())


def hop(conn: Connection, direction: str) -> Hop:
    """The neighbours of a node, read from the store per node expanded (cached)."""
    cache: dict[Target, list[tuple[Target, str]]] = {}

    def neighbours(node: Target) -> list[tuple[Target, str]]:
        if node not in cache:
            cache[node] = _neighbours(conn, node, direction)
        return cache[node]

    return neighbours


def _neighbours(conn: Connection, node: Target, direction: str) -> list[tuple[Target, str]]:
    up = direction == UPSTREAM
    targets, sources = ([node.table], []) if up else ([], [node.table])
    found: dict[Target, list[tuple[str, int, datetime | None]]] = {}
    if node.column is None:
        for e in table_edges(conn, targets=targets, sources=sources):
            if (e.target if up else e.source) == node.table:
                other = Target(e.source if up else e.target)
                found.setdefault(other, []).append((e.kind, e.query_count, e.last_seen))
    else:
        for c in column_edges(conn, targets=targets, sources=sources):
            here = (c.target_table, c.target_column) if up else (c.source_table, c.source_column)
            if here == (node.table, node.column):
                there = (
                    (c.source_table, c.source_column) if up else (c.target_table, c.target_column)
                )
                other = Target(*there)
                found.setdefault(other, []).append((c.kind, c.query_count, c.last_seen))
    return [(other, _detail(found[other])) for other in sorted(found, key=Target.label)]


def _detail(edges: list[tuple[str, int, datetime | None]]) -> str:
    kinds = "+".join(sorted({k for k, _, _ in edges}))
    statements = sum(n for k, n, _ in edges if k == "query")
    seen = max((s for _, _, s in edges if s), default=None)
    parts = [kinds]
    if statements:
        parts.append(f"{statements} statement{'s' if statements != 1 else ''}")
    if seen:
        parts.append(f"last seen {seen.date().isoformat()}")
    return ", ".join(parts)


def build(root: Target, neighbours: Hop, depth: int | None = None) -> Node:
    """The tree from ``root``, each node expanded once, cut at ``depth`` hops."""
    expanded: set[Target] = set()

    def grow(node: Node, path: frozenset[Target], level: int) -> None:
        expanded.add(node.target)
        for other, detail in neighbours(node.target):
            child = Node(other, detail)
            node.children.append(child)
            if other in path:
                child.note = "(cycle)"
            elif other in expanded:
                child.note = "(shown above)" if neighbours(other) else ""
            elif depth is not None and level + 1 >= depth:
                child.note = f"(more beyond --depth {depth})" if neighbours(other) else ""
            else:
                grow(child, path | {other}, level + 1)

    top = Node(root)
    grow(top, frozenset({root}), 0)
    return top


def render(node: Node) -> list[str]:
    """The children of ``node`` as tree lines (``├──``, ``└──``)."""
    lines: list[str] = []

    def walk(n: Node, prefix: str) -> None:
        for i, child in enumerate(n.children):
            last = i == len(n.children) - 1
            text = child.target.label()
            text += f"  [{child.detail}]" if child.detail else ""
            text += f" {child.note}" if child.note else ""
            lines.append(prefix + ("└── " if last else "├── ") + text)
            walk(child, prefix + ("    " if last else "│   "))

    walk(node, "")
    return lines


def lineage_text(conn: Connection, name: str, directions: Sequence[str], depth: int | None) -> str:
    """What the command prints for ``name``: its label, then one tree per direction."""
    target = resolve(conn, name)
    out = [target.label()]
    for direction in directions:
        tree = build(target, hop(conn, direction), depth)
        out.append(f"{HEADINGS[direction]}:")
        out += render(tree) or [f"(no {direction} lineage)"]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="athena-catalog lineage",
        description="Print the stored lineage of a table or column as a tree.",
    )
    parser.add_argument(
        "name", help="catalog.database.table[.column] (database.table: awsdatacatalog)"
    )
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--upstream", action="store_true", help="only what it is computed from")
    way.add_argument("--downstream", action="store_true", help="only what is computed from it")
    parser.add_argument("--depth", type=_depth, help="hops to follow (default: all)")
    parser.add_argument(
        "--url", help="SQLAlchemy URL of the store (default: ATHENA_CATALOG_STORE_URL, else SQLite)"
    )
    args = parser.parse_args(argv)
    directions = [UPSTREAM] if args.upstream else [DOWNSTREAM] if args.downstream else []
    url = args.url or default_store_url()
    try:
        store = _open(url)
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        with store.read() as conn:
            print(lineage_text(conn, args.name, directions or [UPSTREAM, DOWNSTREAM], args.depth))
    except UnknownName as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def _depth(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of hops from 1, got {text!r}")
    return int(text)


def _open(url: str) -> CatalogStore:
    """The store, never created by a command that only reads it."""
    try:
        parsed = make_url(url)
    except Exception:
        parsed = None
    sqlite = parsed is not None and parsed.get_backend_name() == "sqlite"
    if sqlite and not (parsed and parsed.database and Path(parsed.database).is_file()):
        raise StoreError(
            f"no catalog store at {url}: materialize the metadata and lineage assets first"
        )
    return CatalogStore(url)
