"""A recognizable fake secret, given the way users give it (dg.EnvVar), must appear nowhere:
not in logs, the Dagster event log, compute logs, the catalog store, errors or reprs."""

from __future__ import annotations

from pathlib import Path

import boto3
import dagster as dg
import pytest
from dagster._serdes import serialize_value

from athena_catalog.defs.connection import jobs
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog_tests.conftest import FAKE_REGION, free_port
from athena_catalog_tests.glue_seed import seed_glue

CANARY = "SECRET-canary-7f3a9c"
TOKEN_CANARY = "TOKEN-canary-51bd20"


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.mark.parametrize("reachable", [True, False], ids=["success", "failure"])
def test_secret_appears_nowhere(
    reachable: bool,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
):
    caplog.set_level("DEBUG")
    seed_glue(boto3.client("glue", region_name=FAKE_REGION, endpoint_url=moto_endpoint), 2, 5)
    monkeypatch.setenv("CATALOG_TEST_SECRET", CANARY)
    monkeypatch.setenv("CATALOG_TEST_TOKEN", TOKEN_CANARY)
    endpoint = moto_endpoint if reachable else f"http://127.0.0.1:{free_port()}"
    athena = AthenaResource(
        engine="aws",
        region_name=FAKE_REGION,
        endpoint_url=endpoint,
        aws_access_key_id="AKIACANARYKEY",
        aws_secret_access_key=dg.EnvVar("CATALOG_TEST_SECRET"),
        aws_session_token=dg.EnvVar("CATALOG_TEST_TOKEN"),
        retry_max_seconds=2,
        max_attempts=1,
    )
    store_path = tmp_path / "catalog.db"
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        resources = {
            "athena": athena,
            "catalog_store": CatalogStoreResource(url=f"sqlite:///{store_path}"),
        }
        result = dg.materialize(
            [metadata], resources=resources, instance=instance, raise_on_error=False
        )
        assert result.success is reachable
        check = jobs.test_connection.execute_in_process(
            resources={"athena": athena}, instance=instance, raise_on_error=False
        )
        events = instance.all_logs(result.run_id) + instance.all_logs(check.run_id)
        serialized = "\n".join(serialize_value(e) for e in events)
        for secret in (CANARY, TOKEN_CANARY):
            assert secret not in serialized
            assert _files_containing(dagster_home, secret) == []
            if store_path.exists():
                assert _files_containing(tmp_path, secret) == []
            assert secret not in caplog.text
            out, err = capfd.readouterr()
            assert secret not in out and secret not in err
            assert secret not in repr(athena) and secret not in str(athena)
