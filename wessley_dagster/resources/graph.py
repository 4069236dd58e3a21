"""Graph backend resources, one class per backend: `Neo4jResource` (a Neo4j server) and
`ArcadeDBResource` (the embedded default, a local ArcadeDB server over Bolt). Both are driven by
the official neo4j driver; the schema is ensured on first use."""

import dataclasses
from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource, InitResourceContext
from neo4j import GraphDatabase
from pydantic import PrivateAttr

from wessley_dagster.stores.arcadedb import DATABASE, USER, ArcadeDBServer
from wessley_dagster.stores.graph import GraphStore

# Servers (and databases) whose schema this process has ensured: the DDL is idempotent but costs
# a round trip per label, once per process rather than once per step (a Celery worker runs many).
_SCHEMA_READY: set[tuple[str, str | None]] = set()

Target = tuple[str, tuple[str, str], str | None]  # uri, auth, database


class GraphResource(ConfigurableResource):
    """What both graph backends share: one driver per step, opened on first use."""

    kind: ClassVar[str]
    # Write transactions a job's first load keeps in flight. ArcadeDB's optimistic concurrency
    # makes concurrent batches of one load collide and retry (slower than one at a time): 1.
    writers: int = 1
    connection_timeout_s: float = 10.0
    max_transaction_retry_time_s: float = 15.0

    _store: GraphStore | None = PrivateAttr(default=None)

    def target(self) -> Target:
        raise NotImplementedError

    def open_store(self) -> GraphStore:
        uri, auth, database = self.target()
        driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=self.connection_timeout_s,
            max_transaction_retry_time=self.max_transaction_retry_time_s,
        )
        try:
            driver.verify_connectivity()  # a configured-but-down server fails here, loudly
            store = GraphStore(driver, database, writers=self.writers)
            if (uri, database) not in _SCHEMA_READY:
                store.ensure_schema()
                _SCHEMA_READY.add((uri, database))
        except Exception:
            driver.close()
            raise
        return store

    def reset(self) -> None:
        """Drop the connection after a transient failure: the next use opens a new driver and, for
        the embedded server, starts it again if it is down."""
        self._close()
        _SCHEMA_READY.clear()  # a server that went away may come back without it (a new folder)

    def _close(self) -> None:
        if self._store is not None:
            self._store.driver.close()
            self._store = None

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._close()

    @property
    def store(self) -> GraphStore:
        """Connects on first use, inside a step: a server that is down fails that step, and the
        step's RetryPolicy retries it, instead of failing resource initialisation for the run."""
        if self._store is None:
            self._store = self.open_store()
        return self._store


class Neo4jResource(GraphResource):
    """A Neo4j server (`NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`)."""

    kind: ClassVar[str] = "neo4j"
    uri: str
    user: str = "neo4j"
    password: str = ""
    database: str | None = None
    writers: int = 2  # 2 batches in flight: 1.7x a first load's speed on a 2-core server (bench/RESULTS.md)

    def target(self) -> Target:
        return self.uri, (self.user, self.password), self.database


class ArcadeDBResource(GraphResource):
    """The embedded default: an ArcadeDB server under `home_dir`, started (or reused) on first use."""

    kind: ClassVar[str] = "arcadedb"
    home_dir: str
    bolt_port: int = 7697
    http_port: int = 2480
    heap: str = ""  # the JVM's -Xmx; empty: sized from the machine's memory

    def server(self) -> ArcadeDBServer:
        server = ArcadeDBServer(Path(self.home_dir).resolve(), self.bolt_port, self.http_port)
        return dataclasses.replace(server, heap=self.heap) if self.heap else server

    def target(self) -> Target:
        server = self.server()
        server.ensure_running()
        return server.uri, (USER, server.password), DATABASE
