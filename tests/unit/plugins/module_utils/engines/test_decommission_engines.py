"""The real adapters driven by the decommission state machine, answering with recorded CLI output."""
import pytest

from ansible_collections.dok.databases.plugins.module_utils.decommission import run_decommission
from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import CassandraAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import CockroachDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.kaiwudb import KaiwuDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    ClusterError, CommandError, PreconditionError, WaitTimeout,
)

from engine_fixtures import load


class Ops(object):
    def __init__(self, sts, ips, responder):
        self.clock, self.log, self.responder = 0.0, [], responder
        self._pods = [{"name": "%s-%d" % (sts, i), "ordinal": i, "ready": True, "ip": ip, "deleting": False,
                       "phase": "Running"}
                      for i, ip in enumerate(ips)]
        self._replicas = len(ips)

    def pods(self):
        return [dict(p) for p in self._pods]

    def run(self, pod, argv, timeout=None):
        self.log.append(("run", pod, list(argv)))
        return self.responder(pod, argv)

    def replicas(self):
        return self._replicas

    def scale(self, replicas):
        self.log.append(("scale", replicas))
        self._replicas = replicas

    def wait_pods_gone(self, names, timeout):
        self.log.append(("wait_pods_gone", list(names)))

    def namespace_pods(self):
        return self.pods()

    def claims(self):
        return [{"name": "datadir-x-%d" % p["ordinal"], "ordinal": p["ordinal"], "annotations": {}}
                for p in self._pods]

    def annotate_pvc(self, name, annotations):
        self.log.append(("annotate_pvc", name))

    def delete_pvc(self, name):
        self.log.append(("delete_pvc", name))

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds

    def runs(self):
        return [(e[1], e[2]) for e in self.log if e[0] == "run"]

    def mutations(self):
        return [e for e in self.log if e[0] != "run"]


def answers(status, decommission):
    """Status text for `node status`, then the decommission outputs in turn (the last one repeated)."""
    seen = []

    def respond(pod, argv):
        if "status" in argv:
            return CommandResult(0, status, "")
        seen.append(argv)
        return CommandResult(0, decommission[min(len(seen), len(decommission)) - 1], "")
    return respond


def test_kaiwudb_seed_scale_down_from_four_to_three():
    """Seed 001: node status, decommission node 4 (bini-3) until 0 replicas, scale the StatefulSet to 3."""
    respond = answers(load("kaiwudb", "node_status_bini_release2.0.txt"),
                      [load("kaiwudb", "node_decommission_bini_progress.txt"),
                       load("kaiwudb", "node_decommission_bini_progress.txt"),
                       load("kaiwudb", "node_decommission_bini_done.txt")])
    ops = Ops("bini", ["10.0.0.%d" % i for i in range(4)], respond)
    result = run_decommission(ops, KaiwuDBAdapter({"binary": "bini", "insecure": True}),
                              {"replicas": 3, "replication_factor": 3, "poll_interval": 5}, check_mode=False)
    assert [(t["pod"], t["node_id"], t["state"]) for t in result["targets"]] == [("bini-3", 4, "decommissioned")]
    assert [s["targets"]["bini-3"]["replicas"] for s in result["progress"]] == [28, 0]
    decommissions = [argv for pod, argv in ops.runs() if "decommission" in argv]
    assert decommissions[0] == ["bini", "node", "decommission", "4", "--wait=none", "--format=csv",
                                "--host=localhost:26257", "--insecure"]
    assert all(pod == "bini-0" for pod, dummy in ops.runs())
    assert ops.mutations() == [("annotate_pvc", "datadir-x-3"), ("scale", 3), ("wait_pods_gone", ["bini-3"])]


def test_cockroachdb_omicron_node_6_decommission_and_finalize():
    respond = answers(load("cockroachdb", "node_status_all_v22.1.22_decommissioned.csv"),
                      [load("cockroachdb", "node_decommission_v22.1.22_progress.csv"),
                       load("cockroachdb", "node_decommission_v22.1.22_progress.csv"),
                       load("cockroachdb", "node_decommission_v22.1.22_done.csv")])
    ops = Ops("crdb", ["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21"], respond)
    result = run_decommission(ops, CockroachDBAdapter({"certs_dir": "/cockroach/cockroach-certs"}),
                              {"replicas": 2, "replication_factor": 2, "pvc_policy": "delete"}, check_mode=False)
    assert [(t["pod"], t["node_id"]) for t in result["targets"]] == [("crdb-2", 6)]
    assert [s["targets"]["crdb-2"] for s in result["progress"]] == [
        {"state": "decommissioning", "replicas": 24}, {"state": "decommissioned", "replicas": 0}]
    assert ops.mutations() == [("annotate_pvc", "datadir-x-2"), ("scale", 2), ("wait_pods_gone", ["crdb-2"]),
                               ("delete_pvc", "datadir-x-2")]


def test_cockroachdb_stall_with_replicas_stuck():
    respond = answers(load("cockroachdb", "node_status_all_v22.1.22_decommissioned.csv"),
                      [load("cockroachdb", "node_decommission_v22.1.22_progress.csv")])
    ops = Ops("crdb", ["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21"], respond)
    with pytest.raises(WaitTimeout) as err:
        run_decommission(ops, CockroachDBAdapter({"insecure": True}),
                         {"replicas": 2, "replication_factor": 2, "stall_timeout": 60, "poll_interval": 10},
                         check_mode=False)
    assert "crdb-2: state decommissioning, replicas 24" in err.value.msg
    assert ops.mutations() == [] and ops.clock == 60


def test_cockroachdb_replication_factor_refusal():
    respond = answers(load("cockroachdb", "node_status_all_v22.1.22_decommissioned.csv"), [])
    ops = Ops("crdb", ["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21"], respond)
    with pytest.raises(PreconditionError) as err:
        run_decommission(ops, CockroachDBAdapter({"insecure": True}), {"replicas": 2}, check_mode=False)
    assert "2 nodes would remain, fewer than the replication factor 3" in err.value.msg
    assert [argv for dummy, argv in ops.runs() if "decommission" in argv] == [] and ops.mutations() == []


def test_cockroachdb_dead_nodes_block_decommission():
    respond = answers(load("cockroachdb", "node_status_all_v22.1.22_dead_nodes.csv"), [])
    ips = ["fd3e:7225:64f1:102::3", "fd3e:7225:64f1:104::3", "fd3e:7225:64f1:103::3", "fd3e:7225:64f1:104::4",
           "fd3e:7225:64f1:101::3a"]
    ops = Ops("crdb", ips, respond)
    with pytest.raises(PreconditionError) as err:
        run_decommission(ops, CockroachDBAdapter({"insecure": True}), {"replicas": 4, "force": True}, check_mode=False)
    assert "Nodes that would stay are not live: 1 (no pod), 6 (no pod), 7 (no pod), 8 ([fd3e" in err.value.msg


def test_cockroachdb_pod_whose_node_is_unknown_is_refused_even_with_force():
    """CockroachDB keeps decommissioned nodes in its status, so a pod with no node there is unknown, never gone."""
    status = load("cockroachdb", "node_status_all_v22.1.22_decommissioned.csv")
    ops = Ops("crdb", ["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21", "fd00::99"],
              answers(status, []))
    for force in (False, True):
        with pytest.raises(PreconditionError) as err:
            run_decommission(ops, CockroachDBAdapter({"insecure": True}), {"replicas": 3, "force": force},
                             check_mode=False)
        assert "Pod crdb-3 cannot be matched to a node of cockroachdb" in err.value.msg
        assert "cockroachdb's node status has no node at this pod's address" in err.value.msg
    assert ops.mutations() == []
    result = run_decommission(ops, CockroachDBAdapter({"insecure": True}),
                              {"replicas": 3, "assume_gone": ["crdb-3"], "pvc_policy": "delete"}, check_mode=False)
    assert [(s["action"], s.get("pod") or s.get("pvc")) for s in result["plan"]] == [
        ("assume_gone", "crdb-3"), ("scale", None), ("retain_pvc", "datadir-x-3")]
    assert ops.mutations() == [("scale", 3), ("wait_pods_gone", ["crdb-3"])]


def cassandra_responder(status, log=""):
    def respond(pod, argv):
        joined = " ".join(argv)
        if argv[-1] == "status":
            return CommandResult(0, status, "")
        if argv[-1] == "netstats":
            return CommandResult(0, load("cassandra", "netstats_normal_datastax_2.2.txt"), "")
        if argv[-1] == "info":
            return CommandResult(0, load("cassandra", "info_3x_ds201.txt"), "")
        if argv[0] == "df":
            return CommandResult(0, load("cassandra", "df_pk_dokc_host.txt"), "")
        if argv[:2] == ["cat", "/tmp/dok-decommission.log"]:
            return CommandResult(0, log, "")
        assert "nohup" in joined and argv[-1] == "decommission", argv
        return CommandResult(0, "", "")
    return respond


CASSANDRA_IPS = ["10.4.2.4", "10.4.0.4", "10.4.1.4"]


def test_cassandra_starts_detached_in_the_leaving_pod_and_detects_a_stall():
    ops = Ops("cassandra", CASSANDRA_IPS, cassandra_responder(load("cassandra", "status_seed003_k8s_dc1_3nodes.txt")))
    with pytest.raises(WaitTimeout) as err:
        run_decommission(ops, CassandraAdapter({}), {"replicas": 2, "replication_factor": 2, "stall_timeout": 30},
                         check_mode=False)
    starts = [(pod, argv) for pod, argv in ops.runs() if "nohup" in " ".join(argv)]
    assert starts == [("cassandra-2", [
        "sh", "-c", 'nohup sh -c \'"$@"; echo "dok-exit-status: $?"\' sh "$@" > /tmp/dok-decommission.log 2>&1 '
        '< /dev/null &', "sh", "nodetool", "decommission"])]
    assert {pod for pod, argv in ops.runs() if argv[0] == "df"} == {"cassandra-0", "cassandra-1"}
    assert {pod for pod, argv in ops.runs() if argv[-1] == "netstats"} == {"cassandra-2"}
    assert "cassandra-2: state active" in err.value.msg and ops.mutations() == []


def test_cassandra_failed_decommission_log_is_reported():
    ops = Ops("cassandra", CASSANDRA_IPS, cassandra_responder(
        load("cassandra", "status_seed003_k8s_dc1_3nodes.txt"),
        load("cassandra", "decommission_log_connection_refused.txt")))
    with pytest.raises(CommandError) as err:
        run_decommission(ops, CassandraAdapter({}), {"replicas": 2, "replication_factor": 2}, check_mode=False)
    assert ("nodetool decommission in pod cassandra-2 stopped with an error while the node stays in the ring "
            "(mode NORMAL)") in err.value.msg
    assert "ConnectException" in err.value.msg and ops.mutations() == []


def test_cassandra_pod_whose_host_id_is_not_in_a_ring_of_running_pods_is_gone():
    """Its node reports a host ID the ring does not list, and every ring member is up at another pod's address."""
    ring = load("cassandra", "status_seed003_k8s_dc1_3nodes.txt")
    ops = Ops("cassandra", CASSANDRA_IPS + ["10.9.9.9"], cassandra_responder(ring))
    result = run_decommission(ops, CassandraAdapter({}), {"replicas": 3}, check_mode=False)
    assert [(s["action"], s.get("pod")) for s in result["plan"]][:1] == [("skip", "cassandra-3")]
    assert result["targets"][0]["state"] == "gone" and ("scale", 3) in ops.mutations()


def test_cassandra_replication_factor_refused_per_datacenter():
    ops = Ops("cassandra", CASSANDRA_IPS, cassandra_responder(load("cassandra", "status_seed003_k8s_dc1_3nodes.txt")))
    with pytest.raises(PreconditionError) as err:
        run_decommission(ops, CassandraAdapter({}), {"replicas": 2}, check_mode=True)
    assert "datacenter DC1-K8Demo would keep 2 nodes, fewer than the replication factor 3" in err.value.msg


def test_cassandra_capacity_compares_load_with_free_space():
    adapter = CassandraAdapter({})
    nodes = adapter.parse_status(load("cassandra", "status_seed003_k8s_dc1_3nodes.txt"))
    respond = cassandra_responder("")

    def run(pod, argv, timeout=None):
        return respond(pod, argv)
    leaving = [{"node_id": nodes[2]["id"]}]
    check = adapter.capacity_check(run, nodes, leaving, ["cassandra-0", "cassandra-1"])
    assert check["checked"] is True and check["reasons"] == [] and check["leaving_bytes"] == 85053
    nodes[2]["load"] = check["free_bytes"]["cassandra-0"] * 4
    refused = adapter.capacity_check(run, nodes, leaving, ["cassandra-0", "cassandra-1"])
    assert len(refused["reasons"]) == 2 and "less than 2 x its share" in refused["reasons"][0]
    nodes[2]["load"] = None
    assert adapter.capacity_check(None, nodes, leaving, ["cassandra-0"])["checked"] is False


def test_cassandra_node_that_left_is_found_from_the_ring_when_its_pod_refuses_exec():
    rings = [load("cassandra", "status_seed003_k8s_dc1_3nodes.txt"),
             load("cassandra", "status_seed003_datacenter1_2nodes.txt")]
    status_calls = []

    def respond(pod, argv):
        if argv[-1] == "status":
            status_calls.append(pod)
            return CommandResult(0, rings[0 if len(status_calls) == 1 else 1], "")
        if pod == "cassandra-2" and argv[-1] == "netstats":
            raise ClusterError("Pod cassandra-2 in namespace db is not Ready (phase Running), so no command can run "
                               "in it.")
        return cassandra_responder(rings[0])(pod, argv)
    ops = Ops("cassandra", CASSANDRA_IPS, respond)
    result = run_decommission(ops, CassandraAdapter({}), {"replicas": 2, "replication_factor": 2}, check_mode=False)
    assert result["progress"][-1]["targets"]["cassandra-2"]["state"] == "decommissioned"
    assert result["progress"][-1]["targets"]["cassandra-2"]["mode"] is None
    assert ("scale", 2) in ops.mutations()
