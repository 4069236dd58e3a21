"""`wessley-dagster`: the demo, search, importing sources, watching a job, and the embedded graph
server's lifecycle."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster

from wessley_dagster.demo import SAMPLES, run_demo
from wessley_dagster.domain.chunking import ChunkType
from wessley_dagster.domain.jobs import FINISHED, JobStatus
from wessley_dagster.resources.profiles import arcadedb_resource, build_resources, uploads_resource
from wessley_dagster.search import SearchMode
from wessley_dagster.settings import Settings


def _resources() -> dict[str, Any]:
    """The deployment's resources, from the environment as this command finds it."""
    return build_resources(Settings.from_env())


def _print_hits(hits: list, as_json: bool) -> None:
    from wessley_dagster.search import format_hit, hit_record

    for hit in hits:
        print(json.dumps(hit_record(hit), ensure_ascii=False) if as_json else format_hit(hit))


def cmd_search(args: argparse.Namespace) -> int:
    from wessley_dagster.search import DEFAULT_CHUNK_TYPES, semantic_search

    res = _resources()
    wanted = ("vectors", "embeddings_model", "graph") if args.graph else ("vectors", "embeddings_model")
    # Initialised through Dagster so that EnvVar secrets resolve exactly as they do in a run.
    with dagster.build_resources({k: res[k] for k in wanted}) as live:
        hits = semantic_search(
            live.vectors.store,
            live.embeddings_model.embedder(),
            args.project,
            args.query,
            limit=args.limit,
            chunk_types=args.chunk_type or DEFAULT_CHUNK_TYPES,
            score_threshold=args.score_threshold,
            mode=args.mode,
            expand_graph=args.graph,
            graph=live.graph.store if args.graph else None,
        )
        _print_hits(hits, args.json)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from wessley_dagster.search import similar_components
    from wessley_dagster.search.similarity import UnknownComponent

    res = _resources()
    with dagster.build_resources({"vectors": res["vectors"]}) as live:
        try:
            hits = similar_components(live.vectors.store, args.project, args.component, args.limit, args.other_project)
        except UnknownComponent as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
        _print_hits(hits, args.json)
    return 0


def cmd_jobs_watch(args: argparse.Namespace) -> int:
    """Print the job's row each time its status, stage, progress or error changes, until it ends."""
    import time

    res = _resources()
    with dagster.build_resources({"metadata": res["metadata"]}) as live:
        store, last = live.metadata.store, None
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            row = store.job(args.project, args.job)
            state = (row["status"], row["stage"], row["progress"], row["error"]) if row else None
            if state != last and state is not None:
                status, stage, progress, error = state
                print(
                    f"{datetime.now(UTC):%H:%M:%S} {status:<9} {stage or '-':<16} {progress:>3}%"
                    + (f"  {error}" if error else ""),
                    flush=True,
                )
                last = state
            if state is not None and state[0] in FINISHED:
                return 0 if state[0] == JobStatus.SUCCEEDED else 1
            time.sleep(args.interval)
    print(f"error: {args.project}/{args.job} did not finish within {args.timeout:g}s", file=sys.stderr)
    return 2


def cmd_storage(args: argparse.Namespace) -> int:
    """Objects and bytes stored per project, job and backend (from the artifact registry)."""
    res = _resources()
    with dagster.build_resources({"metadata": res["metadata"]}) as live:
        rows = live.metadata.store.storage_usage(args.project)
    if args.json:
        for row in rows:
            print(json.dumps({**row, "objects": int(row["objects"]), "bytes": int(row["bytes"])}))
        return 0
    print(f"{'project':<24} {'job':<24} {'backend':<18} {'objects':>8} {'bytes':>14}")
    for row in rows:
        print(
            f"{row['project_id']:<24} {row['job_id']:<24} {row['backend']:<18} {row['objects']:>8} {row['bytes']:>14}"
        )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from wessley_dagster.adapters.importer import import_design
    from wessley_dagster.adapters.source import JobInfo
    from wessley_dagster.domain.bundle import BundleError

    uploads = uploads_resource(Settings.from_env(), args.to)
    job = JobInfo(args.project, args.job, args.user, args.make, args.model or args.path.stem, args.year)
    try:
        with dagster.build_resources({"uploads": uploads}) as live:
            report = import_design(args.format, args.path, job, live.uploads.object_store(), args.pdf)
    except BundleError as exc:
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        return 2
    b = report.bundle
    connections = sum(len(n.connections) for n in b.netlist.nets)
    print(
        f"{args.format} {args.path.name} -> {b.partition_key}: {len(b.components)} components, "
        f"{len(b.netlist.nets)} nets, {connections} connections, {len(b.text_spans)} text spans; "
        f"components named by a text span: {report.match_rate:.1%}"
    )
    for stored in report.written:
        print(f"wrote {stored.url} ({stored.size} bytes)")
    return 0


def cmd_arcadedb(args: argparse.Namespace) -> int:
    server = arcadedb_resource(Settings.from_env()).server()
    if args.action == "start":
        server.ensure_running()
        print(f"ArcadeDB listening on {server.uri}")
    else:
        print("stopped" if server.stop() else "not running")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from wessley_dagster.api.app import create_app

    # Local signed URLs point at this server unless the deployment names its public address.
    settings = Settings.from_env()
    if "wessley_api_url" not in settings.model_fields_set:
        settings = settings.model_copy(update={"wessley_api_url": f"http://{args.host}:{args.port}"})
    uvicorn.run(create_app(settings), host=args.host, port=args.port, workers=1, log_level=args.log_level)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """A bearer token for the read API, signed with its secret (SUPABASE_JWT_SECRET or this home's)."""
    from wessley_dagster.api.app import jwt_secret
    from wessley_dagster.api.auth import issue_token

    print(issue_token(jwt_secret(Settings.from_env()), None if args.service else args.user, args.ttl))
    return 0


def _add_query_commands(sub: Any) -> None:
    """`demo`, `search`, `similar`: ingest the samples, then ask the stores."""
    demo = sub.add_parser("demo", help="ingest the sample bundles end to end and print what was stored")
    demo.add_argument("--bundles", type=Path, default=SAMPLES, help="folder of <project>/<job>/ bundles")
    demo.set_defaults(func=lambda a: run_demo(a.bundles))

    search = sub.add_parser("search", help="semantic search within one project")
    search.add_argument("query")
    search.add_argument("--project", required=True)
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--mode", type=SearchMode, choices=list(SearchMode), default=SearchMode.HYBRID)
    search.add_argument(
        "--chunk-type",
        action="append",
        type=ChunkType,
        choices=list(ChunkType),
        help="repeatable; default: component, net",
    )
    search.add_argument("--score-threshold", type=float)
    search.add_argument("--graph", action="store_true", help="add each hit's pins, nets and neighbours from the graph")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.set_defaults(func=cmd_search)

    similar = sub.add_parser("similar", help="components like a given one, in this and the listed projects")
    similar.add_argument("component")
    similar.add_argument("--project", required=True)
    similar.add_argument("--other-project", action="append", default=[], help="repeatable")
    similar.add_argument("--limit", type=int, default=5)
    similar.add_argument("--json", action="store_true")
    similar.set_defaults(func=cmd_similar)


def _add_job_commands(sub: Any) -> None:
    """`import`, `jobs watch`, `storage`: bundles in, jobs followed, bytes counted."""
    imp = sub.add_parser("import", help="turn a KiCad, Eagle or WireViz file into a bundle in the uploads location")
    imp.add_argument("format", choices=["kicad", "eagle", "wireviz", "pcb-json"])
    imp.add_argument("path", type=Path)
    imp.add_argument("--project", required=True)
    imp.add_argument("--job", required=True)
    imp.add_argument("--pdf", type=Path, help="the schematic PDF: its text layer becomes the text spans")
    imp.add_argument("--to", help="a folder or s3://bucket/prefix (default: WESSLEY_UPLOADS)")
    imp.add_argument("--user", default="importer")
    imp.add_argument("--make", default="unknown")
    imp.add_argument("--model", help="default: the file name")
    imp.add_argument("--year", type=int, default=datetime.now(UTC).year)
    imp.set_defaults(func=cmd_import)

    jobs = sub.add_parser("jobs", help="ingestion jobs in the metadata store")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    watch = jobs_sub.add_parser("watch", help="print each status, stage and progress change of a job until it ends")
    watch.add_argument("project")
    watch.add_argument("job")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
    watch.add_argument("--timeout", type=float, default=3600.0)
    watch.set_defaults(func=cmd_jobs_watch)

    storage = sub.add_parser("storage", help="objects and bytes stored per project, job and backend")
    storage.add_argument("--project", help="one project only")
    storage.add_argument("--json", action="store_true", help="one JSON object per row")
    storage.set_defaults(func=cmd_storage)


def _add_server_commands(sub: Any) -> None:
    """`serve`, `token`, `arcadedb`: the read API, its tokens, the embedded graph server."""
    serve = sub.add_parser("serve", help="the read API (FastAPI under uvicorn) on the configured backends")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    token = sub.add_parser("token", help="a bearer token for the read API: a user's, or the service key")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="the user id (the JWT's sub)")
    who.add_argument("--service", action="store_true", help="the service role, which reaches every project")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.set_defaults(func=cmd_token)

    arcade = sub.add_parser("arcadedb", help="start or stop the embedded ArcadeDB graph server")
    arcade.add_argument("action", choices=["start", "stop"])
    arcade.set_defaults(func=cmd_arcadedb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wessley-dagster")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_query_commands(sub)
    _add_job_commands(sub)
    _add_server_commands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
