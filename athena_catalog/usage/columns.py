"""Column-level usage: which columns each read touched and how (selected, filtered on, joined
on, grouped by, ordered by), resolved through views to the base tables' columns, and their
daily aggregate over the usage window.

The parser gives each statement's roles on the columns of the tables it names, through CTEs,
derived tables and subqueries (``LineageResult.roles``). A view it names is resolved here,
from the view's own parse: a column read through a view counts for the view's column and, with
the same roles, for every column it is computed from; the view's own WHERE, joins, GROUP BY
and ORDER BY run whenever the view is read, so they count as filter, join, group and order use
of their columns for every query reading the view. Nested views resolve transitively.
Per table pages read it back with :func:`athena_catalog.store.table_pages.usage_pages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select

from athena_catalog.lineage.result import LineageResult
from athena_catalog.markers import SOURCE_SELF
from athena_catalog.names import split_column_ref
from athena_catalog.store.history import column_usage_daily, query_columns, query_history

# Parser role -> (query_columns flag, column_usage_daily count)
FLAGS = {
    "select": ("selected", "select_count"),
    "filter": ("filtered", "filter_count"),
    "join": ("joined", "join_count"),
    "group": ("grouped", "group_by_count"),
    "order": ("ordered", "order_by_count"),
}
COUNTS = tuple(count for _, count in FLAGS.values())
Key = tuple[str, str]  # (table fqn, column)


class ViewColumns:
    """Resolves a statement's column roles through the views it reads, from their parses."""

    def __init__(self, views: Mapping[str, LineageResult]):
        self.views = {fqn.lower(): result for fqn, result in views.items()}

    def expand(self, roles: Mapping[str, Iterable[str]]) -> dict[Key, set[str]]:
        """``{(table fqn, column): roles}``: the statement's own, plus those reached through
        each view it reads."""
        found: dict[Key, set[str]] = {}
        read: set[str] = set()
        for ref, used in roles.items():
            self._add(split_column_ref(ref), set(used), found, read, frozenset())
        applied: set[str] = set()
        while read - applied:  # each view read applies its own clauses, once
            view = min(read - applied)
            applied.add(view)
            for ref, used in self.views[view].roles.items():
                clauses = set(used) - {"select"}
                if clauses:
                    self._add(split_column_ref(ref), clauses, found, read, frozenset({view}))
        return found

    def _add(
        self,
        key: Key,
        used: set[str],
        found: dict[Key, set[str]],
        read: set[str],
        trail: frozenset[str],
    ) -> None:
        found.setdefault(key, set()).update(used)
        table, column = key
        view = self.views.get(table)
        if view is None or table in trail:  # a base table, or a view defined through itself
            return
        read.add(table)
        for dep in view.columns.get(column, ()):
            self._add(split_column_ref(dep), used, found, read, trail | {table})


def usage_columns(result: LineageResult, views: ViewColumns) -> dict[Key, set[str]]:
    """The columns a statement read, and how; CREATE VIEW reads nothing (its query runs when
    the view is read)."""
    if result.statement == "view" or not result.roles:
        return {}
    return views.expand(result.roles)


def column_rows(columns: Mapping[Key, set[str]]) -> list[dict[str, Any]]:
    """``query_columns`` rows of one statement, but the query id (each execution adds its
    own)."""
    return [
        {"table_fqn": table, "column_name": column}
        | {flag: role in used for role, (flag, _) in FLAGS.items()}
        for (table, column), used in sorted(columns.items())
    ]


def aggregate_columns(conn: Connection, start: date) -> None:
    """Rebuild ``column_usage_daily`` for the days from ``start``: per column and day, the
    queries using it in each role and the queries touching it."""
    q, h = query_columns.c, query_history.c
    conn.execute(delete(column_usage_daily).where(column_usage_daily.c.day >= start))
    counts = [func.sum(case((q[flag], 1), else_=0)) for flag, _ in FLAGS.values()]
    conn.execute(
        insert(column_usage_daily).from_select(
            ["table_fqn", "column_name", "day", *COUNTS, "queries"],
            select(q.table_fqn, q.column_name, h.day, *counts, func.count())
            .select_from(query_columns.join(query_history, h.query_id == q.query_id))
            .where(h.day >= start, h.source != SOURCE_SELF)
            .group_by(q.table_fqn, q.column_name, h.day),
        )
    )
