# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: rolling_upgrade with health gates on a 3-node Cassandra ring (5.0.8 -> 5.0.9) vs `kubectl set image` + `kubectl rollout status` without gates.
"""Gated rolling upgrade vs kubectl rollout, 3-node Cassandra.

One ring, deployed by the db_cluster role on local PVs (one per node). Each repetition upgrades the ring
5.0.8 -> 5.0.9 with the rolling_upgrade role (partition, one pod at a time, db_node_status healthy gate, safety window),
brings it back to 5.0.8 with a plain rollout (not timed), upgrades it again with ``kubectl set image`` +
``kubectl rollout status`` (the same image change, no gate: the StatefulSet controller waits only for Ready), and
brings it back again. "ours minus safety windows" subtracts the configured pauses between pods, which a user chooses.
With ``--status-out`` the ring also serves the Cassandra half of the db_node_status pair before the upgrades.
"""

from __future__ import absolute_import, division, print_function

import json

import node_status
from benchlib import (BenchError, Playbook, Results, cleanup, kubectl, kubectl_json, log, parser, pv_dir,
                      toolkit_cluster, run_main, workdir)

__metaclass__ = type

PREFIX = "dok-bench-ru"
NAME = "ring"
OLD = "dok.test/cassandra:5.0.8"
NEW = "dok.test/cassandra:5.0.9"
NODES = ["dok-node-0", "dok-node-1", "dok-node-2"]


def deploy(play, timeout):
    volumes = [{"node": node, "path": pv_dir(node, PREFIX), "capacity": "2Gi"} for node in NODES]
    tasks = [{"name": "Create the PV directory on %s" % v["node"],
              "ansible.builtin.file": {"path": v["path"], "state": "directory", "mode": "0755"}} for v in volumes]
    tasks += [
        {"name": "Register the local PVs", "dok.databases.local_pv": {
            "name_prefix": PREFIX, "storage_class": PREFIX, "volumes": volumes}},
        {"name": "Deploy the ring", "ansible.builtin.include_role": {"name": "dok.databases.db_cluster"},
         "vars": {"db_cluster_engine": "cassandra", "db_cluster_name": NAME, "db_cluster_namespace": PREFIX,
                  "db_cluster_replicas": 3, "db_cluster_image": OLD, "db_cluster_storage_class": PREFIX,
                  "db_cluster_storage_size": "2Gi", "db_cluster_anti_affinity": "required",
                  "db_cluster_resources": {"requests": {"cpu": "100m", "memory": "1Gi"},
                                           "limits": {"memory": "1536Mi"}},
                  "db_cluster_wait_timeout": timeout, "db_cluster_verify_timeout": timeout,
                  "db_cluster_poll_interval": 10}},
    ]
    return play.run(tasks, timeout=timeout * 3)


def images():
    sts = kubectl_json("get", "statefulset", "-n", PREFIX, NAME)
    pods = kubectl_json("get", "pods", "-n", PREFIX, "-l", "app.kubernetes.io/instance=%s" % NAME)["items"]
    return sts["spec"]["template"]["spec"]["containers"][0]["image"], sorted(
        p["spec"]["containers"][0]["image"] for p in pods)


def kubectl_rollout(image, timeout):
    took = kubectl("set", "image", "-n", PREFIX, "statefulset/%s" % NAME, "cassandra=%s" % image)[2]
    took += kubectl("rollout", "status", "-n", PREFIX, "statefulset/%s" % NAME, "--timeout=%ds" % timeout,
                    timeout=timeout + 30)[2]
    if images() != (image, [image] * 3):
        raise BenchError("after kubectl rollout to %s the images are %s" % (image, images()))
    return took


def ours(play, window, timeout):
    run = play.run([{"name": "Upgrade the ring", "ansible.builtin.include_role": {
        "name": "dok.databases.rolling_upgrade"}, "vars": {
        "rolling_upgrade_engine": "cassandra", "rolling_upgrade_name": NAME, "rolling_upgrade_namespace": PREFIX,
        "rolling_upgrade_image": NEW, "rolling_upgrade_confirm": True, "rolling_upgrade_safety_window": window,
        "rolling_upgrade_pod_timeout": timeout, "rolling_upgrade_gate_timeout": timeout,
        "rolling_upgrade_poll_interval": 5}}], timeout=timeout * 4)
    if images() != (NEW, [NEW] * 3):
        raise BenchError("after rolling_upgrade the images are %s" % (images(),))
    return run["seconds"]


def main():
    p = parser(__doc__.splitlines()[0])
    p.set_defaults(n=1)
    p.add_argument("--window", type=int, default=30, help="rolling_upgrade_safety_window (default 30)")
    p.add_argument("--timeout", type=int, default=1200, help="per-step timeout in seconds (default 1200)")
    p.add_argument("--status-out", default="", help="also measure db_node_status on the ring; write it here")
    p.add_argument("--status-n", type=int, default=5, help="db_node_status repetitions (default 5)")
    p.add_argument("--no-reset", dest="reset", action="store_false",
                   help="time the baseline on the reverse change (5.0.9 -> 5.0.8) instead of resetting the ring to "
                        "5.0.8 first: one rollout less, the same pods restarted the same way")
    args = p.parse_args()
    if not toolkit_cluster():
        raise BenchError("the rolling upgrade pair deploys Cassandra on local PVs of the offline toolkit cluster; "
                         "run tests/cluster/up.sh")
    res = Results("rolling_upgrade", args.out)
    work = workdir()
    play = Playbook(work)
    cleanup(PREFIX)
    try:
        log("deploying a 3-node Cassandra ring (%s)" % OLD)
        deploy(play, args.timeout)
        if args.status_out:
            status = Results("node_status", args.status_out)
            node_status.measure(status, "cassandra", PREFIX, NAME, args.status_n, play)
            status.save()
        windows = args.window * (len(NODES) - 1)
        for rep in range(args.n):
            log("rep %d/%d: rolling_upgrade %s -> %s" % (rep + 1, args.n, OLD, NEW))
            took = ours(play, args.window, args.timeout)
            res.add("3-node Cassandra upgrade", "ours", took)
            res.add("3-node Cassandra upgrade, ours minus safety windows", "ours", took - windows)
            if args.reset:
                log("back to %s (not timed)" % OLD)
                kubectl_rollout(OLD, args.timeout)
            change = (OLD, NEW) if args.reset else (NEW, OLD)
            log("rep %d/%d: kubectl set image + rollout status %s -> %s" % (rep + 1, args.n, change[0], change[1]))
            took = kubectl_rollout(change[1], args.timeout)
            res.add("3-node Cassandra upgrade", "baseline", took)
            res.add("3-node Cassandra upgrade, ours minus safety windows", "baseline", took)
            if args.reset and rep < args.n - 1:
                kubectl_rollout(OLD, args.timeout)
        res.row("3-node Cassandra upgrade")["extra"]["safety_window_seconds"] = args.window
        res.row("3-node Cassandra upgrade")["extra"]["safety_windows_total"] = windows
        res.notes.append("rolling_upgrade: partition + one pod at a time + db_node_status healthy gate + %d s safety "
                         "window between pods (%d s in total); baseline: kubectl set image + rollout status%s"
                         % (args.window, windows, "" if args.reset else " of the reverse change 5.0.9 -> 5.0.8"))
        res.save()
    finally:
        if not args.keep:
            cleanup(PREFIX)
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
