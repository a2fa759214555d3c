# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: replace_node (role) vs the same steps typed by hand, from a node's power loss to a healthy cluster.
"""replace_node vs the same steps by hand (kubectl + cockroach CLI), CockroachDB CLI double on local PVs.

A 3-node cluster of the CLI test double on local PVs of the offline toolkit cluster, with a 4th node. Each sample
cuts the power of the node of <name>-1 (the toolkit's node-down.sh), prepares a volume on the node that runs no pod
of the cluster, and measures from the cut until the database reports every member live and Kubernetes every pod
Ready. Both sides first wait until Kubernetes marks the node NotReady (the same poll; it is most of the total and
the same for both). Ours: ``ansible-playbook`` of the replace_node role (``replace_node_min_down: 0``,
confirmed). Baseline: what docs/roles/replace_node.md says a person does: ``cockroach node status`` for the member,
``cockroach node decommission`` of it, ``kubectl delete pvc``, ``kubectl delete pod --force``, ``kubectl delete pv``
once Released, then polling ``cockroach node status`` until healthy. The node comes back after each sample; the
sides alternate which goes first.
"""

from __future__ import absolute_import, division, print_function

import csv
import io
import os
import time

from benchlib import (STATE_DIR, BenchError, Playbook, Results, cleanup, kubectl, kubectl_json, log, node_index,
                      parser, pv_dir, run, run_main, toolkit_cluster, workdir)

__metaclass__ = type

PREFIX = "dok-bench-rn"
NS = PREFIX
NAME = "rn"
IMAGE = "dok.test/cockroach-double:v23.1.11"
TOOLKIT = os.environ.get("DOK_K8S_TOOLKIT") or os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "shared", "k8s")
NODES = ["dok-node-%d" % i for i in range(4)]


def cockroach(*args):
    return kubectl("exec", "-n", NS, NAME + "-0", "-c", "cockroachdb", "--", "cockroach", *(list(args) + ["--insecure"]))[0]


def members():
    return list(csv.DictReader(io.StringIO(cockroach("node", "status", "--all", "--format=csv"))))


def healthy():
    """Every member live for the database and every pod Ready for Kubernetes (in its Service's endpoints)."""
    rows = [r for r in members() if r.get("membership", "active") != "decommissioned"]
    if len(rows) != 3 or not all(r["is_live"] == "true" for r in rows):
        return False
    selector = "app.kubernetes.io/instance=%s,app.kubernetes.io/component=database" % NAME
    pods = kubectl_json("get", "pods", "-n", NS, "-l", selector)["items"]
    ready = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                    for c in p["status"].get("conditions") or [])]
    return len(pods) == 3 and len(ready) == 3


def node_ready(node):
    conds = kubectl_json("get", "node", node)["status"]["conditions"]
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def wait(what, predicate, timeout=600, interval=1.0):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise BenchError("timed out waiting for %s" % what)
        time.sleep(interval)


def where(pod):
    return kubectl_json("get", "pod", "-n", NS, pod)["spec"].get("nodeName")


def prepare_spare(play, tag):
    used = set(where("%s-%d" % (NAME, i)) for i in range(3))
    spare = [n for n in NODES if n not in used][0]
    path = pv_dir(spare, "%s-%s" % (NS, tag))
    play.run([
        {"name": "Create the directory", "ansible.builtin.file": {"path": path, "state": "directory", "mode": "0755"}},
        {"name": "Register the PV", "dok.databases.local_pv": {
            "name_prefix": NS, "storage_class": NS, "volumes": [{"node": spare, "path": path, "capacity": "1Gi"}]}},
    ])
    return spare


def by_hand():
    member = [r for r in members() if r["address"].startswith(NAME + "-1.") and r.get("membership") != "decommissioned"]
    if len(member) != 1 or member[0]["is_live"] != "false":
        raise BenchError("by hand: expected one dead member for %s-1, got %s" % (NAME, member))
    cockroach("node", "decommission", member[0]["id"], "--wait=all")
    claim = "datadir-%s-1" % NAME
    old_pv = kubectl_json("get", "pvc", "-n", NS, claim)["spec"]["volumeName"]
    kubectl("delete", "pvc", "-n", NS, claim, "--wait=false")
    kubectl("delete", "pod", "-n", NS, NAME + "-1", "--force", "--grace-period=0")
    wait("the old PV to be released", lambda: kubectl_json("get", "pv", old_pv)["status"]["phase"] == "Released")
    kubectl("delete", "pv", old_pv)


def main():
    p = parser(__doc__.splitlines()[0])
    args = p.parse_args()
    if not toolkit_cluster():
        raise BenchError("the replace_node pair cuts nodes of the offline toolkit cluster; run tests/cluster/up.sh")
    res = Results("replace_node", args.out)
    cleanup(PREFIX)
    play = Playbook(workdir())
    added = NODES[3] not in kubectl("get", "nodes", "-o", "name")[0].replace("node/", "").split()
    run([os.path.join(TOOLKIT, "cluster-up.sh"), "--nodes", "4", "--dir", STATE_DIR], timeout=600)
    run([os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "images", "build.sh"),
         "--load", "cockroach-double-v23.1.11"], timeout=1800)
    wait("4 Ready nodes", lambda: all(node_ready(n) for n in NODES), timeout=300)
    case = "power loss of a node -> all members live (CockroachDB double, 3 nodes)"
    res.row(case, note="both sides include the ~40 s until Kubernetes marks the node NotReady")
    try:
        paths = [pv_dir(NODES[i], "%s-%d" % (NS, i)) for i in range(3)]
        play.run([
            {"name": "Create the PV directories", "loop": paths,
             "ansible.builtin.file": {"path": "{{ item }}", "state": "directory", "mode": "0755"}},
            {"name": "Register the local PVs", "dok.databases.local_pv": {
                "name_prefix": NS, "storage_class": NS,
                "volumes": [{"node": NODES[i], "path": paths[i], "capacity": "1Gi"} for i in range(3)]}},
            {"name": "Deploy", "ansible.builtin.include_role": {"name": "dok.databases.db_cluster"},
             "vars": {"db_cluster_engine": "cockroachdb", "db_cluster_name": NAME, "db_cluster_namespace": NS,
                      "db_cluster_replicas": 3, "db_cluster_image": IMAGE, "db_cluster_storage_class": NS,
                      "db_cluster_storage_size": "1Gi", "db_cluster_poll_interval": 2,
                      "db_cluster_resources": {"requests": {"cpu": "20m", "memory": "64Mi"},
                                               "limits": {"memory": "256Mi"}}}},
        ])
        for rep in range(args.n):
            for side in (("ours", "baseline") if rep % 2 == 0 else ("baseline", "ours")):
                wait("a healthy cluster", healthy, timeout=300)
                prepare_spare(play, "%d-%s" % (rep, side))
                dead = where(NAME + "-1")
                log("rep %d, %s: cutting the power of %s" % (rep + 1, side, dead))
                start = time.time()
                run([os.path.join(TOOLKIT, "node-down.sh"), "--dir", STATE_DIR, node_index(dead)])
                try:
                    wait("%s NotReady" % dead, lambda: not node_ready(dead), timeout=300)
                    if side == "ours":
                        notready = time.time() - start
                        done = play.run([{"name": "Replace", "ansible.builtin.include_role": {
                            "name": "dok.databases.replace_node"}, "vars": {
                                "replace_node_engine": "cockroachdb", "replace_node_name": NAME,
                                "replace_node_namespace": NS, "replace_node_node": dead, "replace_node_min_down": 0,
                                "replace_node_poll_interval": 1, "replace_node_confirm": True}}])
                        steps = next((t["result"].get("steps_done") for t in done["tasks"]
                                      if t["name"].endswith("Replace the pod")), None) or []
                        res.row(case)["extra"].setdefault("ours_steps", []).append(
                            dict([("until NotReady", round(notready, 1)), ("ansible-playbook", round(done["seconds"], 1))]
                                 + [(s["step"], s["seconds"]) for s in steps]))
                    else:
                        wait("the member not live", lambda: any(
                            r["address"].startswith(NAME + "-1.") and r["is_live"] == "false"
                            and r.get("membership") != "decommissioned" for r in members()), timeout=120)
                        by_hand()
                    wait("a healthy cluster", healthy, timeout=300, interval=0.5)
                    res.add(case, side, time.time() - start)
                    if where(NAME + "-1") == dead:
                        raise BenchError("%s: %s-1 is still on %s" % (side, NAME, dead))
                finally:
                    run([os.path.join(TOOLKIT, "cluster-up.sh"), "--nodes", "4", "--dir", STATE_DIR], timeout=600)
                    wait("%s Ready again" % dead, lambda: node_ready(dead), timeout=300)
        res.save()
    finally:
        if not args.keep:
            cleanup(PREFIX)
        if added:
            # the 4th node goes again, so that the cluster is the one the run started with
            run([os.path.join(TOOLKIT, "node-down.sh"), "--dir", STATE_DIR, "3"])
            kubectl("delete", "node", NODES[3], "--ignore-not-found")
    print(res.rows)


if __name__ == "__main__":
    run_main(main)
