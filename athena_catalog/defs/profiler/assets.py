"""``table_profiles``: profiles the cataloged tables (one scan each), behind the cost guard,
into the store's time series, and puts each profile on its table's page.

Thin wiring over ``athena_catalog.profiler``: run config in OpenMetadata's names, the cost
guard's decision per table, H3's ``profile_tables``, the store, observations and metadata.
"""

import threading
from dataclasses import replace
from typing import Any

import dagster as dg

from athena_catalog.defs.markdown import md_table
from athena_catalog.defs.pools import ATHENA_SQL_POOL
from athena_catalog.defs.profiler.config import profiler_config_schema, split_config
from athena_catalog.defs.profiler.observations import profile_observation
from athena_catalog.defs.resources import AthenaResource, CatalogStoreResource
from athena_catalog.defs.tables.observations import table_assets_exist
from athena_catalog.defs.tables.translator import AthenaTableTranslator
from athena_catalog.engines.records import Table
from athena_catalog.profiler import cost_guard
from athena_catalog.profiler.metrics import TableProfile
from athena_catalog.profiler.options import ProfilerOptionsError, parse_options
from athena_catalog.profiler.run import profile_tables
from athena_catalog.profiler.stored_tables import stored_tables
from athena_catalog.store.profiles import write_profiles
from athena_catalog.timeutil import utc_now

GROUP = "profiler"
OWNERS = ["team:data-platform"]
LISTED = 50  # rows of the per-table markdown tables in the materialization


def build_table_profiles(translator: AthenaTableTranslator | None = None) -> dg.AssetsDefinition:
    """The asset, observing table assets on ``translator``'s keys (the one the table specs
    were built with)."""
    keys = translator or AthenaTableTranslator()

    @dg.asset(
        name="table_profiles",
        group_name=GROUP,
        kinds={"athena"},
        owners=OWNERS,
        pool=ATHENA_SQL_POOL,
        config_schema=profiler_config_schema(),
        description=(
            "Profiles of the cataloged tables in OpenMetadata's metric set: one SELECT per "
            "table, partition- and sample-aware, behind the cost guard (max_bytes_per_table). "
            "Each profiled table's page gets the profile as an observation."
        ),
    )
    def table_profiles(
        context: dg.AssetExecutionContext,
        athena: AthenaResource,
        catalog_store: CatalogStoreResource,
    ) -> dg.MaterializeResult:
        raw, only = split_config(context.op_execution_context.op_config)
        try:
            options = parse_options(raw)
        except ProfilerOptionsError as exc:
            raise dg.Failure(description=str(exc)) from None
        now = utc_now()
        with catalog_store.open() as store, athena.get_engine() as engine:
            live = stored_tables(store)
            tables = _chosen(context, options.select_tables(live), only)
            guards = {t.fqn: cost_guard.estimate(engine, t, options, now) for t in tables}
            skipped = [
                TableProfile(
                    t.fqn,
                    now,
                    estimated_bytes=guards[t.fqn].estimated_bytes,
                    error=guards[t.fqn].skipped,
                )
                for t in tables
                if not guards[t.fqn].runs
            ]
            write_profiles(store, skipped, run_id=context.run_id)
            lock = threading.Lock()
            done: dict[str, TableProfile] = {}

            def stored(profile: TableProfile) -> None:  # called from the profiling threads
                # the size is the guard's: Glue's statistics, an S3 listing or the estimate
                profile = replace(profile, size_bytes=guards[profile.table_fqn].table_bytes)
                with lock:
                    write_profiles(store, [profile], run_id=context.run_id)
                    done[profile.table_fqn] = profile

            runnable = [t for t in tables if guards[t.fqn].runs]
            profile_tables(
                engine,
                runnable,
                options,
                now=now,
                work_group=athena.work_group,
                estimates={fqn: g.estimated_bytes for fqn, g in guards.items()},
                on_profile=stored,
            )
            profiles = [done[t.fqn] for t in runnable]
        by_fqn = {t.fqn: t for t in tables}
        observed = _observe(context, live, [(by_fqn[p.table_fqn], p) for p in profiles], keys)
        for profile in profiles:
            if profile.error:
                context.log.warning(f"profile of {profile.table_fqn} failed: {profile.error}")
        for g in guards.values():
            if not g.runs:
                context.log.warning(f"{g.table_fqn}: {g.skipped}")
        return dg.MaterializeResult(
            metadata=_metadata(profiles, skipped, guards, observed, context.run_id)
        )

    return table_profiles


def _chosen(
    context: dg.AssetExecutionContext, selected: list[Table], only: list[str]
) -> list[Table]:
    """``selected`` restricted to the run's ``tables`` (when it names any)."""
    if not only:
        return selected
    wanted = set(only)
    missing = wanted - {t.fqn for t in selected}
    if missing:
        context.log.warning(
            f"{len(missing)} tables named in `tables` are not live or not kept by the"
            f" filters: {', '.join(sorted(missing)[:10])}"
        )
    return [t for t in selected if t.fqn in wanted]


def _observe(
    context: dg.AssetExecutionContext,
    live: list[Table],
    profiled: list[tuple[Table, TableProfile]],
    translator: AthenaTableTranslator,
) -> int:
    """One observation per successful profile; none past ATHENA_CATALOG_TABLE_ASSETS live
    tables, where no table asset exists to carry it."""
    if not table_assets_exist(context, len(live), "profile observations"):
        return 0
    ok = [(t, p) for t, p in profiled if p.ok]
    for table, profile in ok:
        context.log_event(profile_observation(table, profile, translator))
    return len(ok)


def _metadata(
    profiles: list[TableProfile],
    skipped: list[TableProfile],
    guards: dict[str, cost_guard.CostEstimate],
    observed: int,
    run_id: str,
) -> dict[str, Any]:
    failed = [p for p in profiles if p.error]
    scanned = sum(p.bytes_scanned or 0 for p in profiles)
    estimated = sum(p.estimated_bytes or 0 for p in profiles)
    rows: list[list[object]] = [
        [
            p.table_fqn,
            _count(p.row_count),
            _count(p.estimated_bytes),
            _count(p.bytes_scanned),
            f"{p.cost_usd or 0:.6f}",
            len(p.statements),
            "failed" if p.error else "ok",
        ]
        for p in profiles[:LISTED]
    ]
    metadata: dict[str, Any] = {
        "tables_profiled": len(profiles) - len(failed),
        "tables_failed": len(failed),
        "tables_skipped_by_cost_guard": len(skipped),
        "table_observations": observed,
        "statements": sum(len(p.statements) for p in profiles),
        "estimated_bytes": estimated,
        "bytes_scanned": scanned,
        "cost_usd": round(sum(p.cost_usd or 0 for p in profiles), 6),
        "profiles": dg.MetadataValue.md(
            md_table(
                ["table", "rows", "estimated bytes", "bytes scanned", "cost USD", "statements", ""],
                rows,
            )
            + _more(len(profiles), run_id)
        ),
        "cost_guard": dg.MetadataValue.md(
            md_table(
                ["table", "decision", "estimate"],
                [
                    [g.table_fqn, "skipped" if not g.runs else "profiled", g.summary()]
                    for g in list(guards.values())[:LISTED]
                ],
            )
            + _more(len(guards), run_id)
        ),
    }
    if skipped:
        metadata["skipped"] = dg.MetadataValue.md(
            md_table(["table", "why"], [[p.table_fqn, p.error] for p in skipped[:LISTED]])
            + _more(len(skipped), run_id)
        )
    if failed:
        metadata["failures"] = dg.MetadataValue.md(
            md_table(["table", "error"], [[p.table_fqn, p.error] for p in failed[:LISTED]])
            + _more(len(failed), run_id)
        )
    return metadata


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _more(n: int, run_id: str) -> str:
    if n <= LISTED:
        return ""
    return (
        f"\n\n{n - LISTED} more in the store: SELECT * FROM table_profiles"
        f" WHERE run_id = '{run_id}'"
    )
