# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""StatefulSet side of the operations: find the workload and its pods, exec, scale, partition, waits, PVCs.

``StatefulSetOps`` is the ``ops`` object the engine-neutral logic (node status, decommission) drives:
    pods(), namespace_pods(), run(pod, argv, timeout=None), replicas(), scale(n), wait_pods_gone(names, timeout),
    claims(), annotate_pvc(name, annotations), delete_pvc(name), now(), sleep(seconds)
plus partition(), set_partition(n) and wait_pod_updated(name, timeout) for rolling upgrades.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dok.databases.plugins.module_utils.common import MANAGED_BY_LABEL, MANAGED_BY_VALUE, is_ours
from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError, WaitTimeout
from ansible_collections.dok.databases.plugins.module_utils.pod_exec import exec_in_pod, pod_is_ready

REVISION_LABEL = "controller-revision-hash"
_ORDINAL = re.compile(r"-(\d+)$")


def ordinal_of(pod_name, statefulset=None):
    if statefulset and pod_name.startswith(statefulset + "-"):
        rest = pod_name[len(statefulset) + 1:]
        return int(rest) if rest.isdigit() else None
    match = _ORDINAL.search(pod_name)
    return int(match.group(1)) if match else None


def owner_statefulset(pod):
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "StatefulSet":
            return ref.get("name")
    return None


def pod_record(pod, statefulset=None):
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    return {
        "name": meta.get("name"),
        "ordinal": ordinal_of(meta.get("name"), statefulset),
        "ready": pod_is_ready(pod),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "ip": status.get("podIP"),
        "phase": status.get("phase"),
        "deleting": bool(meta.get("deletionTimestamp")),
    }


def sort_records(records):
    return sorted(records, key=lambda r: (r["ordinal"] is None, r["ordinal"] or 0, r["name"]))


def selector_string(match_labels):
    return ",".join("%s=%s" % (k, v) for k, v in sorted((match_labels or {}).items()))


def partition_of(sts):
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    return int((strategy.get("rollingUpdate") or {}).get("partition") or 0)


def partition_patch(partition):
    return {"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": int(partition)}}}}


def pod_is_updated(pod, sts):
    """True when the pod runs the StatefulSet's update revision (what a partitioned rollout moves)."""
    revision = (sts.get("status") or {}).get("updateRevision")
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(revision) and labels.get(REVISION_LABEL) == revision


def not_ours_message(sts, namespace):
    name = sts["metadata"]["name"]
    labels = sts["metadata"].get("labels") or {}
    return ("StatefulSet %s in namespace %s is not managed by dok.databases: label %s=%s is missing (its labels: %s). "
            "Nothing was done. To operate on a workload you deployed yourself, also pass label_selector with a "
            "selector that matches its pods (for example '%s'), which confirms you mean it." % (
                name, namespace, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
                ", ".join("%s=%s" % kv for kv in sorted(labels.items())) or "none",
                selector_string(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels")) or "app=" + name))


def _missing_message(kube, kind, name, namespace):
    try:
        namespace_found = kube.get("Namespace", namespace) is not None
    except ClusterError:
        namespace_found = True
    if not namespace_found:
        return "Namespace %s does not exist, so %s %s cannot be in it. Check the namespace option." % (
            namespace, kind, name)
    return "%s %s was not found in namespace %s. Check the name and namespace (kubectl get %s -n %s)." % (
        kind, name, namespace, kind.lower() + "s", namespace)


class StatefulSetOps(object):
    """Kubernetes operations on one StatefulSet (or on pods chosen by a label selector)."""

    def __init__(self, kube, namespace, container, statefulset=None, label_selector=None, exec_timeout=60,
                 poll_interval=5):
        self.kube = kube
        self.namespace = namespace
        self.container = container
        self.label_selector = label_selector
        self.exec_timeout = exec_timeout
        self.poll_interval = max(1, int(poll_interval or 1))
        self.sts = None
        self.name = statefulset
        self._single_pod = None

    @classmethod
    def resolve(cls, kube, namespace, container, statefulset=None, label_selector=None, pod=None,
                require_statefulset=False, exec_timeout=60, poll_interval=5):
        """Find the target from a StatefulSet name, a label selector or a pod name; check it is ours."""
        ops = cls(kube, namespace, container, statefulset, label_selector, exec_timeout, poll_interval)
        if not statefulset and pod:
            found = kube.get("Pod", pod, namespace)
            if found is None:
                raise ClusterError(_missing_message(kube, "Pod", pod, namespace))
            ops.name = owner_statefulset(found)
            if ops.name is None:
                ops.label_selector = None
                ops._single_pod = pod
        if not ops.name and label_selector:
            owners = sorted(set(owner_statefulset(p) for p in kube.list("Pod", namespace, label_selector)) - {None})
            if len(owners) == 1:
                ops.name = owners[0]
            elif len(owners) > 1:
                raise ClusterError("Label selector %s matches pods of several StatefulSets in namespace %s (%s). "
                                   "Narrow the selector or pass statefulset." % (
                                       label_selector, namespace, ", ".join(owners)))
            elif require_statefulset:
                raise ClusterError("No pod selected by %s in namespace %s belongs to a StatefulSet. Pass "
                                   "statefulset, or fix the selector." % (label_selector, namespace))
        if ops.name:
            ops.sts = kube.get("StatefulSet", ops.name, namespace)
            if ops.sts is None:
                raise ClusterError(_missing_message(kube, "StatefulSet", ops.name, namespace))
            if not is_ours(ops.sts) and not label_selector:
                raise ClusterError(not_ours_message(ops.sts, namespace))
        elif require_statefulset:
            raise ClusterError("This operation needs a StatefulSet: pass statefulset (and namespace).")
        return ops

    def describe(self):
        if self.name:
            return "StatefulSet %s (namespace %s)" % (self.name, self.namespace)
        if self._single_pod:
            return "pod %s (namespace %s)" % (self._single_pod, self.namespace)
        return "pods selected by %s (namespace %s)" % (self.label_selector, self.namespace)

    def _raw_pods(self):
        if self._single_pod:
            pod = self.kube.get("Pod", self._single_pod, self.namespace)
            return [pod] if pod else []
        if self.sts is not None:
            selector = self.label_selector or selector_string(
                ((self.sts.get("spec") or {}).get("selector") or {}).get("matchLabels"))
            return [p for p in self.kube.list("Pod", self.namespace, selector) if owner_statefulset(p) == self.name]
        return self.kube.list("Pod", self.namespace, self.label_selector)

    def pods(self):
        return sort_records(pod_record(p, self.name) for p in self._raw_pods())

    def namespace_pods(self):
        """Every pod of the namespace (other StatefulSets' too): which addresses belong to running pods."""
        return sort_records(pod_record(p) for p in self.kube.list("Pod", self.namespace))

    def run(self, pod, argv, timeout=None):
        return exec_in_pod(self.kube, self.namespace, pod, self.container, argv,
                           timeout=timeout if timeout is not None else self.exec_timeout)

    def now(self):
        return self.kube.now()

    def sleep(self, seconds):
        self.kube.sleep(seconds)

    def _need_sts(self):
        if self.sts is None:
            raise ClusterError("%s has no StatefulSet; this operation needs one (pass statefulset)." % self.describe())
        return self.sts

    def refresh(self):
        self._need_sts()
        self.sts = self.kube.get("StatefulSet", self.name, self.namespace)
        if self.sts is None:
            raise ClusterError("StatefulSet %s disappeared from namespace %s while it was being operated on."
                               % (self.name, self.namespace))
        return self.sts

    def replicas(self):
        return int((self.refresh().get("spec") or {}).get("replicas", 1))

    def expected_nodes(self):
        """Node count a healthy cluster has: spec.replicas of the StatefulSet, else the number of pods."""
        if self.sts is not None:
            return self.replicas()
        return len(self.pods())

    def scale(self, replicas):
        self._need_sts()
        self.sts = self.kube.patch("StatefulSet", self.name, {"spec": {"replicas": int(replicas)}}, self.namespace)

    def partition(self):
        return partition_of(self.refresh())

    def set_partition(self, partition):
        self._need_sts()
        self.sts = self.kube.patch("StatefulSet", self.name, partition_patch(partition), self.namespace)

    def claims(self):
        """Every claim named after one of the StatefulSet's volume claim templates, any ordinal:
        ``{"name", "ordinal", "annotations"}``, lowest ordinal first."""
        sts = self._need_sts()
        patterns = [re.compile(r"^%s-%s-(\d+)$" % (re.escape(t["metadata"]["name"]), re.escape(self.name)))
                    for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []]
        found = []
        for claim in self.kube.list("PersistentVolumeClaim", self.namespace):
            meta = claim.get("metadata") or {}
            for pattern in patterns:
                match = pattern.match(meta.get("name") or "")
                if match:
                    found.append({"name": meta["name"], "ordinal": int(match.group(1)),
                                  "annotations": dict(meta.get("annotations") or {})})
        return sorted(found, key=lambda c: (c["ordinal"], c["name"]))

    def annotate_pvc(self, name, annotations):
        self.kube.patch("PersistentVolumeClaim", name, {"metadata": {"annotations": dict(annotations)}},
                        self.namespace)

    def delete_pvc(self, name):
        self.kube.delete("PersistentVolumeClaim", name, self.namespace)

    def _poll(self, done, timeout, describe_last):
        deadline = self.now() + timeout
        while True:
            last = done()
            if last is True:
                return
            if self.now() >= deadline:
                raise WaitTimeout("Timed out after %s seconds waiting for %s; last seen: %s." % (
                    timeout, describe_last(), last), last_seen=last)
            self.sleep(self.poll_interval)

    def wait_pods_gone(self, names, timeout):
        names = set(names)

        def gone():
            left = sorted(p["name"] for p in self.pods() if p["name"] in names)
            return True if not left else "still present: %s" % ", ".join(left)
        self._poll(gone, timeout, lambda: "pods %s of %s to be deleted" % (", ".join(sorted(names)), self.describe()))

    def wait_pod_updated(self, name, timeout):
        """Wait until pod `name` runs the update revision and is Ready (kubernetes.core's wait cannot: a
        partitioned StatefulSet never reports ready)."""
        def updated():
            sts = self.refresh()
            pod = self.kube.get("Pod", name, self.namespace)
            if pod is None:
                return "pod absent"
            if not pod_is_updated(pod, sts):
                return "revision %s, want %s" % (((pod.get("metadata") or {}).get("labels") or {}).get(
                    REVISION_LABEL), (sts.get("status") or {}).get("updateRevision"))
            if not pod_is_ready(pod):
                return "updated but not Ready (phase %s)" % (pod.get("status") or {}).get("phase")
            return True
        self._poll(updated, timeout, lambda: "pod %s of %s to be updated and Ready" % (name, self.describe()))


def target_ops(kube, params, default_container, require_statefulset=False):
    """StatefulSetOps for the module's target options (statefulset / label_selector / pod)."""
    return StatefulSetOps.resolve(
        kube, params["namespace"], params.get("container") or default_container,
        statefulset=params.get("statefulset"), label_selector=params.get("label_selector"), pod=params.get("pod"),
        require_statefulset=require_statefulset, exec_timeout=params.get("exec_timeout") or 60,
        poll_interval=params.get("poll_interval") or 5)
