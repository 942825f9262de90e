"""Crawl benchmark: the product's crawl on AwsEngine vs the per-table pattern, on moto over HTTP.

    python benchmarks/crawl.py [--databases 100] [--tables 100] [--workers 8]

Starts moto's ThreadedMotoServer on 127.0.0.1, seeds a Glue catalog (straight into moto's
in-process backend: Glue has no batch CreateTable, and seeding is not what is measured), then
crawls it twice through real HTTP and prints a markdown table of AWS calls and wall time:

* athena-catalog: ``athena_catalog.crawl.crawl`` itself, tags off: ListDataCatalogs,
  GetDatabases, then GetTables per database, ``--workers`` databases at a time.
* per-table, as OpenMetadata's Athena connector does: list databases, list table names per
  database, then one metadata call per table, sequentially. Athena's GetTableMetadata /
  ListTableMetadata are missing from moto, so Glue GetTables / GetTable stand in for them.

Neither side reads tags, so both count the same kind of calls: catalog listings only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import moto
from moto.glue.models import glue_backends
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from athena_catalog.crawl import CrawlOptions, crawl
from athena_catalog.engines.aws import AwsEngine, AwsSettings
from athena_catalog_tests.conftest import FAKE_REGION, free_port
from athena_catalog_tests.glue_seed import MOTO_ACCOUNT, seed_glue


class MotoGlueBackend:
    """The three Glue client calls ``seed_glue`` makes, served by moto's backend in-process."""

    def __init__(self, region: str) -> None:
        self.backend = glue_backends[MOTO_ACCOUNT][region]
        self.meta = type("Meta", (), {"region_name": region})()

    def create_database(self, DatabaseInput: dict[str, Any]) -> None:
        self.backend.create_database(DatabaseInput["Name"], DatabaseInput)

    def create_table(self, DatabaseName: str, TableInput: dict[str, Any]) -> None:
        self.backend.create_table(DatabaseName, TableInput["Name"], TableInput)

    def tag_resource(self, ResourceArn: str, TagsToAdd: dict[str, str]) -> None:
        self.backend.tag_resource(ResourceArn, TagsToAdd)


def counted_session() -> tuple[boto3.Session, list[int]]:
    """A Session whose clients count every API call they send (botocore ``before-call``)."""
    session = boto3.Session(region_name=FAKE_REGION)
    calls = [0]

    def count(**_: Any) -> None:
        calls[0] += 1

    session.events.register("before-call", count)
    return session, calls


def timed(run: Callable[[boto3.Session], int]) -> tuple[int, int, float]:
    """(tables found, AWS calls, seconds) of one crawl on a fresh Session."""
    session, calls = counted_session()
    start = time.perf_counter()
    tables = run(session)
    return tables, calls[0], time.perf_counter() - start


def product_crawl(endpoint: str, workers: int) -> Callable[[boto3.Session], int]:
    """The product's own crawl path, tags off (the per-table side reads none either)."""

    def run(session: boto3.Session) -> int:
        settings = AwsSettings(region_name=FAKE_REGION, endpoint_url=endpoint, max_workers=workers)
        engine = AwsEngine(session, settings)
        try:
            snap = crawl(engine, CrawlOptions(max_workers=settings.max_workers, include_tags=False))
        finally:
            engine.close()
        if snap.errors:
            raise SystemExit(f"crawl failed: {snap.errors}")
        return sum(1 for _ in snap.all_tables())

    return run


def per_table_crawl(endpoint: str) -> Callable[[boto3.Session], int]:
    def run(session: boto3.Session) -> int:
        glue = session.client("glue", endpoint_url=endpoint)
        paginate = glue.get_paginator
        databases = [
            d["Name"] for page in paginate("get_databases").paginate() for d in page["DatabaseList"]
        ]
        found = 0
        for database in databases:
            names = [
                t["Name"]
                for page in paginate("get_tables").paginate(DatabaseName=database)
                for t in page["TableList"]
            ]
            for name in names:
                glue.get_table(DatabaseName=database, Name=name)
                found += 1
        return found

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=100)
    parser.add_argument("--tables", type=int, default=100, help="tables per database")
    parser.add_argument("--workers", type=int, default=8, help="AwsSettings.max_workers")
    args = parser.parse_args()

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=FAKE_REGION
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        start = time.perf_counter()
        seeded = seed_glue(
            MotoGlueBackend(FAKE_REGION), args.databases, args.tables, prefix="db", workers=1
        )
        expected = len(seeded.all_tables)
        print(f"seeded {expected} tables in {args.databases} databases", end=" ", file=sys.stderr)
        print(f"in {time.perf_counter() - start:.1f}s; crawling ...", file=sys.stderr)
        ours = timed(product_crawl(endpoint, args.workers))
        theirs = timed(per_table_crawl(endpoint))
    finally:
        server.stop()
    for name, (tables, _, _) in (("athena-catalog", ours), ("per-table", theirs)):
        if tables != expected:
            raise SystemExit(f"{name} crawl found {tables} tables, expected {expected}")

    print(
        f"Crawl of {expected:,} Glue tables in {args.databases} databases, moto {moto.__version__}"
        f" ThreadedMotoServer over HTTP on 127.0.0.1, {os.cpu_count()} CPUs\n"
    )
    print("| crawl | AWS calls | wall time (s) |")
    print("|---|---:|---:|")
    print(
        "| athena-catalog (`crawl()`, tags off): ListDataCatalogs + GetDatabases + GetTables"
        f" per database page, {args.workers} databases at a time | {ours[1]:,} | {ours[2]:.1f} |"
    )
    print(
        "| per-table (OpenMetadata's pattern), no tags: list databases, list table names per"
        f" database, one GetTable per table, sequential * | {theirs[1]:,} | {theirs[2]:.1f} |"
    )
    calls, seconds = theirs[1] / ours[1], theirs[2] / ours[2]
    print(f"| **ratio** | **{calls:.0f}x fewer** | **{seconds:.1f}x faster** |")
    print(
        "\n\\* moto lacks Athena GetTableMetadata / ListTableMetadata, so Glue GetTables and"
        " Glue GetTable stand in for them."
    )


if __name__ == "__main__":
    main()
