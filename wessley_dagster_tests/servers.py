"""A real Neo4j 5.26 Community server on loopback, for the tests and the graph benchmark.

It is the launcher under tools/neo4j-launcher (Neo4j's embedded DatabaseManagementService with
its Bolt connector), built by Maven from Maven Central artifacts on first use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
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
    """The launcher's Neo4j 5.26 on loopback; with `apoc`, APOC Core's procedures loaded too."""

    def __init__(self, home: Path, port: int | None = None, heap: str = "1g", apoc: bool = False) -> None:
        self.home, self.port, self.heap = home, port or free_port(), heap
        self.plugins = [str(LAUNCHER / "target" / "plugins")] if apoc else []
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
        # APOC on the classpath too: its extension (ApocConfig, which its procedures inject) is
        # found there; the plugins folder is where Neo4j looks for procedures.
        jars = [JAR, LAUNCHER / "target" / "lib" / "*", *(Path(p) / "*" for p in self.plugins)]
        classpath = os.pathsep.join(str(j) for j in jars)
        self.process = subprocess.Popen(
            [
                *("java", f"-Xmx{self.heap}", "-cp", classpath, "wessley.Neo4jLauncher"),
                *(str(self.home), str(self.port), *self.plugins),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
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


PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's postgresql-15 (make test installs it)


class PostgresServer:
    """Debian's PostgreSQL 15 on a private port and data directory, for the metadata tests.

    PostgreSQL refuses to run as root, so when the tests do, the cluster belongs to the
    `postgres` account the Debian package creates and its commands run through `runuser`. The
    data directory is outside pytest's root-only temporary folder for the same reason."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="wessley-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        result = subprocess.run([*prefix, *argv], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr or result.stdout}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL tests need {PG_BIN}/initdb (apt-get install postgresql-15)")
        if not (self.data / "PG_VERSION").exists():
            # Trust on loopback: a throwaway cluster on a private port, gone when the tests end.
            self._run(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
            )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )
        return self

    def kill(self) -> None:
        """Immediate shutdown, as a crash would: connections are cut, no checkpoint."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class ChildServer:
    """A server process of the tests: started with its output in a log file, ready once `ready()`
    answers, stopped with SIGTERM."""

    name = "server"

    def __init__(self, log: Path) -> None:
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def ready(self) -> bool:
        raise NotImplementedError

    def _run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        self._log = self.log_path.open("wb")
        # A session of its own: stopping it stops what it started (dagster-celery runs `celery`).
        self.process = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_path.read_text()[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {log}")
            if self.ready():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:g}s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # the whole group may have ended already
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self._log.close()


class ApiServer(ChildServer):
    """`wessley-dagster serve` (uvicorn) in its own process on a free loopback port."""

    name = "the API"

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(log)
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/openapi.json", timeout=2):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> ApiServer:
        import sys

        serve = ["serve", "--port", str(self.port), "--log-level", "warning"]
        self._run([sys.executable, "-m", "wessley_dagster.cli", *serve], {**os.environ, **self.env}, timeout)
        return self


S3PROXY = "org.gaul:s3proxy:2.6.0:jar:jar-with-dependencies"
S3PROXY_JAR = Path.home() / ".m2/repository/org/gaul/s3proxy/2.6.0/s3proxy-2.6.0-jar-with-dependencies.jar"


class S3ProxyServer(ChildServer):
    """S3Proxy (Maven Central) on a filesystem backend: an S3 server that, unlike moto, checks
    presigned URLs' signatures and expiry as S3 does. Credentials are per instance."""

    name = "S3Proxy"

    def __init__(self, root: Path) -> None:
        super().__init__(root / "s3proxy.log")
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_key, self.secret_key = "s3proxy-test", os.urandom(16).hex()

    def ready(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self, timeout: float = 60.0) -> S3ProxyServer:
        if not S3PROXY_JAR.exists():
            subprocess.run(
                ["mvn", "-q", "-B", "dependency:get", f"-Dartifact={S3PROXY}", "-Dtransitive=false"], check=True
            )
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        conf = self.root / "s3proxy.conf"
        conf.write_text(
            "s3proxy.authorization=aws-v2-or-v4\n"
            f"s3proxy.endpoint={self.url}\n"
            f"s3proxy.identity={self.access_key}\n"
            f"s3proxy.credential={self.secret_key}\n"
            "jclouds.provider=filesystem\n"
            f"jclouds.filesystem.basedir={self.root / 'data'}\n"
        )
        conf.chmod(0o600)
        self._run(["java", "-jar", str(S3PROXY_JAR), "--properties", str(conf)], timeout=timeout)
        return self


class RedisServer(ChildServer):
    """Debian's redis-server on a free loopback port, nothing persisted: the Celery broker."""

    name = "redis-server"

    def __init__(self, root: Path) -> None:
        super().__init__(root / "redis.log")
        self.root, self.port = root, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise RuntimeError("the Celery tests need redis-server (apt-get install redis-server)")
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
        ]
        self._run(argv, timeout=timeout)
        return self


class CeleryWorker(ChildServer):
    """`dagster-celery worker start` on the given queues with one task at a time, as a deployment
    runs it; ready once its log says it is."""

    name = "a Celery worker"

    def __init__(self, env: dict[str, str], config: Path, name: str, queues: list[str], log: Path) -> None:
        super().__init__(log)
        self.env, self.config, self.worker_name, self.queues = env, config, name, queues

    def ready(self) -> bool:
        return f"{self.worker_name}@" in (log := self.log_path.read_text()) and " ready." in log

    def start(self, timeout: float = 90.0) -> CeleryWorker:
        import sys

        queues = ["-q", ",".join(self.queues)]  # Celery keeps only the last of several -Q
        bin_dir = Path(sys.executable).parent  # dagster-celery runs `celery` from PATH
        # The solo pool runs tasks in the worker's own process, one at a time (Edge admits one process).
        argv = [
            str(bin_dir / "dagster-celery"),
            "worker",
            "start",
            "-A",
            "dagster_celery.app",
            "-y",
            str(self.config),
            *queues,
            "-n",
            self.worker_name,
            "--",
            "--pool",
            "solo",
        ]
        path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        self._run(argv, {**os.environ, **self.env, "PATH": path}, timeout)
        return self
