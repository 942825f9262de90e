"""Shared fixtures: a real moto server over HTTP, and isolated catalog homes."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

FAKE_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _clear_session_hooks() -> Iterator[None]:
    """botocore hooks a test put on HookedAthenaResource's sessions end with that test."""
    from athena_catalog_tests.e2e_helpers import SESSION_HOOKS

    SESSION_HOOKS.clear()
    yield
    SESSION_HOOKS.clear()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS variable, profile or config file of this machine leaks into the test."""
    from athena_catalog_tests.aws_fakes import isolate_aws_env

    isolate_aws_env(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's ThreadedMotoServer on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A moto endpoint with empty state and fake credentials in the environment."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return moto_server


def _pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server started for the session from the machine's binaries.

    Skipped where PostgreSQL is not installed, unless ATHENA_CATALOG_REQUIRE_POSTGRES is set
    (CI sets it, so there a missing server fails instead of skipping).
    """
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("ATHENA_CATALOG_REQUIRE_POSTGRES"):
            pytest.fail(
                "PostgreSQL is required (ATHENA_CATALOG_REQUIRE_POSTGRES) but not installed"
            )
        pytest.skip("PostgreSQL server binaries not installed")
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="athena-catalog-pg-"))
    port = free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "catalog", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(data / "log"),
            "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg2://catalog@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


def new_postgres_database(server_url: str) -> str:
    """The URL of a new, empty database on the server at ``server_url``."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> str:
    """An empty database on the session's server, one per test."""
    return new_postgres_database(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalog store's URL on each backend: an SQLite file, a fresh PostgreSQL database."""
    return backend_store_url(request, tmp_path)


def backend_store_url(request: pytest.FixtureRequest, folder: Path) -> str:
    """An empty store on ``request.param``'s backend, for fixtures of any scope."""
    if request.param == "postgresql":
        return new_postgres_database(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{folder / 'catalog.db'}"
