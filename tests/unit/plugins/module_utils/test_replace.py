"""replace_node: the rules (plan) and the whole run (Replacer) on a model of a cluster whose node dies.

The model is FakeKube plus what the control plane does between two polls: the StatefulSet controller recreates a
deleted pod and its missing claims, the scheduler binds a new claim to an Available local PV on a Ready node, a
claim in use stays Terminating until its pod is gone, a PV whose claim is gone is Released; and a database whose
members are records (CockroachDB-like: a dead member is decommissioned, a new store joins as a new member).
"""
import calendar

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.dok.databases.plugins.module_utils import replace
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import CockroachDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import MariaDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.dok.databases.plugins.module_utils.statefulset import StatefulSetOps

from kube_fake import FakeKube

NS = "db"
EPOCH = calendar.timegm((2026, 12, 6, 18, 0, 0, 0, 0, 0))
DEAD = "node-1"
LOST = "crdb-1"


class Interrupted(Exception):
    pass


def ts(seconds):
    return replace.format_time(EPOCH + seconds)


def node_obj(name, ready=True, since=0):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "Unknown",
                                                   "lastTransitionTime": ts(since)}]}}


def pv_obj(name, node, claim=None, phase="Bound", sc="local", capacity="1Gi"):
    spec = {"storageClassName": sc, "capacity": {"storage": capacity}, "persistentVolumeReclaimPolicy": "Retain",
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}
    if claim:
        spec["claimRef"] = {"namespace": NS, "name": claim, "uid": "uid-" + claim}
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec,
            "status": {"phase": phase}}


class Model(FakeKube):
    """FakeKube with the control plane and a database behind it."""

    def __init__(self, engine="cockroachdb", replicas=3, nodes=4, dead_ready=False, dead_since=-600,
                 spare_pv=True, member_live=False, other_dead=False, node_gone=False):
        super(Model, self).__init__()
        self.engine = engine
        self.name = "crdb"
        self.serial = 0
        self.interrupt_after = None
        self.mutations = 0
        self.decommissions = []
        self.deleted = []
        self.put({"apiVersion": "apps/v1", "kind": "StatefulSet",
                  "metadata": {"name": self.name, "namespace": NS, "uid": "sts",
                               "labels": {"app": self.name, "app.kubernetes.io/managed-by": "dok.databases"}},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": self.name}},
                           "volumeClaimTemplates": [{"metadata": {"name": "datadir"}, "spec": {
                               "storageClassName": "local", "resources": {"requests": {"storage": "1Gi"}}}}]},
                  "status": {}})
        self.put({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
                  "provisioner": "kubernetes.io/no-provisioner"})
        for i in range(nodes):
            if node_gone and "node-%d" % i == DEAD:
                continue
            self.put(node_obj("node-%d" % i, ready=dead_ready or "node-%d" % i != DEAD, since=dead_since))
        self.members = []
        for i in range(replicas):
            pod, node = "%s-%d" % (self.name, i), "node-%d" % i
            claim = "datadir-%s" % pod
            self.put(pv_obj("pv-%d" % i, node, claim))
            self.put({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": claim, "namespace": NS, "uid": "uid-" + claim},
                      "spec": {"volumeName": "pv-%d" % i, "storageClassName": "local"}, "status": {"phase": "Bound"}})
            ready = not (node == DEAD and not dead_ready)
            self._pod(pod, node, ready)
            live = ready or (node == DEAD and member_live)
            if other_dead and i == 2:
                live = False
            self.members.append({"id": i + 1, "pod": pod, "live": live, "membership": "active"})
        if spare_pv:
            self.put(pv_obj("pv-spare", "node-%d" % (nodes - 1), phase="Available"))
        self.put(pv_obj("pv-other-on-dead", DEAD, phase="Available"))

    def _pod(self, name, node, ready):
        self.serial += 1
        self.put({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": name, "namespace": NS, "uid": "pod-%d" % self.serial,
                               "labels": {"app": self.name},
                               "ownerReferences": [{"kind": "StatefulSet", "name": self.name, "controller": True}]},
                  "spec": {"nodeName": node, "containers": [{"name": "cockroachdb"}],
                           "volumes": [{"name": "datadir", "persistentVolumeClaim": {"claimName": "datadir-" + name}}]},
                  "status": {"phase": "Running" if node else "Pending", "podIP": "10.0.0.%d" % self.serial,
                             "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})

    # interruption: a run stops (crash, Ctrl-C) after some number of changes
    def _count(self):
        if self.interrupt_after is not None and self.mutations >= self.interrupt_after:
            raise Interrupted()
        self.mutations += 1

    def patch(self, kind, name, patch, namespace=None):
        self._count()
        return super(Model, self).patch(kind, name, patch, namespace)

    def delete(self, kind, name, namespace=None, grace_period=None, uid=None):
        self._count()
        self.deleted.append((kind, name))
        key = self.key(kind, name, namespace)
        if kind == "PersistentVolumeClaim" and key in self.store:
            users = [o for (k, ns, n), o in self.store.items() if k == "Pod" and ns == namespace and any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == name for v in o["spec"]["volumes"])]
            if users:
                self.store[key]["metadata"]["deletionTimestamp"] = ts(0)
                return True
        if kind == "PersistentVolume" and key in self.store:
            # pv-protection: a deleted PV lingers, Terminating, until the controller lets it go
            self.store[key]["metadata"]["deletionTimestamp"] = ts(0)
            return True
        result = super(Model, self).delete(kind, name, namespace, grace_period, uid)
        self.settle()
        return result

    def sleep(self, seconds):
        self.clock += seconds
        self.settle()

    def settle(self):
        """What the control plane does between two polls."""
        for key in [k for k, o in self.store.items() if k[0] == "PersistentVolume"
                    and o["metadata"].get("deletionTimestamp")]:
            del self.store[key]
        sts = self.store[("StatefulSet", NS, self.name)]
        for i in range(sts["spec"]["replicas"]):
            pod, claim = "%s-%d" % (self.name, i), "datadir-%s-%d" % (self.name, i)
            ckey, pkey = ("PersistentVolumeClaim", NS, claim), ("Pod", NS, pod)
            if ckey in self.store and self.store[ckey]["metadata"].get("deletionTimestamp") and pkey not in self.store:
                del self.store[ckey]
            if pkey not in self.store:
                self._pod(pod, None, False)
            if ckey not in self.store:
                self.put({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                          "metadata": {"name": claim, "namespace": NS, "uid": "uid2-" + claim},
                          "spec": {"storageClassName": "local"}, "status": {"phase": "Pending"}})
            c, p = self.store[ckey], self.store[pkey]
            if not c["spec"].get("volumeName") and not c["metadata"].get("deletionTimestamp") \
                    and not p["spec"].get("nodeName"):
                taken = set(o["spec"].get("nodeName") for (k, ns, n), o in self.store.items() if k == "Pod")
                for (k, dummy, n), pv in sorted(self.store.items(), key=lambda i: str(i[0])):
                    if k != "PersistentVolume" or pv["status"]["phase"] != "Available":
                        continue
                    where = replace.volume_node(pv)
                    view = replace.node_view(self.store.get(("Node", None, where)))
                    if view["ready"] is not True or where in taken:
                        continue
                    pv["spec"]["claimRef"] = {"namespace": NS, "name": claim, "uid": c["metadata"]["uid"]}
                    pv["status"]["phase"] = "Bound"
                    c["spec"]["volumeName"] = n
                    p["spec"]["nodeName"] = where
                    p["status"]["phase"] = "Running"
                    p["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
                    self.members.append({"id": len(self.members) + 1, "pod": pod, "live": True,
                                         "membership": "active"})
                    break
        claims = set(o["metadata"]["uid"] for (k, ns, n), o in self.store.items() if k == "PersistentVolumeClaim")
        for (k, dummy, n), pv in self.store.items():
            ref = pv.get("spec", {}).get("claimRef") if k == "PersistentVolume" else None
            if ref and ref["uid"] not in claims and pv["status"]["phase"] == "Bound":
                pv["status"]["phase"] = "Released"


class FakeDB(object):
    """The adapter, talking to the model's members instead of a CLI."""

    def __init__(self, model, engine):
        self.model = model
        self.real = CockroachDBAdapter({}) if engine != "mariadb" else MariaDBAdapter({})
        self.default_container = self.real.default_container

    def status(self, run, pod, pods=None):
        return [{"id": m["id"], "pod": m["pod"], "address": "%s.crdb:26257" % m["pod"],
                 "is_live": m["live"] and m["membership"] != "decommissioned", "membership": m["membership"],
                 "is_available": m["live"], "is_decommissioning": m["membership"] != "active",
                 "ranges_underreplicated": 0, "ranges_unavailable": 0}
                for m in self.model.members]

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        return self.real.summarize(nodes, expected_nodes, replication_factor)

    def start_decommission(self, run, control, group):
        self.model._count()
        for m in self.model.members:
            if m["id"] == group[0]["node_id"]:
                assert not m["live"], "a live member was decommissioned"
                m["membership"] = "decommissioned"
                self.model.decommissions.append(m["id"])

    def finalize_decommission(self, run, control, group, pods=None):
        return {"done": True}


def run(model, engine="cockroachdb", check_mode=False, confirm=True, min_down=60, lost_node=None):
    ops = StatefulSetOps.resolve(model, NS, "cockroachdb", statefulset=model.name)
    params = {"pod_name": None if lost_node else LOST, "node": lost_node, "min_down": min_down, "wait_timeout": 600,
              "confirm": confirm, "poll_interval": 5, "replication_factor": 3}
    adapter = FakeDB(model, engine)
    orig = replace.Replacer.__init__

    def init(self, *a, **kw):
        orig(self, *a, **kw)
        self.wall = lambda: EPOCH + model.clock - 1000
    replace.Replacer.__init__ = init
    try:
        return replace.replace_node(model, ops, adapter, engine, params, check_mode)
    finally:
        replace.Replacer.__init__ = orig


def assert_replaced(model, result):
    pod = model.get("Pod", LOST, NS)
    claim = model.get("PersistentVolumeClaim", "datadir-" + LOST, NS)
    assert pod["spec"]["nodeName"] == "node-3"
    assert claim["spec"]["volumeName"] == "pv-spare"
    old = model.get("PersistentVolume", "pv-1")
    assert old is None or old["metadata"].get("deletionTimestamp")
    assert model.get("PersistentVolume", "pv-other-on-dead") is not None, "a PV of the dead node not ours was deleted"
    for other in ("pv-0", "pv-2"):
        assert model.get("PersistentVolume", other)["status"]["phase"] == "Bound"
    annotations = model.get("StatefulSet", model.name, NS)["metadata"].get("annotations") or {}
    assert replace.progress_key(LOST) not in annotations
    deleted_pvs = [n for k, n in model.deleted if k == "PersistentVolume"]
    assert deleted_pvs == ["pv-1"]


def test_check_mode_plans_everything_and_changes_nothing():
    model = Model()
    result = run(model, check_mode=True)
    assert result["plan"] == list(replace.STEPS)
    assert result["changed"] is True
    assert model.changes() == []


def test_without_confirm_fails_with_the_plan_and_changes_nothing():
    model = Model()
    with pytest.raises(PreconditionError) as err:
        run(model, confirm=False)
    assert "confirm=true" in err.value.msg and "remove_member" in err.value.msg
    assert model.changes() == []


def test_full_replacement_then_rerun_is_a_no_op():
    model = Model()
    result = run(model)
    done = [s["step"] for s in result["steps_done"]]
    assert [s for s in done if not s.startswith("wait")] == [s for s in replace.STEPS if not s.startswith("wait")]
    assert done == sorted(done, key=replace.STEPS.index)
    assert model.decommissions == [2]
    assert_replaced(model, result)
    assert result["node"] == "node-3"
    again = run(model)
    assert again["changed"] is False and again["steps_done"] == []


def test_by_node_finds_the_pod_with_data_there():
    model = Model()
    result = run(model, lost_node=DEAD)
    assert result["pod"] == LOST
    assert_replaced(model, result)
    assert run(model, lost_node=DEAD)["changed"] is False


@pytest.mark.parametrize("kwargs, words", [
    ({"dead_ready": True}, "not lost"),
    ({"member_live": True}, "still sees member 2"),
    ({"spare_pv": False}, "No prepared volume"),
    ({"other_dead": True}, "other member(s) are not live"),
])
def test_refusals_change_nothing(kwargs, words):
    model = Model(**kwargs)
    if kwargs.get("dead_ready"):
        pod = model.store[("Pod", NS, LOST)]
        pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    with pytest.raises(PreconditionError) as err:
        run(model)
    assert words in err.value.msg
    assert model.changes() == []
    assert model.decommissions == []


def test_waits_for_min_down_then_refuses_when_the_node_comes_back():
    model = Model(dead_since=-10)

    def back(kube):
        if kube.clock > 1020:
            kube.store[("Node", None, DEAD)] = node_obj(DEAD, ready=True, since=20)
    model.on_sleep = back
    orig = model.sleep

    def sleep(seconds):
        orig(seconds)
        back(model)
    model.sleep = sleep
    with pytest.raises(PreconditionError) as err:
        run(model, min_down=60)
    assert "Ready" in err.value.msg
    assert model.decommissions == [] and not model.deleted


def test_a_gone_node_counts_as_down():
    model = Model(node_gone=True)
    result = run(model)
    assert_replaced(model, result)


def test_mariadb_has_no_member_step():
    model = Model(engine="mariadb", replicas=3)
    result = run(model, engine="mariadb")
    assert "remove_member" not in [s["step"] for s in result["steps_done"]]
    assert_replaced(model, result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=12), second_cut=st.one_of(st.none(), st.integers(0, 12)),
       engine=st.sampled_from(["cockroachdb", "mariadb"]), by_node=st.booleans())
@example(cut=1, second_cut=None, engine="cockroachdb", by_node=False)  # after confirm, before the decommission
@example(cut=2, second_cut=None, engine="cockroachdb", by_node=True)  # after the decommission, before the claims
@example(cut=3, second_cut=1, engine="cockroachdb", by_node=False)
def test_interrupted_anywhere_a_rerun_finishes_without_repeating_a_step(cut, second_cut, engine, by_node):
    model = Model(engine=engine)
    for limit in (cut, second_cut):
        if limit is None:
            continue
        model.interrupt_after = model.mutations + limit
        try:
            run(model, engine=engine, lost_node=DEAD if by_node else None)
            break
        except Interrupted:
            pass
    model.interrupt_after = None
    result = run(model, engine=engine, lost_node=DEAD if by_node else None)
    assert_replaced(model, result)
    assert model.decommissions == ([2] if engine == "cockroachdb" else [])
    pod_deletes = [n for k, n in model.deleted if k == "Pod"]
    assert len(pod_deletes) == 1, pod_deletes
    claim_deletes = [n for k, n in model.deleted if k == "PersistentVolumeClaim"]
    assert claim_deletes == ["datadir-" + LOST]


# --- the rules alone, over generated states ---

def gen_state():
    member = st.fixed_dictionaries({"is_live": st.sampled_from([True, False, None]),
                                    "membership": st.sampled_from(["active", "decommissioning", "decommissioned"])})
    return st.fixed_dictionaries({
        "engine": st.sampled_from(["cockroachdb", "kaiwudb", "mariadb"]),
        "node": st.sampled_from(["ready", "notready", "unknown", "gone"]),
        "down": st.integers(0, 400),
        "pod_exists": st.booleans(), "pod_ready": st.booleans(), "pod_moved": st.booleans(),
        "claim": st.sampled_from(["bound", "deleting", "absent", "rebound"]),
        "pv": st.sampled_from(["bound", "released", "absent"]),
        "lost": member, "other": member, "members_known": st.booleans(),
        "candidate": st.booleans(), "progress": st.sampled_from([None, "confirmed", "removed"]),
        "healthy": st.booleans(),
    })


def build(g):
    nodes = {"n1": {"exists": g["node"] != "gone", "ready": {"ready": True, "notready": False}.get(g["node"]),
                    "since": EPOCH, "schedulable": True},
             "n2": {"exists": True, "ready": True, "since": EPOCH, "schedulable": True}}
    if g["node"] == "gone":
        nodes.pop("n1")
    volume = {"pv-old": {"exists": True, "node": "n1", "phase": "Bound" if g["pv"] == "bound" else "Released",
                         "claim": NS + "/datadir-p", "reclaim": "Retain"}} if g["pv"] != "absent" else {}
    claims = [{"name": "datadir-p", "exists": g["claim"] != "absent", "deleting": g["claim"] == "deleting",
               "volume": "pv-new" if g["claim"] == "rebound" else "pv-old", "storage_class": "local",
               "request": "1Gi"}]
    members = [dict(g["lost"], id=1, pod="p"), dict(g["other"], id=2, pod="q")]
    progress = None
    if g["progress"]:
        progress = {"pod": "p", "pod_uid": "u1", "node": "n1", "volumes": ["pv-old"],
                    "member": {"id": 1, "address": "p:1"} if g["engine"] != "mariadb" else None,
                    "removed": g["progress"] == "removed"}
    return {
        "engine": g["engine"],
        "pod": {"name": "p", "uid": "u2" if g["pod_moved"] else "u1", "exists": g["pod_exists"],
                "ready": g["pod_exists"] and g["pod_ready"], "node": "n2" if g["pod_moved"] else "n1",
                "deleting": False, "phase": "Running"},
        "claims": claims, "volumes": volume, "nodes": nodes,
        "members": members if g["members_known"] else None, "member_error": None,
        "candidates": {"datadir-p": ["pv-spare"] if g["candidate"] else []},
        "progress": progress, "healthy": g["healthy"], "namespace": NS,
    }


@settings(max_examples=1500, deadline=None)
@given(g=gen_state())
def test_destructive_steps_only_on_a_confirmed_loss(g):
    state = build(g)
    now = EPOCH + g["down"]
    decision = replace.plan(state, {"min_down": 60}, now)
    steps = decision["steps"]
    assert steps == sorted(steps, key=replace.STEPS.index) and len(set(steps)) == len(steps)
    if decision["refusal"] or decision["wait"]:
        assert steps == [] or not decision["refusal"]
    destructive = [s for s in steps if s in replace.DESTRUCTIVE]
    if not destructive:
        return
    progress = state["progress"]
    member_engine = g["engine"] != "mariadb"
    lost_gone = g["members_known"] and g["lost"]["membership"] == "decommissioned"
    already_removed = progress is not None and (g["progress"] == "removed" or (member_engine and lost_gone))
    if already_removed:
        return
    # nothing was removed yet: every condition of a loss holds now
    assert g["node"] != "ready"
    assert g["node"] == "gone" or g["down"] >= 60
    assert not state["pod"]["ready"]
    if progress is None:
        assert g["candidate"]
    if member_engine:
        assert g["members_known"]
        assert g["lost"]["is_live"] is False
        assert g["other"]["membership"] == "decommissioned" or g["other"]["is_live"] is True
        assert "remove_member" in steps and steps.index("remove_member") == min(steps.index(s) for s in destructive)


@settings(max_examples=500, deadline=None)
@given(g=gen_state())
def test_a_volume_deleted_is_only_an_old_one(g):
    state = build(g)
    state["volumes"]["pv-spare"] = {"exists": True, "node": "n2", "phase": "Available", "claim": None,
                                    "reclaim": "Retain"}
    decision = replace.plan(state, {"min_down": 60}, EPOCH + g["down"])
    assert "pv-spare" not in decision["facts"].get("volumes", [])


@pytest.mark.parametrize("text", ["{", "[]", '{"pod": "other", "node": "n", "volumes": []}', '{"pod": "p"}'])
def test_a_foreign_progress_record_is_refused(text):
    with pytest.raises(ValueError):
        replace.decode_progress(text, "p")


@pytest.mark.parametrize("text, expected", [
    ("2026-12-06T18:00:00Z", EPOCH), ("2026-12-06T18:00:00.123Z", EPOCH), ("", None), ("yesterday", None),
    ("2026-12-06T18:00:00+01:00", None)])
def test_parse_time(text, expected):
    assert replace.parse_time(text) == expected


def test_lost_volumes_names_the_pod_the_volume_and_the_node_since_when():
    model = Model()
    ops = StatefulSetOps.resolve(model, NS, "cockroachdb", statefulset=model.name)
    lost = replace.lost_volumes(ops)
    assert [(item["pod"], item["volume"], item["node"]) for item in lost] == [(LOST, "pv-1", DEAD)]
    assert lost[0]["message"].startswith("pod crdb-1 is bound to PV pv-1 on node node-1, which is NotReady since "
                                         "2026-12-06T17:50:00Z")


def test_lost_volumes_costs_no_call_while_every_pod_is_ready():
    model = Model(dead_ready=True)
    ops = StatefulSetOps.resolve(model, NS, "cockroachdb", statefulset=model.name)
    pods = ops.pods()
    model.calls = []
    assert replace.lost_volumes(ops, pods) == []
    assert model.calls == []


def test_lost_volumes_says_when_the_node_is_gone():
    model = Model(node_gone=True)
    ops = StatefulSetOps.resolve(model, NS, "cockroachdb", statefulset=model.name)
    assert "which is gone from the cluster" in replace.lost_volumes(ops)[0]["message"]


def test_a_run_that_first_waits_for_min_down_reports_the_plan_it_then_ran():
    model = Model(dead_since=-10)
    result = run(model, min_down=60)
    assert result["plan"] == list(replace.STEPS)
    assert_replaced(model, result)
