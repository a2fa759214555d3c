"""Paths on which a decommission could remove a member or a claim the database still needs: each must refuse."""
import csv
import io
import os

import pytest

from ansible_collections.dok.databases.plugins.module_utils.decommission import run_decommission, settings
from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import CassandraAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import CockroachDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    CommandError, PreconditionError, WaitTimeout,
)

from cassandra_model import CassandraModel, Member

PENDING = "dok.databases/delete-after-scale-down"


def ring(replicas=4, claims=True):
    """A healthy ring: pod n at 10.0.0.n+1, member n+1 in the ring at that address."""
    model = CassandraModel(replicas)
    for ordinal in range(replicas):
        ip = "10.0.0.%d" % (ordinal + 1)
        model.add_pod(ordinal, ip)
        model.add_member(Member(ordinal + 1, ip, ordinal=ordinal))
        if claims:
            model.add_claim(ordinal)
    return model


def decommission(model, check_mode=False, **values):
    params = {"replication_factor": 3, "stall_timeout": 60, "wait_timeout": 600, "poll_interval": 5}
    params.update(values)
    return run_decommission(model, CassandraAdapter({}), params, check_mode=check_mode)


def test_a_healthy_ring_decommissions_the_top_node_and_deletes_only_its_claim():
    model = ring()
    result = decommission(model, replicas=3, pvc_policy="delete")
    assert [(t["pod"], t["state"]) for t in result["targets"]] == [("cassandra-3", "decommissioned")]
    deleted = [e for e in model.log if e[0] == "delete_pvc"]
    assert [(e[1], e[2]) for e in deleted] == [("datadir-cassandra-3", True)]
    assert [e[:2] for e in model.log if e[0] == "scale"] == [("scale", 3)]


@pytest.mark.parametrize("phase,ip", [("Pending", None), ("Running", "10.0.9.9")])
def test_a_pod_that_no_ring_row_matches_while_its_old_address_is_down_is_refused(phase, ip):
    """The pod was rescheduled (new IP, or Pending without one); the ring still lists its member as DN."""
    model = ring()
    model.add_pod(3, ip, phase=phase, ready=False)
    model.members[3].status = "D"
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3, pvc_policy="delete")
    assert "cassandra-3" in err.value.msg and "10.0.0.4" in err.value.msg
    assert "Nothing was changed" in err.value.msg
    assert model.mutations() == []


def test_force_does_not_turn_an_unmatched_pod_into_a_gone_member():
    model = ring()
    model.add_pod(3, None, phase="Pending", ready=False)
    model.members[3].status = "D"
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3, pvc_policy="delete", force=True)
    assert "assume_gone" in err.value.msg and model.mutations() == []


def test_assume_gone_scales_the_named_pod_away_but_keeps_its_claim():
    model = ring()
    model.add_pod(3, None, phase="Pending", ready=False)
    model.members[3].status = "D"
    result = decommission(model, replicas=3, pvc_policy="delete", assume_gone=["cassandra-3"], force=True)
    assert [(s["action"], s.get("pod") or s.get("pvc") or s.get("to")) for s in result["plan"]] == [
        ("assume_gone", "cassandra-3"), ("scale", 3), ("retain_pvc", "datadir-cassandra-3")]
    assert "assume_gone" in result["plan"][-1]["why"]
    assert [e[0] for e in model.mutations()] == ["scale"]


@pytest.mark.parametrize("pod", ["absent", "pending"])
def test_assume_gone_keeps_the_claim_also_when_the_member_turns_out_gone(pod):
    """The ring has no member at the pod's address and every member is up elsewhere: gone by inference only, and
    the user said they do not know, so the claim of a pod named in assume_gone stays under pvc_policy delete."""
    model = ring()
    if pod == "absent":
        del model.pods_by_ordinal[3]
    else:
        model.add_pod(3, None, phase="Pending", ready=False)
    model.members[3].left = True
    result = decommission(model, replicas=3, pvc_policy="delete", assume_gone=["cassandra-3"])
    kept = [s for s in result["plan"] if s.get("pvc") == "datadir-cassandra-3"]
    assert [s["action"] for s in kept] == ["retain_pvc"] and "assume_gone" in kept[0]["why"]
    assert [e[0] for e in model.mutations()] == ["annotate_pvc", "scale"]
    assert "datadir-cassandra-3" in model.claims_by_name
    assert PENDING not in model.claims_by_name["datadir-cassandra-3"]


def test_assume_gone_is_refused_for_a_pod_the_database_still_lists():
    model = ring()
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3, assume_gone=["cassandra-3"])
    assert "cassandra-3" in err.value.msg and model.mutations() == []


def test_a_rescheduled_pod_is_matched_by_host_id_and_decommissioned():
    model = ring()
    model.add_pod(3, "10.0.9.9")
    result = decommission(model, replicas=3)
    assert result["targets"][0]["node_id"] == model.members[3].id
    assert result["targets"][0]["state"] == "decommissioned" and model.truly_left(3)


def test_a_pod_not_in_the_ring_with_no_candidate_member_is_gone():
    model = ring()
    model.members[3].left = True
    result = decommission(model, replicas=3, pvc_policy="delete")
    assert result["targets"][0]["state"] == "gone"
    assert [e[1] for e in model.log if e[0] == "delete_pvc"] == ["datadir-cassandra-3"]


def test_replicas_mode_refuses_when_a_pod_of_the_range_is_missing():
    model = ring(5)
    del model.pods_by_ordinal[4]
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3)
    assert "cassandra-4" in err.value.msg and model.mutations() == []


def test_a_claim_retained_by_an_earlier_run_is_kept():
    model = ring()
    model.add_claim(5, {"dok.databases/member-left": "confirmed"})
    result = decommission(model, replicas=3, pvc_policy="delete")
    assert [e[1] for e in model.log if e[0] == "delete_pvc"] == ["datadir-cassandra-3"]
    kept = [s for s in result["plan"] if s["action"] == "retain_pvc"]
    assert [s["pvc"] for s in kept] == ["datadir-cassandra-5"] and "not removed by this run" in kept[0]["why"]
    assert "datadir-cassandra-5" in model.claims_by_name


def test_a_rerun_after_an_interrupted_scale_deletes_only_the_claims_it_marked():
    model = ring(3)
    model.add_claim(3, {"dok.databases/member-left": "confirmed", PENDING: "true"})
    model.add_claim(4, {"dok.databases/member-left": "confirmed"})
    result = decommission(model, replicas=3, pvc_policy="delete")
    assert [e[1] for e in model.log if e[0] == "delete_pvc"] == ["datadir-cassandra-3"]
    assert result["changed"] is True and "datadir-cassandra-4" in model.claims_by_name


def test_claims_are_marked_before_the_statefulset_shrinks():
    model = ring()
    decommission(model, replicas=3, pvc_policy="delete")
    kinds = [e[0] for e in model.mutations()]
    assert kinds == ["annotate_pvc", "scale", "delete_pvc"]
    assert model.log[[e[0] for e in model.log].index("annotate_pvc")][2][PENDING] == "true"


def test_a_down_target_is_refused_for_cassandra():
    model = ring()
    model.members[3].status = "D"
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3)
    assert "cassandra-3" in err.value.msg and "down" in err.value.msg and model.mutations() == []


def test_a_refused_decommission_fails_at_once_quoting_the_database():
    model = ring()
    model.refuse_decommission = "Not enough live nodes to maintain replication factor in keyspace app (RF = 3, N = 3)."
    with pytest.raises(CommandError) as err:
        decommission(model, replicas=3, stall_timeout=600)
    assert "Not enough live nodes" in err.value.msg and "exit status 2" in err.value.msg
    assert model.clock < 600 and model.mutations() == []


@pytest.mark.parametrize("values,needle", [
    ({"stall_timeout": 0}, "stall_timeout must be"),
    ({"stall_timeout": -5}, "stall_timeout must be"),
    ({"poll_interval": -1}, "poll_interval must be"),
    ({"poll_interval": 0}, "poll_interval must be"),
    ({"wait_timeout": 0}, "wait_timeout must be"),
    ({"replication_factor": 0}, "replication_factor must be"),
    ({"stall_timeout": 5, "poll_interval": 10}, "stall_timeout must be at least poll_interval"),
    ({"assume_gone": ["cassandra-3", ""]}, "assume_gone"),
])
def test_settings_refuse_values_out_of_range(values, needle):
    with pytest.raises(PreconditionError) as err:
        settings(dict({"replicas": 3}, **values))
    assert needle in err.value.msg


def decommission_commands(model):
    return [e[1] for e in model.log if e[0] == "run" and "decommission" in e[2]]


@pytest.mark.parametrize("state", ["N", "?"])
def test_a_target_of_unknown_liveness_is_refused_before_any_decommission(state):
    """A `?N` ring row: the node may be down, and a down Cassandra node cannot stream its data away."""
    model = ring()
    model.members[3].status, model.members[3].state = "?", state
    for force in (False, True):
        with pytest.raises(PreconditionError) as err:
            decommission(model, replicas=3, pvc_policy="delete", force=force)
        assert err.value.msg.startswith("The liveness of cassandra-3 is unknown in cassandra's status (%s at "
                                        "10.0.0.4). Nothing was changed." % model.members[3].id)
    assert decommission_commands(model) == [] and model.mutations() == []


def test_a_leaving_target_of_unknown_liveness_is_watched_never_restarted_nor_scaled():
    """A `?L` row: the member is leaving already; the run only watches it and stops on the stall."""
    model = ring()
    model.members[3].status, model.members[3].state = "?", "L"
    with pytest.raises(WaitTimeout) as err:
        decommission(model, replicas=3, pvc_policy="delete", force=True)
    assert "Nothing was scaled down" in err.value.msg
    assert decommission_commands(model) == [] and model.mutations() == []


def test_an_unknown_liveness_beside_a_healthy_target_refuses_both():
    model = ring(5)
    model.members[3].status = "?"
    with pytest.raises(PreconditionError) as err:
        decommission(model, replicas=3, replication_factor=2)
    assert "The liveness of cassandra-3 is unknown" in err.value.msg and "cassandra-4" not in err.value.msg.split(
        "(")[0]
    assert decommission_commands(model) == [] and model.mutations() == []


CRDB_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "cockroachdb")


def crdb_fixture(name):
    with open(os.path.join(CRDB_FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


class CockroachOps(object):
    """Three CockroachDB pods answering `node status` and `node decommission` with recorded tables."""

    def __init__(self, status):
        self.status, self.log, self.clock = status, [], 0.0
        ips = ["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21"]
        self._pods = [{"name": "crdb-%d" % i, "ordinal": i, "ready": True, "ip": ip, "deleting": False,
                       "phase": "Running"} for i, ip in enumerate(ips)]

    def pods(self):
        return [dict(p) for p in self._pods]

    namespace_pods = pods

    def replicas(self):
        return len(self._pods)

    def run(self, pod, argv, timeout=None):
        self.log.append(("run", pod, list(argv)))
        if "status" in argv:
            return CommandResult(0, self.status, "")
        return CommandResult(0, crdb_fixture("node_decommission_v22.1.22_done.csv"), "")

    def claims(self):
        return [{"name": "datadir-crdb-%d" % p["ordinal"], "ordinal": p["ordinal"], "annotations": {}}
                for p in self._pods]

    def scale(self, replicas):
        self.log.append(("scale", replicas))

    def wait_pods_gone(self, names, timeout):
        self.log.append(("wait_pods_gone", list(names)))

    def annotate_pvc(self, name, annotations):
        self.log.append(("annotate_pvc", name))

    def delete_pvc(self, name):
        self.log.append(("delete_pvc", name))

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds


def crdb_status(is_live):
    """The recorded table with node 6 (pod crdb-2) given another is_live value."""
    rows = list(csv.reader(io.StringIO(crdb_fixture("node_status_all_v22.1.22_decommissioned.csv"))))
    column = rows[0].index("is_live")
    for row in rows[1:]:
        if row[0] == "6":
            row[column] = is_live
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("is_live", ["NULL", ""])
def test_cockroachdb_target_of_unknown_liveness_is_refused_before_any_decommission(is_live):
    ops = CockroachOps(crdb_status(is_live))
    for force in (False, True):
        with pytest.raises(PreconditionError) as err:
            run_decommission(ops, CockroachDBAdapter({"insecure": True}),
                             {"replicas": 2, "replication_factor": 2, "pvc_policy": "delete", "force": force},
                             check_mode=False)
        assert err.value.msg.startswith("The liveness of crdb-2 is unknown in cockroachdb's status (6 at ")
    assert [e for e in ops.log if e[0] != "run" or "decommission" in e[2]] == []


def test_cockroachdb_live_target_of_the_same_table_is_decommissioned():
    """The same table with node 6 live passes the pre-checks, so the refusal above is about liveness alone."""
    ops = CockroachOps(crdb_status("true"))
    result = run_decommission(ops, CockroachDBAdapter({"insecure": True}),
                              {"replicas": 2, "replication_factor": 2, "pvc_policy": "delete"}, check_mode=False)
    assert [(t["pod"], t["state"]) for t in result["targets"]] == [("crdb-2", "decommissioned")]
    assert [e for e in ops.log if e[0] != "run"] == [
        ("annotate_pvc", "datadir-crdb-2"), ("scale", 2), ("wait_pods_gone", ["crdb-2"]), ("delete_pvc", "datadir-crdb-2")]
