"""LocalEngine against real DuckDB and SQLite files: DDL to catalog surface, SQL, history."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from athena_catalog.engines.local import LocalEngine
from athena_catalog.engines.records import (
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Column,
    EngineError,
    QueryExecution,
    Table,
)

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

ORDERS_DDL = """CREATE EXTERNAL TABLE IF NOT EXISTS raw.orders (
  order_id bigint COMMENT 'Order number',
  amount decimal(12,2),
  items array<struct<sku:string,qty:int>>,
  attrs map<string,string>,
  ship struct<city:string,geo:struct<lat:double,lon:double>>,
  paid boolean,
  ordered_at timestamp)
COMMENT 'Shop orders'
PARTITIONED BY (dt string COMMENT 'Order date', hr int)
STORED AS PARQUET
LOCATION 's3://lake/raw/orders/'
TBLPROPERTIES ('classification'='parquet', 'parquet.compression'='SNAPPY')"""

ORDERS_ROWS = """INSERT INTO raw.orders
SELECT i, CAST(i * 1.5 AS decimal(12,2)),
       ARRAY[CAST(ROW('SKU-' || CAST(i AS varchar), 1) AS ROW(sku varchar, qty integer))],
       MAP(ARRAY['k'], ARRAY['v']),
       CAST(ROW('Paris', CAST(ROW(48.8, 2.3) AS ROW(lat double, lon double)))
            AS ROW(city varchar, geo ROW(lat double, lon double))),
       i % 2 = 0, TIMESTAMP '2026-09-30 10:00:00', '2026-09-30', i % 24
FROM UNNEST(sequence(1, 100)) AS t(i)"""


class Clock:
    """A settable clock: each call returns the current time, then moves one second on."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        now = self.now
        self.now += timedelta(seconds=1)
        return now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    engine = LocalEngine(tmp_path, read_only=False)
    engine.clock = Clock()
    engine.execute(
        "CREATE DATABASE raw COMMENT 'Landing zone' LOCATION 's3://lake/raw/'",
        work_group="etl",
    )
    yield engine
    engine.close()


def table(engine: LocalEngine, database: str, name: str, catalog: str = "AwsDataCatalog") -> Table:
    found = [t for t in engine.list_tables(catalog, database) if t.name == name]
    assert len(found) == 1, [t.name for t in engine.list_tables(catalog, database)]
    return found[0]


def history(engine: LocalEngine) -> list[QueryExecution]:
    return list(engine.query_history())


# -- DDL to the catalog surface ------------------------------------------------------------


def test_fresh_home_has_the_default_catalog_and_database(engine: LocalEngine) -> None:
    [catalog] = engine.list_data_catalogs()
    assert (catalog.name, catalog.type) == ("AwsDataCatalog", "GLUE")
    databases = {d.name: d for d in engine.list_databases("awsdatacatalog")}
    assert set(databases) == {"default", "raw"}
    assert databases["raw"].description == "Landing zone"
    assert databases["raw"].location == "s3://lake/raw/"
    assert databases["raw"].catalog == "AwsDataCatalog"


def test_external_table_surface_field_by_field(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    orders = table(engine, "raw", "orders")
    assert orders.table_type == EXTERNAL_TABLE
    assert orders.fqn == "awsdatacatalog.raw.orders"
    assert orders.description == "Shop orders"
    assert orders.location == "s3://lake/raw/orders/"
    assert orders.storage_format == "parquet"
    assert orders.parameters == {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "parquet.compression": "SNAPPY",
    }
    assert orders.owner == "hadoop"
    assert orders.created_at == orders.updated_at
    assert orders.created_at is not None and T0 <= orders.created_at < T0 + timedelta(minutes=1)
    assert orders.view_sql is None
    assert orders.columns == (
        Column("order_id", "bigint", "Order number"),
        Column("amount", "decimal(12,2)"),
        Column("items", "array<struct<sku:string,qty:int>>"),
        Column("attrs", "map<string,string>"),
        Column("ship", "struct<city:string,geo:struct<lat:double,lon:double>>"),
        Column("paid", "boolean"),
        Column("ordered_at", "timestamp"),
        Column("dt", "string", "Order date", is_partition_key=True),
        Column("hr", "int", is_partition_key=True),
    )
    assert orders.partition_keys == ["dt", "hr"]


def test_other_storage_formats_come_from_stored_as_and_serde(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE EXTERNAL TABLE raw.clicks (id bigint) ROW FORMAT SERDE "
        "'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://lake/clicks/'"
    )
    engine.execute(
        "CREATE EXTERNAL TABLE raw.rates (c string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
        " STORED AS TEXTFILE LOCATION 's3://lake/rates/'"
    )
    engine.execute("CREATE EXTERNAL TABLE raw.inv (c string) STORED AS ORC LOCATION 's3://l/i/'")
    formats = {t.name: t.storage_format for t in engine.list_tables("AwsDataCatalog", "raw")}
    assert formats == {"clicks": "json", "rates": "csv", "inv": "orc"}


def test_iceberg_table_and_row_level_dml(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE TABLE raw.dim (id bigint COMMENT 'key', v string) COMMENT 'A dimension'"
        " LOCATION 's3://lake/ice/dim/' TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')"
    )
    dim = table(engine, "raw", "dim")
    assert dim.table_type == ICEBERG
    assert dim.storage_format == "iceberg"
    assert dim.parameters == {"table_type": "ICEBERG", "format": "parquet"}
    assert dim.description == "A dimension"
    assert dim.columns[0] == Column("id", "bigint", "key")
    engine.execute("INSERT INTO raw.dim VALUES (1, 'a'), (2, 'b')")
    engine.execute(
        "MERGE INTO raw.dim d USING (SELECT 2 AS id, 'z' AS v UNION ALL SELECT 3, 'c') s"
        " ON d.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v"
        " WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)"
    )
    engine.execute("UPDATE raw.dim SET v = 'q' WHERE id = 1")
    engine.execute("DELETE FROM raw.dim WHERE id = 3")
    rows = engine.execute("SELECT id, v FROM raw.dim ORDER BY id").rows
    assert rows == [(1, "q"), (2, "z")]
    assert table(engine, "raw", "dim").updated_at > dim.updated_at


def test_row_level_dml_on_hive_tables_fails_like_athena(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    with pytest.raises(EngineError, match="only supported for transactional tables"):
        engine.execute("DELETE FROM raw.orders WHERE order_id = 1")
    assert history(engine)[-1].state == "FAILED"


def test_ctas_external_managed_and_iceberg(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    engine.execute(
        "CREATE TABLE raw.daily WITH (format='PARQUET', external_location='s3://lake/daily/',"
        " partitioned_by=ARRAY['dt'], write_compression='SNAPPY')"
        " AS SELECT count(*) AS n, sum(amount) AS total, dt FROM raw.orders GROUP BY dt"
    )
    engine.execute("CREATE TABLE raw.paid AS SELECT order_id FROM raw.orders WHERE paid")
    engine.execute(
        "CREATE TABLE raw.ice WITH (table_type='ICEBERG', location='s3://lake/ice/x/',"
        " is_external=false) AS SELECT order_id, amount FROM raw.orders"
    )
    daily, paid, ice = (table(engine, "raw", n) for n in ("daily", "paid", "ice"))
    assert (daily.table_type, daily.location, daily.storage_format) == (
        EXTERNAL_TABLE,
        "s3://lake/daily/",
        "parquet",
    )
    assert daily.partition_keys == ["dt"]
    assert daily.parameters == {"format": "parquet", "write_compression": "SNAPPY"}
    assert [(c.name, c.data_type) for c in daily.columns] == [
        ("n", "bigint"),
        ("total", "decimal(38,2)"),
        ("dt", "string"),
    ]
    assert (paid.table_type, paid.location) == (MANAGED_TABLE, "s3://lake/raw/paid/")
    assert (ice.table_type, ice.location, ice.storage_format) == (
        ICEBERG,
        "s3://lake/ice/x/",
        "iceberg",
    )
    assert engine.execute("SELECT n FROM raw.daily").rows == [(100,)]
    assert engine.row_count("AwsDataCatalog", "raw", "paid") == 50


def test_view_keeps_the_original_athena_sql(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    body = (
        "SELECT order_id, CAST(amount AS varchar) AS amount_text\n"
        "FROM orders -- unqualified\nWHERE paid"
    )
    engine.execute(f"CREATE OR REPLACE VIEW v_paid AS {body}", database="raw")
    view = table(engine, "raw", "v_paid")
    assert view.table_type == VIRTUAL_VIEW
    assert view.is_view
    assert view.view_sql == body
    assert view.parameters == {"presto_view": "true", "comment": "Presto View"}
    assert view.columns == (Column("order_id", "bigint"), Column("amount_text", "varchar"))
    assert engine.execute("SELECT count(*) FROM raw.v_paid").rows == [(50,)]
    created = view.created_at
    engine.execute("CREATE OR REPLACE VIEW raw.v_paid AS SELECT order_id FROM raw.orders")
    replaced = table(engine, "raw", "v_paid")
    assert replaced.view_sql == "SELECT order_id FROM raw.orders"
    assert replaced.created_at == created < replaced.updated_at


def test_alter_add_columns_lists_them_before_partition_keys(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(
        "ALTER TABLE raw.orders ADD COLUMNS (channel string COMMENT 'web or app', n int)"
    )
    names = [(c.name, c.is_partition_key) for c in table(engine, "raw", "orders").columns]
    assert names[-4:] == [("channel", False), ("n", False), ("dt", True), ("hr", True)]
    assert table(engine, "raw", "orders").columns[-4].description == "web or app"
    # Positional INSERT follows Glue's order, partition keys last, as in Athena.
    engine.execute(
        "INSERT INTO raw.orders SELECT 1, 2.5, NULL, NULL, NULL, true, NULL, 'app', 7,"
        " '2026-10-01', 3"
    )
    assert engine.execute("SELECT channel, n, dt, hr FROM raw.orders").rows == [
        ("app", 7, "2026-10-01", 3)
    ]


def test_drop_table_view_and_database(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute("CREATE VIEW raw.v AS SELECT order_id FROM raw.orders")
    engine.execute("DROP VIEW raw.v")
    engine.execute("DROP TABLE IF EXISTS raw.orders")
    engine.execute("DROP TABLE IF EXISTS raw.never_existed")
    assert engine.list_tables("AwsDataCatalog", "raw") == []
    with pytest.raises(EngineError, match="does not exist"):
        engine.execute("DROP TABLE raw.orders")
    engine.execute("DROP DATABASE raw CASCADE")
    assert [d.name for d in engine.list_databases("AwsDataCatalog")] == ["default"]


def test_tags_and_a_second_data_catalog(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.tag_table("AwsDataCatalog", "raw", "orders", {"owner": "shop", "pii": "false"})
    engine.tag_table("awsdatacatalog", "RAW", "orders", {"pii": "true"})
    assert table(engine, "raw", "orders").tags == {"owner": "shop", "pii": "true"}
    assert engine.list_table_tags("AwsDataCatalog") == {
        ("raw", "orders"): {"owner": "shop", "pii": "true"}
    }
    with pytest.raises(EngineError, match="does not exist"):
        engine.tag_table("AwsDataCatalog", "raw", "nope", {"a": "b"})

    engine.create_data_catalog("partner_lake", "GLUE", "Partner", {"catalog-id": "123456789012"})
    engine.execute("CREATE DATABASE sales", catalog="partner_lake")
    engine.execute(
        "CREATE EXTERNAL TABLE sales.p (id bigint) LOCATION 's3://p/'", catalog="partner_lake"
    )
    engine.execute("INSERT INTO sales.p VALUES (7)", catalog="partner_lake")
    partner = next(c for c in engine.list_data_catalogs() if c.name == "partner_lake")
    assert partner.parameters == {"catalog-id": "123456789012"}
    assert [d.name for d in engine.list_databases("partner_lake")] == ["default", "sales"]
    assert table(engine, "sales", "p", catalog="partner_lake").fqn == "partner_lake.sales.p"
    assert engine.execute("SELECT id FROM partner_lake.sales.p").rows == [(7,)]
    assert engine.list_table_tags("partner_lake") == {}
    with pytest.raises(EngineError, match="already exists"):
        engine.create_data_catalog("PARTNER_LAKE", "GLUE")


def test_odd_names_keep_their_case(engine: LocalEngine) -> None:
    engine.execute("CREATE DATABASE `Odd-Names`")
    engine.execute(
        "CREATE EXTERNAL TABLE `Odd-Names`.`Mixed Case` (`order` bigint, `ünï côde` string)"
        " PARTITIONED BY (`Region` string) LOCATION 's3://odd/'"
    )
    engine.execute("INSERT INTO \"Odd-Names\".\"Mixed Case\" VALUES (1, 'é', 'EMEA')")
    odd = table(engine, "Odd-Names", "Mixed Case")
    assert odd.fqn == "awsdatacatalog.odd-names.mixed case"
    assert [c.name for c in odd.columns] == ["order", "ünï côde", "Region"]
    assert odd.partition_keys == ["Region"]
    rows = engine.execute('SELECT "ünï côde" FROM "Mixed Case"', database="odd-names").rows
    assert rows == [("é",)]


def test_show_describe_explain_and_unload(engine: LocalEngine, tmp_path: Path) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    assert engine.execute("SHOW DATABASES").rows == [("default",), ("raw",)]
    assert engine.execute("SHOW TABLES IN raw 'ord*'").rows == [("orders",)]
    described = engine.execute("DESCRIBE orders", database="raw")
    assert described.columns == ("col_name", "data_type", "comment")
    assert described.rows[0] == ("order_id", "bigint", "Order number")
    plan = engine.execute("EXPLAIN SELECT order_id FROM raw.orders WHERE paid").rows
    assert plan and "orders" in plan[0][0].lower()
    engine.execute(
        "UNLOAD (SELECT order_id, amount FROM raw.orders WHERE paid) "
        "TO 's3://exports/paid/' WITH (format='PARQUET', compression='SNAPPY')"
    )
    [written] = (tmp_path / "s3" / "exports" / "paid").glob("*.parquet")
    assert duckdb.connect().execute(f"SELECT count(*) FROM '{written}'").fetchone() == (50,)
    with pytest.raises(EngineError, match="ORC is not supported"):
        engine.execute("UNLOAD (SELECT 1) TO 's3://exports/x/' WITH (format='ORC')")


def test_unknown_catalog_or_database_is_named(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="'nope'"):
        engine.list_databases("nope")
    with pytest.raises(EngineError, match="database 'missing'"):
        engine.list_tables("AwsDataCatalog", "missing")
    with pytest.raises(EngineError, match="data catalog 'elsewhere'"):
        engine.execute("SELECT 1", catalog="elsewhere")
    with pytest.raises(EngineError, match="database 'missing'"):
        engine.execute("SELECT 1", database="missing")
    failed = history(engine)[-2:]
    assert [(q.state, q.catalog, q.database) for q in failed] == [
        ("FAILED", "elsewhere", None),
        ("FAILED", "AwsDataCatalog", "missing"),
    ]


# -- query history ---------------------------------------------------------------------------


def test_every_statement_is_recorded_with_athena_fields(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL, work_group="etl")
    engine.execute(ORDERS_ROWS, work_group="etl")
    engine.execute("SELECT sum(amount) FROM orders", database="raw", work_group="bi")
    engine.execute("CREATE TABLE raw.c AS SELECT * FROM raw.orders")
    engine.execute("SHOW TABLES IN raw")
    rows = history(engine)
    assert [(q.statement_type, q.state, q.work_group) for q in rows] == [
        ("DDL", "SUCCEEDED", "etl"),  # the fixture's CREATE DATABASE
        ("DDL", "SUCCEEDED", "etl"),
        ("DML", "SUCCEEDED", "etl"),
        ("DML", "SUCCEEDED", "bi"),
        ("DDL", "SUCCEEDED", "primary"),  # CTAS is DDL, as Athena classifies it
        ("UTILITY", "SUCCEEDED", "primary"),
    ]
    select = rows[3]
    assert select.query == "SELECT sum(amount) FROM orders"
    assert (select.catalog, select.database) == ("AwsDataCatalog", "raw")
    assert select.error_message is None
    assert select.engine_ms is not None and select.engine_ms >= 0
    assert select.completed_at is not None and select.completed_at > select.submitted_at
    # 100 rows x (8 bigint + 16 decimal + 64 array + 64 map + 64 struct + 1 boolean
    #             + 8 timestamp + 24 string + 4 int)
    assert select.data_scanned_bytes == 100 * 253
    assert rows[4].data_scanned_bytes == 100 * 253  # CTAS reads its source
    assert rows[1].data_scanned_bytes == 0  # DDL scans nothing
    assert [q.submitted_at for q in rows] == sorted(q.submitted_at for q in rows)
    assert len({q.query_id for q in rows}) == len(rows)
    later = list(engine.query_history(since=select.submitted_at))
    assert [q.query_id for q in later] == [q.query_id for q in rows[3:]]


def test_scan_estimate_expands_views(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    engine.execute("CREATE VIEW raw.v AS SELECT order_id FROM raw.orders")
    result = engine.execute("SELECT count(*) FROM raw.v")
    assert history(engine)[-1].query_id == result.query_id
    assert history(engine)[-1].data_scanned_bytes == 100 * 253


def test_failed_statement_raises_and_is_recorded(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match=r"SELECT \* FROM raw\.missing_table.*missing_table") as e:
        engine.execute("SELECT * FROM raw.missing_table", work_group="adhoc")
    assert e.value.code == "FAILED"
    with pytest.raises(EngineError):
        engine.execute("SELEC 1")
    typo, parse_error = history(engine)[-2:]
    assert (typo.state, typo.statement_type, typo.work_group) == ("FAILED", "DML", "adhoc")
    assert "missing_table" in typo.error_message
    assert parse_error.state == "FAILED" and parse_error.error_message


def test_timeout_cancels_the_running_query(engine: LocalEngine) -> None:
    runaway = (
        "SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range = -1"
    )
    with pytest.raises(EngineError, match="CANCELLED") as e:
        engine.execute(runaway, timeout_s=0.2, work_group="adhoc")
    assert e.value.code == "CANCELLED"
    cancelled = history(engine)[-1]
    assert (cancelled.state, cancelled.work_group) == ("CANCELLED", "adhoc")
    assert 150 <= cancelled.engine_ms < 10_000
    assert "time limit" in cancelled.error_message
    # The connection is usable afterwards and a late timer does not hit the next query.
    assert engine.execute("SELECT 42", timeout_s=5).rows == [(42,)]


def test_read_only_engine_reads_records_and_refuses_writes(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    engine.close()
    reader = LocalEngine(engine.home)
    try:
        assert reader.execute("SELECT count(*) FROM raw.orders").rows == [(100,)]
        with pytest.raises(EngineError, match="read-only"):
            reader.execute("DROP TABLE raw.orders")
        with pytest.raises(EngineError, match="read-only"):
            reader.tag_table("AwsDataCatalog", "raw", "orders", {"a": "b"})
        assert [q.state for q in history(reader)[-2:]] == ["SUCCEEDED", "FAILED"]
        assert [t.name for t in reader.list_tables("AwsDataCatalog", "raw")] == ["orders"]
    finally:
        reader.close()


def _read_and_record(home: str, worker: int, queries: int, start_at: float) -> int:
    engine = LocalEngine(home)
    time.sleep(max(0.0, start_at - time.time()))  # all workers hit the files at once
    try:
        for n in range(queries):
            engine.execute(
                f"SELECT count(*) FROM raw.orders WHERE order_id > {n}",
                work_group=f"worker-{worker}",
            )
        return len(engine.list_tables("AwsDataCatalog", "raw"))
    finally:
        engine.close()


def test_processes_read_one_home_concurrently_without_lock_errors(engine: LocalEngine) -> None:
    engine.execute(ORDERS_DDL)
    engine.execute(ORDERS_ROWS)
    engine.close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        start_at = time.time() + 3  # after the spawned interpreters have imported
        jobs = [(str(engine.home), w, 100, start_at) for w in range(3)]
        results = pool.starmap(_read_and_record, jobs)
    assert results == [1, 1, 1]
    reader = LocalEngine(engine.home)
    try:
        by_worker = [q.work_group for q in history(reader) if q.work_group.startswith("worker")]
    finally:
        reader.close()
    assert sorted(by_worker) == sorted(f"worker-{w}" for w in range(3) for _ in range(100))


# -- import_history --------------------------------------------------------------------------


def execution(query_id: str, **overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "QueryExecutionId": query_id,
        "Query": "SELECT 1",
        "StatementType": "DML",
        "Status": {
            "State": "SUCCEEDED",
            "SubmissionDateTime": "2026-09-01T10:00:00+00:00",
            "CompletionDateTime": 1788256805.5,  # epoch seconds
        },
        "WorkGroup": "bi",
        "QueryExecutionContext": {"Catalog": "AwsDataCatalog", "Database": "raw"},
        "Statistics": {"DataScannedInBytes": 2048, "EngineExecutionTimeInMillis": 5500},
    }
    item.update(overrides)
    return item


def write_jsonl(path: Path, items: list[object]) -> Path:
    path.write_text("\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n")
    return path


def test_import_history_loads_athena_query_executions(engine: LocalEngine, tmp_path: Path) -> None:
    failed = execution(
        "q-2",
        Query="SELECT * FROM nope",
        Status={
            "State": "FAILED",
            "SubmissionDateTime": 1788256900,
            "AthenaError": {"ErrorMessage": "TABLE_NOT_FOUND: nope"},
        },
    )
    running = execution("q-3", Status={"State": "RUNNING", "SubmissionDateTime": 1788256900})
    path = write_jsonl(tmp_path / "h.jsonl", [execution("q-1"), "", failed, running])
    assert engine.import_history(path) == 2
    assert engine.import_history(path) == 0  # deduplicated by query id
    imported = {q.query_id: q for q in history(engine) if q.query_id.startswith("q-")}
    assert set(imported) == {"q-1", "q-2"}
    first = imported["q-1"]
    assert first == QueryExecution(
        query_id="q-1",
        query="SELECT 1",
        statement_type="DML",
        state="SUCCEEDED",
        work_group="bi",
        catalog="AwsDataCatalog",
        database="raw",
        submitted_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
        completed_at=datetime(2026, 9, 1, 10, 0, 5, 500000, tzinfo=UTC),
        data_scanned_bytes=2048,
        engine_ms=5500,
    )
    assert imported["q-2"].error_message == "TABLE_NOT_FOUND: nope"
    assert imported["q-2"].submitted_at == datetime(2026, 9, 1, 10, 1, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ("[1, 2]", "line 2: field QueryExecution: expected a JSON object"),
        (execution("", Query="x"), "line 2: field QueryExecutionId: is empty"),
        ({"Query": "SELECT 1"}, "line 2: field Status.State: is missing"),
        (execution("b", Query=None), "line 2: field Query: is missing"),
        (execution("b", StatementType="SELECT"), "line 2: field StatementType: expected one of"),
        (
            execution("b", Status={"State": "DONE", "SubmissionDateTime": 1}),
            "line 2: field Status.State: expected one of",
        ),
        (
            execution("b", Status={"State": "SUCCEEDED", "SubmissionDateTime": "yesterday"}),
            "line 2: field Status.SubmissionDateTime: expected ISO-8601 text or epoch seconds",
        ),
        (
            execution("b", Statistics={"DataScannedInBytes": -1}),
            "line 2: field Statistics.DataScannedInBytes: expected a count >= 0",
        ),
        (
            execution("b", Statistics={"EngineExecutionTimeInMillis": "fast"}),
            "line 2: field Statistics.EngineExecutionTimeInMillis: expected int",
        ),
        (execution("b", WorkGroup=7), "line 2: field WorkGroup: expected str"),
        (execution("b", Status="done"), "line 2: field Status.State: expected an object"),
    ],
)
def test_import_history_rejects_bad_input_and_imports_nothing(
    engine: LocalEngine, tmp_path: Path, bad_line: object, message: str
) -> None:
    before = len(history(engine))
    path = write_jsonl(tmp_path / "bad.jsonl", [execution("good"), bad_line])
    with pytest.raises(ValueError) as e:
        engine.import_history(path)
    assert str(e.value).startswith(f"{path}, ")
    assert message in str(e.value)
    assert len(history(engine)) == before


def test_import_history_names_an_unreadable_file(engine: LocalEngine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.jsonl: cannot read history file"):
        engine.import_history(tmp_path / "missing.jsonl")


def test_history_is_read_in_pages_in_submission_order(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import athena_catalog.engines.local.engine as local

    for i in range(23):
        engine.execute(f"SELECT {i}", work_group=f"wg{i % 3}")
    everything = list(engine.query_history())
    monkeypatch.setattr(local, "HISTORY_PAGE", 5)  # pages of 5 over 23+ rows
    paged = list(engine.query_history())
    assert [q.query_id for q in paged] == [q.query_id for q in everything]
    assert len({q.query_id for q in paged}) == len(paged) >= 23
    keys = [(q.submitted_at, q.query_id) for q in paged]
    assert keys == sorted(keys)
    since = paged[10].submitted_at
    assert [q.query_id for q in engine.query_history(since)] == [
        q.query_id for q in paged if q.submitted_at >= since
    ]
