"""Data-quality checks through the Athena resource on the AWS engine, against moto's server
over real HTTP: what the checks record when the run cannot even start."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from athena_catalog.defs.quality.definitions import quality_definitions
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.state import ColumnRecord, TableRecord, TablesState
from athena_catalog.names import table_fqn
from athena_catalog.quality.spec import parse_spec
from athena_catalog.store import CatalogStore
from athena_catalog.store.quality import results
from athena_catalog_tests.aws_fakes import CANARY, ROLE_ARN, answer_in_sessions, error
from athena_catalog_tests.conftest import FAKE_REGION

DATABASE = "odd.db-ü"
TABLE = 'we"ird tablé'
FQN = table_fqn("awsdatacatalog", DATABASE, TABLE)
SPEC = f"""\
suites:
  - entityFullyQualifiedName: 'awsdatacatalog."{DATABASE}"."we""ird tablé"'
    testCases:
      - {{name: rows, testDefinitionName: tableRowCountToBeBetween,
         parameterValues: [{{name: minValue, value: 1}}]}}
      - {{name: mail_not_null, testDefinitionName: columnValuesToBeNotNull, columnName: e-mail}}
"""


def state() -> TablesState:
    columns = (ColumnRecord("order id", "bigint"), ColumnRecord("e-mail", "string"))
    record = TableRecord(FQN, "AwsDataCatalog", DATABASE, TABLE, columns=columns)
    return TablesState(tables={FQN: record})


def test_a_run_that_cannot_start_records_every_check_failed_with_why(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A denied AssumeRole is botocore's ClientError, not an EngineError: the checks still
    evaluate (failed, with the message) and record; the secret appears nowhere."""
    answer_in_sessions(monkeypatch, "sts.AssumeRole", error("AccessDenied", 403))
    tables = state()
    catalog = {f: {c.name: c.data_type for c in t.columns} for f, t in tables.tables.items()}
    spec = parse_spec(SPEC, catalog, "aws.yaml")
    assert not spec.errors, spec.errors
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    athena = AthenaResource(
        engine="aws",
        region_name=FAKE_REGION,
        endpoint_url=moto_endpoint,
        sts_endpoint_url=moto_endpoint,
        aws_access_key_id="AKIAQUALITYDENIED01",
        aws_secret_access_key=CANARY,
        assume_role_arn=ROLE_ARN,
        s3_staging_dir="s3://query-results/athena/",
    )
    resources = {"athena": athena, "catalog_store": CatalogStoreResource(url=url)}
    defs = dg.Definitions.merge(
        quality_definitions(spec, tables), dg.Definitions(resources=resources)
    )
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("data_quality").execute_in_process(instance=instance)

    assert result.success  # the op records failures, it does not fail
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"rows", "mail_not_null"}
    assert not any(e.passed for e in evaluations.values())
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            rows = {r.check_name: r for r in results(conn, FQN)}
    finally:
        store.close()
    assert set(rows) == {"rows", "mail_not_null"}
    for row in rows.values():
        assert not row.passed and row.run_id == result.run_id
        assert row.error and row.error.startswith("ClientError: ")
        assert "AccessDenied" in row.error and "AssumeRole" in row.error
        assert CANARY not in row.error
    logged = " ".join(str(e) for e in instance.all_logs(result.run_id))
    assert "AccessDenied" in logged and CANARY not in logged
