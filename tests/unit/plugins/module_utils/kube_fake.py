# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A plain in-memory stand-in for common.KubeApi (same methods, plain dicts, a simulated clock)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.dok.databases.plugins.module_utils.common import api_error

CLUSTER_SCOPED = ("Namespace", "Node", "PersistentVolume", "StorageClass")


class HttpError(Exception):
    def __init__(self, status, message):
        super(HttpError, self).__init__(message)
        self.status = status
        self.body = json.dumps({"message": message})


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def matches(obj, selector):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in (selector or "").split(","):
        if term:
            key, value = term.split("=", 1)
            if labels.get(key) != value:
                return False
    return True


class FakeStream(object):
    """What kubernetes.stream returns with _preload_content=False, scripted."""

    def __init__(self, stdout="", stderr="", status=None, rounds=1):
        self._out = [stdout] if stdout else []
        self._err = [stderr] if stderr else []
        self.status = status
        self.rounds = rounds
        self.closed = False

    def is_open(self):
        return not self.closed and (self.rounds is None or self.rounds > 0)

    def update(self, timeout=0):
        if self.rounds is not None:
            self.rounds -= 1

    def peek_stdout(self):
        return bool(self._out)

    def read_stdout(self):
        return self._out.pop(0)

    def peek_stderr(self):
        return bool(self._err)

    def read_stderr(self):
        return self._err.pop(0)

    def read_channel(self, channel):
        assert channel == 3
        return self.status or ""

    def close(self):
        self.closed = True


class FakeKube(object):

    def __init__(self, objects=(), exec_handler=None):
        self.store = {}
        self.calls = []
        self.forbidden = set()
        self.clock = 1000.0
        self.on_sleep = None
        self.exec_handler = exec_handler
        for obj in objects:
            self.put(obj)

    @staticmethod
    def key(kind, name, namespace):
        return (kind, None if kind in CLUSTER_SCOPED else namespace, name)

    def put(self, obj):
        meta = obj["metadata"]
        self.store[self.key(obj["kind"], meta["name"], meta.get("namespace"))] = copy.deepcopy(obj)

    def _check(self, verb, kind, name=None, namespace=None):
        self.calls.append((verb, kind, name, namespace))
        if (verb, kind) in self.forbidden:
            raise api_error(HttpError(403, "%s is forbidden" % kind.lower()), verb, kind, name, namespace)

    def get(self, kind, name, namespace=None):
        self._check("get", kind, name, namespace)
        return copy.deepcopy(self.store.get(self.key(kind, name, namespace)))

    def list(self, kind, namespace=None, label_selector=None):
        self._check("list", kind, None, namespace)
        return [copy.deepcopy(o) for (k, ns, _n), o in sorted(self.store.items(), key=lambda i: str(i[0]))
                if k == kind and (namespace is None or ns == namespace) and matches(o, label_selector)]

    def create(self, kind, body, namespace=None):
        self._check("create", kind, body["metadata"]["name"], namespace)
        obj = copy.deepcopy(body)
        obj.setdefault("kind", kind)
        if namespace:
            obj["metadata"]["namespace"] = namespace
        key = self.key(kind, obj["metadata"]["name"], namespace)
        if key in self.store:
            raise api_error(HttpError(409, "already exists"), "create", kind, obj["metadata"]["name"], namespace)
        self.store[key] = obj
        return copy.deepcopy(obj)

    def patch(self, kind, name, patch, namespace=None):
        self._check("patch", kind, name, namespace)
        key = self.key(kind, name, namespace)
        if key not in self.store:
            raise api_error(HttpError(404, "not found"), "patch", kind, name, namespace)
        self.store[key] = merge_patch(self.store[key], patch)
        return copy.deepcopy(self.store[key])

    def delete(self, kind, name, namespace=None, grace_period=None, uid=None):
        self._check("delete", kind, name, namespace)
        key = self.key(kind, name, namespace)
        if uid and key in self.store and (self.store[key]["metadata"].get("uid") != uid):
            raise api_error(HttpError(409, "Precondition failed: UID in precondition"), "delete", kind, name,
                            namespace)
        return self.store.pop(key, None) is not None

    def open_exec(self, namespace, pod, container, argv):
        self._check("create", "pods/exec", pod, namespace)
        return self.exec_handler(pod, container, list(argv))

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds
        if self.on_sleep:
            self.on_sleep(self)

    def changes(self):
        return [c for c in self.calls if c[0] in ("create", "patch", "delete")]


def pod(name, namespace="db", ready=True, statefulset=None, labels=None, containers=("mariadb",), node="dok-node-0",
        revision=None, deleting=False):
    meta = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if statefulset:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": statefulset,
                                    "controller": True}]
    if revision:
        meta["labels"]["controller-revision-hash"] = revision
    if deleting:
        meta["deletionTimestamp"] = "2026-11-29T18:00:00Z"
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": c, "image": "x"} for c in containers]},
        "status": {"phase": "Running", "podIP": "198.18.0.10",
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def statefulset(name, namespace="db", replicas=3, ours=True, labels=None, claim_templates=("datadir",),
                partition=None, update_revision="rev-2"):
    meta_labels = {"app": name}
    if ours:
        meta_labels["app.kubernetes.io/managed-by"] = "dok.databases"
    meta_labels.update(labels or {})
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "volumeClaimTemplates": [{"metadata": {"name": t}} for t in claim_templates],
    }
    if partition is not None:
        spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": namespace, "labels": meta_labels},
            "spec": spec, "status": {"updateRevision": update_revision, "replicas": replicas}}


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
