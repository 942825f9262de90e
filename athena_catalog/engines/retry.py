"""Retry AWS calls on throttling and transient network errors, within a bounded total time.

botocore's own retries give up after a few attempts; a crawl of thousands of tables under a
shared account quota needs a longer, time-bounded budget, and one clear error when it runs out.
Backoff is exponential with full jitter (sleep ~ U(0, min(cap, base * 2**n))) so that parallel
listing threads spread out instead of retrying in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from athena_catalog.engines.records import EngineError

T = TypeVar("T")

# Error codes AWS services use for "slow down" and for failures worth retrying as is.
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerException",
        "InternalServiceException",  # Glue
        "OperationTimeoutException",  # Glue
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
# Error codes for "you may not": a listing denied falls back, a check names the IAM action.
ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
NETWORK_ERRORS: tuple[type[Exception], ...] = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError, else None."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") or None
    return None


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx and network errors are transient; everything else is final."""
    if isinstance(exc, NETWORK_ERRORS):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error_code(exc) in RETRYABLE_CODES or status in RETRYABLE_STATUS
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter exponential backoff that stops once ``max_seconds`` would be exceeded.

    ``sleep``, ``clock`` and ``jitter`` (uniform in [0, 1)) are injectable so tests take no time.
    """

    max_seconds: float = 60.0
    base_delay: float = 0.2
    max_delay: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int) -> float:
        """Sleep before retry number ``attempt`` (1-based): uniform in [0, capped exponential]."""
        return self.jitter() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))

    def call(self, operation: str, endpoint: str, fn: Callable[[], T]) -> T:
        """Run ``fn``; retry transient failures; raise EngineError naming operation and endpoint."""
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except (ClientError, BotoCoreError) as exc:
                code = error_code(exc)
                if not is_retryable(exc):
                    raise EngineError(
                        f"{operation} at {endpoint} failed: {exc}", code=code, operation=operation
                    ) from exc
                pause = self.delay(attempt)
                elapsed = self.clock() - start
                if elapsed + pause > self.max_seconds:
                    raise EngineError(
                        f"{operation} at {endpoint} still failing after {attempt} attempts"
                        f" in {elapsed:.1f}s (retry budget {self.max_seconds:g}s);"
                        f" last error: {exc}",
                        code=code,
                        operation=operation,
                    ) from exc
                self.sleep(pause)
