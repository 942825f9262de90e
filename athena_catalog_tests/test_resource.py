"""AthenaResource: config, credentials sources, assumed role, engines, and secrets kept out of
repr, str, errors, the Dagster event log and log lines."""

import logging
from pathlib import Path

import boto3
import dagster as dg
import pytest
import yaml

from athena_catalog.aws_session import (
    CREDENTIAL_FIELDS,
    ConfigError,
    SessionSpec,
    build_session,
    sts_client,
)
from athena_catalog.defs.resources import AthenaResource
from athena_catalog_tests.aws_fakes import (
    CANARY,
    ROLE_ARN,
    TOKEN_CANARY,
    write_profile,
)


def on_moto(endpoint: str, **fields: object) -> AthenaResource:
    return AthenaResource(engine="aws", endpoint_url=endpoint, sts_endpoint_url=endpoint, **fields)


def run_asset(
    resource: AthenaResource, body, run_config: dict | None = None
) -> tuple[bool, str, list]:
    """Materialize one asset that calls ``body(athena, context)``, with ``run_config``.

    Returns success, the run's whole event log as text (user log lines included) and what
    ``body`` returned.
    """
    returned: list = []

    @dg.asset
    def probe(context: dg.AssetExecutionContext, athena: AthenaResource) -> None:
        returned.append(body(athena, context))

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [probe],
        resources={"athena": resource},
        instance=instance,
        run_config=run_config,
        raise_on_error=False,
    )
    log = "\n".join(
        f"{entry.user_message} {entry.dagster_event}" for entry in instance.all_logs(result.run_id)
    )
    return result.success, log, returned


def test_every_field_is_described() -> None:
    missing = [n for n, f in AthenaResource.model_fields.items() if not f.description]
    assert missing == []


def test_secret_fields_are_marked_secret_for_the_ui() -> None:
    """connection_arguments is not: the UI would scaffold the whole dict as '********'."""
    fields = AthenaResource.to_config_schema().as_field().config_type.fields
    assert {name for name, f in fields.items() if f.is_secret} == {
        "aws_secret_access_key",
        "aws_session_token",
    }


def launchpad_config(resource: AthenaResource, body) -> dict:
    """The run config the launchpad opens with for an asset calling ``body``: Dagster's own
    scaffold of the job's defaults, which masks every secret field's default as '********'."""
    from dagster._core.snap.snap_to_yaml import default_values_yaml_from_type_snap

    @dg.asset
    def probe(athena: AthenaResource) -> None:
        body(athena)

    job = dg.Definitions(
        assets=[probe], resources={"athena": resource}
    ).resolve_implicit_global_asset_job_def()
    snap = job.get_job_snapshot()
    schema = snap.config_schema_snapshot
    root = schema.get_config_snap(snap.mode_def_snaps[0].root_config_key)
    return yaml.safe_load(default_values_yaml_from_type_snap(schema, root))


def signed_credentials(athena: AthenaResource, context: dg.AssetExecutionContext | None = None):
    """The credentials botocore signs with, after a real STS call over HTTP."""
    session = athena.boto3_session()
    sts_client(session, athena.session_spec()).get_caller_identity()
    creds = session.get_credentials()
    return creds.access_key, creds.secret_key, creds.token


def launch(resource: AthenaResource) -> tuple[bool, str, list]:
    """``signed_credentials`` run as the launchpad's Launch Run does, with its scaffold."""
    run_config = launchpad_config(resource, signed_credentials)
    secrets = run_config["resources"]["athena"]["config"]
    assert secrets["aws_secret_access_key"] == secrets["aws_session_token"] == "********"
    return run_asset(resource, signed_credentials, run_config)


def test_launchpad_placeholder_keeps_the_deployed_envvar_secrets(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_KEY_ID", "AKIDFROMENVVAR")
    monkeypatch.setenv("CATALOG_SECRET", CANARY)
    monkeypatch.setenv("CATALOG_TOKEN", TOKEN_CANARY)
    resource = on_moto(
        moto_endpoint,
        aws_access_key_id=dg.EnvVar("CATALOG_KEY_ID"),
        aws_secret_access_key=dg.EnvVar("CATALOG_SECRET"),
        aws_session_token=dg.EnvVar("CATALOG_TOKEN"),
    )
    success, log, returned = launch(resource)
    assert success, log
    assert returned == [("AKIDFROMENVVAR", CANARY, TOKEN_CANARY)]


def test_launchpad_placeholder_without_deployed_secrets_means_the_chain(
    moto_endpoint: str,
) -> None:
    """The default deployment configures no secret: the placeholder leaves boto3's chain (here
    the fake keys moto_endpoint exports) in charge, and never becomes a credential."""
    success, log, returned = launch(on_moto(moto_endpoint))
    assert success, log
    assert returned == [("testing", "testing", None)]


def test_launchpad_placeholder_with_literal_deployed_secrets(moto_endpoint: str) -> None:
    resource = on_moto(
        moto_endpoint,
        aws_access_key_id="AKIDLITERAL",
        aws_secret_access_key=CANARY,
        aws_session_token=TOKEN_CANARY,
    )
    success, log, returned = launch(resource)
    assert success, log
    assert returned == [("AKIDLITERAL", CANARY, TOKEN_CANARY)]


def test_launchpad_placeholder_with_an_unset_envvar_names_field_and_variable(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CATALOG_SECRET_UNSET", raising=False)
    resource = on_moto(moto_endpoint, aws_secret_access_key=dg.EnvVar("CATALOG_SECRET_UNSET"))
    success, log, _ = launch(resource)
    assert not success
    assert "aws_secret_access_key: environment variable CATALOG_SECRET_UNSET is not set" in log


@pytest.mark.parametrize("value", ["********", "***", "*"])
@pytest.mark.parametrize("field", sorted(CREDENTIAL_FIELDS))
def test_a_placeholder_never_reaches_botocore(field: str, value: str, clean_env: None) -> None:
    """Given in code, or past the launchpad some other way, a mask is refused by name before
    any session exists."""
    with pytest.raises(ConfigError, match=rf"^{field} is a masked placeholder") as raised:
        build_session(SessionSpec(region_name="eu-west-1", **{field: value}))
    assert value not in str(raised.value).split(":")[0]
    resource = AthenaResource(engine="aws", region_name="eu-west-1", **{field: value})
    with pytest.raises(ConfigError, match=rf"^{field} is a masked placeholder"):
        resource.validate_config()


def test_repr_and_str_mask_secrets() -> None:
    resource = AthenaResource(
        aws_secret_access_key=CANARY,
        aws_session_token=TOKEN_CANARY,
        connection_arguments={"kms_key": CANARY},
        connection_options={"poll_interval": "0.5"},
    )
    for text in (repr(resource), str(resource)):
        assert CANARY not in text and TOKEN_CANARY not in text
        assert "aws_secret_access_key='***'" in text
        assert "{'kms_key': '***'}" in text and "{'poll_interval': '0.5'}" in text


def test_unknown_engine_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"engine must be one of \('aws', 'local'\)"):
        AthenaResource(engine="snowflake").validate_config()


def test_aws_without_region_names_the_field(clean_env: None) -> None:
    resource = AthenaResource(engine="aws", aws_secret_access_key=CANARY)
    with pytest.raises(ConfigError, match="region_name") as raised:
        resource.validate_config()
    assert CANARY not in str(raised.value)
    # In Dagster, resource init fails with the same message.
    success, log, _ = run_asset(resource, lambda athena, context: None)
    assert not success
    assert "region_name is required" in log and CANARY not in log


def test_region_from_profile_is_enough(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_profile(monkeypatch, tmp_path, "catalog", "eu-west-3", "AKIDPROFILE")
    AthenaResource(engine="aws", profile_name="catalog").validate_config()


def test_envvar_credentials_resolve_at_run_time_and_stay_hidden(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CATALOG_KEY_ID", "AKIDFROMENVVAR")
    monkeypatch.setenv("CATALOG_SECRET", CANARY)
    monkeypatch.setenv("CATALOG_TOKEN", TOKEN_CANARY)
    resource = on_moto(
        moto_endpoint,
        aws_access_key_id=dg.EnvVar("CATALOG_KEY_ID"),
        aws_secret_access_key=dg.EnvVar("CATALOG_SECRET"),
        aws_session_token=dg.EnvVar("CATALOG_TOKEN"),
    )

    def body(athena: AthenaResource, context: dg.AssetExecutionContext):
        context.log.info(f"resource: {athena!r} / {athena}")
        session = athena.boto3_session()
        creds = session.get_credentials()
        sts_client(session, athena.session_spec()).get_caller_identity()
        with athena.get_engine() as engine:
            engine.list_databases("AwsDataCatalog")
        return creds.access_key, creds.secret_key, creds.token

    caplog.set_level(logging.DEBUG)
    success, log, returned = run_asset(resource, body)
    assert success
    assert returned == [("AKIDFROMENVVAR", CANARY, TOKEN_CANARY)]
    everything = log + caplog.text
    assert "resource: AthenaResource(" in everything
    assert CANARY not in everything and TOKEN_CANARY not in everything


def test_profile_credentials(
    moto_endpoint: str, clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_profile(monkeypatch, tmp_path, "catalog", "eu-west-3", "AKIDPROFILE")
    session = on_moto(moto_endpoint, profile_name="catalog").boto3_session()
    assert session.region_name == "eu-west-3"
    assert session.get_credentials().access_key == "AKIDPROFILE"


def test_sts_is_not_sent_to_the_athena_endpoint(clean_env: None) -> None:
    resource = AthenaResource(
        engine="aws", region_name="eu-west-1", endpoint_url="https://athena.vpce.example"
    )
    sts = sts_client(resource.boto3_session(), resource.session_spec())
    assert sts.meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"


def test_glue_calls_use_the_assumed_role(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("glue", endpoint_url=moto_endpoint).create_database(
        DatabaseInput={"Name": "sales"}
    )
    signed_with: list[str] = []
    sessions: list[boto3.Session] = []
    make_session = AthenaResource.boto3_session

    def recording_session(self: AthenaResource) -> boto3.Session:
        session = make_session(self)
        session.events.register(
            "before-send.glue",
            lambda request, **_: signed_with.append(
                request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0]
            ),
        )
        sessions.append(session)
        return session

    monkeypatch.setattr(AthenaResource, "boto3_session", recording_session)
    resource = on_moto(moto_endpoint, assume_role_arn=ROLE_ARN)
    with resource.get_engine() as engine:
        assert [d.name for d in engine.list_databases("AwsDataCatalog")] == ["sales"]

    (session,) = sessions
    assumed_key = session.get_credentials().access_key
    assert signed_with == [assumed_key] and assumed_key != "testing"
    identity = sts_client(session, resource.session_spec()).get_caller_identity()
    assert identity["Arn"].endswith(":assumed-role/catalog-reader/AthenaCatalogSession")


def test_local_engine_is_read_only_and_closed(tmp_path: Path) -> None:
    from athena_catalog.engines.local import LocalEngine

    LocalEngine(tmp_path, read_only=False).close()
    with AthenaResource(local_home=str(tmp_path)).get_engine() as engine:
        assert engine.kind == "local" and engine.read_only
        assert [c.name for c in engine.list_data_catalogs()] == ["AwsDataCatalog"]
    with pytest.raises(Exception, match="closed"):
        engine.list_databases("AwsDataCatalog")


def test_local_home_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_HOME", str(tmp_path))
    assert AthenaResource().local_home_path() == tmp_path
    monkeypatch.delenv("ATHENA_CATALOG_HOME")
    assert AthenaResource().local_home_path() == Path(".athena_catalog")


def test_resource_from_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    from athena_catalog.defs.resources import athena_resource_from_env
    from athena_catalog.settings import ENV_FIELDS

    for env in ENV_FIELDS.values():
        monkeypatch.delenv(env, raising=False)
    assert athena_resource_from_env().engine == "local"  # the embedded default
    monkeypatch.setenv("ATHENA_CATALOG_ENGINE", "aws")
    monkeypatch.setenv("ATHENA_CATALOG_WORK_GROUP", "etl")
    monkeypatch.setenv("ATHENA_CATALOG_S3_STAGING_DIR", "s3://results/catalog/")
    resource = athena_resource_from_env(work_group="adhoc", database=None)
    assert (resource.engine, resource.work_group) == ("aws", "adhoc")
    assert resource.s3_staging_dir == "s3://results/catalog/"
    assert resource.database is None
