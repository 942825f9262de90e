"""Test-connection: one step per permission the catalog needs, each with a plain fix on failure.

Steps, in order: credentials (STS GetCallerIdentity), list data catalogs, list databases, list
tables, read one table's metadata, list work groups, list query executions, run ``SELECT 1``.
Work groups and query executions are optional (only usage needs them). A failing step does not
stop later ones; a step that needs what a failed one would have found is skipped, not failed.

On AWS each listing step makes one page's call on the engine's own clients, so a denial names
exactly one IAM action; ``SELECT 1`` goes through the engine, hence PyAthena with our session.

Command line (``athena-catalog test-connection``): flags win over environment variables.
Flag, then environment variable, then resource field:

* --engine: ATHENA_CATALOG_ENGINE -> engine (aws | local; default local)
* --region: AWS_REGION, AWS_DEFAULT_REGION or the profile -> region_name
* --endpoint-url: AWS_ENDPOINT_URL (every service, STS too) -> endpoint_url (Athena, Glue)
* --sts-endpoint-url: AWS_ENDPOINT_URL_STS -> sts_endpoint_url
* --profile: AWS_PROFILE -> profile_name
* --assume-role-arn: ATHENA_ASSUME_ROLE_ARN -> assume_role_arn
* --assume-role-session-name: ATHENA_ASSUME_ROLE_SESSION_NAME -> assume_role_session_name
* --assume-role-source-identity: ATHENA_ASSUME_ROLE_SOURCE_IDENTITY -> assume_role_source_identity
* --database: ATHENA_CATALOG_DATABASE -> database
* --catalog-id: ATHENA_CATALOG_CATALOG_ID -> catalog_id
* --work-group: ATHENA_CATALOG_WORK_GROUP -> work_group
* --s3-staging-dir: ATHENA_CATALOG_S3_STAGING_DIR -> s3_staging_dir
* --local-home: ATHENA_CATALOG_HOME -> local_home

Variables read by boto3 itself (region, endpoints, profile, AWS_ACCESS_KEY_ID and the rest of the
credential chain) are left to boto3. Exit code: 0 when every mandatory step passed, 1 when one
failed, 2 for a configuration error found before any step (e.g. an unknown engine).
"""

from __future__ import annotations

import abc
import argparse
import itertools
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from athena_catalog.aws_session import ConfigError, client_config, sts_client
from athena_catalog.engines.records import DEFAULT_CATALOG, EngineError
from athena_catalog.engines.retry import ACCESS_DENIED, NETWORK_ERRORS
from athena_catalog.markers import mark
from athena_catalog.timeutil import as_utc

if TYPE_CHECKING:
    import boto3

    from athena_catalog.defs.resources import AthenaResource
    from athena_catalog.engines.aws import AwsEngine
    from athena_catalog.engines.contract import Engine
    from athena_catalog.engines.records import Table

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
_BEGINNING = as_utc(datetime.min)  # a history read from the first execution
# test-connection should answer in seconds, not wait out the crawl's retry budget.
CHECK_ATTEMPTS = 2
CHECK_CONNECT_TIMEOUT = 5.0
CHECK_RETRY_SECONDS = 5.0
PAGE = 10

BAD_CREDENTIALS = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "AuthFailure",
    }
)
EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException"})

FIX_CREDENTIALS = (
    "the credentials are not valid: check aws_access_key_id / aws_secret_access_key, the "
    "profile, or the AWS_* environment variables"
)
FIX_EXPIRED = (
    "the credentials have expired: refresh them (aws sso login, a new session token) or use "
    "a profile or instance role that renews them"
)
FIX_NO_CREDENTIALS = (
    "no AWS credentials found: set aws_access_key_id / aws_secret_access_key (dg.EnvVar), a "
    "profile_name, the AWS_* environment variables, or run where an instance role is attached"
)
FIX_STAGING = (
    "set s3_staging_dir (ATHENA_CATALOG_S3_STAGING_DIR) to an s3://bucket/prefix/ in the same "
    "region, or a work_group whose query result location is set"
)


@dataclass(frozen=True)
class CheckResult:
    """One step's outcome. ``ok`` is False only for a failure: a skipped step is ok, because
    a step is skipped either by design or after the failure that blocked it was reported."""

    name: str
    ok: bool
    mandatory: bool
    detail: str
    error_code: str | None = None
    fix: str | None = None
    skipped: bool = False

    @property
    def status(self) -> str:
        return SKIP if self.skipped else PASS if self.ok else FAIL


class Skipped(Exception):
    """A step that need not or cannot run; the message says why."""


class CheckFailed(Exception):
    """A call that answered but showed a problem (e.g. the configured database is missing)."""

    def __init__(self, message: str, *, code: str, fix: str):
        super().__init__(message)
        self.code = code
        self.fix = fix


@dataclass(frozen=True)
class Step:
    name: str
    mandatory: bool
    method: str  # the probe method that runs it and returns the detail line
    service: str  # IAM prefix of the AWS calls it makes


STEPS = (
    Step("credentials", True, "credentials", "sts"),
    Step("list data catalogs", True, "data_catalogs", "athena"),
    Step("list databases", True, "databases", "glue"),
    Step("list tables", True, "tables", "glue"),
    Step("read table metadata", True, "table_metadata", "glue"),
    Step("list work groups", False, "work_groups", "athena"),
    Step("list query executions", False, "query_executions", "athena"),
    Step("run SELECT 1", True, "select_one", "athena"),
)


def run_connection_checks(resource: AthenaResource) -> list[CheckResult]:
    """Run every step in order; raises ConfigError only for an unknown engine."""
    kind = resource.engine_kind()
    probe = AwsProbe(resource) if kind == "aws" else LocalProbe(resource)
    try:
        return [_run(step, probe) for step in STEPS]
    finally:
        probe.close()


def _run(step: Step, probe: Probe) -> CheckResult:
    try:
        detail = getattr(probe, step.method)()
    except Skipped as exc:
        return CheckResult(step.name, True, step.mandatory, str(exc), skipped=True)
    except Exception as exc:
        code, fix = diagnose(exc, probe.resource, step.service)
        return CheckResult(step.name, False, step.mandatory, _one_line(exc), code, fix)
    return CheckResult(step.name, True, step.mandatory, detail)


def _pick_database(configured: str | None, names: Sequence[str], where: str) -> str:
    """The configured database when it exists, else the first listed other than ``default``,
    which Athena creates empty and so rarely has a table to read."""
    if configured and configured not in names:
        raise CheckFailed(
            f"database {configured!r} is not in {where}",
            code="DatabaseNotFound",
            fix=f"check database: it must exist in {where}",
        )
    if configured:
        return configured
    if not names:
        raise Skipped(f"no database in {where} to read")
    return ([n for n in names if n != "default"] or names)[0]


def _summary(names: Sequence[str], what: str) -> str:
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(names)} {what}" + (f": {shown}" if names else "")


class Probe(abc.ABC):
    """What both engines' steps share: the resource, the engine, the database found."""

    def __init__(self, resource: AthenaResource):
        self.resource = resource
        self.database = resource.database
        self._engine: Engine | None = None

    @property
    @abc.abstractmethod
    def engine(self) -> Engine:
        """The engine the steps run on, made on first use (after the credentials step)."""

    def select_one(self) -> str:
        rows = self.engine.execute(mark("SELECT 1")).rows
        if [tuple(str(v) for v in row) for row in rows] != [("1",)]:
            raise CheckFailed(
                f"SELECT 1 returned {rows!r}",
                code="UnexpectedResult",
                fix="the query ran but its result was wrong: check connection_options/arguments",
            )
        return "SELECT 1 returned 1"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


class AwsProbe(Probe):
    """The steps against AWS, sharing one session (one AssumeRole) and one engine."""

    def __init__(self, resource: AthenaResource):
        super().__init__(resource)
        self.session: boto3.Session | None = None
        self.table: str | None = None
        self._aws: AwsEngine | None = None

    @property
    def engine(self) -> AwsEngine:
        if self._aws is None:
            if self.session is None:
                raise Skipped("no AWS session: see the credentials step")
            from athena_catalog.engines.aws import AwsEngine

            settings = replace(
                self.resource.aws_settings(self.session.region_name),
                max_attempts=CHECK_ATTEMPTS,
                retry_max_seconds=CHECK_RETRY_SECONDS,
                connect_timeout=CHECK_CONNECT_TIMEOUT,
            )
            self._aws = self._engine = AwsEngine(self.session, settings)
        return self._aws

    def _glue_catalog(self) -> dict[str, str]:
        catalog_id = self.resource.catalog_id
        return {"CatalogId": catalog_id} if catalog_id else {}

    def credentials(self) -> str:
        self.session = self.resource.boto3_session()
        sts = sts_client(
            self.session,
            self.resource.session_spec(),
            client_config(CHECK_ATTEMPTS, connect_timeout=CHECK_CONNECT_TIMEOUT),
        )
        identity = sts.get_caller_identity()
        return f"{identity['Arn']} in {self.session.region_name}"

    def data_catalogs(self) -> str:
        page = self.engine.athena.list_data_catalogs(MaxResults=PAGE)
        names = [c["CatalogName"] for c in page["DataCatalogsSummary"]]
        return _summary(names, "data catalogs")

    def databases(self) -> str:
        paginator = self.engine.glue.get_paginator("get_databases")
        names = [
            db["Name"]
            for page in paginator.paginate(**self._glue_catalog())
            for db in page["DatabaseList"]
        ]
        self.database = _pick_database(
            self.database, names, "the Glue Data Catalog (check region_name and catalog_id)"
        )
        return _summary(names, "databases") + f"; using {self.database}"

    def tables(self) -> str:
        if not self.database:
            raise Skipped("no database to list: see list databases")
        page = self.engine.glue.get_tables(
            DatabaseName=self.database, MaxResults=PAGE, **self._glue_catalog()
        )
        names = [t["Name"] for t in page["TableList"]]
        self.table = names[0] if names else None
        return _summary(names, f"tables in {self.database} (first page)")

    def table_metadata(self) -> str:
        if not (self.database and self.table):
            raise Skipped("no table to read: see list tables")
        table = self.engine.glue.get_table(
            DatabaseName=self.database, Name=self.table, **self._glue_catalog()
        )["Table"]
        columns = (table.get("StorageDescriptor") or {}).get("Columns") or []
        partitions = table.get("PartitionKeys") or []
        return f"{self.database}.{self.table}: {len(columns) + len(partitions)} columns"

    def work_groups(self) -> str:
        names: list[str] = []
        token: dict[str, str] = {}
        while True:  # boto3 has no paginator for ListWorkGroups
            page = self.engine.athena.list_work_groups(MaxResults=50, **token)
            names += [wg["Name"] for wg in page["WorkGroups"]]
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
        wanted = self.resource.work_group
        if wanted and wanted not in names:
            raise CheckFailed(
                f"work group {wanted!r} is not among {names}",
                code="WorkGroupNotFound",
                fix="check work_group and region_name, or grant athena:ListWorkGroups on it",
            )
        return _summary(names, "work groups")

    def query_executions(self) -> str:
        work_group = self.resource.work_group
        ids = self.engine.athena.list_query_executions(
            MaxResults=PAGE, **({"WorkGroup": work_group} if work_group else {})
        )["QueryExecutionIds"]
        if ids:
            self.engine.athena.batch_get_query_execution(QueryExecutionIds=ids)
        return f"{len(ids)} recent query executions readable"


class LocalProbe(Probe):
    """The same steps on the embedded engine; no credentials or work groups there."""

    def __init__(self, resource: AthenaResource):
        super().__init__(resource)
        self.catalog: str | None = None
        self.tables_found: list[Table] = []

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from athena_catalog.engines.local import LocalEngine

            self._engine = LocalEngine(self.resource.local_home_path(), read_only=True)
        return self._engine

    def credentials(self) -> str:
        raise Skipped("not needed: the local engine reads files in local_home")

    def data_catalogs(self) -> str:
        names = [c.name for c in self.engine.list_data_catalogs()]
        default = [n for n in names if n.lower() == DEFAULT_CATALOG.lower()]
        self.catalog = (default or names)[0]
        return _summary(names, "data catalogs")

    def databases(self) -> str:
        if not self.catalog:
            raise Skipped("no catalog to list: see list data catalogs")
        names = [d.name for d in self.engine.list_databases(self.catalog)]
        self.database = _pick_database(
            self.database, names, f"{self.catalog} at {self.resource.local_home_path()}"
        )
        return _summary(names, "databases") + f"; using {self.database}"

    def tables(self) -> str:
        if not (self.catalog and self.database):
            raise Skipped("no database to list: see list databases")
        self.tables_found = self.engine.list_tables(self.catalog, self.database)
        return _summary([t.name for t in self.tables_found], f"tables in {self.database}")

    def table_metadata(self) -> str:
        if not self.tables_found:
            raise Skipped("no table to read: see list tables")
        table = self.tables_found[0]
        return f"{table.fqn}: {len(table.columns)} columns, {table.table_type}"

    def work_groups(self) -> str:
        raise Skipped("not applicable: the local engine has no work groups")

    def query_executions(self) -> str:
        (log,) = self.engine.list_work_groups().names[:1] or ("",)
        executions = self.engine.query_executions(log, _BEGINNING, lambda ids: {})
        recent = list(itertools.islice(executions, PAGE))
        return f"{len(recent)} recent query executions readable"


# -- diagnosis -------------------------------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from: PyAthena and the engine wrap boto errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def diagnose(exc: BaseException, resource: AthenaResource, service: str) -> tuple[str, str]:
    """The error code and a plain fix for a step whose calls go to ``service``."""
    for cause in _causes(exc):
        if isinstance(cause, CheckFailed):
            return cause.code, cause.fix
        if isinstance(cause, ClientError):
            return _diagnose_client_error(cause, resource, f"{service}:{cause.operation_name}")
        if isinstance(cause, NETWORK_ERRORS):
            return "EndpointUnreachable", _fix_unreachable(resource)
        if isinstance(cause, NoCredentialsError | PartialCredentialsError):
            return "NoCredentials", FIX_NO_CREDENTIALS
        if isinstance(cause, ProfileNotFound):
            return "ProfileNotFound", (
                "profile_name names no profile in AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE"
            )
        if isinstance(cause, ConfigError | NoRegionError):
            return "ConfigError", str(cause)
    message = str(exc)
    if "s3_staging_dir" in message or "output location" in message.lower():
        return "MissingStagingDir", FIX_STAGING
    if _is_output_failure(message):
        return "QueryFailed", _fix_staging_writable(resource)
    code = exc.code if isinstance(exc, EngineError) and exc.code else type(exc).__name__
    if resource.engine == "local":
        return code, f"check the local engine at {resource.local_home_path()} (make demo builds it)"
    return code, "see the detail"


def _diagnose_client_error(
    exc: ClientError, resource: AthenaResource, action: str
) -> tuple[str, str]:
    """``action`` is the failed call as IAM names it, e.g. glue:GetTables."""
    code = exc.response.get("Error", {}).get("Code", "ClientError")
    message = exc.response.get("Error", {}).get("Message", "").lower()
    if code in ACCESS_DENIED:
        if action == "sts:AssumeRole":
            return code, (
                f"grant sts:AssumeRole on {resource.assume_role_arn} to the caller, and allow "
                "the caller in that role's trust policy"
            )
        return code, f"grant {action} to the IAM principal (or its Lake Formation permissions)"
    if code in BAD_CREDENTIALS:
        return code, FIX_CREDENTIALS
    if code in EXPIRED:
        return code, FIX_EXPIRED
    if code in THROTTLED:
        return code, "throttled: retry later, or lower max_workers"
    if code == "EntityNotFoundException":
        return code, "not found: check database, region_name and catalog_id"
    if "output location" in message or "s3" in message:
        return code, FIX_STAGING
    if "workgroup" in message:
        return code, "check work_group: it must exist and be enabled in this region"
    return code, f"{action} was rejected: see the detail"


def _is_output_failure(message: str) -> bool:
    lowered = message.lower()
    return "output" in lowered and ("access denied" in lowered or "bucket" in lowered)


def _fix_staging_writable(resource: AthenaResource) -> str:
    where = resource.s3_staging_dir or "the work group's result location"
    return (
        f"the query results could not be written to {where}: grant s3:PutObject, s3:GetObject, "
        "s3:ListBucket and s3:GetBucketLocation on it, and check the bucket is in region_name"
    )


def _fix_unreachable(resource: AthenaResource) -> str:
    where = resource.endpoint_url or "the AWS endpoints"
    return (
        f"could not reach {where}: check endpoint_url / sts_endpoint_url, region_name (a wrong "
        "region gives an unknown host), the network, proxy (HTTPS_PROXY) and VPC endpoints"
    )


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- report ----------------------------------------------------------------------------------


def format_report(results: Sequence[CheckResult]) -> str:
    """An aligned text table, one line per step plus an indented fix line under failures."""
    name_width = max([len(r.name) for r in results] + [len("STEP")])
    lines = [f"{'STATUS':<6}  {'STEP':<{name_width}}  {'REQUIRED':<8}  DETAIL"]
    for r in results:
        detail = f"[{r.error_code}] {r.detail}" if r.error_code else r.detail
        required = "yes" if r.mandatory else "no"
        lines.append(f"{r.status:<6}  {r.name:<{name_width}}  {required:<8}  {detail}")
        if r.fix:
            lines.append(f"{'':<6}  {'':<{name_width}}  {'':<8}  fix: {r.fix}")
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    verdict = "connection OK" if exit_code(results) == 0 else "connection FAILED"
    lines.append(f"{verdict}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
    return "\n".join(lines)


def exit_code(results: Sequence[CheckResult]) -> int:
    """1 when any mandatory step failed, else 0 (optional failures only warn)."""
    return int(any(r.mandatory and not r.ok for r in results))


# -- command line ----------------------------------------------------------------------------

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
