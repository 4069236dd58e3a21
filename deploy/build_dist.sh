#!/bin/sh
# The wheel and the locked requirements (with hashes) of the user code, into DIST: what the
# Dockerfile's build stage runs and what wessley_dagster_tests/test_packaging.py runs.
# Usage: deploy/build_dist.sh DIST   (UV names the uv binary; default: uv on PATH)
set -eu
dist=$1
uv=${UV:-uv}
"$uv" build --wheel --out-dir "$dist" .
"$uv" export --frozen --no-emit-project --no-header --format requirements-txt --output-file "$dist/requirements.txt"
