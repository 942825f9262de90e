"""Config and input errors name what is wrong: every numeric setting is checked where it is
declared (through Dagster's run config, as the launchpad sends it), and `import-history`
names the file, line and field of a rejected record and imports nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from athena_catalog.cli import main as cli_main
from athena_catalog.defs.lineage.assets import LineageConfig, lineage
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import QueryHistoryConfig, TableUsageConfig, query_history
from athena_catalog.defs.usage.assets import table_usage as table_usage_asset
from athena_catalog.engines.local import LocalEngine
from athena_catalog_tests.test_local_engine import execution, write_jsonl

ASSETS = {"query_history": query_history, "table_usage": table_usage_asset, "lineage": lineage}


def error_text(result: dg.ExecuteInProcessResult) -> str:
    """Every error in the run's events, causes included: step and resource-init failures."""
    parts = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)


def run(tmp_path: Path, asset: str, run_config: dict[str, Any]) -> dg.ExecuteInProcessResult:
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(tmp_path / "home")),
        "catalog_store": CatalogStoreResource(url=f"sqlite:///{tmp_path / 'catalog.db'}"),
    }
    return dg.materialize(
        [ASSETS[asset]], resources=resources, run_config=run_config, raise_on_error=False
    )


@pytest.mark.parametrize(
    ("asset", "field", "value", "expected"),
    [
        ("query_history", "query_log_days", 0, "greater than or equal to 1"),
        ("query_history", "query_log_days", -5, "greater than or equal to 1"),
        ("query_history", "query_log_days", 10**9, "less than or equal to 3650"),
        ("query_history", "chunk_size", 0, "greater than or equal to 1"),
        ("table_usage", "window_days", 0, "greater than or equal to 1"),
        ("table_usage", "window_days", 10**9, "less than or equal to 3650"),
        ("table_usage", "unused_days", -1, "greater than or equal to 1"),
        ("table_usage", "price_per_tb_usd", -1.0, "greater than or equal to 0"),
        ("table_usage", "top_queries_per_table", -1, "greater than or equal to 0"),
        ("lineage", "workers", 0, "greater than or equal to 1"),
        ("lineage", "statement_timeout_s", 0.0, "greater than 0"),
        ("lineage", "statement_timeout_s", -1.0, "greater than 0"),
        ("lineage", "chunk_size", 0, "greater than or equal to 1"),
    ],
)
def test_bad_op_setting_fails_the_run_naming_the_field(
    tmp_path: Path, asset: str, field: str, value: object, expected: str
) -> None:
    result = run(tmp_path, asset, {"ops": {asset: {"config": {field: value}}}})
    assert not result.success
    text = error_text(result)
    assert f"{field}\n  Input should be {expected}" in text, text


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("max_workers", 0, "greater than or equal to 1"),
        ("max_workers", -5, "greater than or equal to 1"),
        ("retry_max_seconds", -1, "greater than or equal to 0"),
        ("max_attempts", 0, "greater than or equal to 1"),
    ],
)
def test_bad_resource_setting_fails_the_run_naming_the_field(
    tmp_path: Path, field: str, value: int, expected: str
) -> None:
    run_config = {"resources": {"athena": {"config": {field: value}}}}
    result = run(tmp_path, "query_history", run_config)
    assert not result.success
    text = error_text(result)
    assert f"{field}\n  Input should be {expected}" in text, text
    # Nothing ran: the resource refused to start.
    assert not [e for e in result.all_events if e.is_step_start]


@pytest.mark.parametrize(
    ("config", "field", "lowest", "highest"),
    [
        (AthenaResource, "max_workers", 1, 256),
        (AthenaResource, "retry_max_seconds", 0, 86_400),
        (AthenaResource, "max_attempts", 1, 100),
        (QueryHistoryConfig, "query_log_days", 1, 3650),
        (QueryHistoryConfig, "chunk_size", 1, 1_000_000),
        (TableUsageConfig, "window_days", 1, 3650),
        (TableUsageConfig, "unused_days", 1, 3650),
        (TableUsageConfig, "top_queries_per_table", 0, 1000),
        (LineageConfig, "workers", 1, 64),
        (LineageConfig, "chunk_size", 1, 1_000_000),
    ],
)
def test_settings_are_checked_at_their_bounds(
    config: type, field: str, lowest: int, highest: int
) -> None:
    """In code too: the bounds themselves are accepted, one step past them is refused."""
    for value in (lowest, highest):
        assert getattr(config(**{field: value}), field) == value
    for value in (lowest - 1, highest + 1):
        with pytest.raises(ValueError, match=rf"{field}\n  Input should be"):
            config(**{field: value})


def test_infinite_price_is_refused() -> None:
    with pytest.raises(ValueError, match="price_per_tb_usd"):
        TableUsageConfig(price_per_tb_usd=float("inf"))


# -- import-history ----------------------------------------------------------------------


def imported_ids(home: Path) -> set[str]:
    engine = LocalEngine(home)
    try:
        return {q.query_id for q in engine.query_history()}
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("bad_line", "field", "problem"),
    [
        (
            execution("b", Statistics={"DataScannedInBytes": 2**63}),
            "Statistics.DataScannedInBytes",
            "expected a count >= 0 and <= 2**63-1, got 9223372036854775808",
        ),
        (
            execution("b", Statistics={"EngineExecutionTimeInMillis": 10**30}),
            "Statistics.EngineExecutionTimeInMillis",
            "expected a count >= 0 and <= 2**63-1",
        ),
        (
            '{"QueryExecutionId": "b", "Statistics": {"DataScannedInBytes": 1%s}, '
            '"Query": "SELECT 1", "Status": {"State": "SUCCEEDED", "SubmissionDateTime": 1}}'
            % ("0" * 5000),
            "Statistics.DataScannedInBytes",
            "expected int, got a 5001-digit number",
        ),
        (execution("b", Query="SELECT '\ud800'"), "Query", "not valid UTF-8 text"),
        (execution("\udfff"), "QueryExecutionId", "not valid UTF-8 text"),
        (execution("b", WorkGroup="wg\ud800"), "WorkGroup", "not valid UTF-8 text"),
        (
            execution("b", QueryExecutionContext={"Database": "\ud800"}),
            "QueryExecutionContext.Database",
            "not valid UTF-8 text",
        ),
        (
            execution(
                "b",
                Status={
                    "State": "FAILED",
                    "SubmissionDateTime": 1,
                    "AthenaError": {"ErrorMessage": "\ud800"},
                },
            ),
            "Status.AthenaError.ErrorMessage",
            "not valid UTF-8 text",
        ),
        (
            execution("b", Status={"State": "SUCCEEDED", "SubmissionDateTime": "\ud800"}),
            "Status.SubmissionDateTime",
            "not valid UTF-8 text",
        ),
    ],
)
def test_import_history_rejects_out_of_range_input_naming_file_line_and_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad_line: object,
    field: str,
    problem: str,
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ATHENA_CATALOG_HOME", str(home))
    path = write_jsonl(tmp_path / "bad.jsonl", [execution("good"), bad_line])
    assert cli_main(["import-history", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, line 2: field {field}: {problem}"), err
    assert "good" not in imported_ids(home)  # all or nothing


def test_import_history_keeps_the_largest_count_and_text_json_may_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits are the stores' own: 2**63-1 and any Unicode text, U+2028 included."""
    home = tmp_path / "home"
    monkeypatch.setenv("ATHENA_CATALOG_HOME", str(home))
    big = execution("big", Query="SELECT 'a\u2028b', '😀'")
    big["Statistics"] = {"DataScannedInBytes": 2**63 - 1}
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(big, ensure_ascii=False) + "\n", encoding="utf-8")
    assert cli_main(["import-history", str(path)]) == 0
    engine = LocalEngine(home)
    try:
        (stored,) = [q for q in engine.query_history() if q.query_id == "big"]
    finally:
        engine.close()
    assert stored.data_scanned_bytes == 2**63 - 1
    assert stored.query == "SELECT 'a\u2028b', '😀'"
