"""``athena-catalog test-connection``: flags, then environment variables, then defaults."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from athena_catalog.aws_session import ConfigError
from athena_catalog.connection_check.report import exit_code, format_report
from athena_catalog.connection_check.run import run_connection_checks

if TYPE_CHECKING:
    from athena_catalog.defs.resources import AthenaResource

# (flag, resource field); the environment variable behind each is settings.ENV_FIELDS'.
FLAGS: tuple[tuple[str, str], ...] = (
    ("--engine", "engine"),
    ("--region", "region_name"),
    ("--endpoint-url", "endpoint_url"),
    ("--sts-endpoint-url", "sts_endpoint_url"),
    ("--profile", "profile_name"),
    ("--assume-role-arn", "assume_role_arn"),
    ("--assume-role-session-name", "assume_role_session_name"),
    ("--assume-role-source-identity", "assume_role_source_identity"),
    ("--database", "database"),
    ("--catalog-id", "catalog_id"),
    ("--work-group", "work_group"),
    ("--s3-staging-dir", "s3_staging_dir"),
    ("--local-home", "local_home"),
)


def build_parser() -> argparse.ArgumentParser:
    from athena_catalog.settings import ENV_FIELDS

    parser = argparse.ArgumentParser(
        prog="athena-catalog test-connection",
        description="Check each permission the catalog needs; exit 1 if a mandatory one fails.",
    )
    for flag, field in FLAGS:
        env = ENV_FIELDS.get(field)
        source = f"env {env}" if env else "boto3's own environment and profile"
        parser.add_argument(flag, dest=field, help=f"resource field {field} (default: {source})")
    return parser


def resource_from_args(argv: Sequence[str] | None = None) -> AthenaResource:
    """The resource the command line describes: flags, then environment variables."""
    from athena_catalog.defs.resources import athena_resource_from_env

    args = build_parser().parse_args(argv)
    return athena_resource_from_env(**{field: getattr(args, field) for _, field in FLAGS})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``athena-catalog test-connection``: prints the report, returns the code."""
    resource = resource_from_args(argv)
    started = time.monotonic()
    try:
        results = run_connection_checks(resource)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(format_report(results))
    print(f"({resource.engine} engine, {time.monotonic() - started:.1f}s)")
    return exit_code(results)
