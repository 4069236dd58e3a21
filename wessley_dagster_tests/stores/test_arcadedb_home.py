"""The embedded graph server belongs to its home: its own random password, never on a command
line, and a server on the port that is not this home's is refused, never used."""

import os
import stat
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from wessley_dagster.stores.arcadedb import DATABASE, USER, ArcadeDBServer, NotOurServer
from wessley_dagster_tests.servers import free_port


def test_the_password_is_random_private_and_not_on_the_command_line(arcadedb):
    secret = arcadedb.root / "server.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and stat.S_IMODE(arcadedb.argfile.stat().st_mode) == 0o600
    assert len(arcadedb.password) >= 30 and arcadedb.password != ArcadeDBServer(arcadedb.root.parent / "x").password
    pid = int(arcadedb.pid_file.read_text())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert arcadedb.password.encode() not in cmdline and f"@{arcadedb.argfile}".encode() in cmdline
    assert arcadedb.password.encode() not in (arcadedb.root / "server.log").read_bytes()


def test_another_homes_server_on_the_port_is_refused(arcadedb, tmp_path):
    intruder = ArcadeDBServer(tmp_path / "other-home" / "arcadedb", arcadedb.bolt_port, arcadedb.http_port)
    with pytest.raises(NotOurServer, match=f"port {arcadedb.bolt_port} is held by a server that is not this home"):
        intruder.ensure_running()


def test_two_homes_each_get_their_own_server(arcadedb, tmp_path):
    second = ArcadeDBServer(tmp_path / "home-2" / "arcadedb", free_port(), free_port())
    second.ensure_running()
    try:
        for server, marker in ((arcadedb, "first"), (second, "second")):
            with GraphDatabase.driver(server.uri, auth=(USER, server.password)) as driver:
                driver.execute_query(
                    "CREATE (:HomeMarker {home: $h, pid: $p})", h=marker, p=os.getpid(), database_=DATABASE
                )
        with GraphDatabase.driver(second.uri, auth=(USER, second.password)) as driver:
            records, _, _ = driver.execute_query("MATCH (m:HomeMarker) RETURN m.home AS h", database_=DATABASE)
        assert {r["h"] for r in records} == {"second"}  # nothing of the first home is visible
        with pytest.raises(AuthError), GraphDatabase.driver(second.uri, auth=(USER, arcadedb.password)) as driver:
            driver.verify_connectivity()  # one home's password opens nothing in another
    finally:
        second.stop()


def test_a_home_restarts_its_server_and_one_from_before_per_home_passwords_too(tmp_path):
    server = ArcadeDBServer(tmp_path / "home" / "arcadedb", free_port(), free_port())
    try:
        server.ensure_running()
        server.stop()
        server.ensure_running()  # the same password again
        server.stop()
        (server.root / "server.secret").unlink()  # as a folder made before passwords were per home
        server.ensure_running()  # a new password, and the server accepts it
        with GraphDatabase.driver(server.uri, auth=(USER, server.password)) as driver:
            driver.verify_connectivity()
    finally:
        server.stop()
