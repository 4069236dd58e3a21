"""A real Neo4j 5.26 Community server on loopback, for the tests and the graph benchmark.

It is the launcher under tools/neo4j-launcher (Neo4j's embedded DatabaseManagementService with
its Bolt connector), built by Maven from Maven Central artifacts on first use.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from wessley_dagster.stores.graph import bolt_answers

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "tools" / "neo4j-launcher"
JAR = LAUNCHER / "target" / "neo4j-launcher-1.0.jar"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_launcher() -> None:
    """`mvn package` once: compiles the launcher and copies Neo4j's runtime jars to target/lib."""
    if JAR.exists() and (LAUNCHER / "target" / "lib").is_dir():
        return
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise RuntimeError("Neo4j tests need Java 17 and Maven on PATH (apt-get install openjdk-17-jdk-headless maven)")
    subprocess.run(["mvn", "-q", "-B", "-f", str(LAUNCHER / "pom.xml"), "package"], check=True)


class Neo4jServer:
    def __init__(self, home: Path, port: int | None = None, heap: str = "1g") -> None:
        self.home, self.port, self.heap = home, port or free_port(), heap
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    auth = ("neo4j", "unused-auth-is-disabled")
    database = "neo4j"

    def start(self, timeout: float = 120.0) -> Neo4jServer:
        build_launcher()
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "launcher.log", "ab")  # noqa: SIM115 - handed to the child process
        classpath = f"{JAR}{os.pathsep}{LAUNCHER / 'target' / 'lib' / '*'}"
        self.process = subprocess.Popen(
            ["java", f"-Xmx{self.heap}", "-cp", classpath, "wessley.Neo4jLauncher", str(self.home), str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"Neo4j exited with {self.process.returncode}; see {self.home / 'launcher.log'}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"Neo4j did not answer on {self.uri} within {timeout}s")
            time.sleep(0.5)
        return self

    def answers(self) -> bool:
        return bolt_answers(self.port, self.auth, self.database)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self.process = None
