"""How the ``aws`` engine reaches Glue and Athena: settings, TLS and PyAthena's typed options."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from pyathena.connection import Connection

USER_AGENT = "athena-catalog"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach Glue and Athena. Connection dicts are passed to ``pyathena.connect``.

    String values in ``connection_options`` / ``connection_arguments`` are converted to the type
    PyAthena's ``Connection`` declares (``poll_interval`` -> float, ...); arguments win over
    options. ``retry_max_seconds`` bounds each AWS call's retries; ``max_attempts`` is
    botocore's own per-request retry count underneath.
    """

    region_name: str | None = None
    endpoint_url: str | None = None  # None: boto3's default, which honours AWS_ENDPOINT_URL
    work_group: str | None = None
    s3_staging_dir: str | None = None
    catalog_id: str | None = None  # Glue CatalogId (account) behind AwsDataCatalog
    connection_options: dict[str, str] = field(default_factory=dict)
    connection_arguments: dict[str, str] = field(default_factory=dict)
    max_workers: int = 8
    max_attempts: int = 3
    retry_max_seconds: float = 60.0
    retry_base_delay: float = 0.2
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    use_ssl: bool = True
    verify: bool | str | None = None  # False, or a CA bundle path; None means boto3's default

    def __repr__(self) -> str:
        # Connection arguments may carry keys or secrets: show their names only.
        return (
            f"AwsSettings(region_name={self.region_name!r}, endpoint_url={self.endpoint_url!r},"
            f" work_group={self.work_group!r}, s3_staging_dir={self.s3_staging_dir!r},"
            f" catalog_id={self.catalog_id!r},"
            f" connection_options=<{', '.join(sorted(self.connection_options))}>,"
            f" connection_arguments=<{', '.join(sorted(self.connection_arguments))}>,"
            f" max_workers={self.max_workers}, max_attempts={self.max_attempts},"
            f" retry_max_seconds={self.retry_max_seconds:g})"
        )


def tls_kwargs(settings: AwsSettings) -> dict[str, Any]:
    """``use_ssl`` and ``verify`` as boto3 clients and PyAthena take them; unset means boto3's."""
    out: dict[str, Any] = {"use_ssl": settings.use_ssl}
    if settings.verify is not None:
        out["verify"] = settings.verify
    return out


def typed_connect_kwargs(values: dict[str, str]) -> dict[str, Any]:
    """Settings hold strings; PyAthena wants its declared bool/int/float types."""
    declared = inspect.signature(Connection.__init__).parameters
    typed: dict[str, Any] = {}
    for key, value in values.items():
        kind = declared[key].annotation if key in declared else None
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"connection setting {key} must be true or false")
            typed[key] = value.lower() in ("true", "1", "yes")
        elif kind in (int, float) and isinstance(value, str):
            typed[key] = kind(value)
        else:
            typed[key] = value
    return typed
