"""The catalog store: the system of record every asset writes to and reads from."""

from athena_catalog.store.catalog import ApplyResult, DeletionPolicy, apply_snapshot
from athena_catalog.store.connection import (
    CatalogStore,
    StoreError,
    default_home,
    default_store_url,
)

__all__ = [
    "ApplyResult",
    "CatalogStore",
    "DeletionPolicy",
    "StoreError",
    "apply_snapshot",
    "default_home",
    "default_store_url",
]
