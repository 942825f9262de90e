"""Which dbt target folders ``dbt_artifacts`` reads: run config, else
``ATHENA_CATALOG_DBT_TARGET``, else, on the embedded engine, the demo's target folder
``<ATHENA_CATALOG_HOME>/dbt/target`` when it exists (``make demo`` writes it, so ``make ui``
finds the demo's dbt project with nothing set). The AWS engine has no default: its artifacts
are wherever the team's dbt runs keep them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

LOCAL_ENGINE = "local"


def local_target(home: str | Path) -> Path:
    """The embedded engine's dbt target folder: where the demo's dbt project writes."""
    return Path(home) / "dbt" / "target"


def dbt_targets(
    configured: Sequence[str], from_env: Sequence[str], engine: str, home: Path
) -> list[str]:
    if configured or from_env:
        return list(configured or from_env)
    default = local_target(home)
    return [str(default)] if engine == LOCAL_ENGINE and default.is_dir() else []
