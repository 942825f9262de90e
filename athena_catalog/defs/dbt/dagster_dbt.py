"""Living beside dagster-dbt: a ``DagsterDbtTranslator`` whose keys are the catalog's table keys.

A team that runs dbt from Dagster with ``@dbt_assets`` passes :class:`AthenaDbtTranslator`;
each model, seed, snapshot and source then has the key of the table asset this catalog
declares for its relation (``AthenaTableTranslator.get_asset_key``), so the catalog's lineage,
docs and checks attach to the very assets dbt materializes, and
:func:`athena_catalog.definitions.build_defs` lets those assets replace the catalog's external
specs instead of clashing with them.

dagster-dbt is an optional dependency (``pip install athena_catalog[dbt]``); it reads a
manifest without dbt-core. Nothing else in the package imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from athena_catalog.dbt.mapping import props_relation
from athena_catalog.defs.tables.translator import AthenaTableTranslator


class AthenaDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's translator with the catalog's table keys (ephemeral models and nodes
    without a relation keep dagster-dbt's own key)."""

    def __init__(
        self,
        table_translator: AthenaTableTranslator | None = None,
        settings: DagsterDbtTranslatorSettings | None = None,
    ):
        super().__init__(settings)
        self.table_translator = table_translator or AthenaTableTranslator()

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        relation = props_relation(dbt_resource_props)
        if relation is None:
            return super().get_asset_key(dbt_resource_props)
        return self.table_translator.get_asset_key(relation)
