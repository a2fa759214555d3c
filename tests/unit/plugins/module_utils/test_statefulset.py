# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError, WaitTimeout
from ansible_collections.dok.databases.plugins.module_utils.statefulset import (
    ordinal_of, partition_of, pod_is_updated, target_ops,
)

from kube_fake import FakeKube, FakeStream, namespace, pod, statefulset


def crdb(replicas=3, **kwargs):
    objs = [namespace("db"), statefulset("crdb", replicas=replicas, **kwargs)]
    objs += [pod("crdb-%d" % i, statefulset="crdb", labels={"app": "crdb"}, containers=("cockroachdb",),
                 revision="rev-1") for i in range(replicas)]
    return FakeKube(objs)


def params(**kw):
    base = {"namespace": "db", "statefulset": None, "label_selector": None, "pod": None, "container": None,
            "exec_timeout": 60, "poll_interval": 5}
    base.update(kw)
    return base


@pytest.mark.parametrize("name, sts, expected", [
    ("crdb-0", "crdb", 0), ("crdb-12", "crdb", 12), ("my-db-3", "my-db", 3), ("my-db-3", None, 3),
    ("crdb-x", "crdb", None), ("other", None, None),
])
def test_ordinal_of(name, sts, expected):
    assert ordinal_of(name, sts) == expected


def test_pods_are_the_statefulsets_sorted_by_ordinal():
    kube = crdb(replicas=3)
    kube.put(pod("crdb-10", statefulset="crdb", labels={"app": "crdb"}))
    kube.put(pod("crdb-client", labels={"app": "crdb"}))
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    records = ops.pods()
    assert [r["name"] for r in records] == ["crdb-0", "crdb-1", "crdb-2", "crdb-10"]
    assert records[0] == {"name": "crdb-0", "ordinal": 0, "ready": True, "node": "dok-node-0", "ip": "198.18.0.10",
                          "phase": "Running", "deleting": False}


def test_missing_statefulset_message():
    with pytest.raises(ClusterError) as err:
        target_ops(crdb(), params(statefulset="nope"), "cockroachdb")
    assert "StatefulSet nope was not found in namespace db" in err.value.msg


def test_missing_namespace_is_named():
    with pytest.raises(ClusterError) as err:
        target_ops(crdb(), params(statefulset="crdb", namespace="typo"), "cockroachdb")
    assert "Namespace typo does not exist" in err.value.msg


def test_foreign_statefulset_is_refused_with_the_way_out():
    kube = crdb(ours=False)
    with pytest.raises(ClusterError) as err:
        target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert "not managed by dok.databases" in err.value.msg
    assert "label_selector" in err.value.msg and "'app=crdb'" in err.value.msg


def test_foreign_statefulset_accepted_with_label_selector():
    ops = target_ops(crdb(ours=False), params(statefulset="crdb", label_selector="app=crdb"), "cockroachdb")
    assert len(ops.pods()) == 3


def test_label_selector_alone_finds_the_owner():
    ops = target_ops(crdb(), params(label_selector="app=crdb"), "cockroachdb")
    assert ops.name == "crdb"
    assert ops.replicas() == 3


def test_label_selector_matching_two_statefulsets():
    kube = crdb()
    kube.put(pod("other-0", statefulset="other", labels={"app": "crdb"}))
    with pytest.raises(ClusterError) as err:
        target_ops(kube, params(label_selector="app=crdb"), "cockroachdb")
    assert "several StatefulSets" in err.value.msg


def test_pod_alone_resolves_its_statefulset():
    ops = target_ops(crdb(), params(pod="crdb-1"), "cockroachdb")
    assert ops.name == "crdb"


def test_standalone_pod_has_no_statefulset_operations():
    kube = FakeKube([namespace("db"), pod("lonely")])
    ops = target_ops(kube, params(pod="lonely"), "mariadb")
    assert [p["name"] for p in ops.pods()] == ["lonely"]
    assert ops.expected_nodes() == 1
    with pytest.raises(ClusterError) as err:
        ops.scale(0)
    assert "needs one" in err.value.msg


def test_decommission_requires_statefulset():
    kube = FakeKube([namespace("db"), pod("lonely", labels={"app": "x"})])
    with pytest.raises(ClusterError):
        target_ops(kube, params(label_selector="app=x"), "mariadb", require_statefulset=True)


def test_run_uses_the_container_and_default_timeout():
    seen = []
    kube = crdb()
    kube.exec_handler = lambda p, c, a: seen.append((p, c, a)) or FakeStream("ok", "", '{"status":"Success"}')
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert ops.run("crdb-2", ["cockroach", "version"]).stdout == "ok"
    assert seen == [("crdb-2", "cockroachdb", ["cockroach", "version"])]


def test_scale_and_partition_patch_the_statefulset():
    kube = crdb(partition=3)
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert ops.partition() == 3
    ops.set_partition(1)
    ops.scale(2)
    sts = kube.get("StatefulSet", "crdb", "db")
    assert partition_of(sts) == 1 and sts["spec"]["replicas"] == 2
    assert sts["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    assert ops.replicas() == 2


def test_claims_lists_existing_claims_of_every_template():
    kube = crdb(claim_templates=("datadir", "logs"))
    kube.put({"kind": "PersistentVolumeClaim", "metadata": {"name": "datadir-crdb-2", "namespace": "db"}})
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert [c["name"] for c in ops.claims()] == ["datadir-crdb-2"]
    kube.put({"kind": "PersistentVolumeClaim", "metadata": {"name": "logs-crdb-2", "namespace": "db"}})
    assert [(c["name"], c["ordinal"]) for c in ops.claims()] == [("datadir-crdb-2", 2), ("logs-crdb-2", 2)]
    ops.delete_pvc("datadir-crdb-2")
    assert [c["name"] for c in ops.claims()] == ["logs-crdb-2"]


def test_wait_pods_gone():
    kube = crdb()
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    kube.on_sleep = lambda k: k.delete("Pod", "crdb-2", "db") if k.clock >= 1010 else None
    ops.wait_pods_gone(["crdb-2"], timeout=60)
    assert kube.get("Pod", "crdb-2", "db") is None


def test_wait_pods_gone_times_out_naming_them():
    ops = target_ops(crdb(), params(statefulset="crdb"), "cockroachdb")
    with pytest.raises(WaitTimeout) as err:
        ops.wait_pods_gone(["crdb-1", "crdb-2"], timeout=12)
    assert "still present: crdb-1, crdb-2" in err.value.msg


def test_pod_is_updated_compares_revision():
    sts = statefulset("crdb", update_revision="rev-2")
    assert pod_is_updated(pod("crdb-0", revision="rev-2"), sts)
    assert not pod_is_updated(pod("crdb-0", revision="rev-1"), sts)
    assert not pod_is_updated(pod("crdb-0", revision="rev-1"), statefulset("crdb", update_revision=None))


def test_wait_pod_updated_needs_revision_and_ready():
    kube = crdb(partition=2)
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")

    def roll(k):
        if k.clock == 1005:
            k.put(pod("crdb-2", statefulset="crdb", labels={"app": "crdb"}, revision="rev-2", ready=False))
        elif k.clock == 1015:
            k.put(pod("crdb-2", statefulset="crdb", labels={"app": "crdb"}, revision="rev-2", ready=True))
    kube.on_sleep = roll
    ops.wait_pod_updated("crdb-2", timeout=60)
    assert kube.clock == 1015


def test_wait_pod_updated_timeout_says_what_it_saw():
    ops = target_ops(crdb(), params(statefulset="crdb"), "cockroachdb")
    with pytest.raises(WaitTimeout) as err:
        ops.wait_pod_updated("crdb-0", timeout=10)
    assert "revision rev-1, want rev-2" in err.value.msg


def test_claims_lists_every_ordinal_of_the_templates_with_annotations_and_annotate_pvc_adds_to_them():
    kube = crdb(claim_templates=("datadir",))
    for name, annotations in (("datadir-crdb-7", {"a": "1"}), ("datadir-crdb-0", None), ("datadir-other-1", None),
                              ("datadir-crdb-x", None), ("logs-crdb-1", None)):
        kube.put({"kind": "PersistentVolumeClaim",
                  "metadata": {"name": name, "namespace": "db", "annotations": annotations or {}}})
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert ops.claims() == [{"name": "datadir-crdb-0", "ordinal": 0, "annotations": {}},
                            {"name": "datadir-crdb-7", "ordinal": 7, "annotations": {"a": "1"}}]
    ops.annotate_pvc("datadir-crdb-7", {"b": "2"})
    assert ops.claims()[1]["annotations"] == {"a": "1", "b": "2"}


def test_namespace_pods_include_pods_of_other_workloads():
    kube = crdb(replicas=2)
    kube.put(pod("other-0", statefulset="other", labels={"app": "other"}, containers=("x",), revision="r"))
    ops = target_ops(kube, params(statefulset="crdb"), "cockroachdb")
    assert [p["name"] for p in ops.pods()] == ["crdb-0", "crdb-1"]
    assert sorted(p["name"] for p in ops.namespace_pods()) == ["crdb-0", "crdb-1", "other-0"]
