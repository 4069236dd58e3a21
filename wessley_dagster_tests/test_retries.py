"""Only transient failures are retried; each retry of a graph write reconnects, restarting the
embedded server if it is this home's and down; a permanent failure fails the step at once."""

import errno
import os
import signal

import httpx
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from dagster import DagsterEventType
from neo4j.exceptions import ServiceUnavailable
from postgrest import APIError
from sqlalchemy.exc import OperationalError

from wessley_dagster.domain.embedders import EmbeddingError
from wessley_dagster.resources.graph import ArcadeDBResource
from wessley_dagster.retries import is_transient
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, resources_for, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.servers import free_port


def chained(outer: Exception, cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception as exc:
            raise outer from exc
    except Exception as raised:
        return raised


def s3_error(status: int) -> ClientError:
    return ClientError({"Error": {"Code": str(status)}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ServiceUnavailable("gone"), True),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True),
        (ConnectionResetError(errno.ECONNRESET, "reset"), True),
        (TimeoutError("slow"), True),
        (OperationalError("select 1", {}, Exception("server closed the connection")), True),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (s3_error(503), True),
        (EmbeddingError("HTTP 429 after 5 tries", retryable=True), True),
        (httpx.ConnectError("[Errno 111] Connection refused"), True),
        (APIError({"code": "PGRST001", "message": "Database client error. Retrying the connection."}), True),
        (APIError({"code": "57P01", "message": "terminating connection due to administrator command"}), True),
        (chained(RuntimeError("no storage backend accepted k"), ConnectionResetError(errno.ECONNRESET, "x")), True),
        (PermissionError(errno.EACCES, "read-only"), False),
        (OSError(errno.ENOSPC, "No space left on device"), False),
        (NotADirectoryError(errno.ENOTDIR, "not a directory"), False),
        (s3_error(403), False),
        (EmbeddingError("HTTP 401", retryable=False), False),
        (APIError({"code": "PGRST301", "message": "JWT invalid"}), False),
        (APIError({"code": "23503", "message": "violates foreign key constraint"}), False),
        (chained(RuntimeError("no storage backend accepted k"), OSError(errno.EROFS, "read-only fs")), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_transient(error, transient):
    assert is_transient(error) is transient


def test_a_permanent_storage_failure_fails_at_once_naming_stage_and_cause(env, instance):
    from wessley_dagster_tests.test_pipeline import run

    key = stage_bundle(SYNTHETIC, uploads_dir(env), unique("proj"), "nowhere")
    add_partitions(instance, key)
    home = uploads_dir(env).parent
    (home / "artifacts").write_text("a file where the artifacts folder should be")  # like a read-only or full disk
    result = run(key, resources_for(env), instance, raise_on_error=False)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.user_failure_data.description
    assert failure.step_key == "bundle" and message.startswith("storing bundle: RuntimeError: no storage backend")


def test_a_graph_retry_reconnects_and_restarts_this_homes_embedded_server(tmp_path):
    graph = ArcadeDBResource(home_dir=str(tmp_path / "arcadedb"), bolt_port=free_port(), http_port=free_port())
    server = graph.server()
    try:
        assert graph.store.counts("p", "j") is not None
        os.kill(int(server.pid_file.read_text()), signal.SIGKILL)  # the server dies mid-run
        with pytest.raises(ServiceUnavailable):
            graph.store.counts("p", "j")
        graph.reset()  # what the graph IO manager does before its step is retried
        assert graph.store.counts("p", "j") is not None and server.is_up()
    finally:
        graph.reset()
        server.stop()
