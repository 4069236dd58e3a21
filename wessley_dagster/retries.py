"""Which failures a step retries: only transient ones (a connection refused, reset or timed out,
a server that is starting or overloaded, a 429 or 5xx). Anything else (a read-only or full disk,
a refused password, a bug) fails the step at once, naming the stage and the cause."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from dagster import Failure, get_dagster_logger
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError
from postgrest import APIError
from sqlalchemy.exc import OperationalError

from wessley_dagster.domain.embedders import EmbeddingError

# PostgREST's own codes for a database it cannot reach or that timed out, and Postgres' classes
# for a connection lost, a server shutting down and a serialization failure: a later try may pass.
_TRANSIENT_API_CODES = ("PGRST000", "PGRST001", "PGRST002", "PGRST003", "08", "57P", "40001", "40P01")
_TRANSIENT_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.ETIMEDOUT,
    errno.EPIPE,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EAGAIN,
}


def _one_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ServiceUnavailable | SessionExpired | TransientError | BotoConnectionError | TimeoutError):
        return True
    if isinstance(exc, OperationalError | httpx.TransportError):  # the database or its REST API is unreachable
        return True
    if isinstance(exc, APIError):  # the REST metadata store's (supabase-py, PostgREST)
        return str(exc.code or "").startswith(_TRANSIENT_API_CODES)
    if isinstance(exc, EmbeddingError):
        return exc.retryable
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status == 429 or status >= 500
    if isinstance(exc, ConnectionError):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


def is_transient(exc: BaseException) -> bool:
    """Whether the error, or any error it was raised from, is one a later try may not meet."""
    seen: BaseException | None = exc
    while seen is not None:
        if _one_is_transient(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def retry_only_transient(stage: str) -> Iterator[None]:
    """Let transient errors reach the step's RetryPolicy; turn any other into a Failure that is
    not retried and says which stage failed and why."""
    try:
        yield
    except Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            # Dagster's own retry notice names only the step; the cause goes to the run's log.
            get_dagster_logger().warning(f"{stage}: transient {type(exc).__name__}: {exc}; the step will be retried")
            raise
        raise Failure(description=f"{stage}: {type(exc).__name__}: {exc}", allow_retries=False) from exc
