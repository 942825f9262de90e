"""The Dagster resources every domain shares: `AthenaResource` (the engine: aws or local) and
`CatalogStoreResource` (where the catalog lives).

Secrets: pass ``aws_secret_access_key`` / ``aws_session_token`` as ``dg.EnvVar(...)`` or leave
them unset to use boto3's chain (env vars, profiles, SSO, instance roles). Both fields are marked
secret, so the launchpad scaffolds them as ``'********'``; that placeholder (any all-asterisk
string) in run config means "as deployed", never a credential. ``repr``/``str`` of the resource
show ``'***'``. A secret typed into run config at launch is stored with the run in clear text:
don't.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import dagster as dg
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field
from pydantic.json_schema import JsonDict

from athena_catalog import settings
from athena_catalog.aws_session import (
    DEFAULT_ROLE_SESSION_NAME,
    MASK,
    SECRET_FIELDS,
    ConfigError,
    SessionSpec,
    base_session,
    build_session,
    is_placeholder,
    mask,
)
from athena_catalog.settings import ENGINES
from athena_catalog.store.connection import CatalogStore, redact_url

if TYPE_CHECKING:
    from athena_catalog.engines.aws import AwsSettings
    from athena_catalog.engines.contract import Engine

_SECRET: JsonDict = {"dagster__is_secret": True}


class AthenaResource(ResourceWithBoto3Configuration):
    """Connection settings for Amazon Athena and the Glue Data Catalog, or the embedded engine.

    Field names follow OpenMetadata's Athena connector. Only ``region_name`` is required for
    ``engine="aws"``, and it may come from AWS_REGION / AWS_DEFAULT_REGION or the profile.
    """

    aws_secret_access_key: str | None = Field(
        default=None,
        description="AWS secret access key. Use dg.EnvVar; unset means boto3's credential chain.",
        json_schema_extra=_SECRET,
    )
    aws_session_token: str | None = Field(
        default=None,
        description="Session token of temporary credentials. Use dg.EnvVar.",
        json_schema_extra=_SECRET,
    )
    engine: str = Field(
        default="local",
        description=(
            "'aws' reads Athena and Glue through boto3 and PyAthena; 'local' reads the embedded "
            "engine in local_home (demo and tests)."
        ),
    )
    assume_role_arn: str | None = Field(
        default=None,
        description="IAM role to assume (STS AssumeRole) before any Glue or Athena call.",
    )
    assume_role_session_name: str = Field(
        default=DEFAULT_ROLE_SESSION_NAME,
        description="Role session name: tells this catalog's calls apart in CloudTrail.",
    )
    assume_role_source_identity: str | None = Field(
        default=None,
        description="SourceIdentity sent with AssumeRole, kept in CloudTrail across role chains.",
    )
    sts_endpoint_url: str | None = Field(
        default=None,
        description=(
            "STS endpoint for AssumeRole and GetCallerIdentity. endpoint_url is never used for "
            "STS; unset means AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or AWS's regional STS."
        ),
    )
    database: str | None = Field(
        default=None, description="Restrict the crawl to this one database (schema)."
    )
    s3_staging_dir: str | None = Field(
        default=None,
        description="s3://bucket/prefix/ for query results; optional if the work group sets one.",
    )
    work_group: str | None = Field(
        default=None, description="Athena work group for queries (default: 'primary')."
    )
    catalog_id: str | None = Field(
        default=None,
        description="Glue Data Catalog id (an AWS account id) when it is not the caller's own.",
    )
    connection_options: dict[str, str] = Field(
        default={}, description="Extra key/value options passed to PyAthena's connect()."
    )
    # Not marked secret for Dagster: the UI would scaffold the whole dict as the string
    # '********', which its own validation rejects. Give secret values as dg.EnvVar, per value.
    connection_arguments: dict[str, str] = Field(
        default={},
        description=(
            "Extra key/value arguments passed to PyAthena's connect(). Give a secret value as "
            "dg.EnvVar; every value is masked in logs and reprs."
        ),
    )
    max_workers: int = Field(
        default=8, ge=1, le=256, description="Concurrent Glue/Athena calls in a crawl (1-256)."
    )
    retry_max_seconds: int = Field(
        default=60,
        ge=0,
        le=86_400,
        description="Give up retrying a throttled call after this many seconds (0-86400).",
    )
    max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="botocore's attempts per HTTP request, the first one included (1-100).",
    )
    local_home: str | None = Field(
        default=None,
        description=(
            "Folder of the embedded engine. Default: $ATHENA_CATALOG_HOME, else .athena_catalog "
            "in the working directory."
        ),
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """pydantic builds both repr() and str() from these: secrets become '***'."""
        for name, value in super().__repr_args__():
            if name in SECRET_FIELDS:
                value = mask(value)
            elif name == "connection_arguments":
                value = dict.fromkeys(value, MASK)
            yield name, value

    def _with_updated_values(self, values: Mapping[str, Any] | None) -> AthenaResource:
        """Dagster's hook that applies run config to the deployed resource.

        The launchpad scaffolds each secret field as '********' (Dagster masks their defaults),
        and launching sends that back as run config. A placeholder there means "as deployed":
        it is replaced by this resource's own value (a dg.EnvVar resolved, or None for boto3's
        chain), so it never overrides the configured secret nor reaches AWS.
        """
        updated = dict(values or {})
        for name in SECRET_FIELDS:
            if is_placeholder(updated.get(name)):
                updated[name] = _deployed_secret(name, getattr(self, name))
        return super()._with_updated_values(updated)  # type: ignore[return-value]

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Fail at resource init, with the field to fix, rather than inside the first asset."""
        self.validate_config()

    def validate_config(self) -> None:
        """Check what can be checked without calling AWS: the engine and, for aws, the region.

        Done lazily, not as a pydantic validator, because fields given as dg.EnvVar hold the
        variable's name until Dagster resolves them.
        """
        if self.engine_kind() == "aws":
            base_session(self.session_spec())

    def engine_kind(self) -> str:
        """``engine`` once checked against ENGINES: ConfigError names the allowed values."""
        if self.engine not in ENGINES:
            raise ConfigError(f"engine must be one of {ENGINES}, not {self.engine!r}")
        return self.engine

    def session_spec(self) -> SessionSpec:
        """The fields ``aws_session`` needs, as plain Python."""
        return SessionSpec(
            region_name=self.region_name,
            profile_name=self.profile_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            assume_role_arn=self.assume_role_arn,
            assume_role_session_name=self.assume_role_session_name,
            assume_role_source_identity=self.assume_role_source_identity,
            sts_endpoint_url=self.sts_endpoint_url,
            use_ssl=self.use_ssl,
            verify=self.verify,
            max_attempts=self.max_attempts,
        )

    def boto3_session(self) -> boto3.Session:
        """A new session, with the role assumed if configured (one AssumeRole per call)."""
        return build_session(self.session_spec())

    def aws_settings(self, region_name: str) -> AwsSettings:
        """The AWS engine's settings; the region is the session's, resolved from the chain."""
        from athena_catalog.engines.aws import AwsSettings

        return AwsSettings(
            region_name=region_name,
            endpoint_url=self.endpoint_url,
            work_group=self.work_group,
            s3_staging_dir=self.s3_staging_dir,
            catalog_id=self.catalog_id,
            connection_options=dict(self.connection_options),
            connection_arguments=dict(self.connection_arguments),
            max_workers=self.max_workers,
            max_attempts=self.max_attempts,
            retry_max_seconds=self.retry_max_seconds,
            use_ssl=self.use_ssl,
            verify=self.verify,
        )

    def local_home_path(self) -> Path:
        return Path(self.local_home) if self.local_home else settings.HOME.read()

    @contextmanager
    def get_engine(self) -> Iterator[Engine]:
        """The configured engine (the local one read-only), closed on exit."""
        if self.engine_kind() == "local":
            from athena_catalog.engines.local import LocalEngine

            engine: Engine = LocalEngine(self.local_home_path(), read_only=True)
        else:
            from athena_catalog.engines.aws import AwsEngine

            session = self.boto3_session()
            engine = AwsEngine(session, self.aws_settings(session.region_name))
        try:
            yield engine
        finally:
            engine.close()


def _deployed_secret(name: str, value: str | None) -> str | None:
    """A deployed secret's value: a dg.EnvVar resolved now, as Dagster would have done."""
    if not isinstance(value, dg.EnvVar):
        return value
    resolved = value.get_value()
    if resolved is None:
        raise ConfigError(f"{name}: environment variable {value.env_var_name} is not set")
    return resolved


def athena_resource_from_env(**overrides: str | None) -> AthenaResource:
    """The resource the environment describes; non-empty ``overrides`` win (CLI flags)."""
    values: dict[str, Any] = settings.resource_fields()
    values.update({field: value for field, value in overrides.items() if value})
    return AthenaResource(**values)


class CatalogStoreResource(dg.ConfigurableResource):
    """Where the catalog lives: an SQLite file by default, PostgreSQL for shared deployments."""

    url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the catalog store. Unset: ATHENA_CATALOG_STORE_URL, else "
            "sqlite:///$ATHENA_CATALOG_HOME/catalog.db. Pass a password through dagster.EnvVar."
        ),
    )

    @contextmanager
    def open(self) -> Iterator[CatalogStore]:
        store = CatalogStore(self.url)
        try:
            yield store
        finally:
            store.close()

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        return [("url", redact_url(self.url) if self.url else None)]
