#!/bin/sh
# Install the user code into PYTHON's environment: the locked requirements (hashes required), then
# the wheel without resolving anything again. The Dockerfile's runtime stage and
# wessley_dagster_tests/test_packaging.py run exactly this.
# Usage: deploy/install_user_code.sh DIST PYTHON   (UV names the uv binary; default: uv on PATH)
set -eu
dist=$1
python=$2
uv=${UV:-uv}
"$uv" pip install --python "$python" --quiet --require-hashes --requirement "$dist/requirements.txt"
"$uv" pip install --python "$python" --quiet --no-deps "$dist"/wessley_dagster-*.whl
