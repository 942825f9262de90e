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
