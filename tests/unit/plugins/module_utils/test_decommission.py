"""Decommission planning and state machine on a fake ops (Kubernetes side) and a fake clock: no sleeping."""
import pytest

from ansible_collections.dok.databases.plugins.module_utils import decommission
from ansible_collections.dok.databases.plugins.module_utils.decommission import plan_decommission, run_decommission
from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult, EngineAdapter, empty_node
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import MariaDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    AccessDenied, ClusterError, CommandError, NotApplicableError, PreconditionError, WaitTimeout,
)


class FakeOps(object):
    """The Kubernetes side: pods of StatefulSet `db`, PVCs datadir-db-<n>, a clock that only sleep() moves."""

    def __init__(self, replicas=5, not_ready=(), responder=None, sts="db", ips=None):
        self.clock = 1000.0
        self._replicas = replicas
        self._pods = [{"name": "%s-%d" % (sts, i), "ordinal": i, "ready": "%s-%d" % (sts, i) not in not_ready,
                       "node": "dok-node-%d" % (i % 3), "ip": (ips or {}).get(i, "10.0.0.%d" % (i + 1)),
                       "phase": "Running", "deleting": False} for i in range(replicas)]
        self._pvcs = set("datadir-%s-%d" % (sts, i) for i in range(replicas))
        self.responder = responder
        self.annotations = {}
        self.log = []

    def pods(self):
        return [dict(p) for p in self._pods]

    def run(self, pod, argv, timeout=None):
        self.log.append(("run", pod, tuple(argv)))
        return self.responder(pod, list(argv)) if self.responder else CommandResult(0, "", "")

    def replicas(self):
        return self._replicas

    def scale(self, replicas):
        self.log.append(("scale", replicas))
        self._replicas = replicas
        self._pods = [p for p in self._pods if p["ordinal"] < replicas]

    def wait_pods_gone(self, names, timeout):
        self.log.append(("wait_pods_gone", tuple(names), timeout))

    def namespace_pods(self):
        return self.pods()

    def claims(self):
        return sorted(({"name": p, "ordinal": int(p.rsplit("-", 1)[1]), "annotations": dict(self.annotations.get(p, {}))}
                       for p in self._pvcs), key=lambda c: (c["ordinal"], c["name"]))

    def annotate_pvc(self, name, annotations):
        self.log.append(("annotate_pvc", name))
        self.annotations.setdefault(name, {}).update(annotations)

    def delete_pvc(self, name):
        self.log.append(("delete_pvc", name))
        self._pvcs.discard(name)

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.log.append(("sleep", seconds))
        self.clock += seconds

    def mutations(self):
        return [entry for entry in self.log if entry[0] in ("scale", "delete_pvc", "wait_pods_gone")]


class FakeAdapter(EngineAdapter):
    """A database whose nodes each hold `replicas`; every progress poll moves `step` of them (0 = stalled)."""

    name = "fakedb"
    supports_decommission = True

    def __init__(self, replicas=5, step=10, group_all=True, dead=(), decommissioning=(), decommissioned=(),
                 capacity=None, extra=(), underreplicated=0, finalize_fails=False, data=30):
        super(FakeAdapter, self).__init__({})
        self.step, self.group_all, self.capacity, self.extra = step, group_all, capacity, list(extra)
        self.finalize_fails = finalize_fails
        self.calls = []
        self.model = {}
        for i in range(replicas):
            pod = "db-%d" % i
            membership = ("decommissioned" if pod in decommissioned else
                          "decommissioning" if pod in decommissioning else "active")
            self.model[pod] = {"id": i + 1, "pod": pod, "ordinal": i, "is_live": pod not in dead,
                               "membership": membership, "replicas": 0 if membership == "decommissioned" else data,
                               "ranges_underreplicated": underreplicated if i == 0 else 0}

    def status(self, run, pod, pods=None):
        self.calls.append(("status", pod))
        return [empty_node(id=m["id"], pod=m["pod"], ordinal=m["ordinal"], is_live=m["is_live"],
                           is_decommissioning=m["membership"] != "active", membership=m["membership"],
                           replicas=m["replicas"], ranges_underreplicated=m["ranges_underreplicated"])
                for m in self.model.values()]

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        return {}

    def decommission_groups(self, targets):
        return [list(targets)] if self.group_all else [[t] for t in targets]

    def extra_prechecks(self, nodes, targets, replication_factor):
        return self.extra

    def capacity_check(self, run, nodes, targets, remaining_pods):
        self.calls.append(("capacity", tuple(sorted(remaining_pods))))
        return self.capacity

    def start_decommission(self, run, control_pod, group):
        self.calls.append(("start", control_pod, tuple(t["pod"] for t in group)))
        for target in group:
            self.model[target["pod"]]["membership"] = "decommissioning"

    def decommission_progress(self, run, control_pod, group, pods=None):
        self.calls.append(("progress", tuple(t["pod"] for t in group)))
        targets = {}
        for target in group:
            node = self.model[target["pod"]]
            node["replicas"] = max(0, node["replicas"] - self.step)
            if node["replicas"] == 0:
                node["membership"] = "decommissioned"
            targets[target["pod"]] = {"state": node["membership"], "replicas": node["replicas"]}
        return {"targets": targets, "done": all(v["replicas"] == 0 for v in targets.values())}

    def finalize_decommission(self, run, control_pod, group, pods=None):
        self.calls.append(("finalize", tuple(t["pod"] for t in group)))
        if self.finalize_fails:
            raise CommandError("Decommission of %s is not complete." % group[0]["pod"])
        return {"done": True}

    def called(self, kind):
        return [c for c in self.calls if c[0] == kind]


def params(**values):
    base = {"replication_factor": 3, "stall_timeout": 60, "wait_timeout": 600, "poll_interval": 5}
    base.update(values)
    return base


def actions(result):
    return [(s["action"], s.get("pod") or s.get("pvc") or s.get("to")) for s in result["plan"]]


def test_default_targets_are_the_highest_ordinals_down_to_replicas():
    ops, adapter = FakeOps(), FakeAdapter()
    result = run_decommission(ops, adapter, params(replicas=3), check_mode=False)
    assert [t["pod"] for t in result["targets"]] == ["db-4", "db-3"]
    assert actions(result) == [
        ("decommission", "db-4"), ("decommission", "db-3"), ("wait", "db-4"), ("wait", "db-3"),
        ("finalize", "db-4"), ("finalize", "db-3"), ("scale", 3),
        ("retain_pvc", "datadir-db-3"), ("retain_pvc", "datadir-db-4")]
    assert adapter.called("start") == [("start", "db-0", ("db-4", "db-3"))]
    assert ops.mutations() == [("scale", 3), ("wait_pods_gone", ("db-4", "db-3"), 600)]
    assert result["changed"] is True and result["replicas"] == {"before": 5, "after": 3}
    assert [s["targets"]["db-4"]["replicas"] for s in result["progress"]] == [20, 10, 0]
    assert [s["seconds"] for s in result["progress"]] == [0.0, 5.0, 10.0]


def test_check_mode_returns_the_plan_and_changes_nothing():
    ops, adapter = FakeOps(), FakeAdapter()
    result = run_decommission(ops, adapter, params(replicas=3, pvc_policy="delete"), check_mode=True)
    assert result["changed"] is True
    assert ("delete_pvc", "datadir-db-4") in actions(result)
    assert ops.mutations() == [] and adapter.called("start") == [] and adapter.called("progress") == []
    assert result["progress"] == []


@pytest.mark.parametrize("policy,deleted", [("retain", []), ("delete", ["datadir-db-3", "datadir-db-4"])])
def test_pvc_policy(policy, deleted):
    ops = FakeOps()
    result = run_decommission(ops, FakeAdapter(), params(replicas=3, pvc_policy=policy), check_mode=False)
    assert [e[1] for e in ops.log if e[0] == "delete_pvc"] == deleted
    assert sorted(ops._pvcs) == sorted(set("datadir-db-%d" % i for i in range(5)) - set(deleted))
    assert result["changed"] is True
    rerun = run_decommission(ops, FakeAdapter(replicas=3), params(replicas=3, pvc_policy=policy), check_mode=False)
    assert rerun["changed"] is False
    assert [a for a, dummy in actions(rerun)] == (["retain_pvc", "retain_pvc"] if policy == "retain" else [])


def test_retained_claim_of_a_cockroachdb_node_warns_about_scale_up():
    adapter = FakeAdapter()
    adapter.name = "cockroachdb"
    result = run_decommission(FakeOps(), adapter, params(replicas=4), check_mode=True)
    retain = [s for s in result["plan"] if s["action"] == "retain_pvc"]
    assert "cannot recommission" in retain[0]["why"] and "ordinal 4" in retain[0]["why"]


@pytest.mark.parametrize("stage,adapter_kwargs,expected_actions,starts,progress_calls", [
    ("interrupted while moving data", {"decommissioning": ("db-4",)},
     [("resume", "db-4"), ("wait", "db-4"), ("finalize", "db-4"), ("scale", 4), ("retain_pvc", "datadir-db-4")], 0, 3),
    ("decommissioned, not scaled yet", {"decommissioned": ("db-4",)},
     [("skip", "db-4"), ("scale", 4), ("retain_pvc", "datadir-db-4")], 0, 0),
])
def test_resume(stage, adapter_kwargs, expected_actions, starts, progress_calls):
    ops, adapter = FakeOps(), FakeAdapter(**adapter_kwargs)
    result = run_decommission(ops, adapter, params(replicas=4), check_mode=False)
    assert actions(result) == expected_actions, stage
    assert len(adapter.called("start")) == starts and len(adapter.called("progress")) == progress_calls
    assert result["changed"] is True and ("scale", 4) in ops.mutations()


def test_resume_after_scale_deletes_the_claims_it_marked_and_keeps_the_others():
    ops = FakeOps(replicas=3)
    ops._pvcs.update(["datadir-db-3", "datadir-db-4", "datadir-db-5"])
    ops.annotations["datadir-db-3"] = {decommission.MEMBER_LEFT: "fakedb node 4", decommission.DELETE_PENDING: "true"}
    ops.annotations["datadir-db-4"] = {decommission.MEMBER_LEFT: "fakedb node 5", decommission.DELETE_PENDING: "true"}
    ops.annotations["datadir-db-5"] = {decommission.MEMBER_LEFT: "fakedb node 6"}
    result = run_decommission(ops, FakeAdapter(replicas=3), params(replicas=3, pvc_policy="delete"), check_mode=False)
    assert actions(result) == [("delete_pvc", "datadir-db-3"), ("delete_pvc", "datadir-db-4"),
                               ("retain_pvc", "datadir-db-5")]
    assert result["changed"] is True and ops.mutations() == [("delete_pvc", "datadir-db-3"), ("delete_pvc", "datadir-db-4")]
    rerun = run_decommission(ops, FakeAdapter(replicas=3), params(replicas=3, pvc_policy="retain"), check_mode=False)
    assert actions(rerun) == [("retain_pvc", "datadir-db-5")] and rerun["changed"] is False


def test_finished_job_reports_unchanged():
    ops = FakeOps(replicas=3)
    result = run_decommission(ops, FakeAdapter(replicas=3), params(replicas=3), check_mode=False)
    assert result["changed"] is False and result["plan"] == [] and ops.mutations() == []


@pytest.mark.parametrize("adapter_kwargs,extra_params,needle", [
    ({"dead": ("db-1",)}, {}, "Nodes that would stay are not live: 2 (db-1)"),
    ({"dead": ("db-1",)}, {"force": True}, "Nodes that would stay are not live"),
    ({"decommissioning": ("db-2",)}, {}, "Other nodes are already decommissioning: 3 (db-2)"),
    ({}, {"replicas": 2}, "2 nodes would remain, fewer than the replication factor 3"),
    ({"extra": ["datacenter dc1 would keep 2 nodes"]}, {}, "datacenter dc1 would keep 2 nodes"),
    ({"underreplicated": 7}, {}, "7 under-replicated and 0 unavailable ranges"),
    ({"capacity": {"checked": True, "reasons": ["pod db-0 has 10 bytes free"]}}, {}, "pod db-0 has 10 bytes free"),
])
def test_prechecks_refuse_and_change_nothing(adapter_kwargs, extra_params, needle):
    ops, adapter = FakeOps(), FakeAdapter(**adapter_kwargs)
    with pytest.raises(PreconditionError) as err:
        run_decommission(ops, adapter, params(**dict({"replicas": 4}, **extra_params)), check_mode=False)
    assert needle in err.value.msg
    assert ops.mutations() == [] and adapter.called("start") == []


@pytest.mark.parametrize("adapter_kwargs,extra_params,warning", [
    ({}, {"replicas": 2}, "forced past: 2 nodes would remain, fewer than the replication factor 3"),
    ({"capacity": {"checked": True, "reasons": ["pod db-0 has 10 bytes free"]}}, {}, "forced past: pod db-0 has 10"),
])
def test_force_overrides_replication_factor_and_capacity(adapter_kwargs, extra_params, warning):
    ops = FakeOps()
    result = run_decommission(ops, FakeAdapter(**adapter_kwargs),
                              params(**dict({"replicas": 4, "force": True}, **extra_params)), check_mode=False)
    assert warning in " | ".join(result["warnings"]) and result["changed"] is True


def test_unknown_capacity_is_a_warning():
    capacity = {"checked": False, "reasons": ["the load of a leaving node is unknown"]}
    result = run_decommission(FakeOps(), FakeAdapter(capacity=capacity), params(replicas=4), check_mode=True)
    assert result["warnings"] == ["capacity not checked: the load of a leaving node is unknown"]


def test_capacity_checked_against_the_pods_that_stay():
    adapter = FakeAdapter(capacity={"checked": True, "reasons": []})
    run_decommission(FakeOps(), adapter, params(replicas=3), check_mode=True)
    assert adapter.called("capacity") == [("capacity", ("db-0", "db-1", "db-2"))]


def test_stall_fails_with_what_was_last_seen_and_does_not_scale():
    ops, adapter = FakeOps(), FakeAdapter(step=0)
    with pytest.raises(WaitTimeout) as err:
        run_decommission(ops, adapter, params(replicas=4, stall_timeout=30), check_mode=False)
    assert "No progress for 30 seconds while decommissioning db-4" in err.value.msg
    assert "db-4: state decommissioning, replicas 30" in err.value.msg
    assert err.value.details["stalled"] is True
    assert err.value.details["last"] == {"db-4": {"state": "decommissioning", "replicas": 30}}
    assert ops.mutations() == [] and ops.clock - 1000.0 == 30


def test_slow_but_moving_is_not_a_stall_until_wait_timeout():
    ops, adapter = FakeOps(), FakeAdapter(step=1, data=1000)
    with pytest.raises(WaitTimeout) as err:
        run_decommission(ops, adapter, params(replicas=4, stall_timeout=30, wait_timeout=100), check_mode=False)
    assert "Not finished after 100 seconds" in err.value.msg and err.value.details["stalled"] is False
    assert len(err.value.details["progress"]) == 21 and ops.mutations() == []


class FlakyProgress(FakeAdapter):
    """Progress polls that fail with `error` the first `failures` times."""

    def __init__(self, error, failures, **kwargs):
        super(FlakyProgress, self).__init__(**kwargs)
        self.error, self.failures = error, failures

    def decommission_progress(self, run, control_pod, group, pods=None):
        if self.failures:
            self.failures -= 1
            self.calls.append(("progress-failed", tuple(t["pod"] for t in group)))
            raise self.error
        return super(FlakyProgress, self).decommission_progress(run, control_pod, group, pods)


def test_access_denied_during_progress_ends_the_wait_at_once_and_scales_nothing():
    """A 401/403 (a Role without pods/exec) is not transient: polling on cannot grant the permission."""
    ops = FakeOps()
    denied = AccessDenied("pods/exec is forbidden: grant create on pods/exec in the namespace.")
    adapter = FlakyProgress(denied, failures=100)
    with pytest.raises(AccessDenied) as err:
        run_decommission(ops, adapter, params(replicas=4, stall_timeout=30, wait_timeout=600), check_mode=False)
    assert "pods/exec" in err.value.msg
    assert len(adapter.called("progress-failed")) == 1
    assert ops.mutations() == [] and ops.clock == 1000.0


@pytest.mark.parametrize("error", [
    ClusterError("the API server answered 500"),
    CommandError("exec timed out"),
])
def test_transient_poll_errors_are_still_retried(error):
    ops = FakeOps()
    adapter = FlakyProgress(error, failures=2)
    result = run_decommission(ops, adapter, params(replicas=4, stall_timeout=60), check_mode=False)
    assert len(adapter.called("progress-failed")) == 2
    assert result["changed"] and ("scale", 4) in ops.mutations()


def test_finalize_failure_stops_before_scaling():
    ops = FakeOps()
    with pytest.raises(CommandError):
        run_decommission(ops, FakeAdapter(finalize_fails=True), params(replicas=4), check_mode=False)
    assert ops.mutations() == []


def test_one_node_at_a_time_engines_finish_each_before_the_next():
    ops, adapter = FakeOps(), FakeAdapter(group_all=False)
    run_decommission(ops, adapter, params(replicas=3), check_mode=False)
    order = [(c[0], c[-1]) for c in adapter.calls if c[0] in ("start", "finalize")]
    assert order == [("start", ("db-4",)), ("finalize", ("db-4",)), ("start", ("db-3",)), ("finalize", ("db-3",))]


@pytest.mark.parametrize("selection,scale_down,expected", [
    ({"pods": ["db-4"]}, True, ["db-4"]),
    ({"pods": ["db-3", "db-4"]}, True, ["db-4", "db-3"]),
    ({"node_ids": [5]}, True, ["db-4"]),
    ({"node_ids": ["4", 5]}, True, ["db-4", "db-3"]),
    ({"pods": ["db-1"]}, False, ["db-1"]),
])
def test_explicit_targets(selection, scale_down, expected):
    ops = FakeOps()
    result = run_decommission(ops, FakeAdapter(), params(scale_down=scale_down, force=True, **selection),
                              check_mode=False)
    assert [t["pod"] for t in result["targets"]] == expected
    assert bool([m for m in ops.mutations() if m[0] == "scale"]) is scale_down


@pytest.mark.parametrize("selection,needle", [
    ({"pods": ["db-2"]}, "A StatefulSet scales down by removing its highest ordinals"),
    ({"pods": ["db-9"]}, "Pods db-9 are not pods of this StatefulSet"),
    ({"node_ids": [42]}, "Node id 42 is not in the cluster's node status"),
    ({}, "Say which nodes to remove"),
    ({"replicas": -1}, "replicas must be 0 or more"),
    ({"replicas": 4, "pvc_policy": "delete", "scale_down": False}, "pvc_policy=delete needs scale_down=true"),
    ({"replicas": 4, "pvc_policy": "shred"}, "pvc_policy must be retain or delete"),
])
def test_bad_selection_is_refused(selection, needle):
    ops = FakeOps()
    with pytest.raises(PreconditionError) as err:
        run_decommission(ops, FakeAdapter(), params(**selection), check_mode=False)
    assert needle in err.value.msg and ops.mutations() == []


def test_node_without_a_pod_cannot_be_named():
    adapter = FakeAdapter()
    adapter.model["db-4"]["pod"] = None
    with pytest.raises(PreconditionError) as err:
        run_decommission(FakeOps(), adapter, params(node_ids=[5]), check_mode=False)
    assert "Node 5 has no pod of this StatefulSet" in err.value.msg


def test_replicas_at_or_above_current_changes_nothing():
    ops = FakeOps()
    result = run_decommission(ops, FakeAdapter(), params(replicas=7), check_mode=False)
    assert result["changed"] is False and result["targets"] == [] and ops.mutations() == []


def test_commands_run_in_a_pod_that_stays():
    ops = FakeOps(not_ready=("db-0",))
    adapter = FakeAdapter()
    plan = plan_decommission(ops, adapter, params(replicas=4))
    assert plan["control"] == "db-1" and adapter.called("status") == [("status", "db-1")]


def test_no_ready_pod_to_run_in():
    ops = FakeOps(replicas=2, not_ready=("db-0",))
    with pytest.raises(ClusterError) as err:
        run_decommission(ops, FakeAdapter(replicas=2), params(replicas=1, replication_factor=1), check_mode=False)
    assert "No Ready pod outside the nodes to remove (db-1)" in err.value.msg


def test_mariadb_is_not_applicable():
    ops = FakeOps(replicas=1)
    with pytest.raises(NotApplicableError) as err:
        run_decommission(ops, MariaDBAdapter({}), params(replicas=0), check_mode=True)
    assert "single server" in err.value.msg and ops.log == []


def test_settings_defaults():
    merged = decommission.settings({"replicas": 3, "force": None})
    assert (merged["force"], merged["stall_timeout"], merged["pvc_policy"], merged["scale_down"]) == (
        False, 600, "retain", True)


class FlakyAdapter(FakeAdapter):
    """Every poll listed in `failures` raises instead of answering."""

    def __init__(self, failures, **kwargs):
        super(FlakyAdapter, self).__init__(**kwargs)
        self.failures, self.polls = set(failures), 0

    def decommission_progress(self, run, control_pod, group, pods=None):
        self.polls += 1
        if self.polls in self.failures:
            raise CommandError("cockroach node decommission did not finish within 60 seconds in pod db-0")
        return super(FlakyAdapter, self).decommission_progress(run, control_pod, group, pods)


def test_a_failed_poll_is_retried():
    ops = FakeOps()
    result = run_decommission(ops, FlakyAdapter([2]), params(replicas=4), check_mode=False)
    assert [s["targets"]["db-4"]["replicas"] for s in result["progress"]] == [20, 10, 0]
    assert ("scale", 4) in ops.mutations()


def test_polls_that_keep_failing_end_as_a_stall_that_quotes_the_error():
    ops = FakeOps()
    with pytest.raises(WaitTimeout) as err:
        run_decommission(ops, FlakyAdapter(range(2, 100)), params(replicas=4, stall_timeout=30), check_mode=False)
    assert "db-4: state decommissioning, replicas 20" in err.value.msg
    assert "the last poll failed: cockroach node decommission did not finish" in err.value.msg
    assert ops.mutations() == []


def test_diff_shows_replicas_node_states_and_claims():
    ops = FakeOps()
    result = run_decommission(ops, FakeAdapter(), params(replicas=3, pvc_policy="delete"), check_mode=True)
    assert result["diff"] == {
        "before": {"replicas": 5, "nodes": {"db-3": "active", "db-4": "active"},
                   "pvcs": ["datadir-db-3", "datadir-db-4"]},
        "after": {"replicas": 3, "nodes": {"db-3": "decommissioned", "db-4": "decommissioned"}, "pvcs": []},
    }


def test_diff_of_a_finished_job_is_empty():
    ops = FakeOps()
    run_decommission(ops, FakeAdapter(), params(replicas=3), check_mode=False)
    rerun = run_decommission(ops, FakeAdapter(replicas=3), params(replicas=3), check_mode=False)
    assert rerun["changed"] is False
    assert rerun["diff"]["before"] == rerun["diff"]["after"]
    assert rerun["diff"]["after"]["pvcs"] == ["datadir-db-3", "datadir-db-4"]
