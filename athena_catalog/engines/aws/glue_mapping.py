"""Glue's and Athena's table structures -> ``Table`` records, and what their parameters say.

Glue ``Table`` (GetTables), Athena ``TableMetadata`` (ListTableMetadata, reshaped by
``glue_shape``), resource ARNs and Lake Formation tag lists: pure functions, testable on
plain dicts.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from athena_catalog.engines.records import (
    DEFAULT_CATALOG,
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Column,
    Table,
    TableEstimates,
)

GLUE = "GLUE"
# Open table formats Athena marks with Parameters table_type.
TABLE_FORMATS = frozenset({"iceberg", "hudi", "delta"})
# Substrings of a SerDe library or InputFormat class, most specific first.
FORMAT_HINTS = (
    ("hoodie", "hudi"),
    ("parquet", "parquet"),
    ("orc", "orc"),
    ("avro", "avro"),
    ("json", "json"),
    ("opencsv", "csv"),
    ("lazysimpleserde", "csv"),  # delimited text; Glue crawlers classify it as csv
    ("ionhiveserde", "ion"),
    ("ioninputformat", "ion"),
    ("cloudtrail", "cloudtrail"),
    ("regexserde", "regex"),
    ("grok", "grok"),
)
PRESTO_VIEW = re.compile(r"^/\* Presto View: (?P<payload>\S+) \*/$")
# Table parameters Glue crawlers, Athena and Spark write about a table's size, best first.
ROW_COUNT_PARAMETERS = ("numRows", "recordCount")
SIZE_PARAMETERS = ("totalSize", "sizeKey", "rawDataSize")


def is_default_catalog(catalog: str) -> bool:
    return catalog.lower() == DEFAULT_CATALOG.lower()


def _param(parameters: dict[str, str], key: str) -> str | None:
    """A parameter by case-insensitive key: writers disagree on ``table_type`` vs ``TABLE_TYPE``."""
    return next((v for k, v in parameters.items() if k.lower() == key), None)


def _columns(columns: list[dict], *, partition: bool = False) -> tuple[Column, ...]:
    return tuple(
        Column(
            name=c["Name"],
            data_type=(c.get("Type") or "").lower(),
            description=c.get("Comment") or None,
            is_partition_key=partition,
        )
        for c in columns
    )


def _table_type(glue_type: str | None, parameters: dict[str, str]) -> str:
    if glue_type == VIRTUAL_VIEW:
        return VIRTUAL_VIEW
    if (_param(parameters, "table_type") or "").upper() == ICEBERG:
        return ICEBERG
    # Glue leaves TableType unset for API-made tables; Athena reads those as external.
    return glue_type if glue_type in (EXTERNAL_TABLE, MANAGED_TABLE) else EXTERNAL_TABLE


def _storage_format(
    table_type: str, parameters: dict[str, str], serde: str | None, input_format: str | None
) -> str | None:
    if table_type == VIRTUAL_VIEW:
        return None
    table_format = (_param(parameters, "table_type") or "").lower()
    if table_format in TABLE_FORMATS:
        return table_format
    classification = _param(parameters, "classification")
    if classification:
        return classification.lower()
    for text in (serde, input_format):
        lowered = (text or "").lower()
        for hint, fmt in FORMAT_HINTS:
            if hint in lowered:
                return fmt
    return None


def _view_sql(original: str | None, expanded: str | None) -> str | None:
    """Athena hides a view's SQL in base64 JSON inside a comment; other writers don't."""
    match = PRESTO_VIEW.match((original or "").strip())
    if match:
        try:
            return json.loads(base64.b64decode(match["payload"]))["originalSql"]
        except (ValueError, KeyError, TypeError):  # not Athena's payload after all
            return original
    return original or expanded or None


def table_from_glue(catalog: str, database: str, table: dict[str, Any]) -> Table:
    """A Glue ``Table`` structure as a base.Table (tags are filled in by the crawl)."""
    parameters = dict(table.get("Parameters") or {})
    storage = table.get("StorageDescriptor") or {}
    table_type = _table_type(table.get("TableType"), parameters)
    return Table(
        catalog=catalog,
        database=database,
        name=table["Name"],
        table_type=table_type,
        columns=_columns(storage.get("Columns") or [])
        + _columns(table.get("PartitionKeys") or [], partition=True),
        description=table.get("Description") or None,
        location=storage.get("Location") or None,
        storage_format=_storage_format(
            table_type,
            parameters,
            (storage.get("SerdeInfo") or {}).get("SerializationLibrary"),
            storage.get("InputFormat"),
        ),
        view_sql=_view_sql(table.get("ViewOriginalText"), table.get("ViewExpandedText")),
        parameters=parameters,
        owner=table.get("Owner") or None,
        created_at=table.get("CreateTime"),
        updated_at=table.get("UpdateTime"),
    )


def glue_shape(metadata: dict[str, Any]) -> dict[str, Any]:
    """Athena's ``TableMetadata`` in Glue's ``Table`` shape, so one mapping serves both.

    Athena folds location, formats and comment into Parameters, and has no view SQL or owner.
    """
    parameters = metadata.get("Parameters") or {}
    return {
        "Name": metadata["Name"],
        "TableType": metadata.get("TableType"),
        "Description": parameters.get("comment"),
        "Parameters": parameters,
        "PartitionKeys": metadata.get("PartitionKeys"),
        "CreateTime": metadata.get("CreateTime"),
        "StorageDescriptor": {
            "Columns": metadata.get("Columns"),
            "Location": parameters.get("location"),
            "InputFormat": parameters.get("inputformat"),
            "SerdeInfo": {"SerializationLibrary": parameters.get("serde.serialization.lib")},
        },
    }


def lf_pairs(lf_tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """Lake Formation ``[{TagKey, TagValues}]`` -> ``{key: "v1,v2"}``."""
    return {t["TagKey"]: ",".join(t.get("TagValues") or []) for t in lf_tags or []}


def table_from_arn(arn: str, account: str | None = None) -> tuple[str, str] | None:
    """``arn:aws:glue:region:account:table/db/table`` -> (db, table); None for other ARNs."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or (account and parts[4] != account):
        return None
    kind, _, rest = parts[5].partition("/")
    database, _, table = rest.partition("/")
    return (database, table) if kind == "table" and database and table else None


def estimates_from_parameters(parameters: dict[str, str]) -> TableEstimates:
    """Row count and bytes as Glue table parameters state them; None where none does.

    A crawler writes ``recordCount`` and ``sizeKey``, Hive and Spark ``numRows`` and
    ``totalSize``; ``-1`` or text that is no count means "unknown", as Hive writes it.
    """
    rows = _first_count(parameters, ROW_COUNT_PARAMETERS)
    size = _first_count(parameters, SIZE_PARAMETERS)
    source = "glue table parameters" if rows is not None or size is not None else None
    return TableEstimates(row_count=rows, size_bytes=size, source=source)


def _first_count(parameters: dict[str, str], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        text = (_param(parameters, key.lower()) or "").strip()
        if text.isdigit():
            return int(text)
    return None
