"""A Glue partition expression, checked, as a DuckDB predicate: the local engine's half of
``Engine.scan_estimates``.

Glue's GetPartitions accepts comparisons, IN, BETWEEN, LIKE, IS [NOT] NULL, AND / OR / NOT
over partition keys and literals. The same grammar is accepted here and nothing else (no
function, no subquery, no other column), so a filter cannot do more than select partitions.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from athena_catalog.engines.records import EngineError

_ALLOWED = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Neg,
    exp.Paren,
    exp.Tuple,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.In,
    exp.Between,
    exp.Like,
    exp.Is,
)


def duckdb_predicate(partition_filter: str, partition_keys: set[str]) -> str:
    """``partition_filter`` as DuckDB SQL; EngineError names what is not a partition filter."""
    try:
        condition = sqlglot.parse_one(partition_filter, read="athena")
    except ParseError as exc:
        raise EngineError(f"partition filter {partition_filter!r}: {exc}") from exc
    for node in condition.walk():
        if not isinstance(node, _ALLOWED):
            raise EngineError(
                f"partition filter {partition_filter!r}: {node.sql('athena')!r} is not allowed"
                " (comparisons, IN, BETWEEN, LIKE, IS NULL, AND, OR, NOT only)"
            )
        if isinstance(node, exp.Column) and (node.table or node.name.lower() not in partition_keys):
            raise EngineError(
                f"partition filter {partition_filter!r}: {node.sql('athena')} is not a partition"
                f" key (partition keys: {', '.join(sorted(partition_keys)) or 'none'})"
            )
    for column in condition.find_all(exp.Column):
        column.this.set("quoted", True)
    return condition.sql("duckdb")
