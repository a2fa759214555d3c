# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: how local_pv (plan, create, no-op, delete) and db_node_status grow with 10, 30 and 100 fake (kwok) nodes, vs kubectl.
"""Cost growth on 10, 30 and 100 fake nodes.

kwok (from the toolkit's bin directory) manages Nodes annotated ``kwok.x-k8s.io/node: fake``; they are tainted so
that no real pod lands on them.

* local_pv: one PV per fake node. "Plan" is local_pv in check mode vs ``kubectl apply --dry-run=server``; then create,
  no-op rerun and delete vs ``kubectl apply`` / ``delete``.
* db_node_status: a StatefulSet of N pods whose pod 0 is a real CockroachDB CLI test double on a real node and pods
  1..N-1 are kwok pods on the fake nodes (Running, never started). The module lists the N pods, picks the Ready pod
  with the lowest ordinal (the real one), runs ``cockroach node status`` there and maps the nodes it reports onto the
  pods. So what grows with N is the pod listing and mapping, not the status output (the double is one node). The
  baseline is ``kubectl exec`` of the same command.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import time

import node_status
from benchlib import (BenchError, Playbook, Results, apply_objects, cleanup, kubectl, kubectl_json, log, parser,
                      toolkit_cluster, run_main, workdir)
from local_pv import measure as measure_local_pv

__metaclass__ = type

PREFIX = "dok-bench-kwok"
NAMESPACE = PREFIX + "-crdb"
FAKE = "kwok.x-k8s.io/node"
DOUBLE_IMAGE = "dok.test/cockroach-double:v23.2.4"


def fake_node(name):
    resources = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {FAKE: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                     "labels": {"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64"}},
        "spec": {"taints": [{"key": FAKE, "value": "fake", "effect": "NoSchedule"}]},
        "status": {"allocatable": resources, "capacity": resources},
    }


def start_kwok(work):
    stages = os.path.join(os.environ.get("DOK_K8S_TOOLKIT", ""), "kwok", "stages.yaml")
    if not os.path.exists(stages):
        raise BenchError("kwok stages not found at %s; set DOK_K8S_TOOLKIT to the toolkit directory" % stages)
    logf = open(os.path.join(work, "kwok.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    argv = ["kwok", "--kubeconfig", os.environ["KUBECONFIG"], "--config", stages, "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=%s=fake" % FAKE, "--cidr", "198.18.200.0/24"]
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
    log("kwok started (pid %d, log %s)" % (proc.pid, logf.name))
    return proc


def ensure_fake_nodes(count):
    names = ["%s-%03d" % (PREFIX, i) for i in range(count)]
    apply_objects([fake_node(n) for n in names])
    kubectl("wait", "--for=condition=Ready", "--timeout=300s", *["node/" + n for n in names], timeout=330)
    return names


def double_statefulset():
    labels = {"app": "crdb", "app.kubernetes.io/name": "cockroachdb", "app.kubernetes.io/instance": "crdb",
              "app.kubernetes.io/managed-by": "dok.databases"}
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "crdb", "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "serviceName": "crdb", "replicas": 1, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [{
                        "name": "cockroachdb", "image": DOUBLE_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "command": ["cockroach", "start-single-node", "--insecure", "--store=/tmp/store"],
                        "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}},
                    }]}}}}


def fake_template_patch():
    """Pods created after this patch go to the fake nodes; OnDelete keeps the real pod 0 as it is."""
    return json.dumps({"spec": {"template": {"spec": {
        "nodeSelector": {"type": "kwok"},
        "tolerations": [{"key": FAKE, "operator": "Exists", "effect": "NoSchedule"}]}}}})


def scale_double(size):
    """Scale the StatefulSet and wait until its size pods exist and run (kwok marks the fake ones Running)."""
    kubectl("scale", "statefulset", "-n", NAMESPACE, "crdb", "--replicas=%d" % size)
    deadline = time.time() + 600
    while True:
        pods = kubectl_json("get", "pods", "-n", NAMESPACE)["items"]
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
                   and not p["metadata"].get("deletionTimestamp")]
        if len(running) >= size:
            return
        if time.time() > deadline:
            raise BenchError("StatefulSet crdb has %d of %d pods running after 600 s" % (len(running), size))
        time.sleep(2)


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,30,100", help="numbers of fake nodes (default 10,30,100)")
    p.add_argument("--only", choices=["local_pv", "db_node_status"], help="measure only one of the two modules")
    args = p.parse_args()
    if not toolkit_cluster():
        raise BenchError("the scale pair runs kwok from the offline toolkit; run tests/cluster/up.sh")
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    res = Results("scale", args.out)
    work = workdir()
    cleanup(PREFIX, dirs=False)
    kwok = start_kwok(work)
    try:
        kubectl("create", "namespace", NAMESPACE)
        apply_objects([double_statefulset()])
        kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "pod/crdb-0", "--timeout=300s", timeout=330)
        kubectl("patch", "statefulset", "-n", NAMESPACE, "crdb", "-p", fake_template_patch())
        play = Playbook(work)
        for size in sizes:
            nodes = ensure_fake_nodes(size)
            volumes = [{"node": n, "path": "/var/lib/%s/v" % PREFIX, "capacity": "1Gi"} for n in nodes]
            if args.only != "db_node_status":
                measure_local_pv(res, "local_pv, %3d fake nodes" % size, "%s-pv%d" % (PREFIX, size), volumes,
                                 args.n, work, check_plan=True)
            if args.only == "local_pv":
                continue
            scale_double(size)
            node_status.measure(res, "cockroachdb", NAMESPACE, "crdb", args.n, play,
                                label="db_node_status, STS of %3d pods" % size,
                                extra={"insecure": True, "container": "cockroachdb"})
        res.notes.append("scale: one PV per fake node; db_node_status over a StatefulSet whose pod 0 is a real "
                         "CLI double and pods 1..N-1 are kwok pods (listing and mapping grow, the status output "
                         "does not)")
        res.save()
    finally:
        # kwok confirms the deletion of its pods, so it stops only after the cleanup.
        if not args.keep:
            cleanup(PREFIX, dirs=False)
        kwok.terminate()
        try:
            kwok.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kwok.kill()
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
