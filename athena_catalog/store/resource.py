"""The catalog store as a Dagster resource, so its URL is Dagster config like everything else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from athena_catalog.store.connection import CatalogStore, redact_url


class CatalogStoreResource(dg.ConfigurableResource):
    """Where the catalog lives: an SQLite file by default, PostgreSQL for shared deployments."""

    url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the catalog store. Unset: ATHENA_CATALOG_STORE_URL, else "
            "sqlite:///$ATHENA_CATALOG_HOME/catalog.db. Pass a password through dagster.EnvVar."
        ),
    )

    @contextmanager
    def open(self) -> Iterator[CatalogStore]:
        store = CatalogStore(self.url)
        try:
            yield store
        finally:
            store.close()

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        return [("url", redact_url(self.url) if self.url else None)]
