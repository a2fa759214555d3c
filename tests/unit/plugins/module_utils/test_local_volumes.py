# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from decimal import Decimal

import pytest

from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.dok.databases.plugins.module_utils.local_volumes import (
    desired_pv, ensure, parse_quantity, plan, pv_changes, pv_name, validate,
)

from kube_fake import FakeKube


def node(name):
    return {"kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}


def params(**kw):
    base = {
        "volumes": [{"node": "dok-node-%d" % i, "path": "/var/lib/dokc/node-%d/pv/db" % i, "capacity": "1024Mi",
                     "name": None} for i in range(3)],
        "name_prefix": "db", "storage_class": "local-storage", "create_storage_class": True,
        "reclaim_policy": "Retain", "access_modes": ["ReadWriteOnce"], "volume_mode": "Filesystem",
        "labels": {"team": "data"}, "state": "present", "force": False,
    }
    base.update(kw)
    return base


def cluster(*extra):
    return FakeKube([node("dok-node-0"), node("dok-node-1"), node("dok-node-2")] + list(extra))


def as_stored(pv):
    """What the API server gives back: quantities canonicalized, status and defaults filled in."""
    obj = copy.deepcopy(pv)
    obj["spec"]["capacity"]["storage"] = "1Gi" if obj["spec"]["capacity"]["storage"] == "1024Mi" else \
        obj["spec"]["capacity"]["storage"]
    obj["metadata"]["uid"] = "b6c1"
    obj["status"] = {"phase": "Available"}
    return obj


@pytest.mark.parametrize("text, value", [
    ("1Gi", 2 ** 30), ("1024Mi", 2 ** 30), ("500M", 500 * 10 ** 6), ("1.5Gi", Decimal("1.5") * 2 ** 30),
    ("100m", Decimal("0.1")), ("1e3", 1000), ("12", 12),
])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "10 Gi", "10GB", "-1Gi", "Gi", "1.2.3"])
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_names_are_deterministic_and_per_path():
    a = pv_name("db", "dok-node-0", "/data/a")
    assert a == pv_name("db", "dok-node-0", "/data/a")
    assert a != pv_name("db", "dok-node-0", "/data/b")
    assert a.startswith("db-dok-node-0-") and len(a) == len("db-dok-node-0-") + 10
    assert pv_name("db", "Worker_1.example", "/d").startswith("db-worker-1-example-")


@pytest.mark.parametrize("volume, field, expected", [
    ({"path": "data/db"}, "path", "is not absolute"),
    ({"path": "/data/../db"}, "path", "normalized absolute path"),
    ({"path": "/"}, "path", "normalized absolute path"),
    ({"capacity": "ten gigs"}, "capacity", "not a positive Kubernetes quantity"),
    ({"capacity": "0"}, "capacity", "not a positive Kubernetes quantity"),
    ({"name": "Bad_Name"}, "name", "not a valid object name"),
])
def test_validate_rejects_bad_volumes(volume, field, expected):
    vol = {"node": "dok-node-0", "path": "/data/db", "capacity": "1Gi", "name": None}
    vol.update(volume)
    with pytest.raises(PreconditionError) as err:
        validate(params(volumes=[vol]))
    assert expected in err.value.msg and "volumes[0]" in err.value.msg


def test_validate_rejects_duplicates():
    vol = {"node": "dok-node-0", "path": "/data/db", "capacity": "1Gi", "name": None}
    with pytest.raises(PreconditionError) as err:
        validate(params(volumes=[vol, dict(vol, path="/data/db/")]))
    assert "volumes[0] and volumes[1] both produce PV name" in err.value.msg


def test_validate_rejects_bad_prefix():
    with pytest.raises(PreconditionError) as err:
        validate(params(name_prefix="DB_"))
    assert "name_prefix" in err.value.msg


def test_desired_pv_shape():
    vol = validate(params())[1]
    pv = desired_pv(vol, params())
    assert pv["metadata"]["labels"] == {"team": "data", "app.kubernetes.io/managed-by": "dok.databases",
                                        "dok.databases/local-pv-prefix": "db"}
    assert pv["spec"]["local"] == {"path": "/var/lib/dokc/node-1/pv/db"}
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["dok-node-1"]}]
    assert pv["spec"]["storageClassName"] == "local-storage"
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_check_mode_creates_nothing_and_reports_everything():
    kube = cluster()
    result = ensure(kube, params(), True, None)
    assert result["changed"] is True
    assert result["actions"][0] == "create StorageClass local-storage"
    assert len(result["actions"]) == 4
    assert kube.changes() == []
    assert all(v is None for v in result["diff"]["before"].values())


def test_create_then_rerun_is_unchanged():
    kube = cluster()
    first = ensure(kube, params(), False, None)
    assert first["changed"] and len(kube.changes()) == 4
    for name in first["pvs"]:
        kube.put(as_stored(kube.get("PersistentVolume", name)))
    kube.calls = []
    again = ensure(kube, params(), False, None)
    assert again["changed"] is False and again["actions"] == [] and kube.changes() == []
    assert again["diff"]["before"] == again["diff"]["after"]


def test_mutable_drift_is_patched():
    kube = cluster()
    ensure(kube, params(), False, None)
    name = validate(params())[0]["name"]
    kube.patch("PersistentVolume", name, {"metadata": {"labels": {"team": None}},
                                          "spec": {"capacity": {"storage": "2Gi"}}})
    kube.calls = []
    result = ensure(kube, params(), False, None)
    assert result["actions"] == ["patch PersistentVolume %s" % name]
    live = kube.get("PersistentVolume", name)
    assert live["metadata"]["labels"]["team"] == "data"
    assert parse_quantity(live["spec"]["capacity"]["storage"]) == 2 ** 30


@pytest.mark.parametrize("drift, field", [
    ({"local": {"path": "/elsewhere"}}, "local.path"),
    ({"volumeMode": "Block"}, "volumeMode"),
    ({"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["dok-node-2"]}]}]}}}, "nodeAffinity"),
])
def test_immutable_drift_is_an_error_naming_field_and_pv(drift, field):
    kube = cluster()
    ensure(kube, params(), False, None)
    name = validate(params())[0]["name"]
    kube.patch("PersistentVolume", name, {"spec": drift})
    kube.calls = []
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(), False, None)
    assert "PersistentVolume %s differs from the request in %s" % (name, field) in err.value.msg
    assert kube.changes() == []


def bound(pv, claim="app/datadir-db-0"):
    pv = copy.deepcopy(pv)
    ns, name = claim.split("/")
    pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name}
    pv["status"] = {"phase": "Bound"}
    return pv


def test_storage_class_of_a_bound_pv_is_immutable_but_of_a_free_one_is_patched():
    vol = validate(params())[0]
    want = desired_pv(vol, params())
    other = copy.deepcopy(want)
    other["spec"]["storageClassName"] = "slow"
    patch, immutable = pv_changes(want, other)
    assert immutable == [] and patch == {"spec": {"storageClassName": "local-storage"}}
    patch, immutable = pv_changes(want, bound(other))
    assert immutable == ["storageClassName"]


def test_absent_refuses_bound_pv_and_names_the_claim():
    kube = cluster()
    ensure(kube, params(), False, None)
    name = validate(params())[0]["name"]
    kube.put(bound(kube.get("PersistentVolume", name)))
    kube.calls = []
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(state="absent"), False, None)
    assert "%s (bound to claim app/datadir-db-0)" % name in err.value.msg and "force=true" in err.value.msg
    assert kube.changes() == []


def test_absent_with_force_deletes_pvs_and_the_unused_class():
    kube = cluster()
    ensure(kube, params(), False, None)
    name = validate(params())[0]["name"]
    kube.put(bound(kube.get("PersistentVolume", name)))
    result = ensure(kube, params(state="absent", force=True, volumes=[]), False, None)
    assert result["changed"] and len(result["actions"]) == 4
    assert result["actions"][-1] == "delete StorageClass local-storage"
    assert kube.list("PersistentVolume") == [] and kube.list("StorageClass") == []
    assert ensure(kube, params(state="absent", volumes=[]), False, None)["changed"] is False


def test_absent_keeps_a_class_still_used_by_other_pvs():
    kube = cluster()
    ensure(kube, params(), False, None)
    kube.put({"kind": "PersistentVolume", "metadata": {"name": "someone-else"},
              "spec": {"storageClassName": "local-storage"}})
    result = ensure(kube, params(state="absent"), False, None)
    assert "delete StorageClass local-storage" not in result["actions"]
    assert kube.get("StorageClass", "local-storage") is not None


def test_foreign_pv_with_our_name_is_not_adopted():
    vol = validate(params())[0]
    foreign = {"kind": "PersistentVolume", "metadata": {"name": vol["name"], "labels": {}}, "spec": {}}
    kube = cluster(foreign)
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(), False, None)
    assert "was not created by dok.databases" in err.value.msg
    assert kube.changes() == []


def test_unknown_node_is_named():
    vol = {"node": "dok-node-7", "path": "/data/x", "capacity": "1Gi", "name": None}
    kube = cluster()
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(volumes=[vol]), False, None)
    assert "Node dok-node-7 does not exist" in err.value.msg and "dok-node-0, dok-node-1, dok-node-2" in err.value.msg


def test_node_check_skipped_with_warning_when_forbidden():
    kube = cluster()
    kube.forbidden.add(("get", "Node"))
    warnings = []
    ensure(kube, params(), True, warnings.append)
    assert len(warnings) == 3 and "403 Forbidden" in warnings[0]


def test_existing_unsuitable_storage_class_is_an_error():
    sc = {"kind": "StorageClass", "metadata": {"name": "local-storage"}, "provisioner": "csi.example",
          "volumeBindingMode": "Immediate", "reclaimPolicy": "Delete"}
    with pytest.raises(PreconditionError) as err:
        plan(params(), validate(params()), {}, sc)
    assert "provisioner, volumeBindingMode, reclaimPolicy" in err.value.msg


def test_existing_suitable_foreign_storage_class_is_used_as_is():
    sc = {"kind": "StorageClass", "metadata": {"name": "local-storage"},
          "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
          "reclaimPolicy": "Retain"}
    result = plan(params(), validate(params()), {}, sc)
    assert [a["kind"] for a in result["actions"]] == ["PersistentVolume"] * 3


def test_terminating_pvs_count_as_deleted_but_block_present():
    kube = cluster()
    ensure(kube, params(), False, None)
    for pv in kube.list("PersistentVolume"):
        pv["metadata"]["deletionTimestamp"] = "2026-11-29T18:00:00Z"
        kube.put(bound(pv))
    kube.calls = []
    result = ensure(kube, params(state="absent", force=True), False, None)
    assert [a for a in result["actions"] if "PersistentVolume" in a] == []
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(), False, None)
    assert "is being deleted, waiting for claim app/datadir-db-0" in err.value.msg


def released(pv, claim="app/datadir-db-0"):
    pv = bound(as_stored(pv), claim)
    pv["spec"]["claimRef"].update({"apiVersion": "v1", "uid": "0f3a", "resourceVersion": "4711"})
    pv["status"] = {"phase": "Released"}
    return pv


def cluster_with_a_released_pv():
    """Three stored PVs, the first one Released by a deleted claim; the call log starts empty."""
    kube = cluster()
    first = ensure(kube, params(), False, None)
    for name in first["pvs"]:
        kube.put(as_stored(kube.get("PersistentVolume", name)))
    name = first["pvs"][0]
    kube.put(released(kube.get("PersistentVolume", name)))
    kube.calls = []
    return kube, name


def test_released_pv_is_reported_and_left_alone_by_default():
    kube, name = cluster_with_a_released_pv()
    warnings = []
    again = ensure(kube, params(), False, warnings.append)
    assert again["changed"] is False and kube.changes() == []
    assert again["released"] == [name]
    assert len(warnings) == 1
    assert name in warnings[0] and "app/datadir-db-0" in warnings[0] and "reclaim_released" in warnings[0]


def test_released_pv_warning_names_the_only_claim_reclaim_would_let_bind_it():
    kube, name = cluster_with_a_released_pv()
    warnings = []
    ensure(kube, params(), True, warnings.append)
    assert "only a claim named app/datadir-db-0" in warnings[0]


def test_reclaim_patch_keeps_the_former_claim_and_drops_only_its_uid_and_resource_version():
    kube, name = cluster_with_a_released_pv()
    result = plan(params(reclaim_released=True), validate(params()),
                  {name: kube.get("PersistentVolume", name)}, None)
    reclaim = [a for a in result["actions"] if a["action"] == "reclaim"]
    assert reclaim == [{"action": "reclaim", "kind": "PersistentVolume", "name": name, "patch": {"spec": {
        "claimRef": {"namespace": "app", "name": "datadir-db-0", "uid": None, "resourceVersion": None}}}}]
    assert result["reclaimed"] == [(name, "app/datadir-db-0")]


def test_reclaim_released_pre_binds_the_pv_to_its_former_claim_only():
    kube, name = cluster_with_a_released_pv()
    checked = ensure(kube, params(reclaim_released=True), True, None)
    assert checked["changed"] is True and kube.changes() == []
    assert checked["actions"] == ["reclaim PersistentVolume %s" % name]
    assert checked["reclaimed"] == [{"pv": name, "claim": "app/datadir-db-0"}]
    assert checked["released"] == []
    before, after = checked["diff"]["before"][name], checked["diff"]["after"][name]
    assert before["claimRef"] == {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "app",
                                  "name": "datadir-db-0", "uid": "0f3a", "resourceVersion": "4711"}
    assert after["claimRef"] == {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": "app",
                                 "name": "datadir-db-0"}
    assert after["claim"] == before["claim"] == "app/datadir-db-0"
    assert dict(before, claimRef=None) == dict(after, claimRef=None)
    done = ensure(kube, params(reclaim_released=True), False, None)
    assert done["changed"] is True and done["reclaimed"] == checked["reclaimed"]
    assert kube.changes() == [("patch", "PersistentVolume", name, None)]
    stored = kube.get("PersistentVolume", name)
    assert stored["spec"]["claimRef"] == after["claimRef"]
    assert stored["spec"]["local"]["path"] == "/var/lib/dokc/node-0/pv/db"


@pytest.mark.parametrize("controller_synced", [False, True])
def test_a_pre_bound_pv_is_left_alone_on_the_next_run(controller_synced):
    kube, name = cluster_with_a_released_pv()
    ensure(kube, params(reclaim_released=True), False, None)
    if controller_synced:
        pv = kube.get("PersistentVolume", name)
        pv["status"] = {"phase": "Available"}
        kube.put(pv)
    kube.calls = []
    warnings = []
    for reclaim in (True, False):
        again = ensure(kube, params(reclaim_released=reclaim), False, warnings.append)
        assert again["changed"] is False and again["released"] == [] and again["reclaimed"] == []
        assert again["diff"]["before"] == again["diff"]["after"]
    assert kube.changes() == [] and warnings == []


@pytest.mark.parametrize("ref", [
    None,
    {"kind": "PersistentVolumeClaim", "name": "datadir-db-0", "uid": "0f3a"},
    {"kind": "PersistentVolumeClaim", "namespace": "app", "uid": "0f3a"},
    {"kind": "PersistentVolumeClaim", "namespace": "", "name": "datadir-db-0", "uid": "0f3a"},
])
def test_a_released_pv_that_does_not_name_its_former_claim_is_not_reclaimed(ref):
    kube, name = cluster_with_a_released_pv()
    pv = kube.get("PersistentVolume", name)
    pv["spec"]["claimRef"] = ref
    kube.put(pv)
    with pytest.raises(PreconditionError) as err:
        ensure(kube, params(reclaim_released=True), False, None)
    assert "PersistentVolume %s is Released" % name in err.value.msg
    assert "Nothing was changed" in err.value.msg
    assert kube.changes() == []
    warnings = []
    reported = ensure(kube, params(), False, warnings.append)
    assert reported["released"] == [name] and kube.changes() == []
    assert "reclaim_released" not in warnings[0] and "does not name" in warnings[0]


def test_a_pv_of_another_name_prefix_is_not_adopted():
    kube, name = cluster_with_a_released_pv()
    pv = kube.get("PersistentVolume", name)
    pv["metadata"]["labels"]["dok.databases/local-pv-prefix"] = "other"
    kube.put(pv)
    for request in (params(reclaim_released=True), params(state="absent", force=True)):
        with pytest.raises(PreconditionError) as err:
            ensure(kube, request, False, None)
        assert "PersistentVolume %s belongs to name_prefix other" % name in err.value.msg
        assert kube.changes() == []


def test_reclaim_released_never_touches_a_bound_pv():
    kube = cluster()
    first = ensure(kube, params(), False, None)
    for name in first["pvs"]:
        kube.put(bound(as_stored(kube.get("PersistentVolume", name)), "app/%s" % name))
    kube.calls = []
    again = ensure(kube, params(reclaim_released=True), False, None)
    assert again["changed"] is False and kube.changes() == [] and again["released"] == []
    assert again["diff"]["before"] == again["diff"]["after"]
