"""Column lineage, downstream impact and view SQL as markdown a person reads on a table's page.

Dagster's open-source UI does not draw ``dagster/column_lineage`` (Dagster+ does), so the same
edges are also written as tables: the spec metadata and the lineage observations share these.
Long tables are cut at :data:`ROWS` rows and say where the rest is in the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from athena_catalog.defs.markdown import md_table
from athena_catalog.names import column_ref, quote_part
from athena_catalog.store.lineage_reads import ColumnEdge

ROWS = 100


def column_lineage_markdown(fqn: str, edges: Sequence[ColumnEdge]) -> str:
    """One row per edge into ``fqn``: target column, upstream ``table.column``, kind, when."""
    ordered = sorted(edges, key=lambda e: (e.target_column, e.source_table, e.source_column))
    rows: list[list[object]] = [
        [
            quote_part(e.target_column),
            _upstream(e),
            e.kind,
            e.query_count if e.kind == "query" else "-",
            _day(e.last_seen),
        ]
        for e in ordered[:ROWS]
    ]
    header = ["column", "from (table.column)", "kind", "statements", "last seen"]
    return md_table(header, rows) + _more(len(ordered), "target_table_fqn", fqn)


def downstream_markdown(fqn: str, edges: Sequence[ColumnEdge]) -> str:
    """One row per column of ``fqn`` that other columns are computed from, with those columns."""
    readers: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        readers[e.source_column].add(column_ref(e.target_table, e.target_column))
    rows: list[list[object]] = [
        [quote_part(column), len(refs), ", ".join(sorted(refs))]
        for column, refs in sorted(readers.items())[:ROWS]
    ]
    table = md_table(["column", "columns computed from it", "which"], rows)
    return table + _more(len(readers), "source_table_fqn", fqn)


def view_sql_markdown(sql: str) -> str:
    """The view's SQL in a fenced block longer than any run of backticks inside it."""
    longest = run = 0
    for ch in sql:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}sql\n{sql.strip()}\n{fence}"


def _upstream(e: ColumnEdge) -> str:
    if e.source_table.startswith("s3://"):  # a location: no column inside it
        return e.source_table
    return column_ref(e.source_table, e.source_column)


def _day(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "-"


def _more(total: int, column: str, fqn: str) -> str:
    if total <= ROWS:
        return ""
    literal = fqn.replace("'", "''")
    return (
        f"\n\n{total - ROWS} more; all of them: SELECT * FROM lineage_column_edges "
        f"WHERE {column} = '{literal}'"
    )
