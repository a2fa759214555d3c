# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Three real node processes of the CLI double on loopback: join, gossip, restart, decommission, refusal to rejoin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.abspath(os.path.join(HERE, "..", "..", "images", "crdb-double", "crdb_double.py"))
DEADLINE = 90


def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return low, high


def free_ports(count):
    """`count` distinct loopback ports that are free now and that the kernel will not hand out on its own.

    A port from bind(("127.0.0.1", 0)) lies in the ephemeral range: once the probing socket is closed, any outgoing
    connection on the machine (the nodes' own gossip and join calls included) may get it as its local port before
    the node process binds it, and that node then dies with EADDRINUSE. Ports outside the ephemeral range are only
    ever taken by an explicit bind, so probing them and releasing them just before the nodes start is safe.
    """
    low, high = ephemeral_range()
    candidates = [p for p in range(10000, 65536) if p < low or p > high]
    rng = random.Random()
    held = []
    try:
        while len(held) < count:
            sock = socket.socket()
            held.append(sock)
            try:
                sock.bind(("127.0.0.1", rng.choice(candidates) if candidates else 0))
            except OSError:
                held.pop().close()
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


class Cluster:
    def __init__(self, tmp_path, node_security=("--insecure",), client_security=("--insecure",)):
        self.tmp = tmp_path
        self.node_security, self.client_security = list(node_security), list(client_security)
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
            [sys.executable, PROGRAM, "start"] + self.node_security + [
                "--store=%s" % (self.tmp / ("n%d" % i)), "--listen-addr=" + self.addr(i),
                "--advertise-addr=" + self.addr(i), "--http-addr=127.0.0.1:%d" % self.http_ports[i], "--join=" + join],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def cli(self, i, *args, **kwargs):
        security = list(kwargs.get("security", self.client_security))
        return subprocess.run([sys.executable, PROGRAM] + list(args) + security + ["--host=" + self.addr(i)],
                              capture_output=True, text=True, env=self.env, timeout=60, check=False)

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


def succeeded(result):
    """The CLI result when the command exited 0, else None (keep waiting)."""
    return result if result.returncode == 0 else None


def all_live(rows, count):
    """The status rows when exactly `count` nodes are listed, all live and with an address, else None."""
    if rows and len(rows) == count and all(r["is_live"] == "true" and r["address"] != "NULL" for r in rows):
        return rows
    return None


def reported_decommissioned(rows, node_id, gone=False):
    """The status rows once node `node_id` is listed with membership `decommissioned` (and, with `gone`, without an
    address: its last heartbeat has expired), else None."""
    if rows and any(r["id"] == node_id and r["membership"] == "decommissioned" and (r["address"] == "NULL") == gone
                    for r in rows):
        return rows
    return None


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
    init = cluster.until("init", lambda: succeeded(cluster.cli(0, "init")))
    assert init.stdout == "Cluster successfully initialized\n"
    again = cluster.cli(1, "init")
    assert again.returncode == 1 and "ERROR: cluster has already been initialized" in again.stderr

    rows = cluster.until("three live nodes", lambda: all_live(cluster.status(2), 3))
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
    restarted = cluster.until("the restarted node live again", lambda: all_live(cluster.status(1), 3))
    assert {r["address"]: r["id"] for r in restarted} == ids

    victim = ids[cluster.addr(2)]
    out = cluster.cli(0, "node", "decommission", victim, "--wait=all", "--format=csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("No more data reported on target nodes. "
                               "Please verify cluster health before removing the nodes.\n")
    # while the removed node still runs its heartbeats keep it alive: shown with its address and no replicas
    removed = cluster.until("the decommissioned node reported", lambda: reported_decommissioned(
        cluster.status(0, "--decommission"), victim))
    shown = [r for r in removed if r["id"] == victim][0]
    assert shown["address"] == cluster.addr(2)
    assert (shown["is_live"], shown["is_decommissioning"], shown["gossiped_replicas"]) == ("false", "true", "0")

    cluster.procs[2].kill()
    cluster.procs[2].wait(10)
    cluster.start(2)
    assert cluster.procs[2].wait(DEADLINE) == 1
    log = (cluster.tmp / "n2.log").read_text()
    assert "node n%s was permanently removed from the cluster" % victim in log
    # once its last heartbeat is older than the liveness timeout the node is gone: the recorded NULL pattern
    final = cluster.until("the decommissioned node reported gone", lambda: reported_decommissioned(
        cluster.status(0, "--decommission"), victim, gone=True))
    gone = [r for r in final if r["id"] == victim][0]
    assert (gone["is_live"], gone["is_decommissioning"], gone["gossiped_replicas"]) == ("false", "true", "NULL")
    assert [r["is_live"] for r in final if r["id"] != victim] == ["true", "true"]


def load_double():
    spec = importlib.util.spec_from_file_location("crdb_double_under_test", PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_saves_from_the_gossip_loop_and_request_threads_at_once_keep_the_node_alive_and_the_state_whole(tmp_path):
    """A node saves from its gossip loop and from request threads (sql, init) at the same time. Sharing one .tmp file
    without a lock, one thread's os.replace found the .tmp already moved away and the node's loop died."""
    double = load_double()
    node = double.Node({"insecure": "true", "store": str(tmp_path / "s")}, {"flavour": "cockroach", "version": "v23.1.11"}, double.config())
    errors = []

    def writer(n):
        try:
            for k in range(300):
                with node.lock:
                    node.state["settings"]["w%d" % n] = {"v": str(k), "ts": k}
                node.save()
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open(node.state_file) as f:
        assert json.load(f) == node.state
    assert not os.path.exists(node.state_file + ".tmp")
