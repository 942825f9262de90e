"""Helpers shared by the resource, session and test-connection tests (fixtures stay in conftest).

Denials are simulated with a botocore ``before-call`` hook: the real request is still built and
validated against the service model, then the hook answers one operation with an AWS-shaped
error while every other call goes to moto over HTTP. moto does not enforce IAM by default, and a
Stubber would need every other response of that client queued by hand.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse

from athena_catalog import aws_session

CANARY = "SECRET-canary-1234"
TOKEN_CANARY = "TOKEN-canary-5678"
ROLE_ARN = "arn:aws:iam::123456789012:role/catalog-reader"


def isolate_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS variables, empty config files, no instance metadata: only what a test sets."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ATHENA_S3_STAGING_DIR",
        "AWS_ATHENA_WORK_GROUP",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        empty = tmp_path / name.lower()
        empty.write_text("")
        monkeypatch.setenv(name, str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def write_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, region: str, key_id: str
) -> None:
    """A named profile in temporary AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE."""
    config = tmp_path / "config"
    config.write_text(f"[profile {name}]\nregion = {region}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[{name}]\naws_access_key_id = {key_id}\naws_secret_access_key = {CANARY}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))


def response(parsed: dict, status: int = 200) -> tuple[AWSResponse, dict]:
    """What a ``before-call`` hook returns: the HTTP response and its parsed body."""
    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://simulated", status, {}, None), parsed


def error(code: str, status: int = 400) -> tuple[AWSResponse, dict]:
    return response({"Error": {"Code": code, "Message": "simulated"}}, status)


def answer(session: boto3.Session, event: str, response: tuple[AWSResponse, dict]) -> None:
    """Clients made from ``session`` afterwards answer ``event`` (``glue.GetTables``; ``sts``
    for every STS call; ``""`` for every call) with ``response`` instead of sending it."""

    def hook(**_: Any) -> tuple[AWSResponse, dict]:
        return response

    session.events.register(f"before-call.{event}".rstrip("."), hook)


def answer_in_sessions(
    monkeypatch: pytest.MonkeyPatch, event: str, response: tuple[AWSResponse, dict]
) -> None:
    """``answer`` on every base session the code under test builds (before any AssumeRole)."""
    original = aws_session.base_session

    def hooked(spec: aws_session.SessionSpec) -> boto3.Session:
        session = original(spec)
        answer(session, event, response)
        return session

    monkeypatch.setattr(aws_session, "base_session", hooked)


class _Body:
    """The raw stream botocore reads an HTTP response body from."""

    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def http_response(status: int, body: dict, headers: dict[str, str] | None = None) -> AWSResponse:
    """An HTTP response as it comes off the wire: status, headers, JSON bytes."""
    data = json.dumps(body).encode()
    base = {"Content-Type": "application/x-amz-json-1.1", "Content-Length": str(len(data))}
    return AWSResponse("http://fault", status, {**base, **(headers or {})}, _Body(data))


def http_error(code: str, status: int = 400) -> AWSResponse:
    """AWS's JSON error answer (``__type`` for JSON services, the header for REST-JSON)."""
    body = {"__type": code, "message": f"{code} (injected)", "Message": f"{code} (injected)"}
    return http_response(status, body, {"x-amzn-ErrorType": code})


class HttpFaults:
    """A ``before-send`` hook: chosen operations get an HTTP answer in moto's place.

    The request was built, signed and is about to go on the wire; the answer goes through
    botocore's own HTTP parsing and retry handling, so the engine sees exactly what it would
    see from AWS. ``rules`` maps an operation name (``GetTables``) to a function of the
    request's JSON body that returns an AWSResponse, or None to let moto answer.
    """

    def __init__(self) -> None:
        self.rules: dict[str, Callable[[dict[str, Any]], AWSResponse | None]] = {}
        self.answered: Counter[str] = Counter()

    def deny(self, operation: str, code: str = "AccessDeniedException") -> None:
        self.rules[operation] = lambda body: http_error(code)

    def throttle(self, operation: str) -> None:
        self.rules[operation] = lambda body: http_error("ThrottlingException")

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        rule = self.rules.get(operation)
        if rule is None:
            return None
        body = request.body
        text = body.decode() if isinstance(body, bytes) else body or ""
        answer = rule(json.loads(text) if text.strip().startswith("{") else {})
        if answer is not None:
            self.answered[operation] += 1
        return answer


def athena_result(columns: list[tuple[str, str]], *rows: tuple[str | None, ...]) -> dict[str, Any]:
    """One query result for moto's static query-results API: ``columns`` as (name, type), the
    header row Athena sends first, then ``rows`` (``None`` is a NULL)."""
    info = [
        {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": name,
            "Label": name,
            "Type": type_,
            "Precision": 0,
            "Scale": 0,
            "Nullable": "UNKNOWN",
            "CaseSensitive": False,
        }
        for name, type_ in columns
    ]
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in rows]
    return {"rows": [header, *data], "column_info": info}


def answer_queries(endpoint: str, results: list[dict[str, Any]]) -> None:
    """moto's server answers the next queries with ``results`` (from :func:`athena_result`),
    one each in order; otherwise a query returns no rows."""
    requests.post(
        f"{endpoint}/moto-api/static/athena/query-results",
        json={"results": results},
        timeout=10,
    ).raise_for_status()


def answer_select_one(endpoint: str, answers: int = 1) -> None:
    """moto's server answers each of the next ``answers`` queries with one integer column
    holding 1."""
    answer_queries(endpoint, [athena_result([("_col0", "integer")], ("1",))] * answers)


def glue_tables(
    session: boto3.Session, endpoint: str, database: str, *tables: dict[str, Any]
) -> None:
    """A Glue database on moto holding ``tables`` (each a TableInput of Glue's CreateTable)."""
    glue = session.client("glue", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": database})
    for table in tables:
        glue.create_table(DatabaseName=database, TableInput=table)


@dataclass(frozen=True)
class SentStatement:
    """One StartQueryExecution as it went on the wire: its SQL and Authorization header."""

    sql: str
    authorization: str


class AnswerEachStatement:
    """A ``before-send`` hook on Athena's StartQueryExecution: records each statement as
    signed and, before it reaches moto, queues moto's answer made from its SQL by ``answer``
    (None: no rows). moto assigns queued results when a query starts, so a statement whose
    column layout a test cannot know beforehand (a bundle of metrics) still gets its own."""

    def __init__(self, endpoint: str, answer: Callable[[str], dict[str, Any] | None]):
        self.endpoint, self.answer = endpoint, answer
        self.sent: list[SentStatement] = []

    def __call__(self, request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        sql = json.loads(body)["QueryString"]
        header = request.headers.get("Authorization", b"")
        self.sent.append(
            SentStatement(sql, header.decode() if isinstance(header, bytes) else str(header))
        )
        result = self.answer(sql)
        if result is not None:
            answer_queries(self.endpoint, [result])
