"""Read API under load: 50 concurrent clients for 30 s against `wessley-dagster serve` (uvicorn,
one worker) on the embedded defaults after `make demo`'s ingestion, mixing search (40 %), job
status (40 %) and graph queries (20 %: a net's members, what a part reaches, a shortest path).
Prints p50/p95/p99 and requests per second per endpoint and the errors; the peer is the same
calls made in process, one at a time, through the same stores (no HTTP, no concurrency), so
the ratio is what serving them over HTTP to 50 clients at once costs.
Run: `.venv/bin/python -m bench.api_load [--clients 50] [--seconds 30]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import dagster
import httpx

from wessley_dagster.api.auth import issue_token
from wessley_dagster.resources.profiles import build_resources
from wessley_dagster.search import semantic_search
from wessley_dagster.settings import Settings
from wessley_dagster_tests.servers import ApiServer, free_port

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "which relay switches the fuel pump",
    "fuel pump fuse",
    "what drives the injector",
    "CAN bus transceiver",
    "ignition sense input",
    "MOSFET low side switch",
]
PROJECT, JOB = "demo-roadster", "fuel-pump-2019"
GRAPH = [
    ("members", f"/v1/projects/{PROJECT}/nets/FUEL_PUMP_PWR/members", {}),
    ("reach", f"/v1/projects/{PROJECT}/components/K3/reach", {"job_id": JOB, "hops": 2}),
    ("path", f"/v1/projects/{PROJECT}/path", {"job_id": JOB, "from": "K3", "to": "M1"}),
]


def request_mix(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    draw = rng.random()
    if draw < 0.4:
        return "search", f"/v1/projects/{PROJECT}/search", {"q": rng.choice(QUESTIONS)}
    if draw < 0.8:
        return "status", f"/v1/ingestions/{JOB}", {}
    return rng.choice(GRAPH)


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


async def load(url: str, token: str, clients: int, seconds: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    deadline = time.perf_counter() + seconds
    # aiohttp: the load generator shares the 2 cores with the server, and httpx costs it about
    # twice the server's own CPU per request.
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        url, headers={"Authorization": f"Bearer {token}"}, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as client:

        async def one_client(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                name, path, params = request_mix(rng)
                start = time.perf_counter()
                async with client.get(path, params=params) as response:
                    await response.read()
                elapsed = time.perf_counter() - start
                if response.status == 200:
                    latencies[name].append(elapsed)
                else:
                    errors[name] += 1

        await asyncio.gather(*(one_client(i) for i in range(clients)))
    return latencies, errors


def in_process(env: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """The peer: each endpoint's work through the same stores, one call at a time."""
    resources = build_resources(Settings.from_env(env))
    served = ("graph", "vectors", "metadata", "embeddings_model", "storage")
    with dagster.build_resources({k: resources[k] for k in served}) as live:
        embedder, artifacts = live.embeddings_model.embedder(), live.storage.object_store()

        def status() -> None:
            live.metadata.store.project_owner(PROJECT)
            live.metadata.store.jobs(job_id=JOB)
            for a in live.metadata.store.artifacts(PROJECT, JOB):
                artifacts.backend(a["backend"]).signed_url(f"{PROJECT}/{JOB}/{a['name']}", 900)

        calls: dict[str, Callable[[], Any]] = {
            "search": lambda: semantic_search(live.vectors.store, embedder, PROJECT, random.choice(QUESTIONS)),
            "status": status,
            "members": lambda: live.graph.store.net_members(PROJECT, "FUEL_PUMP_PWR"),
            "reach": lambda: live.graph.store.reach(PROJECT, JOB, "K3", None, 2),
            "path": lambda: live.graph.store.shortest_path(PROJECT, JOB, "K3", "M1"),
        }
        timings: dict[str, list[float]] = defaultdict(list)
        for name, call in calls.items():
            call()  # warm
            for _ in range(rounds):
                start = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--peer-rounds", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wessley-api-load-"))
    dagster_home = work / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        "WESSLEY_HOME": str(work / "home"),
        "DAGSTER_HOME": str(dagster_home),
        "WESSLEY_ARCADEDB_BOLT_PORT": str(free_port()),
        "WESSLEY_ARCADEDB_HTTP_PORT": str(free_port()),
    }
    full_env = {**os.environ, **env}
    cli = [sys.executable, "-m", "wessley_dagster.cli"]
    try:
        subprocess.run([*cli, "demo"], env=full_env, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        server = ApiServer(env, work / "api.log").start(timeout=180)
        try:
            secret = (work / "home" / "jwt.secret").read_text().strip().encode()
            token = issue_token(secret, "demo-user")
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as warm:
                for _ in range(5):
                    for name, path, params in [request_mix(random.Random(i)) for i in range(20)]:
                        assert warm.get(path, params=params).status_code == 200, (name, path)
            latencies, errors = asyncio.run(load(server.url, token, args.clients, args.seconds))
        finally:
            server.stop()
        peer = in_process(env, args.peer_rounds)
    finally:
        subprocess.run([*cli, "arcadedb", "stop"], env=full_env, check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)

    figures: dict[str, Any] = {"clients": args.clients, "seconds": args.seconds, "endpoints": {}}
    total = 0
    print(
        f"{'endpoint':<8} {'requests':>9} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'in-process p50 ms':>18} {'ratio p50':>9}"
    )
    for name in ("search", "status", "members", "reach", "path"):
        done = latencies.get(name, [])
        total += len(done)
        row = {
            "requests": len(done),
            "rps": round(len(done) / args.seconds, 1),
            **percentiles(done),
            "errors": errors.get(name, 0),
            "in_process_p50_ms": percentiles(peer[name])["p50_ms"],
        }
        row["ratio_p50"] = round(row["p50_ms"] / row["in_process_p50_ms"], 1)
        figures["endpoints"][name] = row
        cells = [row[k] for k in ("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "errors")]
        print(
            f"{name:<8} "
            + " ".join(f"{c:>{w}}" for c, w in zip(cells, (9, 7, 8, 8, 8, 6), strict=True))
            + f" {row['in_process_p50_ms']:>18} {row['ratio_p50']:>9}"
        )
    figures["rps"] = round(total / args.seconds, 1)
    figures["errors"] = sum(errors.values())
    print(f"total {total} requests, {figures['rps']} per second, {figures['errors']} errors")
    print("result: " + json.dumps(figures))


if __name__ == "__main__":
    main()
