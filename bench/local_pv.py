# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: dok.databases.local_pv creating 300 local PVs, rerunning (no-op) and deleting them, vs kubectl apply/delete -f of the same manifests.
"""local_pv vs kubectl apply, 300 PVs.

Ours is one ``ansible-playbook`` run with one local_pv task; its wall time includes starting Ansible, so the task's own
time is reported too. The baseline applies the very objects local_pv created (read back from the API, server fields
removed) with ``kubectl apply -f`` (client-side apply, kubectl's default). The PV directories need not exist:
Kubernetes checks a local PV's path only when a pod mounts it.
"""

from __future__ import absolute_import, division, print_function

import json
import os

import yaml

from benchlib import BenchError, Playbook, Results, cleanup, kubectl, kubectl_json, log, parser, run_main, workdir

__metaclass__ = type

PREFIX = "dok-bench-pv"
NODES = ["dok-node-0", "dok-node-1", "dok-node-2"]
STRIP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "pv.kubernetes.io/bound-by-controller")


def volumes_for(nodes, count, prefix):
    return [{"node": nodes[i % len(nodes)], "path": "/var/lib/dokc/%s/v%03d" % (prefix, i), "capacity": "1Gi"}
            for i in range(count)]


def manifest(obj):
    meta = obj["metadata"]
    clean = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
             "metadata": {"name": meta["name"], "labels": meta.get("labels") or {}}}
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items() if k not in STRIP_ANNOTATIONS)
    if annotations:
        clean["metadata"]["annotations"] = annotations
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            clean[key] = value
    if "spec" in clean:
        clean["spec"] = dict((k, v) for k, v in clean["spec"].items() if k != "claimRef")
    return clean


def live_manifests(prefix):
    pvs = kubectl_json("get", "pv", "-l", "dok.databases/local-pv-prefix=%s" % prefix)["items"]
    sc = kubectl_json("get", "storageclass", prefix)
    return [manifest(sc)] + [manifest(pv) for pv in sorted(pvs, key=lambda p: p["metadata"]["name"])]


def local_pv_task(prefix, volumes, state="present"):
    args = {"name_prefix": prefix, "storage_class": prefix, "state": state}
    if state == "present":
        args["volumes"] = volumes
    else:
        args["force"] = True
    return {"name": "Run local_pv", "dok.databases.local_pv": args, "register": "bench_local_pv"}


def ours(play, res, label, prefix, volumes, check_plan=False):
    task = local_pv_task(prefix, volumes)
    if check_plan:
        run = play.run([task], check=True)
        add_play(res, "%s: plan (check mode)" % label, run, expect_changed=True)
        if pv_count(prefix):
            raise BenchError("check mode created PVs")
    runs = [play.run([task]), play.run([task]), play.run([local_pv_task(prefix, volumes, "absent")])]
    add_play(res, "%s: create" % label, runs[0], expect_changed=True)
    add_play(res, "%s: no-op rerun" % label, runs[1], expect_changed=False)
    add_play(res, "%s: delete" % label, runs[2], expect_changed=True)
    add_memory(res, label, runs)


def add_play(res, case, run, expect_changed):
    result = run["tasks"][-1]["result"]
    if bool(result.get("changed")) != expect_changed:
        raise BenchError("%s: local_pv reported changed=%s, expected %s"
                         % (case, result.get("changed"), expect_changed))
    res.add(case, "ours", run["seconds"])
    res.add(case + " [task only]", "ours", run["tasks"][-1]["seconds"])


def add_memory(res, label, runs):
    """The ansible-playbook controller's peak RSS over create, no-op rerun and delete (one sample per repetition)."""
    case = "%s: peak RSS of ansible-playbook, MiB" % label
    res.add(case, "ours", max(r["memory"]["process_peak_rss_mib"] for r in runs), unit="MiB")
    res.row(case)["extra"].setdefault("largest_process_of_the_tree_mib", []).append(
        max(r["memory"]["tree_peak_rss_mib"] for r in runs))


def pv_count(prefix):
    return len(kubectl("get", "pv", "-l", "dok.databases/local-pv-prefix=%s" % prefix, "-o", "name")[0].split())


def wait_pvs_gone(prefix):
    kubectl("wait", "--for=delete", "pv", "-l", "dok.databases/local-pv-prefix=%s" % prefix, "--timeout=600s",
            check=False, timeout=630)
    kubectl("wait", "--for=delete", "storageclass/%s" % prefix, "--timeout=120s", check=False, timeout=150)


def baseline(res, label, path, check_plan=False):
    if check_plan:
        took = kubectl("apply", "--dry-run=server", "-f", path, timeout=1800)[2]
        res.add("%s: plan (check mode)" % label, "baseline", took)
        res.add("%s: plan (check mode) [task only]" % label, "baseline", took)
    for case in ("create", "no-op rerun"):
        took = kubectl("apply", "-f", path, timeout=1800)[2]
        res.add("%s: %s" % (label, case), "baseline", took)
        res.add("%s: %s [task only]" % (label, case), "baseline", took)
    took = kubectl("delete", "-f", path, timeout=1800)[2]
    res.add("%s: delete" % label, "baseline", took)
    res.add("%s: delete [task only]" % label, "baseline", took)


def measure(res, label, prefix, volumes, n, work, check_plan=False):
    """n repetitions of ours then the baseline (alternating which goes first), same objects."""
    play = Playbook(work)
    path = os.path.join(work, "%s.yml" % prefix)
    for rep in range(n):
        log("%s: rep %d/%d" % (label, rep + 1, n))
        order = ["ours", "baseline"] if rep % 2 == 0 else ["baseline", "ours"]
        if not os.path.exists(path):
            order = ["ours", "baseline"]
        for side in order:
            if side == "ours":
                if not os.path.exists(path):
                    play.run([local_pv_task(prefix, volumes)])
                    with open(path, "w", encoding="utf-8") as f:
                        yaml.safe_dump_all(live_manifests(prefix), f)
                    kubectl("delete", "-f", path, "--wait=true", timeout=1800)
                ours(play, res, label, prefix, volumes, check_plan)
            else:
                baseline(res, label, path, check_plan)
            wait_pvs_gone(prefix)


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=300, help="number of PVs (default 300)")
    args = p.parse_args()
    res = Results("local_pv", args.out)
    cleanup(PREFIX, dirs=False)
    try:
        measure(res, "local_pv %d PVs" % args.count, PREFIX, volumes_for(NODES, args.count, PREFIX), args.n,
                workdir())
        res.notes.append("ours = ansible-playbook wall time (one task); [task only] = the local_pv task inside the "
                         "play; baseline = kubectl apply -f / delete -f of the same objects (client-side apply)")
        res.save()
    finally:
        if not args.keep:
            cleanup(PREFIX, dirs=False)
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
