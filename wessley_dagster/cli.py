"""`wessley-dagster`: the demo, search, and the embedded graph server's lifecycle."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import dagster

from wessley_dagster.demo import run_demo
from wessley_dagster.resources import build_resources


def cmd_search(args: argparse.Namespace) -> int:
    from wessley_dagster.search import format_hit, semantic_search

    res = build_resources()
    # Initialised through Dagster so that EnvVar secrets resolve exactly as they do in a run.
    with dagster.build_resources({"vectors": res["vectors"], "embeddings_model": res["embeddings_model"]}) as live:
        hits = semantic_search(
            live.vectors.store, live.embeddings_model.embedder(), args.project, args.query, args.limit,
            args.chunk_type or None,
        )  # fmt: skip
    for hit in hits:
        print(format_hit(hit))
    return 0


def cmd_arcadedb(args: argparse.Namespace) -> int:
    server = build_resources()["graph"].embedded_server()
    if args.action == "start":
        server.ensure_running()
        print(f"ArcadeDB listening on {server.uri}")
    else:
        print("stopped" if server.stop() else "not running")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wessley-dagster")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="ingest the sample bundles end to end and print what was stored")
    demo.add_argument("--bundles", type=Path, default=Path("data/bundles"))
    demo.set_defaults(func=lambda a: run_demo(a.bundles))

    search = sub.add_parser("search", help="semantic search within one project")
    search.add_argument("query")
    search.add_argument("--project", required=True)
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--chunk-type", action="append", choices=["text", "component", "net", "page"])
    search.set_defaults(func=cmd_search)

    arcade = sub.add_parser("arcadedb", help="start or stop the embedded ArcadeDB graph server")
    arcade.add_argument("action", choices=["start", "stop"])
    arcade.set_defaults(func=cmd_arcadedb)

    args = parser.parse_args(argv)
    # Partitioned asset checks are a Dagster preview feature; its warning is noise on a terminal.
    warnings.filterwarnings("ignore", category=dagster.PreviewWarning)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
