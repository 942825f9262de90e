"""Seed a Glue catalog on a moto endpoint with every shape Athena puts there, and say what it made.

``seed_glue`` returns the records an engine must list back — ``base.Database`` and ``base.Table``
with every field filled in except timestamps and tags — so a test can compare whole records
instead of spot-checking a few fields. Table shapes cycle through ``KINDS`` so any database of
eight or more tables holds each of them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from athena_catalog.engines.records import (
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Column,
    Database,
    Table,
)

CATALOG = "AwsDataCatalog"
MOTO_ACCOUNT = "123456789012"

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
ORC_SERDE = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
ORC_INPUT = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
AVRO_SERDE = "org.apache.hadoop.hive.serde2.avro.AvroSerDe"
AVRO_INPUT = "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"

KINDS = ("parquet", "orc", "json", "csv", "avro", "iceberg", "presto_view", "hive_view")

# (name, type as written to Glue, comment); the engine reports types in lower case.
NESTED_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("id", "bigint", "surrogate key"),
    ("amount", "decimal(12,2)", "gross amount in EUR"),
    ("customer", "struct<name:string,address:struct<city:string,zip:string>>", None),
    ("items", "array<struct<sku:string,qty:int,price:decimal(10,4)>>", "line items"),
    ("attributes", "map<string,string>", None),
    ("scores", "array<double>", None),
    ("created", "timestamp", "UTC"),
)
UPPER_COLUMNS = (("ID", "BIGINT", None), ("Price", "DECIMAL(38,9)", "list price"))
PARTITION_KEYS = (("dt", "string", "ingestion date"), ("region", "string", None))


@dataclass(frozen=True)
class SeededGlue:
    """What ``seed_glue`` created: expected records, raw inputs and tags."""

    databases: list[Database]
    tables: dict[str, list[Table]]  # database -> expected tables, sorted by name
    table_inputs: dict[tuple[str, str], dict[str, Any]]  # (database, table) -> Glue TableInput
    tags: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @property
    def all_tables(self) -> list[Table]:
        return [t for tables in self.tables.values() for t in tables]


def presto_view_text(sql: str, database: str, columns: list[tuple[str, str]]) -> str:
    """ViewOriginalText as Athena writes it for ``CREATE VIEW``."""
    payload = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": n, "type": t} for n, t in columns],
        "owner": "arn:aws:iam::123456789012:user/analyst",
        "runAsInvoker": False,
        "properties": {},
    }
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    return f"/* Presto View: {encoded} */"


def _glue_columns(spec: tuple[tuple[str, str, str | None], ...]) -> list[dict[str, str]]:
    return [{"Name": n, "Type": t, **({"Comment": c} if c else {})} for n, t, c in spec]


def _expected_columns(
    data: tuple[tuple[str, str, str | None], ...],
    partitions: tuple[tuple[str, str, str | None], ...] = (),
) -> tuple[Column, ...]:
    return tuple(Column(n, t.lower(), c) for n, t, c in data) + tuple(
        Column(n, t.lower(), c, is_partition_key=True) for n, t, c in partitions
    )


def _storage(location: str, serde: str, input_format: str | None = None) -> dict[str, Any]:
    return {
        "Location": location,
        "InputFormat": input_format or TEXT_INPUT,
        "SerdeInfo": {"SerializationLibrary": serde, "Parameters": {"serialization.format": "1"}},
    }


def example_table(database: str, index: int, bucket: str = "lake") -> tuple[dict[str, Any], Table]:
    """One TableInput and the Table an engine must report for it; the shape follows ``index``."""
    kind = KINDS[index % len(KINDS)]
    name = f"t{index:04d}_{kind}"
    location = f"s3://{bucket}/{database}/{name}/"
    description = f"{kind} table {name} of {database}"
    data, partitions = NESTED_COLUMNS, ()
    view_sql = None
    table_type, fmt = EXTERNAL_TABLE, kind
    parameters = {"classification": kind, "owner_team": f"team-{index % 3}", "EXTERNAL": "TRUE"}
    table_input: dict[str, Any] = {
        "Name": name,
        "Description": description,
        "Owner": "hadoop",
        "TableType": EXTERNAL_TABLE,
    }
    if kind == "parquet":
        partitions = PARTITION_KEYS
        table_input["StorageDescriptor"] = _storage(location, PARQUET_SERDE, PARQUET_INPUT)
    elif kind == "orc":  # managed, upper-case types as some tools write them, format from SerDe
        data = UPPER_COLUMNS
        table_type = MANAGED_TABLE
        table_input["TableType"] = MANAGED_TABLE
        del parameters["classification"]
        table_input["StorageDescriptor"] = _storage(location, ORC_SERDE, ORC_INPUT)
    elif kind == "json":  # format from the SerDe alone
        del parameters["classification"]
        partitions = PARTITION_KEYS[:1]
        table_input["StorageDescriptor"] = _storage(location, JSON_SERDE)
    elif kind == "csv":
        parameters["skip.header.line.count"] = "1"
        table_input["StorageDescriptor"] = _storage(location, CSV_SERDE)
    elif kind == "avro":
        table_input["StorageDescriptor"] = _storage(location, AVRO_SERDE, AVRO_INPUT)
    elif kind == "iceberg":
        table_type = ICEBERG
        # Athena writes ICEBERG; other writers use lower case.
        parameters = {
            "table_type": "ICEBERG" if (index // len(KINDS)) % 2 else "iceberg",
            "format": "parquet",
        }
        parameters["metadata_location"] = f"{location}metadata/00001.metadata.json"
        table_input["StorageDescriptor"] = _storage(location, PARQUET_SERDE, PARQUET_INPUT)
    else:  # views: no location, no format
        table_type, fmt, location = VIRTUAL_VIEW, None, None
        data = NESTED_COLUMNS[:2]
        view_sql = f"SELECT id, amount FROM {database}.orders_{index} WHERE amount > {index}"
        parameters = {"comment": "view"}
        table_input["TableType"] = VIRTUAL_VIEW
        table_input["StorageDescriptor"] = {"SerdeInfo": {}}
        if kind == "presto_view":
            parameters["presto_view"] = "true"
            table_input["ViewOriginalText"] = presto_view_text(
                view_sql, database, [(n, t) for n, t, _ in data]
            )
            table_input["ViewExpandedText"] = "/* Presto View */"
        else:  # a Hive/Spark view keeps its SQL in the clear
            table_input["ViewOriginalText"] = view_sql
            table_input["ViewExpandedText"] = view_sql
    table_input["Parameters"] = parameters
    table_input["StorageDescriptor"]["Columns"] = _glue_columns(data)
    table_input["PartitionKeys"] = _glue_columns(partitions)
    expected = Table(
        catalog=CATALOG,
        database=database,
        name=name,
        table_type=table_type,
        columns=_expected_columns(data, partitions),
        description=description,
        location=location,
        storage_format=fmt,
        view_sql=view_sql,
        parameters=dict(parameters),
        owner="hadoop",
    )
    return table_input, expected


def _database(name: str, index: int, bucket: str) -> tuple[dict[str, Any], Database]:
    location = f"s3://{bucket}/{name}/"
    parameters = {"owner_team": f"team-{index % 3}"}
    description = f"database {index} of the seed"
    database_input = {
        "Name": name,
        "Description": description,
        "LocationUri": location,
        "Parameters": parameters,
    }
    return database_input, Database(CATALOG, name, description, location, dict(parameters))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_glue(
    glue_client: Any,
    databases: int = 5,
    tables_per_database: int = 60,
    *,
    prefix: str = "sales",
    bucket: str = "lake",
    tag_every: int = 4,
    account_id: str = MOTO_ACCOUNT,
    workers: int = 4,
) -> SeededGlue:
    """Create ``databases`` x ``tables_per_database`` tables; tag every ``tag_every``-th table.

    Glue has no batch CreateTable, so tables are created from ``workers`` threads (boto3
    clients are thread-safe). ``glue_client`` may be anything with the client's
    ``create_database``, ``create_table`` and ``tag_resource`` keyword signatures.
    """
    region = glue_client.meta.region_name
    seeded = SeededGlue(databases=[], tables={}, table_inputs={})
    jobs: list[tuple[str, dict[str, Any]]] = []
    for d in range(databases):
        name = f"{prefix}_{d:03d}"
        database_input, expected_db = _database(name, d, bucket)
        glue_client.create_database(DatabaseInput=database_input)
        seeded.databases.append(expected_db)
        seeded.tables[name] = []
        for i in range(tables_per_database):
            table_input, expected = example_table(name, i, bucket)
            seeded.tables[name].append(expected)
            seeded.table_inputs[(name, expected.name)] = table_input
            jobs.append((name, table_input))
            if tag_every and i % tag_every == 0:
                seeded.tags[(name, expected.name)] = {"domain": prefix, "tier": f"t{i % 3}"}

    def create(batch: list[tuple[str, dict[str, Any]]]) -> None:
        for database, table_input in batch:
            glue_client.create_table(DatabaseName=database, TableInput=table_input)

    def tag(batch: list[tuple[tuple[str, str], dict[str, str]]]) -> None:
        for (database, table), tags in batch:
            arn = f"arn:aws:glue:{region}:{account_id}:table/{database}/{table}"
            glue_client.tag_resource(ResourceArn=arn, TagsToAdd=tags)

    size = max(1, len(jobs) // (workers * 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(create, _chunks(jobs, size)))
        list(pool.map(tag, _chunks(list(seeded.tags.items()), size)))
    for tables in seeded.tables.values():
        tables.sort(key=lambda t: t.name)
    return seeded
