"""Graph store over the official neo4j driver: Neo4j 5 in production, ArcadeDB's Bolt server as
the embedded default. Same Cypher for both.

Writes are `UNWIND $rows … MERGE` batches in managed write transactions (CREATE while a job has
nothing stored yet, see `load`, its batches `writers` at a time). A re-load writes only what
changed: every node carries a hash of its content, compared with the bundle's in one read a
label; the new version is in before what it no longer holds is removed. Each node and
relationship written carries the `load_id` of its load. Labels and relationship types come from
the fixed schema in `graph_model`, never from user data; all values travel as parameters.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, GraphDatabase, ManagedTransaction, unit_of_work
from neo4j.exceptions import ConstraintError, Neo4jError, ServiceUnavailable

from wessley_dagster.domain.graph_model import (
    ALL_LABELS,
    CONTRACT_PROPERTIES,
    JOB_LABELS,
    VEHICLE,
    GraphPayload,
    RelGroup,
    node_key,
)

BATCH_SIZE = 5000


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def bolt_answers(port: int, auth: tuple[str, str], database: str | None) -> bool:
    """Whether a Bolt server on this loopback port runs a query on `database` yet. A closed port
    answers at once (the driver would retry it for 30 s); a server still creating its database
    is not ready either."""
    if not port_open(port):
        return False
    try:
        with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=auth, connection_timeout=2) as driver:
            driver.execute_query("MATCH (n) RETURN count(n) AS c", database_=database)
    except (Neo4jError, ServiceUnavailable, OSError):
        return False
    return True


def _batches(rows: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# Seconds a read may run on the server before it is cancelled there (a transaction timeout).
READ_TIMEOUT_S = 10.0


class ReachCancelled(RuntimeError):
    """The walk was stopped between two reads because its caller no longer wants the answer."""


def _digest(value: Any) -> str:
    content = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


def content_hash(row: dict[str, Any]) -> str:
    """What a node holds (its properties and its parent), in 128 bits: equal hashes, equal nodes."""
    return _digest([row["props"], row.get("parent")])


Rows = list[dict[str, Any]]


def with_hashes(rows: Rows) -> Rows:
    return [{**row, "hash": content_hash(row)} for row in rows]


# One node a job, outside the job's scope: the digest of each section (a label's nodes, a
# relationship type's pairs) as its last complete load wrote them.
DIGEST = "GraphDigest"


def section_digests(payload: GraphPayload) -> dict[str, str]:
    """A digest of each job label's rows and each relationship type's pairs, as the payload lists
    them (the same bundle lists them in the same order; another order only costs a closer look)."""
    sections = {f"node:{label}": _fast_digest(rows) for label, rows in payload.nodes.items() if label != VEHICLE}
    sections.update({f"rel:{group.type}": _fast_digest(group.pairs) for group in payload.rels})
    return sections


def _fast_digest(value: Any) -> str:
    """A section's digest, at a seventh of `_digest`'s cost (every re-load pays it for the whole
    bundle). marshal's version 0 marks neither back-references nor interned strings, so the same
    rows in the same order give the same bytes in any process; another Python's marshal may write
    other bytes, which only makes a load look closer."""
    return hashlib.blake2b(marshal.dumps(value, 0), digest_size=16).hexdigest()


def _relationship(verb: str, start: str, type_: str, end: str) -> str:
    """A relationship stamped with the load: created with its `load_id` (one write), or merged
    and then stamped (a MERGE pattern with the stamp would not find the one stored before)."""
    if verb == "CREATE":
        return f" CREATE {start}[:{type_} {{load_id: $load_id}}]{end}"
    return f" MERGE {start}[r:{type_}]{end} SET r.load_id = $load_id"


def _digest_key(project_id: str, job_id: str) -> str:
    return f"{project_id}/{job_id}"  # ids never hold a slash


@dataclass(frozen=True)
class StoredGraph:
    nodes: dict[str, dict[str, str | None]]  # label -> key -> content hash
    rels: dict[str, set[tuple[str, str]]]  # type -> (start key, end key)


class GraphStore:
    def __init__(
        self, driver: Driver, database: str | None = None, read_timeout: float = READ_TIMEOUT_S, writers: int = 1
    ) -> None:
        self.driver = driver
        self.database = database
        self.read_timeout = read_timeout
        self.writers = writers

    def _write(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _write_batches(
        self,
        query: str,
        rows: list[Any],
        batch_size: int,
        prepare: Callable[[Rows], Rows] | None = None,
        writers: int = 1,
        **params: Any,
    ) -> None:
        """Each batch of `rows` (made ready by `prepare`, then sent as `$rows`) in its own
        transaction, `writers` transactions at a time: the server works on one while the client
        prepares and sends the next, and a server with cores to spare runs both."""

        def write(batch: Rows) -> None:
            self._write(query, rows=prepare(batch) if prepare else batch, **params)

        if writers == 1:
            for batch in _batches(rows, batch_size):
                write(batch)
            return
        with ThreadPoolExecutor(writers) as pool:
            sent = [pool.submit(write, batch) for batch in _batches(rows, batch_size)]
            try:
                for done in sent:
                    done.result()
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the batches not started yet would fail the same way
                raise

    def _writers(self, create: bool) -> int:
        """Batches in flight: `writers` for CREATEs of a first load, whose batches hold distinct new
        nodes; one for MERGEs and deletions, which lock stored nodes that two batches may share."""
        return self.writers if create else 1

    def _merge_shared(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """A MERGE of a node that concurrent loads share (the project's Vehicle). Neo4j serialises
        such MERGEs; ArcadeDB lets both create it and the uniqueness constraint rejects one. Its
        retry finds the node committed and merges onto it."""
        tries = 3
        while True:
            try:
                return self._write(query, **params)
            except ConstraintError:
                tries -= 1
                if not tries:
                    raise

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        @unit_of_work(timeout=self.read_timeout)
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def ensure_schema(self) -> None:
        """Uniqueness on every label's key, (project_id, job_id) lookups, and nets by project; idempotent."""
        for label in ALL_LABELS:
            self._write(f"CREATE CONSTRAINT {label.lower()}_key IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE")
        for label in JOB_LABELS:
            self._write(f"CREATE INDEX {label.lower()}_scope IF NOT EXISTS FOR (n:{label}) ON (n.project_id, n.job_id)")
        self._write(f"CREATE CONSTRAINT graphdigest_key IF NOT EXISTS FOR (d:{DIGEST}) REQUIRE d.key IS UNIQUE")
        # The vehicle-wide net queries (a net's members in any job, the net summary) name only the project.
        self._write("CREATE INDEX net_project IF NOT EXISTS FOR (n:Net) ON (n.project_id)")

    def _job_exists(self, project_id: str, job_id: str) -> bool:
        return any(
            self.read(
                f"MATCH (n:{label} {{project_id: $p, job_id: $j}}) RETURN n.key AS k LIMIT 1", p=project_id, j=job_id
            )
            for label in JOB_LABELS
        )

    def load(self, payload: GraphPayload, batch_size: int = BATCH_SIZE) -> str:
        """Write the job's graph so that the store holds exactly it. Returns the load id.

        A job with nothing stored yet is written whole with CREATE, which skips MERGE's lookups;
        the uniqueness constraints still reject a duplicate key, so a concurrent first load of the
        same job fails and its retry takes the other path. Otherwise only the sections (a label's
        nodes, a relationship type's pairs) whose digest differs from the last complete load's are
        looked at: what is stored of them is read (each node's key and content hash, each
        relationship's ends: one read a section) and only the difference is written: changed or
        new nodes, new relationships, and the removal of what the bundle no longer holds. An
        unchanged bundle reads one digest node and writes nothing but its Vehicle, which the
        project's jobs share and is always merged. The digests are forgotten before the first
        write and written after the last, so an interrupted load is looked at whole the next time.
        """
        load_id = uuid.uuid4().hex
        if not self._job_exists(payload.project_id, payload.job_id):
            self._first_load(payload, load_id, batch_size)
            return load_id
        sections = section_digests(payload)
        changed = self._changed_sections(payload, sections)
        stored = self._stored(payload, changed)
        for label, rows in payload.nodes.items():
            if label != VEHICLE and f"node:{label}" not in changed:
                continue
            known = stored.nodes.get(label, {})
            new = [row for row in with_hashes(rows) if known.get(row["key"]) != row["hash"]]
            self._write_nodes(payload, label, new, load_id, create=False, batch_size=batch_size)
        for group in payload.rels:
            if f"rel:{group.type}" not in changed:
                continue
            have = stored.rels.get(group.type, set())
            pairs = [{"s": s, "e": e} for s, e in group.pairs if (s, e) not in have]
            self._write_rels(group, pairs, load_id, create=False, batch_size=batch_size)
        self._remove_gone(payload, stored, batch_size)
        if changed:
            self._record_digests(payload, sections, load_id)
        return load_id

    def _first_load(self, payload: GraphPayload, load_id: str, batch_size: int) -> None:
        """The whole graph with CREATE. The client's work overlaps the server's: each batch's
        nodes are hashed by the writer that sends it, the section digests in the background."""
        with ThreadPoolExecutor(1) as background:
            sections = background.submit(section_digests, payload)
            for label, rows in payload.nodes.items():
                self._write_nodes(
                    payload, label, rows, load_id, create=True, batch_size=batch_size, prepare=with_hashes
                )
            for group in payload.rels:
                pairs = [{"s": s, "e": e} for s, e in group.pairs]
                self._write_rels(group, pairs, load_id, create=True, batch_size=batch_size)
            self._record_digests(payload, sections.result(), load_id)

    def _record_digests(self, payload: GraphPayload, sections: dict[str, str], load_id: str) -> None:
        self._write(
            f"MERGE (d:{DIGEST} {{key: $k}}) SET d.sections = $s, d.load_id = $l",
            k=_digest_key(payload.project_id, payload.job_id),
            s=json.dumps(sections, sort_keys=True),
            l=load_id,
        )

    def _changed_sections(self, payload: GraphPayload, sections: dict[str, str]) -> set[str]:
        """The sections whose digest is not the last complete load's (all of them, every job label
        included, when none is recorded), the recorded digests forgotten if any differs."""
        rows = self.read(
            f"MATCH (d:{DIGEST} {{key: $k}}) RETURN d.sections AS s", k=_digest_key(payload.project_id, payload.job_id)
        )
        if not rows or rows[0]["s"] is None:
            return set(sections) | {f"node:{label}" for label in JOB_LABELS}
        previous = json.loads(rows[0]["s"])
        changed = {name for name in sections.keys() | previous.keys() if sections.get(name) != previous.get(name)}
        if changed:
            self.forget_digests(payload.project_id, payload.job_id)
        return changed

    def forget_digests(self, project_id: str, job_id: str) -> None:
        """Drop what the job's last complete load recorded, so that its next load looks at every
        section: what a load does before its first write, and any other writer of the job must."""
        self._write(f"MATCH (d:{DIGEST} {{key: $k}}) DELETE d", k=_digest_key(project_id, job_id))

    def _write_nodes(
        self,
        payload: GraphPayload,
        label: str,
        rows: Rows,
        load_id: str,
        create: bool,
        batch_size: int,
        prepare: Callable[[Rows], Rows] | None = None,
    ) -> None:
        if label == VEHICLE:
            query = self._node_query(payload, label, "MERGE")
            self._merge_shared(query, rows=prepare(rows) if prepare else rows, load_id=load_id)
            return
        if not create:
            query = self._node_query(payload, label, "MERGE")
            self._write_batches(query, rows, batch_size, prepare, self._writers(create), load_id=load_id)
            return
        # A node created with its properties in its pattern is written once; CREATE then SET
        # writes it and rewrites it grown (a quarter of ArcadeDB's first load). Only the
        # contract's names may enter a query's text: a node with an extra field is written by SET.
        contract = set(CONTRACT_PROPERTIES[label])
        named: Rows = []
        extra: Rows = []
        for row in rows:
            (named if row["props"].keys() <= contract else extra).append(row)
        for part, properties in ((named, CONTRACT_PROPERTIES[label]), (extra, ())):
            query = self._node_query(payload, label, "CREATE", properties)
            self._write_batches(query, part, batch_size, prepare, self._writers(create), load_id=load_id)

    @staticmethod
    def _node_query(payload: GraphPayload, label: str, verb: str, properties: Sequence[str] = ()) -> str:
        """Each row's node (`properties` named in its CREATE pattern, else all of `row.props` set on
        it) with its relationship from its parent (a pin's component, a component's vehicle): one
        statement, one key lookup fewer per node."""
        link = payload.parents.get(label)
        parent = f"MATCH (p:{link.label} {{key: row.parent}}) " if link else ""
        if properties:  # a MERGE pattern's properties would be what it matches on
            named = "".join(f"{name}: row.props.{name}, " for name in properties)
            node = f"CREATE (n:{label} {{{named}key: row.key, hash: row.hash, load_id: $load_id}})"
        else:
            node = (
                f"{verb} (n:{label} {{key: row.key}}) "
                "SET n = row.props, n.key = row.key, n.hash = row.hash, n.load_id = $load_id"
            )
        attach = _relationship(verb, "(n)<-", link.type, "-(p)") if link else ""
        return f"UNWIND $rows AS row {parent}{node}{attach}"

    def _write_rels(
        self, group: RelGroup, rows: list[dict[str, str]], load_id: str, create: bool, batch_size: int
    ) -> None:
        # Written from the end node, which is job-scoped and has few relationships: the
        # Vehicle has one CONTAINS per component, and ArcadeDB's MERGE walks the relationships
        # of the node the pattern starts from (quadratic from the Vehicle's side).
        self._write_batches(
            f"UNWIND $rows AS row MATCH (b:{group.end_label} {{key: row.e}}) "
            f"MATCH (a:{group.start_label} {{key: row.s}})"
            + _relationship("CREATE" if create else "MERGE", "(b)<-", group.type, "-(a)"),
            rows,
            batch_size,
            writers=self._writers(create),
            load_id=load_id,
        )

    def _stored(self, payload: GraphPayload, sections: set[str]) -> StoredGraph:
        """What the store holds of the job's given sections: each node's content hash by label and
        key (None for a node written before hashes were stored), each relationship's ends by type."""
        scope = {"p": payload.project_id, "j": payload.job_id}
        # Each answer is one record holding one list: a record per row costs a Bolt message each.
        nodes = {
            label: dict(
                self._read_list(
                    f"MATCH (n:{label} {{project_id: $p, job_id: $j}}) RETURN collect([n.key, n.hash]) AS rows", **scope
                )
            )
            for label in JOB_LABELS
            if f"node:{label}" in sections
        }
        rels = {
            group.type: set(
                map(
                    tuple,
                    self._read_list(
                        f"MATCH (a:{group.start_label})-[:{group.type}]->"
                        f"(b:{group.end_label} {{project_id: $p, job_id: $j}}) RETURN collect([a.key, b.key]) AS rows",
                        **scope,
                    ),
                )
            )
            for group in payload.rels
            if f"rel:{group.type}" in sections
        }
        return StoredGraph(nodes, rels)

    def _remove_gone(self, payload: GraphPayload, stored: StoredGraph, batch_size: int) -> None:
        """Delete the relationships and nodes of the job, among those read, that the new version
        does not hold (a node's own relationships go with it)."""
        for group in payload.rels:
            gone = [{"s": s, "e": e} for s, e in stored.rels.get(group.type, set()) - set(group.pairs)]
            self._write_batches(
                f"UNWIND $rows AS row MATCH (b:{group.end_label} {{key: row.e}})<-[r:{group.type}]-"
                f"(a:{group.start_label} {{key: row.s}}) DELETE r",
                gone,
                batch_size,
            )
        for label in JOB_LABELS:
            keep = {row["key"] for row in payload.nodes.get(label, [])}
            gone_keys = [key for key in stored.nodes.get(label, {}) if key not in keep]
            query = f"UNWIND $rows AS k MATCH (n:{label} {{key: k}}) DETACH DELETE n"
            self._write_batches(query, gone_keys, batch_size)

    def _read_list(self, query: str, **params: Any) -> list[Any]:
        """The `rows` list of a read of the pipeline's own (a load's view of the job), with no
        timeout: it is as large as the job, unlike a request's reads."""

        def work(tx: ManagedTransaction) -> list[Any]:
            record = tx.run(query, params).single()
            return record["rows"] if record else []

        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def counts(self, project_id: str, job_id: str) -> dict[str, int]:
        """Nodes per job label and relationships per type, for one job."""
        result: dict[str, int] = {}
        for label in JOB_LABELS:
            rows = self.read(
                f"MATCH (n:{label} {{project_id: $p, job_id: $j}}) RETURN count(n) AS c",
                p=project_id,
                j=job_id,
            )
            result[label] = rows[0]["c"]
        rows = [
            row
            for label in JOB_LABELS  # by label, so that each read uses the job's scope index
            for row in self.read(
                f"MATCH (n:{label} {{project_id: $p, job_id: $j}})-[r]->() RETURN type(r) AS t, count(r) AS c",
                p=project_id,
                j=job_id,
            )
        ]
        rows += self.read(  # anchored on the vehicle's unique key: a planner may scan a label otherwise
            "MATCH (:Vehicle {key: $v})-[r:CONTAINS]->(:Component {project_id: $p, job_id: $j}) "
            "RETURN type(r) AS t, count(r) AS c",
            v=node_key("vehicle", project_id),
            p=project_id,
            j=job_id,
        )
        for row in rows:
            result[row["t"]] = result.get(row["t"], 0) + row["c"]
        return result

    def totals(self) -> dict[str, Any]:
        """Whole-store counts by label and relationship type (for the demo's summary)."""
        nodes = {
            r["label"]: r["c"]
            for r in self.read(f"MATCH (n) WHERE NOT n:{DIGEST} UNWIND labels(n) AS label RETURN label, count(*) AS c")
        }
        rels = {r["t"]: r["c"] for r in self.read("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c")}
        return {"nodes": dict(sorted(nodes.items())), "relationships": dict(sorted(rels.items()))}

    def dump(self, project_id: str, job_id: str) -> dict[str, list[Any]]:
        """Every node and relationship of a job, load ids excluded, sorted: for exact comparisons."""
        nodes = self.read(
            "MATCH (n {project_id: $p, job_id: $j}) RETURN labels(n) AS labels, properties(n) AS props",
            p=project_id,
            j=job_id,
        )
        rels = self.read(
            "MATCH (a)-[r]->(b {project_id: $p, job_id: $j}) RETURN a.key AS s, type(r) AS t, b.key AS e",
            p=project_id,
            j=job_id,
        )
        node_rows = sorted(
            (sorted(n["labels"]), sorted((k, repr(v)) for k, v in n["props"].items() if k != "load_id")) for n in nodes
        )
        return {"nodes": node_rows, "relationships": sorted((r["s"], r["t"], r["e"]) for r in rels)}

    def missing_connections(
        self, project_id: str, job_id: str, connections: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        """The (component, pin, net) triples that do not exist as Component-HAS_PIN-Pin-ON_NET-Net.

        Each triple is looked up by its nodes' unique keys, so the check's time follows the job's
        size only, whatever else the store holds. The answer is the found rows' positions in one
        list (a record each would be a Bolt message each: twice the time at 90,000 triples)."""
        rows = [
            [
                node_key("pin", project_id, job_id, c["component_id"], c["pin"]),
                node_key("component", project_id, job_id, c["component_id"]),
                node_key("net", project_id, job_id, c["net"]),
                i,
            ]
            for i, c in enumerate(connections)
        ]
        found = set(
            self._read_list(
                "UNWIND $rows AS row MATCH (pin:Pin {key: row[0]})-[:ON_NET]->(:Net {key: row[2]}) "
                "MATCH (pin)<-[:HAS_PIN]-(:Component {key: row[1]}) RETURN collect(row[3]) AS rows",
                rows=rows,
            )
        )
        return [c for i, c in enumerate(connections) if i not in found]

    def orphan_pins(self, project_id: str, job_id: str) -> int:
        """The job's pins that no component holds, each checked from the pin's own side."""
        rows = self.read(
            "MATCH (p:Pin {project_id: $p, job_id: $j}) WHERE NOT (p)<-[:HAS_PIN]-() RETURN count(p) AS c",
            p=project_id,
            j=job_id,
        )
        return rows[0]["c"]

    # --- connectivity queries (always scoped to a project; optionally to one job) -----------------

    def net_members(self, project_id: str, net: str, job_id: str | None = None) -> list[dict[str, Any]]:
        """The components and pins on a net."""
        return self.read(
            "MATCH (n:Net {project_id: $p, name: $net}) WHERE $j IS NULL OR n.job_id = $j "
            "MATCH (n)<-[:ON_NET]-(pin:Pin)<-[:HAS_PIN]-(c:Component) "
            "RETURN n.job_id AS job_id, c.id AS component_id, c.type AS type, pin.name AS pin "
            "ORDER BY job_id, component_id, pin",
            p=project_id,
            net=net,
            j=job_id,
        )

    def reach(
        self,
        project_id: str,
        job_id: str,
        component_id: str,
        pin: str | None = None,
        hops: int = 1,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> list[dict[str, Any]]:
        """Components reachable from a component (or one of its pins) across at most `hops` nets.

        Breadth-first over nets with visited sets: each hop is two reads anchored on unique keys
        (the nets of the new parts, then the parts on the nets not crossed yet), so every net and
        every part is read at most once whatever `hops` is. `cancelled` is asked between reads
        (a client that went away stops the walk); each read has the server-side timeout."""
        if not 1 <= int(hops) <= 10:
            raise ValueError("hops must be between 1 and 10")
        start = node_key("component", project_id, job_id, component_id)
        found: dict[str, tuple[str, str | None, int]] = {start: (component_id, None, 0)}
        crossed: set[str] = set()
        frontier = [start]
        for hop in range(1, int(hops) + 1):
            if cancelled():
                raise ReachCancelled(f"reach from {component_id!r} stopped at hop {hop}")
            if hop == 1 and pin is not None:
                nets = self.read(
                    "MATCH (:Pin {key: $k})-[:ON_NET]->(n:Net) RETURN DISTINCT n.key AS net",
                    k=node_key("pin", project_id, job_id, component_id, pin),
                )
            else:
                nets = self.read(
                    "UNWIND $keys AS k MATCH (:Component {key: k})-[:HAS_PIN]->(:Pin)-[:ON_NET]->(n:Net) "
                    "RETURN DISTINCT n.key AS net",
                    keys=frontier,
                )
            fresh = [row["net"] for row in nets if row["net"] not in crossed]
            crossed.update(fresh)
            if not fresh:
                break
            parts = self.read(
                "UNWIND $nets AS nk MATCH (:Net {key: nk})<-[:ON_NET]-(:Pin)<-[:HAS_PIN]-(o:Component) "
                "RETURN DISTINCT o.key AS key, o.id AS component_id, o.type AS type",
                nets=fresh,
            )
            reached = {row["key"]: (row["component_id"], row["type"], hop) for row in parts if row["key"] not in found}
            found.update(reached)
            frontier = list(reached)
        return sorted(
            ({"component_id": cid, "type": kind, "hops": hop} for cid, kind, hop in found.values() if hop),
            key=lambda r: (r["hops"], r["component_id"]),
        )

    def expand(
        self, project_id: str, job_id: str, component_ids: Sequence[str], nets: Sequence[str], per_net: int = 25
    ) -> dict[str, list[dict[str, Any]]]:
        """The neighbourhood of search hits in one read each, anchored on the nodes' unique keys:
        for each component its pins, their nets and the parts on them; for each net its pins.

        Returns {"components": [{component_id, pin, function, net, others: [{component_id, type, pin}]}],
        "nets": [{net, component_id, type, pin}]}; `per_net` bounds the parts listed per net."""
        comp_keys = [node_key("component", project_id, job_id, c) for c in component_ids]
        net_keys = [node_key("net", project_id, job_id, n) for n in nets]
        components = (
            self.read(
                "UNWIND $keys AS k MATCH (c:Component {key: k})-[:HAS_PIN]->(pin:Pin) WHERE c.project_id = $p "
                "OPTIONAL MATCH (pin)-[:ON_NET]->(n:Net) "
                "OPTIONAL MATCH (n)<-[:ON_NET]-(op:Pin)<-[:HAS_PIN]-(o:Component) WHERE o.key <> k "
                "WITH c, pin, n, collect({component_id: o.id, type: o.type, pin: op.name}) AS others "
                "RETURN c.id AS component_id, pin.name AS pin, pin.function AS function, n.name AS net, "
                "others[..$per_net] AS others ORDER BY component_id, pin",
                keys=comp_keys,
                p=project_id,
                per_net=per_net,
            )
            if comp_keys
            else []
        )
        members = (
            self.read(
                "UNWIND $keys AS k MATCH (n:Net {key: k})<-[:ON_NET]-(pin:Pin)<-[:HAS_PIN]-(c:Component) "
                "WHERE n.project_id = $p RETURN n.name AS net, c.id AS component_id, c.type AS type, "
                "pin.name AS pin ORDER BY net, component_id, pin",
                keys=net_keys,
                p=project_id,
            )
            if net_keys
            else []
        )
        for row in components:
            row["others"] = [o for o in row["others"] if o.get("component_id") is not None]
        return {"components": components, "nets": members}

    def shortest_path(self, project_id: str, job_id: str, start: str, end: str) -> list[dict[str, str]]:
        """The shortest chain between two components: [{label, name}, …] from start to end; [] if none."""
        rows = self.read(
            "MATCH (a:Component {key: $a}) MATCH (b:Component {key: $b}) "
            "MATCH path = shortestPath((a)-[:HAS_PIN|ON_NET*..60]-(b)) "
            "RETURN [n IN nodes(path) | coalesce(n.id, n.name)] AS names, [n IN nodes(path) | labels(n)[0]] AS labels",
            a=node_key("component", project_id, job_id, start),
            b=node_key("component", project_id, job_id, end),
        )
        if not rows:
            return []
        return [{"label": label, "name": name} for name, label in zip(rows[0]["names"], rows[0]["labels"], strict=True)]

    def net_summary(self, project_id: str, job_id: str | None = None) -> list[dict[str, Any]]:
        """Per net of the vehicle: voltage level, bus flag and fan-out (pins on it), busiest first."""
        return self.read(
            "MATCH (n:Net {project_id: $p}) WHERE $j IS NULL OR n.job_id = $j "
            "OPTIONAL MATCH (pin:Pin)-[:ON_NET]->(n) "
            "RETURN n.job_id AS job_id, n.name AS net, n.voltage_level AS voltage_level, "
            "coalesce(n.is_bus, false) AS is_bus, count(pin) AS fan_out "
            "ORDER BY fan_out DESC, job_id, net",
            p=project_id,
            j=job_id,
        )
