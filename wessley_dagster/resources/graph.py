"""Graph backend resource: Neo4j (NEO4J_URI) or, with no configuration, a local ArcadeDB server
over Bolt. Both are driven by the official neo4j driver; the schema is ensured on setup."""

import dataclasses
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from neo4j import GraphDatabase
from pydantic import PrivateAttr

from wessley_dagster.stores.arcadedb import DATABASE, USER, ArcadeDBServer
from wessley_dagster.stores.graph import GraphStore

# Servers (and databases) whose schema this process has ensured: the DDL is idempotent but costs
# a round trip per label, once per process rather than once per step (a Celery worker runs many).
_SCHEMA_READY: set[tuple[str, str | None]] = set()


class GraphResource(ConfigurableResource):
    """`uri` empty means: start (or reuse) the embedded ArcadeDB server under `embedded_dir`."""

    uri: str = ""
    user: str = "neo4j"
    password: str = ""
    database: str | None = None
    embedded_dir: str = ".wessley/arcadedb"
    embedded_bolt_port: int = 7697
    embedded_http_port: int = 2480
    embedded_heap: str = ""  # the JVM's -Xmx (WESSLEY_ARCADEDB_HEAP); empty: sized from the machine's memory
    connection_timeout_s: float = 10.0
    max_transaction_retry_time_s: float = 15.0

    _store: GraphStore | None = PrivateAttr(default=None)

    def embedded_server(self) -> ArcadeDBServer:
        server = ArcadeDBServer(Path(self.embedded_dir).resolve(), self.embedded_bolt_port, self.embedded_http_port)
        return dataclasses.replace(server, heap=self.embedded_heap) if self.embedded_heap else server

    def open_store(self) -> GraphStore:
        if self.uri:
            uri, auth, database = self.uri, (self.user, self.password), self.database
        else:
            server = self.embedded_server()
            server.ensure_running()
            uri, auth, database = server.uri, (USER, server.password), DATABASE
        driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=self.connection_timeout_s,
            max_transaction_retry_time=self.max_transaction_retry_time_s,
        )
        try:
            driver.verify_connectivity()  # a configured-but-down server fails here, loudly
            store = GraphStore(driver, database)
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
