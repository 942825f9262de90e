"""AwsEngine against moto's server over real HTTP; botocore's Stubber where moto falls short.

The Stubber validates every request and response against the real service model, so it covers
what moto lacks (pagination of GetTables, Athena ListTableMetadata) without mocking the engine.
Faults are injected at the wire boundary with botocore ``before-call`` hooks.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from athena_catalog.crawl import parallel_map
from athena_catalog.engines.aws import AwsEngine, AwsSettings, table_from_arn
from athena_catalog.engines.aws.glue_mapping import estimates_from_parameters
from athena_catalog.engines.records import (
    EXTERNAL_TABLE,
    VIRTUAL_VIEW,
    Column,
    Database,
    DataCatalog,
    EngineError,
    Table,
)
from athena_catalog_tests.conftest import FAKE_REGION, free_port
from athena_catalog_tests.glue_seed import MOTO_ACCOUNT, PARQUET_SERDE, example_table, seed_glue

PARTNER_ACCOUNT = "999988887777"


class Wire:
    """botocore hooks on a Session: count API calls, record their parameters, inject errors.

    Registered on the Session before the engine exists, so every client built from it (the
    engine's and PyAthena's) inherits them. ``before-parameter-build`` sees each API call once
    per attempt of ours (also when a Stubber answers); ``before-call`` can answer in AWS's
    place, which bypasses botocore's own retries so the engine's retry policy is what's tested.
    """

    def __init__(self, session: boto3.Session, seed: int = 7) -> None:
        self.calls: Counter[str] = Counter()
        self.params: dict[str, list[dict[str, Any]]] = {}
        self.faults: dict[str, Any] = {}  # operation or "*" -> rule(params, rng) -> error code
        self.injected = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        session.events.register("before-parameter-build", self._record)
        session.events.register("before-call", self._answer)

    def _record(self, model: Any, params: dict[str, Any], context: dict, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1
            self.params.setdefault(model.name, []).append(dict(params))
        context["wire_params"] = dict(params)

    def _answer(self, model: Any, context: dict, **_: Any) -> Any:
        rule = self.faults.get(model.name) or self.faults.get("*")
        if not rule:
            return None
        with self._lock:
            code = rule(context["wire_params"], self._random)
            self.injected += bool(code)
        return error_response(code) if code else None

    def total(self) -> int:
        return sum(self.calls.values())


def error_response(code: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What botocore would have parsed from an AWS error answer."""
    parsed = {
        "Error": {"Code": code, "Message": f"{code} (injected)"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return AWSResponse("http://injected", status, {}, None), parsed


def throttle(ratio: float) -> Any:
    return lambda params, rng: "ThrottlingException" if rng.random() < ratio else None


@pytest.fixture
def session(moto_endpoint: str) -> boto3.Session:
    return boto3.Session(region_name=FAKE_REGION)


@pytest.fixture
def settings(moto_endpoint: str) -> AwsSettings:
    return AwsSettings(
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        s3_staging_dir="s3://query-results/athena/",
        retry_max_seconds=20,
        retry_base_delay=0.01,
    )


def make_engine(session: boto3.Session, settings: AwsSettings) -> AwsEngine:
    return AwsEngine(session, settings)


def without_timestamps(tables: list[Table]) -> list[Table]:
    return sorted(
        (dataclasses.replace(t, created_at=None, updated_at=None) for t in tables),
        key=lambda t: t.name,
    )


def list_tables_of(
    engine: AwsEngine, catalog: str, databases: list[str]
) -> dict[str, list[Table] | EngineError]:
    """Tables per database as the crawl lists them: ``parallel_map`` over ``list_tables``."""
    results = parallel_map(
        lambda db: engine.list_tables(catalog, db),
        databases,
        max_workers=engine.settings.max_workers,
    )
    return dict(zip(databases, results, strict=True))


def crawl(engine: AwsEngine) -> dict[str, list[Table]]:
    databases = [d.name for d in engine.list_databases("AwsDataCatalog")]
    listed = list_tables_of(engine, "AwsDataCatalog", databases)
    assert not [e for e in listed.values() if isinstance(e, EngineError)]
    return {db: without_timestamps(tables) for db, tables in listed.items()}  # type: ignore[arg-type]


# -- moto: a whole Glue catalog ------------------------------------------------------------


def test_lists_every_field_of_a_seeded_glue_catalog(session, settings) -> None:
    seeded = seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 5, 64)
    wire = Wire(session)
    engine = make_engine(session, settings)

    assert engine.list_data_catalogs() == [DataCatalog("AwsDataCatalog", "GLUE")]
    assert engine.list_databases("AwsDataCatalog") == seeded.databases
    raw = list_tables_of(engine, "awsdatacatalog", [d.name for d in seeded.databases])
    assert {db: without_timestamps(tables) for db, tables in raw.items()} == seeded.tables
    assert len(seeded.all_tables) == 320

    listed = [t for tables in raw.values() for t in tables]
    assert all(isinstance(t.created_at, datetime) and t.created_at.tzinfo for t in listed)
    # spot-check that the seed exercises what the mapping must get right
    by_type = Counter(t.table_type for t in listed)
    assert by_type == {
        "EXTERNAL_TABLE": 160,
        "MANAGED_TABLE": 40,
        "ICEBERG": 40,
        "VIRTUAL_VIEW": 80,
    }
    presto = next(t for t in listed if t.name.endswith("presto_view"))
    assert presto.view_sql.startswith("SELECT id, amount FROM")
    parquet = next(t for t in listed if t.name.endswith("parquet"))
    assert parquet.partition_keys == ["dt", "region"]
    assert parquet.columns[3] == Column(
        "items", "array<struct<sku:string,qty:int,price:decimal(10,4)>>", "line items"
    )

    assert engine.list_table_tags("AwsDataCatalog") == seeded.tags
    # 80 tagged tables x 2 tags: moto pages GetResources at 100 tags, and we follow the token
    assert wire.calls["GetResources"] >= 2
    # one GetTables per database (one page each in moto), never one call per table
    assert wire.calls["GetTables"] == 5 and "GetTable" not in wire.calls
    engine.close()


def test_calls_grow_with_databases_not_tables(session, settings) -> None:
    glue = session.client("glue", endpoint_url=settings.endpoint_url)
    seed_glue(glue, 3, 4, prefix="small", tag_every=0)
    seed_glue(glue, 3, 40, prefix="large", tag_every=0)
    wire = Wire(session)
    engine = make_engine(session, settings)
    databases = [d.name for d in engine.list_databases("AwsDataCatalog")]

    for prefix in ("small", "large"):
        wire.calls.clear()
        listed = list_tables_of(
            engine, "AwsDataCatalog", [d for d in databases if d.startswith(prefix)]
        )
        assert sum(len(t) for t in listed.values()) == (12 if prefix == "small" else 120)
        assert wire.calls == {"GetTables": 3}


def test_crawl_under_30_percent_throttling_lists_the_same_tables(session, settings) -> None:
    seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 20, 5)
    clean_session = boto3.Session(region_name=FAKE_REGION)
    clean_wire = Wire(clean_session)
    clean = make_engine(clean_session, settings)
    expected, expected_tags = crawl(clean), clean.list_table_tags("AwsDataCatalog")

    wire = Wire(session, seed=7)
    wire.faults["*"] = throttle(0.3)
    engine = make_engine(session, settings)
    assert crawl(engine) == expected
    assert engine.list_table_tags("AwsDataCatalog") == expected_tags
    assert wire.injected >= 4, wire.calls
    # each throttled call was repeated alone: no page or listing started over
    assert wire.total() == clean_wire.total() + wire.injected


def test_access_denied_fails_at_once_and_only_for_its_database(session, settings) -> None:
    seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 3, 8, tag_every=0)
    wire = Wire(session)
    wire.faults["GetTables"] = lambda params, rng: (
        "AccessDeniedException" if params["DatabaseName"] == "sales_001" else None
    )
    engine = make_engine(session, settings)

    start = time.monotonic()
    listed = list_tables_of(engine, "AwsDataCatalog", ["sales_000", "sales_001", "sales_002"])
    assert time.monotonic() - start < 5
    error = listed["sales_001"]
    assert isinstance(error, EngineError)
    assert error.code == "AccessDeniedException" and error.operation == "glue:GetTables"
    assert settings.endpoint_url in str(error)
    assert [len(listed[db]) for db in ("sales_000", "sales_002")] == [8, 8]  # type: ignore[arg-type]
    denied = [p for p in wire.params["GetTables"] if p["DatabaseName"] == "sales_001"]
    assert len(denied) == 1  # not retried

    with pytest.raises(EngineError) as raised:
        engine.list_tables("AwsDataCatalog", "sales_001")
    assert raised.value.code == "AccessDeniedException"


def test_denied_list_data_catalogs_falls_back_to_aws_data_catalog(session, settings, caplog):
    wire = Wire(session)
    wire.faults["ListDataCatalogs"] = lambda params, rng: "AccessDeniedException"
    engine = make_engine(session, settings)
    with caplog.at_level(logging.WARNING, logger="athena_catalog.engines.aws"):
        listed = engine.list_data_catalogs()
    assert listed == [DataCatalog("AwsDataCatalog", "GLUE")]
    assert "athena:ListDataCatalogs" in caplog.text and "AccessDeniedException" in caplog.text
    # a fallback, so never proof that other catalogs are gone
    assert "athena:ListDataCatalogs" in listed.incomplete
    assert wire.calls == {"ListDataCatalogs": 1}


def test_glue_catalog_without_catalog_id_is_an_error_not_the_callers_account(
    session, settings
) -> None:
    athena = session.client("athena", endpoint_url=settings.endpoint_url)
    athena.create_data_catalog(Name="orphan", Type="GLUE", Parameters={})
    seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 1, 2, tag_every=0)
    engine = make_engine(session, settings)
    assert engine.list_data_catalogs().incomplete is None
    for listing in (
        lambda: engine.list_databases("orphan"),
        lambda: engine.list_tables("orphan", "sales_000"),
        lambda: engine.list_table_tags("orphan"),
    ):
        with pytest.raises(EngineError, match="orphan has no catalog-id"):
            listing()


def test_unreachable_endpoint_fails_within_the_retry_budget(session) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    engine = make_engine(
        session,
        AwsSettings(
            region_name=FAKE_REGION,
            endpoint_url=endpoint,
            max_attempts=1,
            connect_timeout=1,
            retry_max_seconds=1.5,
            retry_base_delay=0.05,
        ),
    )
    start = time.monotonic()
    with pytest.raises(EngineError) as raised:
        engine.list_databases("AwsDataCatalog")
    assert time.monotonic() - start < 10
    assert endpoint in str(raised.value) and "glue:GetDatabases" in str(raised.value)
    assert "attempts" in str(raised.value)


# -- moto: catalogs other than AwsDataCatalog ------------------------------------------------


def test_other_glue_catalog_is_listed_with_its_catalog_id(session, settings) -> None:
    athena = session.client("athena", endpoint_url=settings.endpoint_url)
    athena.create_data_catalog(
        Name="partner",
        Type="GLUE",
        Description="shared by the partner account",
        Parameters={"catalog-id": PARTNER_ACCOUNT},
    )
    seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 1, 8, tag_every=0)
    wire = Wire(session)
    engine = make_engine(
        session, dataclasses.replace(settings, catalog_id=MOTO_ACCOUNT, max_workers=2)
    )

    assert engine.list_data_catalogs() == [
        DataCatalog("AwsDataCatalog", "GLUE"),
        DataCatalog(
            "partner", "GLUE", "shared by the partner account", {"catalog-id": PARTNER_ACCOUNT}
        ),
    ]
    engine.list_databases("partner")
    engine.list_tables("partner", "sales_000")
    engine.list_databases("AwsDataCatalog")
    catalog_ids = [
        p.get("CatalogId") for op in ("GetDatabases", "GetTables") for p in wire.params[op]
    ]
    assert catalog_ids == [PARTNER_ACCOUNT, MOTO_ACCOUNT, PARTNER_ACCOUNT]
    # tables of the caller's account are not the partner catalog's
    assert engine.list_table_tags("partner") == {}


def test_lambda_catalog_lists_databases_through_athena(session, settings) -> None:
    athena = session.client("athena", endpoint_url=settings.endpoint_url)
    function = f"arn:aws:lambda:{FAKE_REGION}:{MOTO_ACCOUNT}:function:dynamo-connector"
    athena.create_data_catalog(Name="dynamo", Type="LAMBDA", Parameters={"function": function})
    for name in ("orders", "inventory"):
        athena.start_query_execution(
            QueryString=f"CREATE DATABASE {name}",
            QueryExecutionContext={"Catalog": "dynamo"},
            ResultConfiguration={"OutputLocation": settings.s3_staging_dir},
        )
    engine = make_engine(session, settings)
    assert DataCatalog("dynamo", "LAMBDA", None, {"function": function}) in (
        engine.list_data_catalogs()
    )
    assert engine.list_databases("dynamo") == [
        Database("dynamo", "inventory"),
        Database("dynamo", "orders"),
    ]
    assert engine.list_table_tags("dynamo") == {}


# -- Stubber: what moto lacks ----------------------------------------------------------------


def glue_table(database: str, index: int, **extra: Any) -> tuple[dict[str, Any], Table]:
    """A Glue GetTables entry and its expected record."""
    table_input, expected = example_table(database, index)
    created = datetime(2024, 5, 1, tzinfo=UTC)
    entry = {**table_input, "DatabaseName": database, "CreateTime": created, **extra}
    return entry, dataclasses.replace(expected, created_at=created)


def test_get_tables_follows_next_token_one_call_per_page(session, settings) -> None:
    wire = Wire(session)
    engine = make_engine(session, dataclasses.replace(settings, catalog_id=MOTO_ACCOUNT))
    pages = [[glue_table("db", i) for i in range(p * 3, p * 3 + 3)] for p in range(3)]
    with Stubber(engine.glue) as stub:
        for number, page in enumerate(pages):
            expected_params = {"DatabaseName": "db", "MaxResults": 100, "CatalogId": MOTO_ACCOUNT}
            if number:
                expected_params["NextToken"] = f"page-{number}"
            response: dict[str, Any] = {"TableList": [entry for entry, _ in page]}
            if number < len(pages) - 1:
                response["NextToken"] = f"page-{number + 1}"
            stub.add_response("get_tables", response, expected_params)
        tables = engine.list_tables("AwsDataCatalog", "db")
        stub.assert_no_pending_responses()
    assert tables == [expected for page in pages for _, expected in page]
    assert wire.calls == {"GetTables": 3}


def test_each_page_is_retried_alone(session, settings) -> None:
    """A throttled second page is fetched again with its own token, not from the start."""
    engine = make_engine(session, settings)
    first, second = glue_table("db", 0), glue_table("db", 1)
    with Stubber(engine.glue) as stub:
        stub.add_response("get_tables", {"TableList": [first[0]], "NextToken": "p2"})
        stub.add_client_error("get_tables", "ThrottlingException", http_status_code=400)
        stub.add_response(
            "get_tables",
            {"TableList": [second[0]]},
            {"DatabaseName": "db", "MaxResults": 100, "NextToken": "p2"},
        )
        assert engine.list_tables("AwsDataCatalog", "db") == [first[1], second[1]]
        stub.assert_no_pending_responses()


def test_lambda_catalog_tables_come_from_list_table_metadata(session, settings) -> None:
    engine = make_engine(session, settings)
    created = datetime(2024, 5, 1, tzinfo=UTC)
    orders = {
        "Name": "orders",
        "CreateTime": created,
        "TableType": "EXTERNAL_TABLE",
        "Columns": [
            {"Name": "id", "Type": "BIGINT", "Comment": "key"},
            {"Name": "lines", "Type": "array<struct<sku:string,qty:int>>"},
        ],
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "Parameters": {
            "comment": "orders from DynamoDB",
            "location": "s3://lake/orders/",
            "inputformat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "serde.serialization.lib": PARQUET_SERDE,
        },
    }
    recent = {
        "Name": "recent",
        "TableType": "VIRTUAL_VIEW",
        "Columns": [{"Name": "id", "Type": "bigint"}],
    }
    with Stubber(engine.athena) as stub:
        stub.add_response(
            "get_data_catalog",
            {"DataCatalog": {"Name": "dynamo", "Type": "LAMBDA", "Parameters": {"function": "f"}}},
            {"Name": "dynamo"},
        )
        base = {"CatalogName": "dynamo", "DatabaseName": "shop", "MaxResults": 50}
        stub.add_response(
            "list_table_metadata", {"TableMetadataList": [orders], "NextToken": "n"}, base
        )
        stub.add_response(
            "list_table_metadata", {"TableMetadataList": [recent]}, {**base, "NextToken": "n"}
        )
        tables = engine.list_tables("dynamo", "shop")
        stub.assert_no_pending_responses()
    assert tables == [
        Table(
            catalog="dynamo",
            database="shop",
            name="orders",
            table_type=EXTERNAL_TABLE,
            columns=(
                Column("id", "bigint", "key"),
                Column("lines", "array<struct<sku:string,qty:int>>"),
                Column("dt", "string", is_partition_key=True),
            ),
            description="orders from DynamoDB",
            location="s3://lake/orders/",
            storage_format="parquet",
            parameters=orders["Parameters"],
            created_at=created,
        ),
        Table("dynamo", "shop", "recent", VIRTUAL_VIEW, columns=(Column("id", "bigint"),)),
    ]


def test_table_from_arn() -> None:
    arn = f"arn:aws:glue:{FAKE_REGION}:{MOTO_ACCOUNT}:table/sales/orders"
    assert table_from_arn(arn) == ("sales", "orders")
    assert table_from_arn(arn, MOTO_ACCOUNT) == ("sales", "orders")
    assert table_from_arn(arn, PARTNER_ACCOUNT) is None
    assert table_from_arn(f"arn:aws:glue:{FAKE_REGION}:{MOTO_ACCOUNT}:database/sales") is None


# -- queries ---------------------------------------------------------------------------------


def test_execute_runs_through_pyathena_on_the_engine_session(session, settings) -> None:
    canned = {
        "region": FAKE_REGION,
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": "id"}, {"VarCharValue": "name"}]},
                    {"Data": [{"VarCharValue": "1"}, {"VarCharValue": "ada"}]},
                    {"Data": [{"VarCharValue": "2"}, {"VarCharValue": "grace"}]},
                ],
                "column_info": [
                    {"Name": name, "Label": name, "Type": kind, "Precision": 0, "Scale": 0}
                    | {"Nullable": "UNKNOWN", "CaseSensitive": False}
                    for name, kind in (("id", "integer"), ("name", "varchar"))
                ],
            }
        ],
    }
    url = f"{settings.endpoint_url}/moto-api/static/athena/query-results"
    requests.post(url, json=canned, timeout=10).raise_for_status()
    wire = Wire(session)
    engine = make_engine(
        session,
        dataclasses.replace(
            settings, work_group="primary", connection_options={"poll_interval": "0.05"}
        ),
    )
    result = engine.execute("SELECT id, name FROM people", database="crm", catalog="awsdatacatalog")
    assert result.columns == ("id", "name")
    assert result.rows == [(1, "ada"), (2, "grace")]
    assert result.query_id
    (started,) = wire.params["StartQueryExecution"]
    assert started["QueryExecutionContext"] == {"Database": "crm", "Catalog": "awsdatacatalog"}
    assert started["WorkGroup"] == "primary"
    assert started["ResultConfiguration"]["OutputLocation"] == settings.s3_staging_dir


def test_settings_and_engine_reprs_hide_connection_values(session, settings) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    risky = dataclasses.replace(
        settings,
        connection_arguments={"aws_secret_access_key": secret},
        connection_options={"kms_key": secret},
    )
    engine = make_engine(session, risky)
    assert secret not in repr(risky) and secret not in repr(engine)
    assert "aws_secret_access_key" in repr(risky)


# -- Lake Formation LF-Tags ------------------------------------------------------------------
# moto 5.2's server implements CreateLFTag, ListLFTags (unpaginated) and AddLFTagsToResource,
# but answers SearchTablesByLFTags with a 404: tests that need tables found by LF-Tag put a
# Stubber on ``engine.lakeformation`` only, while Glue and GetResources stay on moto's server.

LF_CALLS = ("ListLFTags", "SearchTablesByLFTags")


def lf_tag(key: str, *values: str, catalog_id: str = MOTO_ACCOUNT) -> dict[str, Any]:
    return {"CatalogId": catalog_id, "TagKey": key, "TagValues": list(values)}


def tagged_table(
    database: str,
    name: str,
    on_database: list[dict[str, Any]],
    on_table: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """One SearchTablesByLFTags ``TableList`` entry; the model forbids empty tag lists."""
    entry: dict[str, Any] = {
        "Table": {"CatalogId": MOTO_ACCOUNT, "DatabaseName": database, "Name": name},
        **extra,
    }
    if on_database:
        entry["LFTagOnDatabase"] = on_database
    if on_table:
        entry["LFTagsOnTable"] = on_table
    return entry


def lf_calls(wire: Wire) -> dict[str, int]:
    return {op: wire.calls[op] for op in LF_CALLS if wire.calls[op]}


def test_lf_tags_of_tables_and_databases_merge_with_resource_tags(session, settings) -> None:
    seeded = seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 1, 8)
    names = [t.name for t in seeded.tables["sales_000"]]
    assert seeded.tags == {  # resource tags on moto, read through GetResources
        ("sales_000", names[0]): {"domain": "sales", "tier": "t0"},
        ("sales_000", names[4]): {"domain": "sales", "tier": "t1"},
    }
    wire = Wire(session)
    engine = make_engine(session, dataclasses.replace(settings, catalog_id=MOTO_ACCOUNT))
    on_database = [lf_tag("domain", "finance")]  # every table of sales_000 inherits it
    on_table = {
        names[1]: [lf_tag("domain", "sales"), lf_tag("pii", "yes", "no")],
        names[4]: [lf_tag("pii", "no")],
    }
    by_domain = [
        tagged_table(
            "sales_000",
            name,
            on_database,
            on_table.get(name, []),
            LFTagsOnColumns=[{"Name": "id", "LFTags": [lf_tag("pii", "yes")]}],
        )
        for name in names
    ]
    by_pii = [tagged_table("sales_000", n, on_database, on_table[n]) for n in (names[1], names[4])]
    base = {"MaxResults": 100, "CatalogId": MOTO_ACCOUNT}
    domain = {**base, "Expression": [{"TagKey": "domain", "TagValues": ["finance", "sales"]}]}
    pii = {**base, "Expression": [{"TagKey": "pii", "TagValues": ["yes", "no"]}]}
    with Stubber(engine.lakeformation) as stub:
        listed = {"MaxResults": 1000, "CatalogId": MOTO_ACCOUNT}
        stub.add_response(
            "list_lf_tags",
            {"LFTags": [lf_tag("domain", "finance", "sales")], "NextToken": "k2"},
            listed,
        )
        stub.add_response(
            "list_lf_tags", {"LFTags": [lf_tag("pii", "yes", "no")]}, {**listed, "NextToken": "k2"}
        )
        stub.add_response(
            "search_tables_by_lf_tags", {"TableList": by_domain[:5], "NextToken": "d2"}, domain
        )
        stub.add_response(
            "search_tables_by_lf_tags", {"TableList": by_domain[5:]}, {**domain, "NextToken": "d2"}
        )
        stub.add_response("search_tables_by_lf_tags", {"TableList": by_pii}, pii)
        tags = engine.list_table_tags("AwsDataCatalog")
        stub.assert_no_pending_responses()

    assert tags == {
        # resource tags win on a clash: the inherited LF-Tag domain=finance does not apply
        ("sales_000", names[0]): {"domain": "sales", "tier": "t0"},
        # the table's own LF-Tag overrides its database's; several values are joined
        ("sales_000", names[1]): {"domain": "sales", "pii": "yes,no"},
        # LF-Tags only add keys to resource tags
        ("sales_000", names[4]): {"domain": "sales", "tier": "t1", "pii": "no"},
        # inherited from the database alone; column LF-Tags (pii=yes on id) go nowhere
        **{("sales_000", n): {"domain": "finance"} for n in (names[2], names[3], *names[5:])},
    }
    assert lf_calls(wire) == {"ListLFTags": 2, "SearchTablesByLFTags": 3}
    assert wire.calls["GetResources"] >= 1 and "GetResourceLFTags" not in wire.calls


def stubbed_lf_tags(
    session: boto3.Session,
    settings: AwsSettings,
    values: dict[str, list[str]],
    tables: int,
    pages: int,
) -> dict[str, int]:
    """LF-Tag keys with ``values``, each on ``tables`` tables answered in ``pages`` pages."""
    wire = Wire(session)
    engine = make_engine(session, settings)
    names = [f"t{i:04d}" for i in range(tables)]
    per_page = -(-tables // pages)
    with Stubber(engine.lakeformation) as stub:
        lf_tags = [lf_tag(key, *vals) for key, vals in values.items()]
        stub.add_response("list_lf_tags", {"LFTags": lf_tags}, {"MaxResults": 1000})
        for key, vals in values.items():
            for start in range(0, len(vals), 50):
                expression = [{"TagKey": key, "TagValues": vals[start : start + 50]}]
                for page in range(pages):
                    entries = [
                        tagged_table("db", name, [], [lf_tag(key, vals[0])])
                        for name in names[page * per_page : (page + 1) * per_page]
                    ]
                    response: dict[str, Any] = {"TableList": entries}
                    expected = {"Expression": expression, "MaxResults": 100}
                    if page:
                        expected["NextToken"] = f"{key}-{start}-{page}"
                    if page < pages - 1:
                        response["NextToken"] = f"{key}-{start}-{page + 1}"
                    stub.add_response("search_tables_by_lf_tags", response, expected)
        tags = engine.list_table_tags("AwsDataCatalog")
        stub.assert_no_pending_responses()
    assert tags == {("db", n): {k: vals[0] for k, vals in values.items()} for n in names}
    engine.close()
    return lf_calls(wire)


def test_lf_tag_calls_grow_with_tag_keys_and_pages_not_tables(session, settings) -> None:
    two_keys = {"domain": ["sales", "hr"], "tier": ["gold"]}
    few = stubbed_lf_tags(session, settings, two_keys, tables=3, pages=1)
    many = stubbed_lf_tags(session, settings, two_keys, tables=100, pages=1)
    assert few == many == {"ListLFTags": 1, "SearchTablesByLFTags": 2}
    # one more page per key: one more call per key
    paged = stubbed_lf_tags(session, settings, two_keys, tables=200, pages=2)
    assert paged == {"ListLFTags": 1, "SearchTablesByLFTags": 4}
    # an expression takes 50 values at most: a key with 120 values is searched 3 times
    wide = stubbed_lf_tags(
        session, settings, {"owner": [f"team{i:03d}" for i in range(120)]}, tables=5, pages=1
    )
    assert wide == {"ListLFTags": 1, "SearchTablesByLFTags": 3}


def test_denied_lake_formation_gives_resource_tags_and_one_warning(
    session, settings, caplog
) -> None:
    seeded = seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 2, 8)
    wire = Wire(session)
    wire.faults["ListLFTags"] = lambda params, rng: "AccessDeniedException"
    engine = make_engine(session, settings)
    with caplog.at_level(logging.WARNING, logger="athena_catalog.engines.aws"):
        assert engine.list_table_tags("AwsDataCatalog") == seeded.tags
        tags = engine.list_table_tags("AwsDataCatalog")
        assert tags == seeded.tags
    assert "lakeformation:ListLFTags" in tags.incomplete  # so stored tags are kept
    warnings = [r for r in caplog.records if "LF-Tags" in r.getMessage()]
    assert len(warnings) == 1
    assert "lakeformation:ListLFTags" in caplog.text and "AccessDeniedException" in caplog.text
    # denied once per listing, not retried, and no search follows
    assert lf_calls(wire) == {"ListLFTags": 2}


def test_denied_search_drops_only_lf_tags(session, settings, caplog) -> None:
    seeded = seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 1, 8)
    engine = make_engine(session, settings)
    with Stubber(engine.lakeformation) as stub:
        stub.add_response("list_lf_tags", {"LFTags": [lf_tag("domain", "finance")]})
        stub.add_client_error("search_tables_by_lf_tags", "AccessDeniedException")
        with caplog.at_level(logging.WARNING, logger="athena_catalog.engines.aws"):
            tags = engine.list_table_tags("AwsDataCatalog")
        assert tags == seeded.tags
        stub.assert_no_pending_responses()
    assert "lakeformation:SearchTablesByLFTags" in caplog.text
    assert "lakeformation:SearchTablesByLFTags" in tags.incomplete


def test_without_lf_tags_one_list_call_per_glue_catalog(session, settings, caplog) -> None:
    """On moto's server: no LF-Tags defined, so ListLFTags answers empty and nothing follows."""
    athena = session.client("athena", endpoint_url=settings.endpoint_url)
    athena.create_data_catalog(
        Name="partner", Type="GLUE", Parameters={"catalog-id": PARTNER_ACCOUNT}
    )
    athena.create_data_catalog(Name="dynamo", Type="LAMBDA", Parameters={"function": "f"})
    seeded = seed_glue(session.client("glue", endpoint_url=settings.endpoint_url), 1, 8)
    wire = Wire(session)
    engine = make_engine(session, settings)
    with caplog.at_level(logging.WARNING, logger="athena_catalog.engines.aws"):
        assert engine.list_table_tags("AwsDataCatalog") == seeded.tags
        assert engine.list_table_tags("partner") == {}
        assert engine.list_table_tags("dynamo") == {}
    assert not caplog.records
    assert lf_calls(wire) == {"ListLFTags": 2}  # Glue catalogs only
    assert [p.get("CatalogId") for p in wire.params["ListLFTags"]] == [None, PARTNER_ACCOUNT]


@pytest.mark.parametrize(
    ("parameters", "rows", "size"),
    [
        ({}, None, None),
        ({"recordCount": "10", "sizeKey": "2048", "classification": "json"}, 10, 2048),
        ({"numRows": "7", "totalSize": "99", "recordCount": "10"}, 7, 99),  # Hive's first
        ({"NUMROWS": "5"}, 5, None),  # keys as any writer spells them
        ({"numRows": "-1", "totalSize": "unknown"}, None, None),  # Hive's "not computed"
    ],
)
def test_estimates_come_from_glue_table_parameters_or_are_none(
    parameters: dict[str, str], rows: int | None, size: int | None
) -> None:
    estimates = estimates_from_parameters(parameters)
    assert (estimates.row_count, estimates.size_bytes) == (rows, size)
    assert (estimates.source is None) == (rows is None and size is None)
