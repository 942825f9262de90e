"""The profiler's cost guard on both engines: the embedded engine's scan estimate, and the aws
engine's Glue parameters and S3 listings against moto's server over HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog.engines.contract import Engine
from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import EngineError, Table
from athena_catalog.profiler.cost_guard import CostEstimate, estimate
from athena_catalog.profiler.options import parse_options

NOW = datetime(2024, 1, 4, 9, 30, tzinfo=UTC)
DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")


@dataclass
class Case:
    """``sales.orders`` partitioned by ``dt`` over DAYS, and the bytes each day holds."""

    engine: Engine
    table: Table
    day_bytes: dict[str, int]
    rows_known: bool

    @property
    def whole(self) -> int:
        return sum(self.day_bytes.values())


def _local(home: Path) -> Iterator[Case]:
    engine = LocalEngine(home, read_only=False)
    engine.execute("CREATE DATABASE sales")
    engine.execute(
        "CREATE EXTERNAL TABLE sales.orders (id bigint, amount double, note string)"
        " PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/orders/'"
    )
    # 100, 200 and 300 rows on the three days
    for n, day in zip((100, 200, 300), DAYS, strict=True):
        engine.execute(
            f"INSERT INTO sales.orders SELECT i, i * 1.5, 'x', '{day}'"
            f" FROM UNNEST(sequence(1, {n})) AS t(i)"
        )
    table = next(t for t in engine.list_tables("AwsDataCatalog", "sales") if t.name == "orders")
    row = 8 + 8 + 24 + 24  # bigint, double, string, string: the estimator's widths
    yield Case(
        engine, table, {d: n * row for n, d in zip((100, 200, 300), DAYS, strict=True)}, True
    )
    engine.close()


def _aws(endpoint: str) -> Iterator[Case]:
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    glue = session.client("glue", endpoint_url=endpoint)
    s3.create_bucket(Bucket="lake")
    day_bytes = {}
    for i, day in enumerate(DAYS):
        for part in range(i + 1):  # 1, 2, 3 files of growing size
            size = 1000 * (i + 1) + part
            s3.put_object(Bucket="lake", Key=f"orders/dt={day}/part-{part}", Body=b"x" * size)
            day_bytes[day] = day_bytes.get(day, 0) + size
    # a neighbour whose key starts like the table's location: never counted
    s3.put_object(Bucket="lake", Key="orders_archive/old", Body=b"x" * 50_000)
    glue.create_database(DatabaseInput={"Name": "sales"})
    columns = [{"Name": n, "Type": t} for n, t in (("id", "bigint"), ("note", "string"))]
    glue.create_table(
        DatabaseName="sales",
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {"Columns": columns, "Location": "s3://lake/orders"},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "Parameters": {"classification": "parquet"},
        },
    )
    for day in DAYS:
        glue.create_partition(
            DatabaseName="sales",
            TableName="orders",
            PartitionInput={
                "Values": [day],
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": f"s3://lake/orders/dt={day}/",
                },
            },
        )
    engine = AwsEngine(
        session, AwsSettings(region_name="us-east-1", endpoint_url=endpoint, retry_max_seconds=2)
    )
    table = next(t for t in engine.list_tables("AwsDataCatalog", "sales") if t.name == "orders")
    yield Case(engine, table, day_bytes, False)
    engine.close()


@pytest.fixture(params=["local", "aws"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "local":
        yield from _local(tmp_path)
    else:
        yield from _aws(request.getfixturevalue("moto_endpoint"))


def _partitioned(**partition: Any) -> dict[str, Any]:
    return {"fully_qualified_name": "sales.orders", "partition_config": partition}


def test_the_whole_table_is_estimated_and_runs_under_the_bound(case: Case) -> None:
    found = estimate(case.engine, case.table, parse_options(), NOW)
    assert found.runs and found.table_bytes == found.estimated_bytes == case.whole
    assert found.reductions == ()


def test_a_table_above_the_bound_is_skipped_and_says_how_to_bring_it_under(case: Case) -> None:
    options = parse_options({"max_bytes_per_table": case.whole - 1})
    found = estimate(case.engine, case.table, options, NOW)
    assert not found.runs and found.estimated_bytes == case.whole
    assert "max_bytes_per_table" in (found.skipped or "")
    assert "partition_config" in (found.skipped or "")


@pytest.mark.parametrize(
    "partition",
    [
        {"partition_interval_type": "COLUMN-VALUE", "partition_values": list(DAYS[1:])},
        # counted back from NOW (2024-01-04): the last two days
        {
            "partition_interval_type": "TIME-UNIT",
            "partition_interval": 2,
            "partition_interval_unit": "DAY",
        },
    ],
)
def test_a_partition_filter_brings_a_table_under_the_bound(
    case: Case, partition: dict[str, Any]
) -> None:
    selected = case.day_bytes[DAYS[1]] + case.day_bytes[DAYS[2]]
    config = _partitioned(enable_partitioning=True, partition_column_name="dt", **partition)
    options = parse_options({"max_bytes_per_table": selected, "table_config": [config]})
    found = estimate(case.engine, case.table, options, NOW)
    assert found.runs, found.skipped
    assert found.estimated_bytes == selected and found.table_bytes == case.whole
    assert found.reductions and "partition filter dt" in found.reductions[0]
    # one byte less and even the two partitions are too much
    tight = parse_options({"max_bytes_per_table": selected - 1, "table_config": [config]})
    refused = estimate(case.engine, case.table, tight, NOW)
    assert not refused.runs and "even with partition filter" in (refused.skipped or "")


def test_a_partition_config_on_a_data_column_does_not_prune(case: Case) -> None:
    config = _partitioned(
        enable_partitioning=True,
        partition_column_name="id",
        partition_interval_type="INTEGER-RANGE",
        partition_integer_range_start=1,
        partition_integer_range_end=5,
    )
    options = parse_options({"max_bytes_per_table": case.whole - 1, "table_config": [config]})
    found = estimate(case.engine, case.table, options, NOW)
    assert not found.runs and found.estimated_bytes == case.whole
    assert any("'id' is not a partition key" in note for note in found.notes)


def test_samples_that_read_less_bring_it_under_and_bernoulli_does_not(case: Case) -> None:
    bound = case.whole // 2
    system = parse_options(
        {"max_bytes_per_table": bound, "profile_sample": 10, "sampling_method_type": "SYSTEM"}
    )
    found = estimate(case.engine, case.table, system, NOW)
    assert found.runs and found.estimated_bytes == round(case.whole / 10)
    assert found.reductions == ("SYSTEM sample of 10%",)

    bernoulli = parse_options({"max_bytes_per_table": bound, "profile_sample": 10})
    found = estimate(case.engine, case.table, bernoulli, NOW)
    assert not found.runs and found.estimated_bytes == case.whole
    assert any("BERNOULLI" in note for note in found.notes)

    # a table's own sample wins over the run's
    own = {
        "fully_qualified_name": "sales.orders",
        "profile_sample": 60,
        "profile_sample_type": "ROWS",
    }
    rows = parse_options({"max_bytes_per_table": bound, "table_config": [own]})
    found = estimate(case.engine, case.table, rows, NOW)
    if case.rows_known:  # 60 of 600 rows
        assert found.runs and found.estimated_bytes == round(case.whole / 10)
    else:  # no row count in Glue: a LIMIT cannot be sized
        assert not found.runs and any("row count unknown" in n for n in found.notes)


# -- aws only: where the numbers come from


def _calls(engine: AwsEngine) -> Counter[str]:
    counted: Counter[str] = Counter()
    for client in (engine.glue, engine.s3):
        client.meta.events.register(
            "before-send", lambda event_name, **_: counted.update([event_name.rsplit(".", 1)[-1]])
        )
    return counted


@pytest.fixture
def aws_case(moto_endpoint: str) -> Iterator[Case]:
    yield from _aws(moto_endpoint)


def test_aws_lists_the_location_when_glue_states_no_size(aws_case: Case) -> None:
    engine = aws_case.engine
    assert isinstance(engine, AwsEngine)
    calls = _calls(engine)
    found = engine.scan_estimates("AwsDataCatalog", "sales", "orders")
    assert found.size_bytes == aws_case.whole  # orders_archive/ is not under orders/
    assert found.source == "s3 listing of s3://lake/orders"
    assert calls["ListObjectsV2"] == 1 and calls["GetTable"] == 1


def test_aws_prefers_glue_parameters_and_lists_no_object(aws_case: Case) -> None:
    engine = aws_case.engine
    assert isinstance(engine, AwsEngine)
    glue = engine.glue
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    glue.update_table(
        DatabaseName="sales",
        TableInput={
            "Name": "orders",
            "StorageDescriptor": table["StorageDescriptor"],
            "PartitionKeys": table["PartitionKeys"],
            "Parameters": {"numRows": "600", "totalSize": "123456"},
        },
    )
    calls = _calls(engine)
    found = engine.scan_estimates("AwsDataCatalog", "sales", "orders")
    assert (found.row_count, found.size_bytes, found.source) == (
        600,
        123456,
        "glue table parameters",
    )
    assert calls["ListObjectsV2"] == 0


def test_aws_partition_parameters_or_prefixes(aws_case: Case) -> None:
    engine = aws_case.engine
    assert isinstance(engine, AwsEngine)
    calls = _calls(engine)
    found = engine.scan_estimates("AwsDataCatalog", "sales", "orders", "dt >= '2024-01-02'")
    assert found.size_bytes == aws_case.day_bytes[DAYS[1]] + aws_case.day_bytes[DAYS[2]]
    assert found.source == "s3 listing of 2 partition prefixes"
    assert calls["GetPartitions"] == 1 and calls["ListObjectsV2"] == 2
    # partitions that state their size are not listed
    for day, rows in zip(DAYS, (10, 20, 30), strict=True):
        partition = engine.glue.get_partition(
            DatabaseName="sales", TableName="orders", PartitionValues=[day]
        )["Partition"]
        engine.glue.update_partition(
            DatabaseName="sales",
            TableName="orders",
            PartitionValueList=[day],
            PartitionInput={
                "Values": [day],
                "StorageDescriptor": partition["StorageDescriptor"],
                "Parameters": {"numRows": str(rows), "totalSize": str(rows * 100)},
            },
        )
    calls.clear()
    found = engine.scan_estimates("AwsDataCatalog", "sales", "orders", "dt IN ('2024-01-01')")
    assert (found.row_count, found.size_bytes) == (10, 1000)
    assert found.source == "glue parameters of 1 partitions" and calls["ListObjectsV2"] == 0


class _S3Denied:
    """ListObjectsV2 answered with S3's own XML AccessDenied, as the wire carries it."""

    def __call__(self, event_name: str, **_: Any) -> AWSResponse | None:
        if not event_name.endswith("ListObjectsV2"):
            return None
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse("http://denied", 403, {"Content-Type": "application/xml"}, _Raw(body))


class _Raw:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def test_aws_a_table_of_unknown_size_is_skipped_unless_bounded_or_opted_in(
    aws_case: Case,
) -> None:
    engine = aws_case.engine
    assert isinstance(engine, AwsEngine)
    engine.s3.meta.events.register("before-send", _S3Denied())
    with pytest.raises(EngineError) as denied:
        engine.scan_estimates("AwsDataCatalog", "sales", "orders")
    assert denied.value.code == "AccessDenied"

    def guard(**config: Any) -> CostEstimate:
        table_config = {k: v for k, v in config.items() if k != "profile_unknown_size"}
        options: dict[str, Any] = {
            "table_config": [{"fully_qualified_name": "sales.orders", **table_config}]
        }
        if "profile_unknown_size" in config:
            options["profile_unknown_size"] = config["profile_unknown_size"]
        return estimate(engine, aws_case.table, parse_options(options), NOW)

    skipped = guard()
    assert not skipped.runs and skipped.estimated_bytes is None
    assert skipped.skipped is not None and "AccessDenied" in skipped.skipped
    assert skipped.skipped.startswith("skipped by the cost guard: size unknown")
    assert "profile_unknown_size: true" in skipped.skipped
    assert not guard(profile_sample=10).runs  # BERNOULLI reads every file
    assert not guard(profile_sample=100, sampling_method_type="SYSTEM").runs
    opted_in = guard(profile_unknown_size=True)
    assert opted_in.runs and "profile_unknown_size allows" in opted_in.summary()
    for config, bound in (
        ({"profile_sample": 1000, "profile_sample_type": "ROWS"}, "ROWS sample of 1000"),
        ({"profile_sample": 5, "sampling_method_type": "SYSTEM"}, "SYSTEM sample of 5%"),
        (
            {"partition_config": _partition_values("dt", "2024-01-03")},
            "partition filter dt IN ('2024-01-03')",
        ),
    ):
        bounded = guard(**config)
        assert bounded.runs and bounded.estimated_bytes is None, config
        assert f"bounded by {bound}" in bounded.summary()
    on_data_column = guard(partition_config=_partition_values("note", "x"))
    assert not on_data_column.runs  # a data column prunes nothing
    ignored = guard(
        profile_query="SELECT * FROM sales.orders", profile_sample=5, sampling_method_type="SYSTEM"
    )
    assert not ignored.runs  # estimated as a scan of the whole table


def _partition_values(column: str, value: str) -> dict[str, Any]:
    return {
        "enable_partitioning": True,
        "partition_column_name": column,
        "partition_interval_type": "COLUMN-VALUE",
        "partition_values": [value],
    }


# -- local only: the filter is a partition filter and nothing more


@pytest.fixture
def local_case(tmp_path: Path) -> Iterator[Case]:
    yield from _local(tmp_path)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("id = 1", "id is not a partition key"),
        ("dt = (SELECT max(dt) FROM sales.orders)", "is not allowed"),
        ("length(dt) = 10", "is not allowed"),
        ("dt = ", "partition filter"),
    ],
)
def test_local_refuses_what_is_not_a_partition_filter(local_case: Case, bad: str, why: str) -> None:
    with pytest.raises(EngineError, match=why):
        local_case.engine.scan_estimates("AwsDataCatalog", "sales", "orders", bad)


def test_local_filter_estimates_are_not_queries_of_the_history(local_case: Case) -> None:
    engine = local_case.engine
    assert isinstance(engine, LocalEngine)
    before = len(list(engine.query_history()))
    found = engine.scan_estimates(
        "AwsDataCatalog", "sales", "orders", "dt BETWEEN '2024-01-01' AND '2024-01-02'"
    )
    assert (found.row_count, found.size_bytes) == (
        300,
        local_case.day_bytes[DAYS[0]] + local_case.day_bytes[DAYS[1]],
    )
    assert len(list(engine.query_history())) == before
