"""The quality runner on the AWS engine against moto's server over real HTTP: the SQL Great
Expectations sends (read back from moto's Athena), its shape, whose credentials sent it, and
outcomes mapped from moto's configured query results."""

from __future__ import annotations

import boto3
import pytest
import sqlglot
from sqlglot import exp

from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog.engines.records import DEFAULT_CATALOG
from athena_catalog.markers import MARKER
from athena_catalog.quality.cases import TestCase
from athena_catalog.quality.runner import run_cases
from athena_catalog_tests.aws_fakes import answer_queries, athena_result, glue_tables
from athena_catalog_tests.conftest import FAKE_REGION

DATABASE = "odd.db-ü"
TABLE = 'we"ird tablé'
ACCESS_KEY = "AKIAQUALITYRUNNER01"


@pytest.fixture
def engine(moto_endpoint: str) -> AwsEngine:
    session = boto3.Session(
        region_name=FAKE_REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key="secret"
    )
    glue_tables(
        session,
        moto_endpoint,
        DATABASE,
        {
            "Name": TABLE,
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "order id", "Type": "bigint"},
                    {"Name": "e-mail", "Type": "string"},
                ],
                "Location": "s3://lake/odd/",
            },
        },
    )
    settings = AwsSettings(
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        s3_staging_dir="s3://query-results/athena/",
    )
    return AwsEngine(session, settings)


def test_gx_sql_on_athena_is_marked_quoted_select_only(
    engine: AwsEngine, moto_endpoint: str
) -> None:
    signed: list[str] = []
    engine.session.events.register(
        "before-send.athena.StartQueryExecution",
        lambda request, **_: signed.append(
            request.headers.get("Authorization", b"").decode()
            if isinstance(request.headers.get("Authorization"), bytes)
            else str(request.headers.get("Authorization"))
        ),
    )
    answers = [
        # One SELECT for both checks (no table probe): GX's metrics in a stable order.
        athena_result(
            [("column_values.nonnull.unexpected_count", "bigint"), ("table.row_count", "bigint")],
            ("1", "3"),
        ),
        athena_result([("unexpected_values", "varchar")], (None,)),  # the failed check's sample
    ]
    answer_queries(moto_endpoint, answers)
    table = next(t for t in engine.list_tables(DEFAULT_CATALOG, DATABASE) if t.name == TABLE)
    fqn = table.fqn
    cases = [
        TestCase(fqn, "rows", "tableRowCountToEqual", None, {"value": 3}),
        TestCase(fqn, "mail", "columnValuesToBeNotNull", "e-mail"),
    ]
    rows, mail = run_cases(engine, table, cases)

    assert rows.passed and rows.observed_value == 3
    assert not mail.passed and mail.unexpected_count == 1 and mail.element_count == 3
    assert mail.sample == [None]
    assert len(set(mail.statement_ids) - set(rows.statement_ids)) == 1

    athena = engine.session.client("athena", endpoint_url=moto_endpoint)
    ids = {s for o in (rows, mail) for s in o.statement_ids}
    sent = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    assert len(sent) == 2
    for sql in sent:
        assert sql.lstrip().startswith(MARKER)
        (statement,) = sqlglot.parse(sql, read="athena")
        assert isinstance(statement, exp.Select)
        tables = list(statement.find_all(exp.Table))
        assert tables and all(t.name == TABLE and t.db == DATABASE for t in tables)
        assert f'"{DATABASE}"' in sql and '"we""ird tablé"' in sql
    assert any('"e-mail"' in sql for sql in sent)
    assert signed and all(ACCESS_KEY in header for header in signed)
