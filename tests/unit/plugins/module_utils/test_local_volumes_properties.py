# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""local_pv over generated clusters: a released PV goes to its former claim only, foreign PVs stay untouched, the
diff tells what happens and a rerun has nothing left to do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.common import is_ours
from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.dok.databases.plugins.module_utils.local_volumes import (
    PREFIX_LABEL, desired_storage_class, ensure, former_claim, pv_name, pv_view, validate, _sc_view,
)

from kube_fake import FakeKube

NODES = ("dok-node-0", "dok-node-1", "dok-node-2")
PATHS = ("/data/a", "/data/b")
PREFIXES = ("db", "other")
CLASSES = ("local-storage", "fast")
CAPACITIES = ("1Gi", "1024Mi", "2Gi")
EXPLICIT_NAMES = ("db-custom", "foreign")
MANAGED_BY = "app.kubernetes.io/managed-by"
INSTANCE_FIELDS = ("uid", "resourceVersion")


def sometimes(draw, one_in):
    return not draw(st.integers(min_value=0, max_value=one_in - 1))


claim_refs = st.fixed_dictionaries({}, optional={
    "kind": st.just("PersistentVolumeClaim"),
    "apiVersion": st.just("v1"),
    "namespace": st.sampled_from(("app", "app", "app", "other", "")),
    "name": st.sampled_from(("datadir-db-0", "datadir-db-0", "datadir-db-0", "datadir-db-1", "")),
    "uid": st.sampled_from(("0f3a", "9b1c")),
    "resourceVersion": st.sampled_from(("4711", "12")),
})


@st.composite
def live_pv(draw, name, node, path, params):
    """A PV as the API server returns it, near to what `params` would create for (node, path), or not."""
    labels = dict(params["labels"])
    if not sometimes(draw, 16):
        labels[MANAGED_BY] = "dok.databases"
    prefix = draw(st.sampled_from((params["name_prefix"],) * 12 + (None,) + PREFIXES))
    if prefix:
        labels[PREFIX_LABEL] = prefix
    metadata = {"name": name, "labels": labels, "uid": "pv-%s" % name}
    if sometimes(draw, 24):
        metadata["deletionTimestamp"] = "2026-11-29T18:00:00Z"
    spec = {
        "capacity": {"storage": draw(st.sampled_from(CAPACITIES))},
        "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": draw(st.sampled_from((params["reclaim_policy"], "Retain", "Delete"))),
        "storageClassName": draw(st.sampled_from((params["storage_class"],) * 10 + CLASSES)),
        "volumeMode": "Filesystem",
        "local": {"path": path if not sometimes(draw, 24) else draw(st.sampled_from(PATHS))},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
    }
    phase = draw(st.sampled_from(("Available",) * 2 + ("Bound",) * 2 + ("Released",) * 5 + ("Pending", "Failed")))
    ref = draw(claim_refs)
    if phase in ("Available", "Pending") and not sometimes(draw, 3) or sometimes(draw, 10):
        ref = None
    elif phase in ("Bound", "Released", "Failed") and not sometimes(draw, 5):
        ref.update({"kind": "PersistentVolumeClaim", "namespace": draw(st.sampled_from(("app", "other"))),
                    "name": draw(st.sampled_from(("datadir-db-0", "datadir-db-1")))})
        if not sometimes(draw, 4):
            ref.setdefault("uid", "0f3a")
    if ref is not None:
        spec["claimRef"] = ref
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": metadata, "spec": spec,
            "status": {"phase": phase}}


@st.composite
def storage_classes(draw, params):
    if draw(st.booleans()):
        return None
    sc = desired_storage_class({"storage_class": draw(st.sampled_from((params["storage_class"],) * 3 + CLASSES)),
                                "labels": {}, "reclaim_policy": draw(st.sampled_from(("Retain", "Delete")))})
    if draw(st.booleans()):
        sc["metadata"]["labels"] = {}
    if sometimes(draw, 5):
        sc["volumeBindingMode"] = "Immediate"
    return sc


volume_lists = st.lists(st.fixed_dictionaries({
    "node": st.sampled_from(NODES), "path": st.sampled_from(PATHS), "capacity": st.sampled_from(CAPACITIES),
    "name": st.sampled_from((None, None, None) + EXPLICIT_NAMES),
}), min_size=1, max_size=4,
    unique_by=(lambda v: (v["node"], v["path"]), lambda v: v["name"] or (v["node"], v["path"])))

module_params = st.fixed_dictionaries({
    "volumes": volume_lists,
    "name_prefix": st.sampled_from(PREFIXES),
    "storage_class": st.sampled_from(CLASSES),
    "create_storage_class": st.booleans(),
    "reclaim_policy": st.sampled_from(("Retain", "Delete")),
    "access_modes": st.just(["ReadWriteOnce"]),
    "volume_mode": st.just("Filesystem"),
    "labels": st.sampled_from(({}, {"team": "data"})),
    "state": st.sampled_from(("present", "present", "absent")),
    "force": st.booleans(),
    "reclaim_released": st.sampled_from((True, True, False)),
})


@st.composite
def scenarios(draw):
    """(live PVs by name, live StorageClass or None, module params): most PVs are the requested ones as an earlier
    run (or another prefix's run, or someone else) left them, in every phase; a few are unrelated."""
    params = draw(module_params)
    pvs = {}
    for vol in params["volumes"]:
        name = vol["name"] or pv_name(params["name_prefix"], vol["node"], vol["path"])
        if not sometimes(draw, 4):
            pvs[name] = draw(live_pv(name, vol["node"], vol["path"], params))
    for dummy in range(draw(st.integers(min_value=0, max_value=2))):
        prefix, node = draw(st.sampled_from(PREFIXES)), draw(st.sampled_from(NODES))
        path = draw(st.sampled_from(PATHS))
        name = draw(st.sampled_from((pv_name(prefix, node, path),) * 2 + EXPLICIT_NAMES))
        pvs.setdefault(name, draw(live_pv(name, node, path, dict(params, name_prefix=prefix))))
    if params["state"] == "absent" and draw(st.booleans()) or sometimes(draw, 20):
        params["volumes"] = []
    return pvs, draw(storage_classes(params)), params


class RecordingKube(FakeKube):
    """FakeKube that also keeps every patch body."""

    def __init__(self, objects):
        super(RecordingKube, self).__init__(objects)
        self.patches = []

    def patch(self, kind, name, patch, namespace=None):
        self.patches.append((kind, name, copy.deepcopy(patch)))
        return super(RecordingKube, self).patch(kind, name, patch, namespace)


def cluster(pvs, sc):
    objects = [{"kind": "Node", "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}}} for n in NODES]
    return RecordingKube(objects + list(pvs.values()) + ([sc] if sc else []))


def prefix_of(pv):
    return ((pv.get("metadata") or {}).get("labels") or {}).get(PREFIX_LABEL)


def may_touch(name, params, before):
    """PVs this run is allowed to act on: the ones it names, or with no names for removal, its prefix's own."""
    if params["volumes"] or params["state"] == "present":
        allowed = set(v["name"] for v in validate(params))
    else:
        allowed = set(n for n, p in before.items() if is_ours(p) and prefix_of(p) == params["name_prefix"])
    if name not in allowed:
        return False
    have = before.get(name)
    return have is None or (is_ours(have) and prefix_of(have) in (None, params["name_prefix"]))


def without_instance(ref):
    return dict((k, v) for k, v in ref.items() if k not in INSTANCE_FIELDS)


def run(kube, params, check_mode):
    try:
        return ensure(kube, params, check_mode, lambda msg: None)
    except PreconditionError as exc:
        return exc


@settings(max_examples=600, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenario=scenarios(), controller_synced=st.booleans())
def test_local_pv_plans_are_safe_truthful_and_converge(scenario, controller_synced):
    pvs, sc, params = scenario
    checked_kube, kube = cluster(pvs, sc), cluster(pvs, sc)
    checked = run(checked_kube, params, True)
    assert checked_kube.changes() == []
    done = run(kube, params, False)
    if isinstance(done, PreconditionError):
        assert isinstance(checked, PreconditionError) and checked.msg == done.msg
        assert kube.changes() == []
        return
    assert checked["actions"] == done["actions"] and checked["diff"] == done["diff"]
    assert checked["changed"] == done["changed"] == bool(kube.changes())

    for verb, kind, name, dummy in kube.changes():
        if kind == "PersistentVolume":
            assert may_touch(name, params, pvs), (verb, name)
            if verb == "create":
                assert name not in pvs and "claimRef" not in kube.get(kind, name)["spec"]
            else:
                assert name in pvs
        elif verb != "create":
            assert sc is not None and is_ours(sc), (verb, kind, name)

    for kind, name, patch in kube.patches:
        spec = patch.get("spec") or {}
        if kind != "PersistentVolume" or "claimRef" not in spec:
            continue
        old = pvs[name]
        assert old["status"]["phase"] == "Released" and former_claim(old) is not None
        assert isinstance(spec["claimRef"], dict), "patch of %s removes its claimRef" % name
        assert spec["claimRef"]["namespace"] == old["spec"]["claimRef"]["namespace"]
        assert spec["claimRef"]["name"] == old["spec"]["claimRef"]["name"]
        assert set(spec["claimRef"]) - {"namespace", "name"} <= set(INSTANCE_FIELDS)
        assert all(spec["claimRef"][f] is None for f in INSTANCE_FIELDS if f in spec["claimRef"])

    reclaimed = dict((r["pv"], r["claim"]) for r in done["reclaimed"])
    for name, old in pvs.items():
        new = kube.get("PersistentVolume", name)
        if new is None:
            continue
        old_ref, new_ref = old["spec"].get("claimRef"), new["spec"].get("claimRef")
        if name in reclaimed:
            assert new_ref == without_instance(old_ref) and reclaimed[name] == former_claim(old)
        else:
            assert new_ref == old_ref

    for key, view in done["diff"]["after"].items():
        if key.startswith("storageclass/"):
            assert view == _sc_view(kube.get("StorageClass", key.split("/", 1)[1]))
        else:
            assert view == pv_view(kube.get("PersistentVolume", key))

    for pv in kube.list("PersistentVolume"):
        ref = pv["spec"].get("claimRef") or {}
        if "status" not in pv:
            pv["status"] = {"phase": "Available"}
        elif controller_synced and pv["status"]["phase"] == "Released" and ref and not ref.get("uid"):
            pv["status"] = {"phase": "Available"}
        kube.put(pv)
    kube.calls = []
    again = run(kube, params, True)
    assert not isinstance(again, PreconditionError), again.msg
    assert again["changed"] is False and again["actions"] == [] and again["reclaimed"] == []
