"""The demo lakehouse with its catalog, query history and lineage really materialized: the
store that lineage and table-asset tests read. Building it takes ~30 s, so test modules build
it once each, in a module-scoped fixture. Also the engine and the independent DuckDB reference
over a built demo, which the profiler and quality tests compare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from athena_catalog.defs.lineage.assets import lineage
from athena_catalog.defs.metadata.assets import metadata
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.usage.assets import query_history
from athena_catalog.demo import build_demo
from athena_catalog.engines.local import LocalEngine

# The first history read covers the demo's build night and 30 days, which end at its build.
RUN_CONFIG = {"ops": {"query_history": {"config": {"query_log_days": 120}}}}


def materialized_demo(home: Path, url: str | None = None) -> str:
    """Build the demo under ``home``, materialize metadata, history and lineage into the store
    at ``url`` (default: SQLite under ``home``); the store URL."""
    build_demo(home)
    url = url or f"sqlite:///{home / 'catalog.db'}"
    resources = {
        "athena": AthenaResource(engine="local", local_home=str(home)),
        "catalog_store": CatalogStoreResource(url=url),
    }
    result = dg.materialize(
        [metadata, query_history, lineage], resources=resources, run_config=RUN_CONFIG
    )
    assert result.success
    return url


def demo_engine(home: Path) -> Iterator[LocalEngine]:
    """The local engine over the demo built under ``home``, closed after (a fixture's body:
    ``yield from demo_engine(home)``)."""
    engine = LocalEngine(home)
    yield engine
    engine.close()


def demo_duckdb(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The demo's warehouse file read by DuckDB directly, read-only: the independent answer
    (catalog ``awsdatacatalog``) the engine's results are checked against."""
    connection = duckdb.connect(str(home / "warehouse" / "awsdatacatalog.duckdb"), read_only=True)
    yield connection
    connection.close()
