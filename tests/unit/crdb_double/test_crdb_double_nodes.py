# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Three real node processes of the CLI double on loopback: join, gossip, restart, decommission, refusal to rejoin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.abspath(os.path.join(HERE, "..", "..", "images", "crdb-double", "crdb_double.py"))
DEADLINE = 90


def free_ports(count):
    socks = [socket.socket() for _ in range(count)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        ports = free_ports(6)
        self.sql_ports, self.http_ports = ports[:3], ports[3:]
        self.env = dict(os.environ, CRDB_DOUBLE_VERSION="v23.1.11", CRDB_DOUBLE_LIVENESS_TIMEOUT="20",
                        CRDB_DOUBLE_REPLICAS="12", CRDB_DOUBLE_DECOMMISSION_RATE="20")
        self.procs = {}

    def addr(self, i):
        return "127.0.0.1:%d" % self.sql_ports[i]

    def start(self, i):
        join = ",".join(self.addr(j) for j in range(3))
        log = open(str(self.tmp / ("n%d.log" % i)), "ab")
        self.procs[i] = subprocess.Popen(
            [sys.executable, PROGRAM, "start", "--insecure", "--store=%s" % (self.tmp / ("n%d" % i)),
             "--listen-addr=" + self.addr(i), "--advertise-addr=" + self.addr(i),
             "--http-addr=127.0.0.1:%d" % self.http_ports[i], "--join=" + join],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def cli(self, i, *args):
        return subprocess.run([sys.executable, PROGRAM] + list(args) + ["--insecure", "--host=" + self.addr(i)],
                              capture_output=True, text=True, env=self.env, timeout=60)

    def until(self, what, check):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            result = check()
            if result:
                return result
            time.sleep(0.5)
        raise AssertionError("gave up waiting for %s" % what)

    def status(self, i, *flags):
        res = self.cli(i, "node", "status", "--format=csv", *flags)
        if res.returncode != 0:
            return None
        lines = res.stdout.splitlines()
        header = lines[0].split(",")
        return [dict(zip(header, line.split(","))) for line in lines[1:]]

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def test_three_nodes_join_share_rows_survive_a_restart_and_refuse_a_removed_node(cluster):
    for i in range(3):
        cluster.start(i)
    init = cluster.until("init", lambda: (lambda r: r if r.returncode == 0 else None)(cluster.cli(0, "init")))
    assert init.stdout == "Cluster successfully initialized\n"
    again = cluster.cli(1, "init")
    assert again.returncode == 1 and "ERROR: cluster has already been initialized" in again.stderr

    rows = cluster.until("three live nodes", lambda: (lambda s: s if s and len(s) == 3 and all(
        r["is_live"] == "true" and r["address"] != "NULL" for r in s) else None)(cluster.status(2)))
    ids = {r["address"]: r["id"] for r in rows}
    assert sorted(ids.values()) == ["1", "2", "3"] and ids[cluster.addr(0)] == "1"

    write = cluster.cli(0, "sql", "-e", "CREATE DATABASE IF NOT EXISTS d", "-e",
                        "CREATE TABLE IF NOT EXISTS d.t (id INT PRIMARY KEY, v STRING)", "-e",
                        "INSERT INTO d.t VALUES (1, 'one'), (2, 'two')")
    assert write.stdout == "CREATE DATABASE\nCREATE TABLE\nINSERT 0 2\n", write.stderr
    cluster.until("the rows on another node", lambda: cluster.cli(
        2, "sql", "--format=csv", "-e", "SELECT * FROM d.t").stdout == "id,v\n1,one\n2,two\n")

    cluster.procs[1].kill()
    cluster.procs[1].wait(10)
    cluster.start(1)
    restarted = cluster.until("the restarted node live again", lambda: (lambda s: s if s and all(
        r["is_live"] == "true" and r["address"] != "NULL" for r in s) and len(s) == 3 else None)(cluster.status(1)))
    assert {r["address"]: r["id"] for r in restarted} == ids

    victim = ids[cluster.addr(2)]
    out = cluster.cli(0, "node", "decommission", victim, "--wait=all", "--format=csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("No more data reported on target nodes. "
                               "Please verify cluster health before removing the nodes.\n")
    cluster.procs[2].kill()
    cluster.procs[2].wait(10)
    cluster.start(2)
    assert cluster.procs[2].wait(DEADLINE) == 1
    log = (cluster.tmp / "n2.log").read_text()
    assert "node n%s was permanently removed from the cluster" % victim in log
    final = cluster.until("the decommissioned node reported gone", lambda: (lambda s: s if s and any(
        r["id"] == victim and r["membership"] == "decommissioned" for r in s) else None)(
        cluster.status(0, "--decommission")))
    gone = [r for r in final if r["id"] == victim][0]
    assert (gone["is_live"], gone["is_decommissioning"], gone["gossiped_replicas"]) == ("false", "true", "0")
    assert [r["is_live"] for r in final if r["id"] != victim] == ["true", "true"]
