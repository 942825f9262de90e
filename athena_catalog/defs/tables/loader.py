"""One external ``AssetSpec`` per live Athena table and view: the store's state, read once,
through a translator.

The specs are built from the catalog store at definitions load time, in every code server and
run worker: never from AWS, in a few queries. They appear after the next reload following a
``metadata`` or ``lineage`` run. To change keys, groups, owners or metadata, subclass
:class:`AthenaTableTranslator` and pass it here::

    dg.Definitions(assets=athena_table_specs(translator=MyTranslator()))
"""

from __future__ import annotations

import dagster as dg

from athena_catalog.defs.tables.state import read_tables_state
from athena_catalog.defs.tables.translator import AthenaTableTranslator


def athena_table_specs(
    store_url: str | None = None,
    limit: int | None = None,
    translator: AthenaTableTranslator | None = None,
) -> list[dg.AssetSpec]:
    """The external specs of every live table and view in the store at ``store_url`` (default:
    the configured store); ``limit`` overrides ``ATHENA_CATALOG_TABLE_ASSETS``."""
    state = read_tables_state(store_url, limit)
    translator = translator or AthenaTableTranslator()
    return [translator.get_asset_spec(table, state) for table in state.tables.values()]


def yield_to_materialized(defs: dg.Definitions) -> dg.Definitions:
    """``defs`` without the external specs whose key one of its assets materializes (a dbt
    model run by dagster-dbt with :class:`AthenaDbtTranslator`'s keys): that asset stands for
    the table instead of clashing with its spec."""
    from dagster_shared.record import replace

    assets = list(defs.assets or ())
    materialized = {
        key
        for a in assets
        if isinstance(a, dg.AssetsDefinition) and a.is_materializable
        for key in a.keys
    }
    kept = [a for a in assets if not (isinstance(a, dg.AssetSpec) and a.key in materialized)]
    return defs if len(kept) == len(assets) else replace(defs, assets=kept)
