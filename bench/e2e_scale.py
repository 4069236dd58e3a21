"""One large vehicle end to end on the embedded defaults, as a new user would run it: the repo's
real bundles tiled K times (distinct ids and pages) into one bundle, registered by the upload
sensor, then `ingest_job` in process. For each size: per-step seconds, the run's peak RSS and the
embedded ArcadeDB server's, and each step's growth exponent between the two largest sizes. The
peer is the same small job's checks on an empty store and beside the largest one (the checks'
time must not depend on other jobs). Each size runs in a fresh process and home.
With `--embeddings openai` the runs embed through the OpenAI provider against the tests' local
stand-in for the API (`fake_openai.py`), which answers each request after `--latency` seconds.
With `--vehicle boards` the tile is instead the ten real boards of `data/sources/` as the
adapters import them (30 pages, 27 nets a page against the repo bundles' 19): 35 tiles make the
1,050-page vehicle [15] measured.
Run: `.venv/bin/python -m bench.e2e_scale [--tiles 1,8,39,111] [--embeddings wordllama|openai]
[--vehicle repo|boards]` (one tile: the repo's 9 pages)
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUNDLES = sorted((REPO / "data" / "bundles").glob("*/*/manifest.json"))
PROJECT = "scale-vehicle"


def tile_sources(vehicle: str) -> list[Any]:
    """The bundles one tile holds: the repo's sample bundles, or the ten boards as imported."""
    if vehicle == "boards":
        from bench.search_questions import BOARDS

        return [board.bundle() for board in BOARDS]
    from wessley_dagster.domain.bundle import read_bundle

    return [read_bundle(lambda n, d=m.parent: (d / n).read_bytes() if (d / n).exists() else None) for m in BUNDLES]


def tiled(tiles: int, vehicle: str = "repo") -> Any:
    """A tile's bundles, each copied `tiles` times with its ids suffixed and its pages shifted."""
    from wessley_dagster.domain.bundle import Bundle, Netlist

    sources = tile_sources(vehicle)
    spans, comps, nets, junctions, segments, offset = [], [], [], [], [], 0
    for t in range(tiles):
        for b, source in enumerate(sources):
            tag = f"_t{t}b{b}"

            def moved(model: Any, tag: str = tag, offset: int = offset, **update: Any) -> Any:
                return model.model_copy(update={"id": model.id + tag, "page": model.page + offset, **update})

            spans += [moved(s) for s in source.text_spans]
            comps += [moved(c, span_ids=[i + tag for i in c.span_ids]) for c in source.components]
            nets += [
                n.model_copy(
                    update={
                        "name": n.name + tag,
                        "connections": [
                            x.model_copy(update={"component_id": x.component_id + tag}) for x in n.connections
                        ],
                    }
                )
                for n in source.netlist.nets
            ]
            junctions += [moved(j, net=j.net and j.net + tag) for j in source.netlist.junctions]
            segments += [
                moved(s, net=s.net and s.net + tag, junction_ids=[i + tag for i in s.junction_ids])
                for s in source.netlist.line_segments
            ]
            offset += source.manifest.page_count
    manifest = sources[0].manifest.model_copy(
        update={"project_id": PROJECT, "job_id": f"k{tiles}", "page_count": offset}
    )
    return Bundle(
        manifest=manifest,
        text_spans=spans,
        components=comps,
        netlist=Netlist(nets=nets, junctions=junctions, line_segments=segments),
    )


def vm_hwm(pid: int) -> float:
    """A process's peak resident set, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stage(tiles: int, job_id: str, vehicle: str = "repo") -> dict[str, int]:
    """Write the tiled vehicle into the uploads location (manifest last); returns its size."""
    from wessley_dagster.adapters.writer import bundle_files
    from wessley_dagster.definitions import defs

    bundle = tiled(tiles, vehicle)
    bundle = bundle.model_copy(update={"manifest": bundle.manifest.model_copy(update={"job_id": job_id})})
    store = defs.resources["uploads"].object_store()
    for name, data, content_type in bundle_files(bundle):
        store.put(f"{PROJECT}/{job_id}/{name}", data, content_type)
    return {"tiles": tiles, "pages": bundle.manifest.page_count, "components": len(bundle.components)}


def staged(tiles: int, job_id: str, vehicle: str = "repo") -> dict[str, int]:
    """`stage` in a child process, so that the run's peak RSS is the run's, not the tiling's."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(stage, (tiles, job_id, vehicle))


def one_size(tiles: int, home: Path, small: bool, vehicle: str) -> dict[str, Any]:
    """In this process: stage the vehicle, let the sensor register it, run ingest_job; with
    `small`, also time one 1-tile job's checks beside it."""
    from dagster import DagsterInstance, build_sensor_context

    from wessley_dagster.definitions import defs
    from wessley_dagster.domain.bundle import partition_key
    from wessley_dagster.launch import run_ingest
    from wessley_dagster.partitions import ingestion_partitions
    from wessley_dagster.sensors import upload_sensor

    size = staged(tiles, f"k{tiles}", vehicle)
    resources = defs.resources
    instance = DagsterInstance.get()
    with build_sensor_context(instance=instance, resources={k: resources[k] for k in ("uploads", "metadata")}) as ctx:
        result = upload_sensor(ctx)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys or []))
    samples: list[tuple[float, float]] = []
    sampler = threading.Thread(target=sample_rss, args=(samples, run_done := threading.Event()), daemon=True)
    sampler.start()
    start = time.perf_counter()
    run = run_ingest(instance, partition_key(PROJECT, f"k{tiles}"))
    total = time.perf_counter() - start
    run_done.set()
    steps = step_seconds(instance, run)
    pid_file = home / "arcadedb" / "server.pid"
    figures = {
        **size,
        "success": run.is_success,
        "seconds": round(total, 1),
        "steps": steps,
        "run_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "step_peak_rss_mb": step_peaks(instance, run, samples),
        "arcadedb_peak_rss_mb": round(vm_hwm(int(pid_file.read_text()))) if pid_file.exists() else None,
    }
    figures["checks_s"] = checks_seconds(steps)
    figures["reach_hops_10_s"] = reach_seconds(f"k{tiles}")
    if small:  # then a 7-page job beside it: its checks must take as long as on an empty store
        staged(1, "small")
        key = partition_key(PROJECT, "small")
        instance.add_dynamic_partitions(ingestion_partitions.name, [key])
        figures["small_job_checks_s"] = checks_seconds(step_seconds(instance, run_ingest(instance, key)))
    return figures


def sample_rss(samples: list[tuple[float, float]], done: threading.Event) -> None:
    """This process's resident set (MB) every 0.1 s until `done`, with the wall time."""
    while not done.wait(0.1):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        samples.append((time.time(), pages * resource.getpagesize() / 2**20))


def step_peaks(instance: Any, run: Any, samples: list[tuple[float, float]]) -> dict[str, int]:
    """Each step's highest sampled resident set: which step the run's peak belongs to."""
    return {
        stat.step_key: round(max((mb for t, mb in samples if stat.start_time <= t <= stat.end_time), default=0))
        for stat in instance.get_run_step_stats(run.run_id)
        if stat.start_time and stat.end_time
    }


def reach_seconds(job_id: str) -> float:
    """The read API's deepest walk (`reach`, 10 hops) from the vehicle's first part, in seconds."""
    from wessley_dagster.resources.profiles import build_resources

    graph = build_resources()["graph"].store
    first = graph.read(
        "MATCH (c:Component {project_id: $p, job_id: $j}) RETURN c.id AS id LIMIT 1", p=PROJECT, j=job_id
    )
    start = time.perf_counter()
    graph.reach(PROJECT, job_id, first[0]["id"], hops=10)
    return round(time.perf_counter() - start, 3)


def step_seconds(instance: Any, run: Any) -> dict[str, float]:
    """Each step's wall seconds, from the instance's step statistics."""
    return {
        stat.step_key: round(stat.end_time - stat.start_time, 2)
        for stat in instance.get_run_step_stats(run.run_id)
        if stat.start_time and stat.end_time
    }


def checks_seconds(steps: dict[str, float]) -> float:
    """The asset checks' steps (named after the asset they check), seconds in all."""
    return round(sum(t for step, t in steps.items() if step.startswith(("schematic_graph_", "vector_index_"))), 2)


def exponent(small: dict[str, Any], large: dict[str, Any], seconds_small: float, seconds_large: float) -> float | None:
    if seconds_small <= 0.05 or seconds_large <= 0 or small["pages"] == large["pages"]:
        return None
    return round(math.log(seconds_large / seconds_small) / math.log(large["pages"] / small["pages"]), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", default="1,8,39,111")
    parser.add_argument("--embeddings", default="", help="WESSLEY_EMBEDDINGS for the runs (default: the default)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request of the local OpenAI API")
    parser.add_argument("--vehicle", choices=("repo", "boards"), default="repo", help="what one tile holds")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one size
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print("figures: " + json.dumps(one_size(args.one, Path(os.environ["WESSLEY_HOME"]), args.small, args.vehicle)))
        return

    from wessley_dagster_tests.fake_openai import KEY, FakeOpenAI
    from wessley_dagster_tests.servers import free_port

    provider = {"WESSLEY_EMBEDDINGS": args.embeddings} if args.embeddings else {}
    if args.embeddings == "openai":
        api = FakeOpenAI(latency=args.latency).start()
        provider |= {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": api.base_url}
    sizes = [int(t) for t in args.tiles.split(",")]
    results = []
    baseline_checks = None
    for tiles in sizes if sizes[0] == 1 else [1, *sizes]:
        with tempfile.TemporaryDirectory(prefix="wessley-scale-") as work:
            home, dagster_home = Path(work) / "home", Path(work) / "dagster_home"
            dagster_home.mkdir()
            (dagster_home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
            ports = {"WESSLEY_ARCADEDB_BOLT_PORT": str(free_port()), "WESSLEY_ARCADEDB_HTTP_PORT": str(free_port())}
            env = {**os.environ, "WESSLEY_HOME": str(home), "DAGSTER_HOME": str(dagster_home), **ports, **provider}
            small = tiles == max(sizes)
            command = [sys.executable, "-m", "bench.e2e_scale", "--one", str(tiles), "--vehicle", args.vehicle]
            command += ["--small"] if small else []
            try:
                out = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout
            finally:
                subprocess.run(
                    [sys.executable, "-m", "wessley_dagster.cli", "arcadedb", "stop"],
                    env=env,
                    capture_output=True,
                    check=False,
                )
        figures = json.loads(out.rsplit("figures: ", 1)[1])
        if tiles == 1:  # a 7-page job alone in its store
            baseline_checks = figures["checks_s"]
        if tiles in sizes:
            results.append(figures)
            print(
                f"{figures['pages']:>5} pages {figures['components']:>6} components: {figures['seconds']:>7} s, "
                f"run peak {figures['run_peak_rss_mb']} MB, ArcadeDB peak {figures['arcadedb_peak_rss_mb']} MB, "
                f"success {figures['success']}",
                flush=True,
            )
    a, b = results[-2 if len(results) > 1 else -1], results[-1]  # one size: no growth to show
    growth = {step: exponent(a, b, a["steps"].get(step, 0), seconds) for step, seconds in b["steps"].items()}
    by_step: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for step, seconds in r["steps"].items():
            by_step[step].append(seconds)
    print(f"{'step':<46}" + "".join(f"{r['pages']:>9}p" for r in results) + "  exponent  peak MB (largest)")
    for step, times in sorted(by_step.items(), key=lambda kv: -kv[1][-1]):
        peak = b["step_peak_rss_mb"].get(step)
        print(f"{step:<46}" + "".join(f"{t:>10}" for t in times) + f"  {growth.get(step)!s:>8}  {peak}")
    beside = b.get("small_job_checks_s")
    ratio = round(beside / baseline_checks, 2) if beside and baseline_checks else None
    print(
        f"a 7-page job's checks: {baseline_checks} s on an empty store, {beside} s beside the "
        f"{b['pages']}-page vehicle (ratio {ratio})"
    )
    print(
        "reach, 10 hops, from the first part: "
        + ", ".join(f"{r['reach_hops_10_s']} s at {r['pages']} pages" for r in results)
    )
    print(
        "result: "
        + json.dumps(
            {
                "sizes": [
                    {
                        k: r[k]
                        for k in (
                            "pages",
                            "components",
                            "seconds",
                            "run_peak_rss_mb",
                            "arcadedb_peak_rss_mb",
                            "success",
                            "reach_hops_10_s",
                        )
                    }
                    for r in results
                ],
                "exponents": growth,
                "checks_empty_s": baseline_checks,
                "checks_beside_largest_s": beside,
                "checks_ratio": ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
