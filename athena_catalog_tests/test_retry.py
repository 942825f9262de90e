"""RetryPolicy on real botocore exceptions, with a fake clock so backoff costs no time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from athena_catalog.engines.records import EngineError
from athena_catalog.engines.retry import RetryPolicy, error_code, is_retryable

ENDPOINT = "https://glue.eu-west-1.amazonaws.com"


def client_error(code: str, status: int = 400, operation: str = "GetTables") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class FakeClock:
    """``sleep`` advances ``now``; records every pause."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, max_seconds: float = 60.0, jitter: float = 1.0) -> RetryPolicy:
        return RetryPolicy(
            max_seconds=max_seconds,
            base_delay=0.5,
            max_delay=4.0,
            sleep=self.sleep,
            clock=lambda: self.now,
            jitter=lambda: jitter,
        )


def failing(errors: list[Exception], result: str = "ok") -> Callable[[], str]:
    """A call that raises ``errors`` in turn, then returns ``result``; counts its attempts."""

    def call() -> str:
        call.attempts += 1  # type: ignore[attr-defined]
        if errors:
            raise errors.pop(0)
        return result

    call.attempts = 0  # type: ignore[attr-defined]
    return call


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ThrottlingException"),
        client_error("TooManyRequestsException"),
        client_error("Throttling"),
        client_error("RequestLimitExceeded"),
        client_error("SlowDown", 503),
        client_error("SomethingNew", 429),
        client_error("InternalServiceException", 500),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
    ],
    ids=lambda e: error_code(e) or type(e).__name__,
)
def test_transient_errors_are_retried_until_success(exc: Exception) -> None:
    assert is_retryable(exc)
    clock = FakeClock()
    call = failing([exc, exc, exc])
    assert clock.policy().call("glue:GetTables", ENDPOINT, call) == "ok"
    assert call.attempts == 4
    # full jitter with jitter()=1 hits the exponential ceiling: 0.5, 1, 2
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped_and_jittered() -> None:
    policy = FakeClock().policy(jitter=0.25)
    assert [policy.delay(n) for n in range(1, 7)] == [0.125, 0.25, 0.5, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "EntityNotFoundException", "InvalidInputException"]
)
def test_final_client_errors_raise_at_once_with_code(code: str) -> None:
    clock = FakeClock()
    call = failing([client_error(code)])
    with pytest.raises(EngineError) as raised:
        clock.policy().call("glue:GetTables", ENDPOINT, call)
    assert call.attempts == 1 and clock.sleeps == []
    assert raised.value.code == code
    assert raised.value.operation == "glue:GetTables"
    assert "glue:GetTables" in str(raised.value) and ENDPOINT in str(raised.value)
    assert isinstance(raised.value.__cause__, ClientError)


def test_other_botocore_errors_are_final_and_wrapped() -> None:
    call = failing([NoCredentialsError()])
    with pytest.raises(EngineError, match="Unable to locate credentials"):
        FakeClock().policy().call("athena:ListDataCatalogs", ENDPOINT, call)
    assert call.attempts == 1


def test_gives_up_when_the_time_budget_would_be_exceeded() -> None:
    clock = FakeClock()
    error = client_error("ThrottlingException")
    call = failing([error] * 100)
    with pytest.raises(EngineError) as raised:
        clock.policy(max_seconds=10).call("glue:GetTables", ENDPOINT, call)
    # sleeps 0.5 + 1 + 2 + 4 = 7.5; the next 4 s pause would end at 11.5 > 10
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert call.attempts == 5
    message = str(raised.value)
    assert "glue:GetTables" in message and ENDPOINT in message
    assert "5 attempts" in message and "ThrottlingException" in message
    assert raised.value.code == "ThrottlingException"


def test_counts_time_spent_inside_calls() -> None:
    """A slow failing call uses up the budget even without sleeps."""
    clock = FakeClock()

    def slow_timeout() -> str:
        clock.now += 6
        raise ReadTimeoutError(endpoint_url=ENDPOINT)

    with pytest.raises(EngineError, match="2 attempts"):
        clock.policy(max_seconds=10).call("glue:GetTables", ENDPOINT, slow_timeout)
    assert clock.sleeps == [0.5]
