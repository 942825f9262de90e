"""Helpers for end-to-end runs: a resource whose boto3 sessions carry test hooks, and a
field-by-field dump of the catalog store."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

import boto3
import dagster as dg
from sqlalchemy import select

from athena_catalog.defs.resources import AthenaResource
from athena_catalog.store import CatalogStore
from athena_catalog.store.schema import catalog_columns, catalog_tables, schema_changes

# (event name, handler) pairs registered on every session HookedAthenaResource builds.
SESSION_HOOKS: list[tuple[str, Callable[..., Any]]] = []


class HookedAthenaResource(AthenaResource):
    """The real resource; only its sessions get botocore event hooks (call counting, faults)."""

    def boto3_session(self) -> boto3.Session:
        session = super().boto3_session()
        for event, handler in SESSION_HOOKS:
            session.events.register(event, handler)
        return session


TABLE_FIELDS = (
    "catalog", "database", "name", "table_type", "description", "location", "storage_format",
    "view_sql", "owner", "parameters", "tags", "deleted",
)  # fmt: skip


def dump_store(url: str) -> dict[str, dict[str, Any]]:
    """Every stored table with its fields and columns, comparable across runs."""
    store = CatalogStore(url)
    try:
        with store.read() as conn:
            tables = conn.execute(select(catalog_tables)).mappings().all()
            columns = (
                conn.execute(
                    select(catalog_columns).order_by(catalog_columns.c.table_fqn, "ordinal")
                )
                .mappings()
                .all()
            )
    finally:
        store.close()
    out = {t["fqn"]: {f: t[f] for f in TABLE_FIELDS} | {"columns": []} for t in tables}
    for c in columns:
        out[c["table_fqn"]]["columns"].append(
            (c["name"], c["data_type"], c["description"], c["is_partition_key"])
        )
    return out


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """What a user reads about a failed step: the failure's description and error chain."""
    parts = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            parts.append(data.user_failure_data.description)
        error = data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)


def schema_change_rows(store: CatalogStore) -> list[tuple[Any, ...]]:
    """The schema-change history in order: (table, change, column, old type, new type)."""
    c = schema_changes.c
    with store.read() as conn:
        rows = conn.execute(
            select(c.table_fqn, c.change, c.column_name, c.old_type, c.new_type).order_by(c.id)
        ).all()
    return [tuple(r) for r in rows]


def stop_process_group(proc: subprocess.Popen[Any], timeout_s: float = 60) -> None:
    """SIGTERM a server started in its own process group (``dagster dev`` and its children),
    SIGKILL it if it has not exited within ``timeout_s``."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
