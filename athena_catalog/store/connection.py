"""Opening the catalog store, upgrading its schema, and serializing its writers.

Every write goes through :meth:`CatalogStore.write`, one transaction that holds the store's
write lock: ``BEGIN IMMEDIATE`` on SQLite (WAL mode, long busy timeout), a transaction-scoped
advisory lock on PostgreSQL. Concurrent Dagster runs and multiprocess steps therefore queue
instead of failing, and each writer diffs against what the previous one committed, so no
write is lost. A failure anywhere inside rolls the whole transaction back. Opening a store
brings its schema to the newest Alembic revision inside one such transaction (see
:mod:`athena_catalog.store.migrations`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from athena_catalog import settings
from athena_catalog.store import migrations

# Any fixed 64-bit number: the key of the advisory lock all writers of one PostgreSQL store share.
_PG_LOCK_KEY = 0x41544843415431
_SQLITE_BUSY_TIMEOUT_S = 600


def default_home() -> Path:
    return settings.HOME.read().resolve()


def default_store_url() -> str:
    """``ATHENA_CATALOG_STORE_URL``, else an SQLite file under ``ATHENA_CATALOG_HOME``."""
    return settings.STORE_URL.read() or f"sqlite:///{default_home() / 'catalog.db'}"


def redact_url(url: str) -> str:
    """The URL with its password hidden, for messages and metadata."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


class StoreError(Exception):
    """The catalog store cannot be opened or used; the message names the URL (no password)."""


class CatalogStore:
    """The catalog's system of record, on SQLite or PostgreSQL through one SQLAlchemy URL."""

    def __init__(self, url: str | None = None):
        url = url or default_store_url()
        self.url = redact_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(f"catalog store URL is not a SQLAlchemy URL: {self.url}") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"catalog store must be SQLite or PostgreSQL, got {self.url}")
        self.engine: Engine = _make_engine(url, self.dialect, self.url)
        try:
            self.upgraded_from = self.upgrade()
        except Exception as e:
            self.engine.dispose()
            raise StoreError(f"cannot open the catalog store {self.url}: {e}") from e

    def upgrade(self) -> str | None:
        """Bring the schema to the newest revision, under the write lock; returns the
        revision the store was at (None when it was empty)."""
        with self.write() as conn:
            return migrations.upgrade(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One serialized write transaction: committed on success, rolled back on any error."""
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"CatalogStore({self.url!r})"


def _make_engine(url: str, dialect: str, shown: str) -> Engine:
    if dialect == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    path = make_url(url).database
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a parent is a file, or not writable
            where = e.filename or Path(path).parent
            if isinstance(e, FileExistsError | NotADirectoryError):
                reason = f"{where} is a file, not a folder"
            else:
                reason = f"{where}: {e.strerror or type(e).__name__}"
            raise StoreError(
                f"cannot create the folder of the catalog store {shown}: {reason}"
            ) from None
    engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: no deadlock on read-to-write upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
