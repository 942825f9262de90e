"""Crawl benchmark: the product's crawl on AwsEngine vs the per-table pattern, on moto over HTTP.

    python benchmarks/crawl.py [--databases 100] [--tables 100] [--workers 8] [--repeat 1]

Starts a separate (spawned) process that seeds a Glue catalog straight into its own moto backend
(Glue has no batch CreateTable, and seeding is not what is measured) and then serves it with
moto's ThreadedMotoServer on 127.0.0.1. This process only crawls it, through real HTTP, so the
server's request handling does not share a GIL with the client, as with a remote service. It
crawls twice (``--repeat`` times each, median reported) and prints a markdown table of AWS
calls and wall time:

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
import multiprocessing
import os
import queue
import statistics
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
from athena_catalog_tests.conftest import FAKE_REGION
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


def serve(databases: int, tables: int, ready: Any, stop: Any) -> None:
    """Child process: seed moto's Glue backend, serve it over HTTP until ``stop`` is set.

    Puts ``(port, tables seeded, seconds seeding)`` on ``ready`` once the server listens, or
    ``(None, error, 0.0)`` if seeding or starting failed.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    try:
        start = time.perf_counter()
        seeded = seed_glue(MotoGlueBackend(FAKE_REGION), databases, tables, prefix="db", workers=1)
        seconds = time.perf_counter() - start
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    except BaseException as exc:
        ready.put((None, f"{type(exc).__name__}: {exc}", 0.0))
        raise
    ready.put((server.get_host_and_port()[1], len(seeded.all_tables), seconds))
    stop.wait()
    server.stop()


def start_server(databases: int, tables: int) -> tuple[Any, Any, int, int]:
    """Spawn ``serve``; wait until it listens. (process, stop event, port, tables seeded)."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    process = context.Process(
        target=serve, args=(databases, tables, ready, stop), name="moto", daemon=True
    )
    process.start()
    while True:
        try:
            port, seeded, seconds = ready.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                raise SystemExit(f"moto server exited with code {process.exitcode}") from None
    if port is None:
        stop_server(process, stop)
        raise SystemExit(f"moto server process failed: {seeded}")
    print(f"seeded {seeded} tables in {databases} databases", end=" ", file=sys.stderr)
    print(f"in {seconds:.1f}s (server pid {process.pid}); crawling ...", file=sys.stderr)
    return process, stop, port, seeded


def stop_server(process: Any, stop: Any) -> None:
    """Ask the server process to shut down; terminate it if it does not within 10 s."""
    stop.set()
    process.join(timeout=10)
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)


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


def median_run(name: str, runs: list[tuple[int, int, float]], expected: int) -> tuple[int, float]:
    """(AWS calls, median seconds) of repeated crawls, each checked to find every table."""
    for tables, calls, _ in runs:
        if tables != expected:
            raise SystemExit(f"{name} crawl found {tables} tables, expected {expected}")
        if calls != runs[0][1]:
            raise SystemExit(f"{name} crawl made {calls} calls, then {runs[0][1]}")
    seconds = [s for _, _, s in runs]
    print(f"{name}: {', '.join(f'{s:.1f}s' for s in seconds)}", file=sys.stderr)
    return runs[0][1], statistics.median(seconds)


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
    parser.add_argument(
        "--repeat", type=int, default=1, help="crawls per side, alternating; median time reported"
    )
    args = parser.parse_args()

    # Set before spawning, so the server process inherits them too.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=FAKE_REGION
    )
    process, stop, port, expected = start_server(args.databases, args.tables)
    endpoint = f"http://127.0.0.1:{port}"
    ours_runs: list[tuple[int, int, float]] = []
    theirs_runs: list[tuple[int, int, float]] = []
    try:
        for _ in range(args.repeat):
            ours_runs.append(timed(product_crawl(endpoint, args.workers)))
            theirs_runs.append(timed(per_table_crawl(endpoint)))
    finally:
        stop_server(process, stop)
    ours = median_run("athena-catalog", ours_runs, expected)
    theirs = median_run("per-table", theirs_runs, expected)

    timing = "wall time" if args.repeat == 1 else f"median wall time of {args.repeat} runs"
    print(
        f"Crawl of {expected:,} Glue tables in {args.databases} databases, moto {moto.__version__}"
        f" ThreadedMotoServer over HTTP on 127.0.0.1, {os.cpu_count()} CPUs\n"
        f"moto in a separate process (its own GIL); {timing}\n"
    )
    print("| crawl | AWS calls | wall time (s) |")
    print("|---|---:|---:|")
    print(
        "| athena-catalog (`crawl()`, tags off): ListDataCatalogs + GetDatabases + GetTables"
        f" per database page, {args.workers} databases at a time | {ours[0]:,} | {ours[1]:.1f} |"
    )
    print(
        "| per-table (OpenMetadata's pattern), no tags: list databases, list table names per"
        f" database, one GetTable per table, sequential * | {theirs[0]:,} | {theirs[1]:.1f} |"
    )
    calls, seconds = theirs[0] / ours[0], theirs[1] / ours[1]
    print(f"| **ratio** | **{calls:.0f}x fewer** | **{seconds:.1f}x faster** |")
    print(
        "\n\\* moto lacks Athena GetTableMetadata / ListTableMetadata, so Glue GetTables and"
        " Glue GetTable stand in for them."
    )


if __name__ == "__main__":
    main()
