"""What a table asset shows of its dbt docs: the translator's dbt parts, kept here so the
table translator only calls them."""

from __future__ import annotations

from typing import Any

import dagster as dg

from athena_catalog.store.dbt import DbtDocs


def dbt_description(docs: DbtDocs | None, comment: str | None) -> str | None:
    """dbt's description over the Glue comment: dbt's docs are the ones a team writes."""
    return (docs.description if docs else None) or comment or None


def dbt_column_description(docs: DbtDocs | None, column: str, comment: str | None) -> str | None:
    return (docs.columns.get(column.lower()) if docs else None) or comment


def dbt_metadata(docs: DbtDocs | None) -> dict[str, Any]:
    """The node's identity, materialization, tags and its raw and compiled SQL as readable
    code blocks; nothing for a table dbt does not know."""
    if docs is None:
        return {}
    md = dg.MetadataValue.md
    entries: dict[str, Any] = {
        "dbt_unique_id": docs.unique_id,
        "dbt_project": docs.project,
        "dbt_package": docs.package,
        "dbt_resource_type": docs.resource_type,
        "dbt_materialization": docs.materialization,
        "dbt_tags": list(docs.tags),
        "dbt_raw_sql": docs.raw_code and md(sql_block(docs.raw_code)),
        "dbt_compiled_sql": docs.compiled_code and md(sql_block(docs.compiled_code)),
    }
    return {k: v for k, v in entries.items() if v}


def sql_block(code: str) -> str:
    fence = "```"
    while fence in code:  # a fence longer than any run of backticks in the code
        fence += "`"
    return f"{fence}sql\n{code.rstrip()}\n{fence}"
