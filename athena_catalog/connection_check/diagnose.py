"""Turning a failed step's exception into an error code and a fix the user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from athena_catalog.aws_session import ConfigError
from athena_catalog.connection_check.steps import CheckFailed, Probe
from athena_catalog.engines.records import EngineError
from athena_catalog.engines.retry import ACCESS_DENIED, NETWORK_ERRORS

if TYPE_CHECKING:
    from athena_catalog.defs.resources import AthenaResource

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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from: PyAthena and the engine wrap boto errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def diagnose(exc: BaseException, probe: Probe, service: str) -> tuple[str, str]:
    """The error code and a plain fix for a step whose calls go to ``service``."""
    resource = probe.resource
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
    return code, probe.fallback_fix()


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


def one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
