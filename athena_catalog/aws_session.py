"""Build the boto3 Session that Glue, Athena and PyAthena share, with an optional assumed role.

Plain Python (no Dagster) so it is testable on its own; `AthenaResource` only fills a `SessionSpec`.

We assume the role ourselves instead of handing ``role_arn`` to PyAthena because PyAthena sends
AssumeRole to its Athena ``endpoint_url`` when both are set. Here STS has its own endpoint:

* ``sts_endpoint_url`` when set;
* otherwise botocore's own resolution: ``AWS_ENDPOINT_URL_STS``, then ``AWS_ENDPOINT_URL``, then
  the profile's ``endpoint_url`` / ``services`` section, then the regional AWS STS endpoint.

The Athena/Glue ``endpoint_url`` is never used for STS: a VPC endpoint for Athena does not serve
STS. To send everything to one emulator (moto, LocalStack), set ``AWS_ENDPOINT_URL`` or both
endpoint fields.

The assumed role's credentials refresh themselves before they expire, so a crawl that outlives
the role session (one hour by default) keeps working.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, fields
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials

log = logging.getLogger(__name__)

MASK = "***"
SECRET_FIELDS = frozenset({"aws_secret_access_key", "aws_session_token"})
CREDENTIAL_FIELDS = ("aws_access_key_id", *sorted(SECRET_FIELDS))
DEFAULT_ROLE_SESSION_NAME = "AthenaCatalogSession"


class RedactSessionTokens(logging.Filter):
    """botocore's DEBUG lines carry the X-Amz-Security-Token header: mask its value."""

    PATTERN = re.compile(r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+", re.I)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.PATTERN.sub(rf"\g<1>{MASK}", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# The two botocore loggers that write request headers; a logger's filters see only its records.
for _name in ("botocore.auth", "botocore.endpoint"):
    logging.getLogger(_name).addFilter(RedactSessionTokens())


class ConfigError(ValueError):
    """The configuration cannot work; the message names the field to fix, never a secret."""


@dataclass(frozen=True)
class SessionSpec:
    """Everything needed to build a session; secrets are masked in ``repr``."""

    region_name: str | None = None
    profile_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    assume_role_arn: str | None = None
    assume_role_session_name: str = DEFAULT_ROLE_SESSION_NAME
    assume_role_source_identity: str | None = None
    sts_endpoint_url: str | None = None
    use_ssl: bool = True
    verify: bool | None = True
    max_attempts: int = 5

    def __post_init__(self) -> None:
        """A masked placeholder is never a credential: refuse it before botocore sees it."""
        for name in CREDENTIAL_FIELDS:
            if is_placeholder(getattr(self, name)):
                raise ConfigError(
                    f"{name} is a masked placeholder (asterisks, as the Dagster UI shows a "
                    "secret), not a credential: remove it from the run config to use the "
                    "configured value, or set the real value through dg.EnvVar"
                )

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown.update({name: mask(shown[name]) for name in SECRET_FIELDS})
        return f"SessionSpec({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def is_placeholder(value: object) -> bool:
    """True for a masked value such as the launchpad's '********' or this module's '***'."""
    return isinstance(value, str) and bool(value) and value.strip("*") == ""


def mask(value: object) -> str | None:
    """``'***'`` for a set secret, None for an unset one: shows whether it is set, not what."""
    return None if value is None else MASK


def client_config(
    max_attempts: int, *, connect_timeout: float = 60, read_timeout: float = 60
) -> Config:
    """botocore retry and timeout settings; the standard retry mode backs off on throttling."""
    return Config(
        retries={"max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def sts_client(session: boto3.Session, spec: SessionSpec, config: Config | None = None) -> Any:
    """An STS client on STS's own endpoint (see the module docstring)."""
    return session.client(
        "sts",
        region_name=session.region_name,
        endpoint_url=spec.sts_endpoint_url,
        use_ssl=spec.use_ssl,
        verify=spec.verify,
        config=config or client_config(spec.max_attempts),
    )


def base_session(spec: SessionSpec) -> boto3.Session:
    """The session from explicit keys, the profile or boto's chain; no network call.

    The region comes from region_name, then AWS_REGION (which boto3 ignores but most other AWS
    SDKs and runtimes set), then AWS_DEFAULT_REGION or the profile; ConfigError when none.
    """
    session = boto3.Session(
        aws_access_key_id=spec.aws_access_key_id,
        aws_secret_access_key=spec.aws_secret_access_key,
        aws_session_token=spec.aws_session_token,
        profile_name=spec.profile_name,
        region_name=spec.region_name or os.environ.get("AWS_REGION") or None,
    )
    if not session.region_name:
        raise ConfigError(
            "region_name is required for engine='aws': set the resource's region_name, the "
            "AWS_REGION or AWS_DEFAULT_REGION environment variable, or a region in the profile"
        )
    return session


def build_session(spec: SessionSpec) -> boto3.Session:
    """The base session, then the assumed role if asked.

    AssumeRole errors (botocore ClientError) propagate: their code says what is missing.
    """
    base = base_session(spec)
    if spec.assume_role_arn:
        return assume_role(base, spec)
    credentials = base.get_credentials()
    log.info(
        "AWS session in %s with credentials from %s",
        base.region_name,
        credentials.method if credentials else "nowhere (none found)",
    )
    return base


def assume_role(base: boto3.Session, spec: SessionSpec) -> boto3.Session:
    """A session whose credentials come from STS AssumeRole and refresh before they expire."""
    sts = sts_client(base, spec)
    request = {"RoleArn": spec.assume_role_arn, "RoleSessionName": spec.assume_role_session_name}
    if spec.assume_role_source_identity:
        request["SourceIdentity"] = spec.assume_role_source_identity

    def fetch() -> dict[str, str]:
        creds = sts.assume_role(**request)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    # The first fetch happens now so that a denied AssumeRole fails here, not at the first call.
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="assume-role"
    )
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
    log.info(
        "AWS session in %s as role %s (session name %s)",
        base.region_name,
        spec.assume_role_arn,
        spec.assume_role_session_name,
    )
    return boto3.Session(botocore_session=core, region_name=base.region_name)


class _Fixed(CredentialProvider):
    """Hands botocore the assumed role's self-refreshing credentials."""

    METHOD = "assume-role"

    def __init__(self, credentials: RefreshableCredentials):
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials
