"""The read API under a real uvicorn on loopback, over a home where two users each ingested one
project: status with signed artifact URLs, live progress, uploads, search, similarity and graph
queries, and who reaches what, tried with a plain HTTP client. Every test runs twice: on the
embedded defaults, and on the real servers the suite starts (Neo4j, PostgreSQL for metadata,
S3Proxy for artifacts)."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from dagster import instance_for_test

from wessley_dagster.api.auth import issue_token
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster.stores.objects import LocalFolderStore
from wessley_dagster.upload_decision import check_upload
from wessley_dagster_tests.conftest import (
    SYNTHETIC,
    add_partitions,
    fresh_database,
    home_env,
    resources_for,
    stage_bundle,
    uploads_dir,
)
from wessley_dagster_tests.servers import ApiServer
from wessley_dagster_tests.test_pipeline import run

SECRET = "api-test-jwt-secret-with-at-least-32-bytes"
# Fixed ids (uuid5 of a name): test ids must be the same in every xdist worker's collection.
ALICE, BOB = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"wessley-test/{name}")) for name in ("alice", "bob"))
URL_TTL = 4


def real_servers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Neo4j for the graph, a fresh PostgreSQL database for metadata, S3Proxy for artifacts."""
    import boto3

    neo4j, s3 = request.getfixturevalue("neo4j"), request.getfixturevalue("s3proxy")
    bucket = f"api-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3.url,
        region_name="us-east-1",
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
    ).create_bucket(Bucket=bucket)
    servers = {
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.auth[0],
        "NEO4J_PASSWORD": neo4j.auth[1],
        "SUPABASE_DB_URL": fresh_database(request.getfixturevalue("postgres")),
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3.url,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": s3.access_key,
        "S3_SECRET_ACCESS_KEY": s3.secret_key,
        # S3Proxy predates the CRC checksum headers newer botocore sends and asks for.
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
    }
    for name, value in servers.items():  # secrets reach Dagster as EnvVars, read in the runs below
        monkeypatch.setenv(name, value)
    return servers


@pytest.fixture(scope="module", params=["embedded", "servers"])
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, arcadedb: Any) -> Iterator[dict]:
    """Alice's project `pa` and Bob's `pb`, each with job `j1` ingested."""
    env = home_env(tmp_path_factory.mktemp("api") / "home", arcadedb)
    env |= {"SUPABASE_JWT_SECRET": SECRET, "WESSLEY_URL_TTL": str(URL_TTL), "WESSLEY_MAX_FILE_MB": "1"}
    with pytest.MonkeyPatch.context() as monkeypatch:
        if request.param == "servers":
            env |= real_servers(request, monkeypatch)
        with instance_for_test() as instance:
            for user, project in ((ALICE, "pa"), (BOB, "pb")):
                key = stage_bundle(SYNTHETIC, uploads_dir(env), project, "j1", user_id=user)
                add_partitions(instance, key)
                assert run(key, resources_for(env), instance).success
        yield env


def metadata(home: dict[str, str]) -> SqlMetadataStore:
    return SqlMetadataStore(home.get("SUPABASE_DB_URL") or f"sqlite:///{home['WESSLEY_HOME']}/metadata.db")


@pytest.fixture(scope="module")
def api(home: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(home, tmp_path_factory.mktemp("api-log") / "api.log").start()
    yield server
    server.stop()


def token(user: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET.encode(), user)}"}


def get(api: ApiServer, path: str, user: str | None = ALICE, **params: Any) -> httpx.Response:
    return httpx.get(f"{api.url}{path}", params=params, headers=token(user), timeout=30)


def test_job_status_carries_signed_artifact_urls_that_expire(api, home):
    response = get(api, "/v1/ingestions/j1")
    assert response.status_code == 200, response.text
    job = response.json()
    assert (job["project_id"], job["status"], job["stage"], job["progress"]) == ("pa", "succeeded", "done", 100)
    assert job["metrics"]["components"] == 10 and job["error"] is None and job["finished_at"]
    artifacts = {a["name"]: a for a in job["artifacts"]}
    assert {"bundle.json", "chunks.ndjson", "exports/graph.graphml"} <= set(artifacts)
    graphml = artifacts["exports/graph.graphml"]
    url = graphml["url"]
    if "S3_BUCKET" in home:  # presigned by S3 itself, checked by the S3 server
        assert graphml["backend"] == "s3" and url.startswith(f"{home['S3_ENDPOINT_URL']}/{home['S3_BUCKET']}/")
        altered, expired_says = [url.replace("X-Amz-Signature=", "X-Amz-Signature=0")], b"Request has expired"
    else:  # the local folder's, signed and served by the API
        assert graphml["backend"] == "local" and url.startswith(f"{api.url}/v1/artifacts/pa/j1/")
        flipped = url[:-1] + ("1" if url.endswith("0") else "0")  # a signature's last digit, changed
        altered = [url.replace("/pa/j1/", "/pb/j1/"), flipped, url.replace("expires=", "expires=9")]
        expired_says = b'"message":"the signed URL has expired"'
    fetched = httpx.get(url)  # no credentials: the signature is the permission
    assert fetched.status_code == 200 and len(fetched.content) == graphml["size_bytes"]
    assert fetched.content.startswith(b"<?xml") and b"<graphml" in fetched.content
    for bad in altered:
        assert httpx.get(bad).status_code == 403
    time.sleep(URL_TTL + 1)
    expired = httpx.get(url)
    assert expired.status_code == 403 and expired_says in expired.content


def test_a_job_id_in_two_projects_needs_the_project_only_for_whom_it_is_ambiguous(api):
    assert get(api, "/v1/ingestions/j1", BOB).json()["project_id"] == "pb"
    ambiguous = get(api, "/v1/ingestions/j1", None)
    assert ambiguous.status_code == 409 and "pa, pb" in ambiguous.json()["error"]["message"]
    assert get(api, "/v1/ingestions/j1", None, project_id="pb").json()["project_id"] == "pb"


# Every route that names a project, with parameters that succeed for its owner.
PROJECT_ROUTES = [
    ("/v1/projects/{p}/search", {"q": "what switches the fuel pump"}),
    ("/v1/projects/{p}/search", {"q": "fuel pump relay", "graph": "true", "mode": "sparse"}),
    ("/v1/projects/{p}/components/K3/similar", {}),
    ("/v1/projects/{p}/nets/FUEL_PUMP_PWR/members", {}),
    ("/v1/projects/{p}/components/K3/reach", {"job_id": "j1", "hops": 2}),
    ("/v1/projects/{p}/path", {"job_id": "j1", "from": "K3", "to": "M1"}),
    ("/v1/ingestions/j1", {"project_id": "{p}"}),
    ("/v1/ingestions/j1/events", {"project_id": "{p}"}),
]


def _call(api: ApiServer, route: str, params: dict[str, Any], project: str, headers: dict[str, str]) -> httpx.Response:
    filled = {k: v.format(p=project) if isinstance(v, str) else v for k, v in params.items()}
    return httpx.get(f"{api.url}{route.format(p=project)}", params=filled, headers=headers, timeout=30)


def test_two_users_crosswise_reach_only_their_own_projects(api):
    """Each user's own project answers; the other's answers exactly as a project that does not
    exist; no token, a bad token and a role other than a user's or the service's are refused."""
    leaks = []
    for route, params in PROJECT_ROUTES:
        for user, own, other in ((ALICE, "pa", "pb"), (BOB, "pb", "pa")):
            mine = _call(api, route, params, own, token(user))
            assert mine.status_code == 200, (route, mine.text)
            theirs = _call(api, route, params, other, token(user))
            missing = _call(api, route, params, "no-such-project", token(user))
            shape = (
                theirs.status_code,
                theirs.json()["error"]["code"],
                theirs.json()["error"]["message"].replace(other, "P"),
            )
            if shape != (404, "not_found", missing.json()["error"]["message"].replace("no-such-project", "P")):
                leaks.append((route, user, theirs.status_code, theirs.text))
        assert _call(api, route, params, "pb", token(None)).status_code == 200  # the service key reaches all
        for headers, status in (
            ({}, 401),
            ({"Authorization": "Bearer not-a-jwt"}, 401),
            (
                {
                    "Authorization": "Bearer "
                    + jwt.encode(
                        {"role": "service_role", "exp": 2**31}, "another-secret-of-32-bytes-or-more", algorithm="HS256"
                    )
                },
                401,
            ),
            ({"Authorization": "Bearer " + jwt.encode({"role": "anon", "exp": 2**31}, SECRET, algorithm="HS256")}, 403),
        ):
            refused = _call(api, route, params, "pa", headers)
            assert refused.status_code == status and set(refused.json()) == {"error"}, (route, refused.text)
    assert leaks == []


def test_search_similarity_and_graph_queries_answer_from_the_stores(api):
    hits = get(api, "/v1/projects/pa/search", q="fuel pump relay", graph="true", limit=3).json()
    assert len(hits) == 3 and all(h["job_id"] == "j1" for h in hits)
    assert any(h.get("component_id") == "K3" and h["graph"]["pins"] for h in hits)
    nets = get(api, "/v1/projects/pa/search", q="fuel pump power", chunk_type="net").json()
    assert nets and {h["chunk_type"] for h in nets} == {"net"}
    similar = get(api, "/v1/projects/pa/components/R12/similar").json()
    assert similar and all(h["component_id"] != "R12" and h["kind"] == "resistor" for h in similar)
    assert get(api, "/v1/projects/pa/components/NOPE/similar").status_code == 404
    members = get(api, "/v1/projects/pa/nets/FUEL_PUMP_PWR/members").json()
    assert {m["component_id"] for m in members} >= {"K3", "M1"}
    reached = get(api, "/v1/projects/pa/components/K3/reach", job_id="j1", hops=1).json()
    assert "M1" in {r["component_id"] for r in reached} and all(r["hops"] == 1 for r in reached)
    path = get(api, "/v1/projects/pa/path", job_id="j1", **{"from": "K3", "to": "M1"}).json()
    assert (path[0], path[-1]) == ({"label": "Component", "name": "K3"}, {"label": "Component", "name": "M1"})
    assert get(api, "/v1/projects/pa/nets/NO_SUCH_NET/members").status_code == 404
    bad = get(api, "/v1/projects/pa/search", q="x", limit=500)
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("query.limit:")


def test_healthz_reports_each_backend(api):
    health = httpx.get(f"{api.url}/healthz").json()  # each backend answers, embedded or real
    names = ("graph", "vectors", "artifacts", "uploads", "metadata")
    assert health == {"status": "ok", "backends": {name: {"ok": True} for name in names}}


def test_events_stream_each_change_and_close_when_the_job_ends(api, home):
    """Server-sent events while another process moves the job along, as a run's steps do."""
    store = metadata(home)
    from wessley_dagster.domain.bundle import Manifest

    manifest = Manifest.model_validate(
        {
            **json.loads((SYNTHETIC / "manifest.json").read_text()),
            "project_id": "pa",
            "job_id": "live",
            "user_id": ALICE,
        }
    )
    store.register_job(manifest, status="queued")
    events: list[dict[str, Any]] = []

    def listen() -> None:
        url = f"{api.url}/v1/ingestions/live/events"
        with httpx.stream("GET", url, params={"interval": 0.1}, headers=token(ALICE), timeout=30) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events.extend(json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:"))

    listener = threading.Thread(target=listen)
    listener.start()
    for stage, progress in (("bundle", 10), ("chunks", 40), ("embeddings", 70)):
        time.sleep(0.5)
        store.set_stage("pa", "live", stage, progress)
    time.sleep(0.5)
    store.fail_job("pa", "live", "boom")
    listener.join(timeout=30)
    assert not listener.is_alive()  # the stream closed by itself once the job ended
    assert [(e["status"], e["stage"], e["progress"]) for e in events] == [
        ("queued", None, 0),
        ("running", "bundle", 10),
        ("running", "chunks", 40),
        ("running", "embeddings", 70),
        ("failed", "embeddings", 70),
    ]
    assert events[-1]["error"] == "boom"


def _bundle_files(project: str, job: str, user: str) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in SYNTHETIC.iterdir()}
    manifest = json.loads(files["manifest.json"]) | {"project_id": project, "job_id": job, "user_id": user}
    return files | {"manifest.json": json.dumps(manifest).encode()}


def _upload(api: ApiServer, project: str, user: str | None, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{api.url}/v1/projects/{project}/ingestions", headers=token(user), timeout=30, **kwargs)


def test_an_upload_is_validated_whole_then_written_for_the_sensor(api, home):
    uploads = Path(home["WESSLEY_HOME"]) / "uploads"
    files = _bundle_files("pa", "posted", ALICE)
    accepted = _upload(api, "pa", ALICE, files=[("files", (name, data)) for name, data in files.items()])
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"project_id": "pa", "job_id": "posted", "status": "uploaded", "files": sorted(files)}
    assert {p.name: p.read_bytes() for p in (uploads / "pa" / "posted").iterdir()} == files
    limits = resources_for(home)["uploads"].limits()
    assert check_upload(LocalFolderStore(uploads), "pa", "posted", limits).problem is None

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in _bundle_files("pa", "tarred", ALICE).items():
            info = tarfile.TarInfo(f"bundle/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tarred = httpx.post(
        f"{api.url}/v1/projects/pa/ingestions",
        content=archive.getvalue(),
        headers={**token(ALICE), "Content-Type": "application/gzip"},
        timeout=30,
    )
    assert tarred.status_code == 202 and (uploads / "pa" / "tarred" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("project", "user", "change", "status", "message"),
    [
        ("pa", ALICE, {"components.json": b"[{]"}, 422, "components.json"),
        ("pa", ALICE, {"manifest.json": None}, 422, "manifest.json: file: missing from the bundle"),
        ("pa", ALICE, {"../escape.json": b"{}"}, 422, "'../escape.json': not a bundle file"),
        ("pb", ALICE, {}, 404, "no project 'pb'"),  # Bob's project, as if it did not exist
        ("pa", BOB, {}, 404, "no project 'pa'"),
        ("other", ALICE, {}, 422, "manifest.json: $.project_id: names 'pa', not this URL's 'other'"),
    ],
)
def test_a_refused_upload_writes_nothing(api, home, project, user, change, status, message):
    files = _bundle_files("pa" if project == "other" else project, "refused", user)
    for name, data in change.items():
        if data is None:
            files.pop(name)
        else:
            files[name] = data
    refused = _upload(api, project, user, files=[("files", (name, data)) for name, data in files.items()])
    assert refused.status_code == status, refused.text
    assert message in refused.json()["error"]["message"]
    assert not (Path(home["WESSLEY_HOME"]) / "uploads" / project / "refused").exists()


def test_an_upload_beyond_the_limits_is_refused_before_it_is_read(api, home):
    import zipfile

    uploads = Path(home["WESSLEY_HOME"]) / "uploads"
    before = sorted(uploads.rglob("*"))
    headers = {**token(ALICE), "Content-Type": "application/zip"}
    whole = httpx.post(f"{api.url}/v1/projects/pa/ingestions", content=b"0" * (6 * 2**20), headers=headers)
    assert whole.status_code == 413 and "larger than" in whole.json()["error"]["message"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bomb:  # 2 MB of zeros in a few KB
        bomb.writestr("components.json", b"0" * (2 * 2**20))
    one = httpx.post(f"{api.url}/v1/projects/pa/ingestions", content=archive.getvalue(), headers=headers)
    assert one.status_code == 413 and one.json()["error"]["message"].startswith("components.json: larger than")
    assert sorted(uploads.rglob("*")) == before


def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(api, tmp_path):
    """Schemathesis generates requests from /openapi.json for every operation, with the service
    key (which reaches every project) and a bounded number of examples each. Path parameters name
    stored data, so that the generated queries reach the searches and graph reads."""
    import subprocess
    import sys

    (tmp_path / "schemathesis.toml").write_text(
        '[parameters]\n"path.project_id" = "pa"\n"path.job_id" = "j1"\n"path.component_id" = "K3"\n'
        '"path.net" = "FUEL_PUMP_PWR"\n"query.job_id" = "j1"\n"query.project_id" = "pa"\n'
        '"query.from" = "K3"\n"query.to" = "M1"\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{api.url}/openapi.json",
            "--max-examples",
            "25",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--header",
            f"Authorization: Bearer {issue_token(SECRET.encode(), None)}",
            "--generation-deterministic",
            "--phases",
            "examples,fuzzing",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    missing = result.stdout.find("Missing test data")  # the generated requests must reach stored data
    assert missing < 0, result.stdout[missing : missing + 1500]
