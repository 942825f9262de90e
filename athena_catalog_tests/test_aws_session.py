"""The boto3 session: region chain, profiles, assumed role over moto's STS, secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from athena_catalog import aws_session
from athena_catalog.aws_session import ConfigError, SessionSpec, build_session, sts_client
from athena_catalog_tests.aws_fakes import (
    CANARY,
    ROLE_ARN,
    TOKEN_CANARY,
    write_profile,
)


def test_repr_masks_secrets_but_shows_they_are_set() -> None:
    spec = SessionSpec(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=CANARY,
        aws_session_token=TOKEN_CANARY,
    )
    text = repr(spec)
    assert CANARY not in text and TOKEN_CANARY not in text
    assert "aws_secret_access_key='***'" in text and "aws_session_token='***'" in text
    assert "aws_access_key_id='AKIDEXAMPLE'" in text
    assert "aws_session_token=None" in repr(SessionSpec())


def test_no_region_anywhere_names_the_field(clean_env: None) -> None:
    with pytest.raises(ConfigError, match="region_name") as raised:
        build_session(SessionSpec(aws_access_key_id="AKID", aws_secret_access_key=CANARY))
    assert CANARY not in str(raised.value)


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_from_environment(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "eu-central-1")
    assert build_session(SessionSpec()).region_name == "eu-central-1"


def test_configured_region_wins(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert build_session(SessionSpec(region_name="ap-south-1")).region_name == "ap-south-1"


def test_profile_gives_region_and_credentials(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_profile(monkeypatch, tmp_path, "catalog", "eu-west-3", "AKIDPROFILE")
    session = build_session(SessionSpec(profile_name="catalog"))
    credentials = session.get_credentials()
    assert session.region_name == "eu-west-3"
    assert (credentials.access_key, credentials.secret_key) == ("AKIDPROFILE", CANARY)


def test_sts_endpoint_from_field_or_environment(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = build_session(SessionSpec(region_name="us-east-1"))
    spec = SessionSpec(sts_endpoint_url="http://sts.local:1")
    assert sts_client(session, spec).meta.endpoint_url == "http://sts.local:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://sts.env:2")
    assert sts_client(session, SessionSpec()).meta.endpoint_url == "http://sts.env:2"


def test_assume_role_through_moto_sts(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict] = []
    make_sts = aws_session.sts_client

    def recording_sts(*args, **kwargs):
        client = make_sts(*args, **kwargs)
        client.meta.events.register(
            "provide-client-params.sts.AssumeRole", lambda params, **_: sent.append(params)
        )
        return client

    monkeypatch.setattr(aws_session, "sts_client", recording_sts)
    spec = SessionSpec(
        assume_role_arn=ROLE_ARN,
        assume_role_session_name="catalog-test",
        assume_role_source_identity="alice",
        sts_endpoint_url=moto_endpoint,
    )
    session = build_session(spec)

    identity = sts_client(session, spec).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/catalog-reader/catalog-test"
    credentials = session.get_credentials()
    assert credentials.method == "assume-role"
    assert credentials.access_key != "testing"  # not the base credentials of moto_endpoint
    assert sent == [
        {"RoleArn": ROLE_ARN, "RoleSessionName": "catalog-test", "SourceIdentity": "alice"}
    ]
