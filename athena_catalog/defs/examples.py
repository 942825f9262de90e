"""Counts a user can act on: every "N things went wrong" message of the usage and lineage
assets names the first one with its reason, shows the first ``EXAMPLES`` in the metadata, and
says where the store keeps all of them."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from athena_catalog.defs.markdown import md_table

EXAMPLES = 20  # rows of the metadata table listing the first examples
# Every statement the lineage asset could not analyse, with its reason and text.
NOT_ANALYSED_SQL = (
    "SELECT s.query_id, s.outcome, h.query FROM lineage_statements s JOIN query_history h "
    "ON h.query_id = s.query_id WHERE s.outcome NOT IN ('ok', 'no lineage')"
)


def counted(n: int, what: tuple[str, str], examples: Sequence[Sequence[object]], where: str) -> str:
    """``"2 queries could not be parsed, the first q-1: <reason>; ..."``: the count, the first
    example (id and reason), the metadata key of the first ones, and the store query for all.

    ``what`` is the singular and plural phrase (``("query could not be parsed", ...)``)."""
    first = f", the first {examples[0][0]}: {examples[0][1]}" if examples else ""
    return f"{n} {what[0] if n == 1 else what[1]}{first}. {where}"


def examples_table(header: Sequence[str], examples: Sequence[Sequence[object]]) -> dg.MetadataValue:
    """The first examples as a markdown table, long texts cut to one line."""
    return dg.MetadataValue.md(
        md_table(list(header), [[_one_line(v) for v in row] for row in examples[:EXAMPLES]])
    )


def _one_line(value: object, limit: int = 160) -> object:
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
