"""Test-connection against moto over HTTP, with denials injected by a before-call hook
(see aws_fakes for why), and on the embedded engine."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest

from athena_catalog.aws_session import ConfigError
from athena_catalog.connection_check import (
    CheckResult,
    exit_code,
    format_report,
    main,
    run_connection_checks,
)
from athena_catalog.defs.resources import AthenaResource
from athena_catalog_tests.aws_fakes import (
    CANARY,
    ROLE_ARN,
    answer_in_sessions,
    answer_select_one,
    error,
    isolate_aws_env,
    response,
)
from athena_catalog_tests.conftest import free_port

STAGING = "s3://query-results/athena/"
STEP_NAMES = [
    "credentials",
    "list data catalogs",
    "list databases",
    "list tables",
    "read table metadata",
    "list work groups",
    "list query executions",
    "run SELECT 1",
]


@pytest.fixture
def seeded(moto_endpoint: str) -> str:
    """moto with a Glue database and table, a results bucket, and SELECT 1's canned answer."""
    glue = boto3.client("glue", endpoint_url=moto_endpoint)
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(
        DatabaseName="sales",
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "bigint"}]},
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="query-results")
    answer_select_one(moto_endpoint)
    return moto_endpoint


def on_moto(endpoint: str, **fields: object) -> AthenaResource:
    return AthenaResource(
        **{
            "engine": "aws",
            "endpoint_url": endpoint,
            "sts_endpoint_url": endpoint,
            "s3_staging_dir": STAGING,
            **fields,
        }
    )


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    assert [r.name for r in results] == STEP_NAMES
    return {r.name: r for r in results}


def statuses(results: list[CheckResult]) -> dict[str, str]:
    return {r.name: r.status for r in by_name(results).values()}


def test_all_steps_pass_on_seeded_moto(seeded: str) -> None:
    results = run_connection_checks(on_moto(seeded, database="sales"))
    assert set(statuses(results).values()) == {"PASS"}, format_report(results)
    steps = by_name(results)
    assert "arn:aws:sts::123456789012:" in steps["credentials"].detail
    assert steps["read table metadata"].detail == "sales.orders: 2 columns"
    assert steps["run SELECT 1"].detail == "SELECT 1 returned 1"
    assert exit_code(results) == 0


def test_assumed_role_is_the_identity_checked(seeded: str) -> None:
    results = run_connection_checks(on_moto(seeded, assume_role_arn=ROLE_ARN))
    steps = by_name(results)
    assert ":assumed-role/catalog-reader/AthenaCatalogSession" in steps["credentials"].detail
    assert exit_code(results) == 0, format_report(results)


def test_denied_get_tables_names_the_action_and_later_steps_still_run(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_in_sessions(monkeypatch, "glue.GetTables", error("AccessDeniedException"))
    results = run_connection_checks(on_moto(seeded))
    steps = by_name(results)
    denied = steps["list tables"]
    assert (denied.ok, denied.error_code) == (False, "AccessDeniedException")
    assert "grant glue:GetTables" in denied.fix
    assert steps["read table metadata"].status == "SKIP"
    assert {steps[n].status for n in STEP_NAMES[5:]} == {"PASS"}
    assert exit_code(results) == 1


def test_denied_optional_step_only_warns(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_in_sessions(monkeypatch, "athena.ListQueryExecutions", error("AccessDeniedException"))
    results = run_connection_checks(on_moto(seeded))
    step = by_name(results)["list query executions"]
    assert (step.status, step.mandatory) == ("FAIL", False)
    assert "grant athena:ListQueryExecutions" in step.fix
    assert exit_code(results) == 0


def test_denied_query_start(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answer_in_sessions(monkeypatch, "athena.StartQueryExecution", error("AccessDeniedException"))
    step = by_name(run_connection_checks(on_moto(seeded)))["run SELECT 1"]
    assert step.error_code == "AccessDeniedException"
    assert "grant athena:StartQueryExecution" in step.fix


def test_denied_assume_role_blocks_the_aws_steps(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_in_sessions(monkeypatch, "sts.AssumeRole", error("AccessDenied", 403))
    results = run_connection_checks(on_moto(seeded, assume_role_arn=ROLE_ARN))
    steps = by_name(results)
    assert steps["credentials"].error_code == "AccessDenied"
    assert f"sts:AssumeRole on {ROLE_ARN}" in steps["credentials"].fix
    assert {steps[n].status for n in STEP_NAMES[1:]} == {"SKIP"}
    assert exit_code(results) == 1


@pytest.mark.parametrize(
    ("code", "fix"),
    [("InvalidClientTokenId", "not valid"), ("ExpiredToken", "expired")],
)
def test_bad_or_expired_credentials(
    seeded: str, monkeypatch: pytest.MonkeyPatch, code: str, fix: str
) -> None:
    answer_in_sessions(monkeypatch, "", error(code, 403))
    results = run_connection_checks(on_moto(seeded))
    credentials = by_name(results)["credentials"]
    assert credentials.error_code == code and fix in credentials.fix
    assert exit_code(results) == 1


def test_staging_dir_not_writable(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Athena reports an unwritable output location as a FAILED query, not an API error."""
    failed = {
        "QueryExecution": {
            "QueryExecutionId": "q",
            "Query": "SELECT 1",
            "Status": {
                "State": "FAILED",
                "StateChangeReason": f"Access denied when writing output to url: {STAGING}",
            },
        },
    }
    answer_in_sessions(monkeypatch, "athena.GetQueryExecution", response(failed))
    step = by_name(run_connection_checks(on_moto(seeded)))["run SELECT 1"]
    assert step.error_code == "QueryFailed"
    assert "s3:PutObject" in step.fix and STAGING in step.fix


def test_missing_staging_dir(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ATHENA_S3_STAGING_DIR", raising=False)
    monkeypatch.delenv("AWS_ATHENA_WORK_GROUP", raising=False)
    step = by_name(run_connection_checks(on_moto(seeded, s3_staging_dir=None)))["run SELECT 1"]
    assert step.error_code == "MissingStagingDir" and "s3_staging_dir" in step.fix


def test_missing_database_and_work_group(seeded: str) -> None:
    results = run_connection_checks(on_moto(seeded, database="nope", work_group="nope"))
    steps = by_name(results)
    assert steps["list databases"].error_code == "DatabaseNotFound"
    assert steps["list work groups"].error_code == "WorkGroupNotFound"


def test_unreachable_endpoint_fails_fast(moto_endpoint: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    results = run_connection_checks(on_moto(nowhere))
    assert time.monotonic() - started < 20
    steps = by_name(results)
    assert steps["credentials"].error_code == "EndpointUnreachable"
    assert nowhere in steps["credentials"].fix
    assert steps["run SELECT 1"].error_code == "EndpointUnreachable"
    assert exit_code(results) == 1


def test_no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    results = run_connection_checks(AthenaResource(engine="aws", aws_secret_access_key=CANARY))
    credentials = by_name(results)["credentials"]
    assert credentials.error_code == "ConfigError" and "region_name" in credentials.fix
    assert CANARY not in format_report(results)


def test_main_reads_the_environment(
    seeded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_ENGINE", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", seeded)  # boto3 sends every service there, STS too
    monkeypatch.setenv("ATHENA_CATALOG_S3_STAGING_DIR", STAGING)
    monkeypatch.setenv("ATHENA_CATALOG_DATABASE", "sales")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "connection OK: 8 passed" in out and "using sales" in out
    assert main(["--database", "missing"]) == 1


def test_main_unknown_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--engine", "oracle"]) == 2
    assert "engine must be one of" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        run_connection_checks(AthenaResource(engine="oracle"))


def test_local_engine(tmp_path: Path) -> None:
    from athena_catalog.engines.local import LocalEngine

    engine = LocalEngine(tmp_path, read_only=False)
    engine.execute("CREATE DATABASE sales")
    engine.execute(
        "CREATE TABLE sales.orders (id bigint, amount double) LOCATION 's3://b/orders/'"
        " TBLPROPERTIES ('table_type'='ICEBERG')"
    )
    engine.close()
    results = run_connection_checks(AthenaResource(engine="local", local_home=str(tmp_path)))
    assert "sales.orders: 2 columns" in by_name(results)["read table metadata"].detail
    assert statuses(results) == {
        **dict.fromkeys(STEP_NAMES, "PASS"),
        "credentials": "SKIP",
        "list work groups": "SKIP",
    }, format_report(results)
    assert exit_code(results) == 0


def test_empty_local_engine(tmp_path: Path) -> None:
    results = run_connection_checks(AthenaResource(engine="local", local_home=str(tmp_path)))
    assert by_name(results)["list data catalogs"].error_code == "NoLocalLakehouse"
    assert "make demo" in by_name(results)["list data catalogs"].fix
    assert exit_code(results) == 1


def test_report_is_aligned() -> None:
    results = [
        CheckResult("credentials", True, True, "arn:aws:iam::1:user/x"),
        CheckResult("list work groups", False, False, "denied", "AccessDenied", "grant it"),
        CheckResult("run SELECT 1", True, True, "skipped: no session", skipped=True),
    ]
    lines = format_report(results).splitlines()
    detail_column = lines[0].index("DETAIL")
    assert lines[1][detail_column:] == "arn:aws:iam::1:user/x"
    assert lines[2].startswith("FAIL") and lines[2][detail_column:] == "[AccessDenied] denied"
    assert lines[3][detail_column:] == "fix: grant it"
    assert lines[4].startswith("SKIP")
    assert lines[-1] == "connection OK: 1 passed, 1 failed, 1 skipped"
    assert exit_code(results) == 0
    assert exit_code([CheckResult("x", False, True, "")]) == 1
