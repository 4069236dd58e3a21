"""The package as it deploys: the wheel and the locked requirements built by `deploy/build_dist.sh`
and installed by `deploy/install_user_code.sh` (the Dockerfile's own two steps) into a fresh
virtual environment outside the repository, then used from an empty folder with a home of its
own: `wessley-dagster demo` stores what the checkout's demo stores, and Dagster loads the code
location. The Helm values name the image and the code location the Dockerfile serves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from wessley_dagster_tests.conftest import REPO, dagster_home


def uv() -> str:
    """The uv that `make install` bootstraps (or one on PATH)."""
    found = os.environ.get("UV") or shutil.which("uv") or str(REPO / ".uv" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: `make install` bootstraps it under .uv/"
    return found


def demo(command: list[str], env: dict[str, str], cwd: Path, tmp: Path) -> dict:
    tmp.mkdir()
    result = subprocess.run(
        command,
        env={**env, "DAGSTER_HOME": str(dagster_home(tmp))},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1].removeprefix("stored: "))


def test_the_wheel_installed_outside_the_repo_runs_the_demo_and_loads_the_code_location(env, tmp_path):
    dist, venv, empty = tmp_path / "dist", tmp_path / "venv", tmp_path / "empty"
    empty.mkdir()
    tools = {**os.environ, "UV": uv()}
    subprocess.run(
        [str(REPO / "deploy" / "build_dist.sh"), str(dist)], cwd=REPO, env=tools, check=True, capture_output=True
    )
    requirements = (dist / "requirements.txt").read_text()
    assert "--hash=sha256:" in requirements and "dagster==1.13.27" in requirements
    assert "pytest" not in requirements  # the image carries no test tools
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [str(REPO / "deploy" / "install_user_code.sh"), str(dist), str(venv / "bin" / "python")],
        cwd=empty,
        env=tools,
        check=True,
        capture_output=True,
    )
    bin_ = venv / "bin"
    clean = {k: v for k, v in env.items() if k != "WESSLEY_HOME"} | {"PATH": f"{bin_}:/usr/bin:/bin"}

    installed = demo(
        [str(bin_ / "wessley-dagster"), "demo"],
        clean | {"WESSLEY_HOME": str(empty / "home")},
        empty,
        tmp_path / "installed",
    )
    checkout = demo([sys.executable, "-m", "wessley_dagster.cli", "demo"], env, REPO, tmp_path / "checkout")
    assert installed == checkout and installed["job_rows"] == 2
    assert (empty / "home" / "metadata.db").exists() and not (REPO / "empty").exists()

    validated = subprocess.run(
        [str(bin_ / "dagster"), "definitions", "validate", "-m", "wessley_dagster.definitions"],
        cwd=empty,
        env=clean | {"WESSLEY_HOME": str(empty / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    where = subprocess.run(
        [str(bin_ / "python"), "-c", "import wessley_dagster.cli as c; print(c.__file__)"],
        cwd=empty,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv)) and str(REPO) not in where


def test_the_dockerfile_and_helm_values_deploy_that_wheel():
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert "RUN deploy/build_dist.sh /dist" in dockerfile  # the same two steps as the test above
    assert "RUN install_user_code.sh /dist /usr/local/bin/python" in dockerfile
    assert "USER dagster" in dockerfile and "FROM python:${PYTHON}-slim" in dockerfile
    assert '"code-server", "start"' in dockerfile and '"-m", "wessley_dagster.definitions"' in dockerfile
    values = yaml.safe_load((REPO / "deploy" / "helm-values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"].endswith("wessley-dagster-user-code")
    assert deployment["codeServerArgs"] == ["-m", "wessley_dagster.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher" and values["postgresql"]["enabled"] is False
