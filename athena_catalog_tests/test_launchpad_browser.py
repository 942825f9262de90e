"""The launchpad launches: every job and asset selection runs from the Dagster UI with the
config the launchpad opens with.

One real `dagster dev` (webserver and daemon, so launched runs execute) serves a small
lakehouse on a loopback port. Over GraphQL, each job's and asset selection's scaffold (the
`rootDefaultYaml` the launchpad shows) must be valid run config. In a real browser (Debian's
chromium driven by Playwright), the launchpads of refresh_catalog and test_connection open
without a config error, Launch Run starts a run, and the run succeeds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from athena_catalog.engines.local import LocalEngine
from athena_catalog_tests.conftest import free_port
from athena_catalog_tests.e2e_helpers import stop_process_group

REPO = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")
LOCATION, REPOSITORY = "athena_catalog", "__repository__"  # workspace.yaml's, the default
JOBS = ("refresh_catalog", "test_connection", "usage", "__ASSET_JOB")
# Asset selections a user materializes from the asset graph (each opens the __ASSET_JOB
# launchpad restricted to them).
SELECTIONS = (
    ("tables",),
    ("databases", "schemas", "tables"),
    ("query_history",),
    ("table_usage",),
    ("lineage",),
    ("query_history", "table_usage", "lineage"),
)
RUN_TIMEOUT_S = 600
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def seed_lakehouse(home: Path) -> None:
    """The smallest lakehouse every asset has something to read from: two tables, a CTAS
    (lineage) and a join (usage)."""
    engine = LocalEngine(home, read_only=False)
    try:
        for sql in (
            "CREATE DATABASE sales",
            "CREATE TABLE sales.orders AS SELECT 1 AS order_id, 'a' AS customer, 2.5 AS amount",
            "CREATE TABLE sales.paid AS SELECT order_id, amount FROM sales.orders",
            "SELECT o.customer, p.amount FROM sales.orders o "
            "JOIN sales.paid p ON o.order_id = p.order_id",
        ):
            engine.execute(sql)
    finally:
        engine.close()


@dataclass
class DagsterUI:
    url: str
    log: Path

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def selector(self, job: str, assets: tuple[str, ...] | None = None) -> dict[str, Any]:
        selector: dict[str, Any] = {
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "pipelineName": job,
        }
        if assets is not None:
            selector["assetSelection"] = [{"path": [name]} for name in assets]
        return selector

    def run_status(self, run_id: str) -> str:
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", id=run_id
        )
        return data["runOrError"]["status"]

    def wait_for_run(self, run_id: str) -> str:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            status = self.run_status(run_id)
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(1)
        raise AssertionError(f"run {run_id} still not finished after {RUN_TIMEOUT_S} s")


def _wait_until_loaded(ui: DagsterUI, proc: subprocess.Popen[bytes]) -> None:
    """Until the code location is loaded (the webserver answers before that)."""
    query = """{ workspaceOrError { ... on Workspace { locationEntries { loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dagster dev exited: {ui.log.read_text()[-3000:]}")
        try:
            entries = ui.graphql(query)["workspaceOrError"]["locationEntries"]
        except requests.RequestException:
            entries = []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            for entry in entries:
                loaded = entry["locationOrLoadError"]
                assert loaded["__typename"] == "RepositoryLocation", loaded
            return
        time.sleep(1)
    raise AssertionError(f"dagster dev did not load in time: {ui.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterUI]:
    root = tmp_path_factory.mktemp("ui")
    home, dagster_home = root / "home", root / "dagster_home"
    seed_lakehouse(home)
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        **os.environ,
        "ATHENA_CATALOG_ENGINE": "local",
        "ATHENA_CATALOG_HOME": str(home),
        "ATHENA_CATALOG_STORE_URL": f"sqlite:///{root / 'catalog.db'}",
        "DAGSTER_HOME": str(dagster_home),
    }
    port = free_port()
    log = root / "dagster-dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [DAGSTER, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the webserver, daemon, code server
        )
    ui = DagsterUI(f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_loaded(ui, proc)
        yield ui
    finally:
        stop_process_group(proc)


SCAFFOLD = """
query($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector) {
    __typename
    ... on RunConfigSchema { rootDefaultYaml }
    ... on PythonError { message }
  }
}
"""
VALIDATE = """
query($selector: PipelineSelector!, $config: RunConfigData) {
  isPipelineConfigValid(pipeline: $selector, mode: "default", runConfigData: $config) {
    __typename
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
  }
}
"""


def scaffold(ui: DagsterUI, selector: dict[str, Any]) -> str:
    """What the launchpad opens with: Dagster's scaffold of the job's default config."""
    schema = ui.graphql(SCAFFOLD, selector=selector)["runConfigSchemaOrError"]
    assert schema["__typename"] == "RunConfigSchema", schema
    return schema["rootDefaultYaml"]


@pytest.mark.parametrize(
    ("job", "assets"), [(job, None) for job in JOBS] + [("__ASSET_JOB", s) for s in SELECTIONS]
)
def test_launchpad_scaffold_is_valid_run_config(
    dagster_ui: DagsterUI, job: str, assets: tuple[str, ...] | None
) -> None:
    selector = dagster_ui.selector(job, assets)
    default_yaml = scaffold(dagster_ui, selector)
    result = dagster_ui.graphql(VALIDATE, selector=selector, config=default_yaml)
    assert result["isPipelineConfigValid"]["__typename"] == "PipelineConfigValidationValid", (
        result,
        default_yaml,
    )


def test_launched_scaffold_runs_every_asset(dagster_ui: DagsterUI) -> None:
    """The scaffold, launched as it stands (secrets masked as '********'), runs to success."""
    launch_refresh_scaffold(dagster_ui)


def launch_refresh_scaffold(dagster_ui: DagsterUI) -> None:
    selector = dagster_ui.selector("refresh_catalog")
    default_yaml = scaffold(dagster_ui, selector)
    athena = yaml.safe_load(default_yaml)["resources"]["athena"]["config"]
    assert athena["aws_secret_access_key"] == athena["aws_session_token"] == "********"
    launched = dagster_ui.graphql(
        """
        mutation($params: ExecutionParams!) {
          launchPipelineExecution(executionParams: $params) {
            __typename
            ... on LaunchRunSuccess { run { runId } }
            ... on RunConfigValidationInvalid { errors { message } }
            ... on PythonError { message }
          }
        }
        """,
        params={"selector": selector, "mode": "default", "runConfigData": default_yaml},
    )["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    assert dagster_ui.wait_for_run(run_id) == "SUCCESS", dagster_ui.log.read_text()[-3000:]


def _chromium() -> str:
    """Debian's chromium; skipped without it, unless CI requires the browser tests."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("ATHENA_CATALOG_REQUIRE_BROWSER"):
        pytest.fail("chromium is required (ATHENA_CATALOG_REQUIRE_BROWSER) but not installed")
    pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser(dagster_ui: DagsterUI) -> Iterator[Any]:
    executable = _chromium()
    if os.environ.get("ATHENA_CATALOG_REQUIRE_BROWSER"):
        from playwright.sync_api import sync_playwright
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
        sync_playwright = sync_api.sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("job", ["refresh_catalog", "test_connection"])
def test_launch_run_from_the_launchpad(
    dagster_ui: DagsterUI, browser: Any, job: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # A fresh instance greets its first visitor with a newsletter dialog over the page.
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip").click(),
    )
    try:
        page.goto(
            f"{dagster_ui.url}/locations/{LOCATION}/jobs/{job}/playground",
            wait_until="domcontentloaded",
        )
        launch = page.get_by_role("button", name="Launch Run")
        expect(launch).to_be_visible(timeout=120_000)
        # The scaffold is in the editor, validated, and Launch Run is enabled: no config error.
        expect(page.get_by_text("resources:", exact=False).first).to_be_visible(timeout=60_000)
        expect(launch).to_be_enabled(timeout=60_000)
        expect(page.get_by_text("No errors", exact=True)).to_be_visible(timeout=60_000)
        assert page.get_by_text("must be dict").count() == 0
        page.screenshot(path=str(tmp_path / f"{job}-launchpad.png"))

        launch.click()
        page.wait_for_url("**/runs/*", timeout=120_000)
        run_id = page.url.rstrip("/").split("/runs/")[1].split("?")[0].split("/")[0]
        status = dagster_ui.wait_for_run(run_id)
        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / f"{job}-run.png"), full_page=True)
        assert status == "SUCCESS", dagster_ui.log.read_text()[-3000:]
    finally:
        page.close()


PAID = ["athena", "awsdatacatalog", "sales", "paid"]  # CREATE TABLE sales.paid AS SELECT ...
TABLE_PAGE = """
query($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode { metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } }
  }
  assetOrError(assetKey: $key) {
    ... on Asset { assetObservations(limit: 20) { tags { key value } metadataEntries { label } } }
  }
}
"""


def _reload_tables(ui: DagsterUI) -> dict[str, Any]:
    """Reload the code location (table assets are declared from the store at load) until the
    table's asset is there; its page's data."""
    ui.graphql(
        "mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name)"
        " { __typename } }",
        name=LOCATION,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            data = ui.graphql(TABLE_PAGE, key={"path": PAID})
        except (requests.RequestException, AssertionError):
            data = {}
        if data.get("assetNodeOrError", {}).get("metadataEntries"):
            return data
        time.sleep(1)
    raise AssertionError(f"{PAID} not loaded after the reload: {ui.log.read_text()[-3000:]}")


def test_a_table_page_shows_its_observations_and_readable_lineage(
    dagster_ui: DagsterUI, browser: Any, tmp_path: Path
) -> None:
    """After the refresh runs above: the table's page has the readable lineage and the
    crawl's, usage's and lineage's observations, over GraphQL and on screen."""
    from playwright.sync_api import expect

    launch_refresh_scaffold(dagster_ui)  # so it stands alone: crawl, usage and lineage ran
    data = _reload_tables(dagster_ui)
    entries = {e["label"]: e.get("mdStr") for e in data["assetNodeOrError"]["metadataEntries"]}
    lineage = entries["column_lineage_table"] or ""
    # CREATE TABLE sales.paid AS SELECT order_id, amount FROM sales.orders
    assert "| amount | awsdatacatalog.sales.orders.amount | query |" in lineage
    assert "| order_id | awsdatacatalog.sales.orders.order_id | query |" in lineage
    observed = {
        t["value"]
        for o in data["assetOrError"]["assetObservations"]
        for t in o["tags"]
        if t["key"] == "athena_catalog/observed_by"
    }
    assert {"crawl", "usage", "lineage"} <= observed
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip").click(),
    )
    try:
        page.goto(f"{dagster_ui.url}/assets/{'/'.join(PAID)}", wait_until="domcontentloaded")
        expect(page.get_by_text("column_lineage_table").first).to_be_visible(timeout=120_000)
        expect(page.get_by_text("awsdatacatalog.sales.orders.amount").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "table-page.png"), full_page=True)
        page.goto(
            f"{dagster_ui.url}/assets/{'/'.join(PAID)}?view=events", wait_until="domcontentloaded"
        )
        # The events list (one observation each from crawl, usage, lineage at least) and the
        # latest event with its metadata.
        expect(page.get_by_text("Observed in run").first).to_be_visible(timeout=120_000)
        assert page.get_by_role("img", name="observation").count() >= 3
        page.screenshot(path=str(tmp_path / "table-events.png"), full_page=True)
    finally:
        page.close()
