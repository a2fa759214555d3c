# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: one dok.databases.db_node_status call vs the raw `kubectl exec <pod> -- <status command>` it wraps (MariaDB; Cassandra in rolling_upgrade.py).
"""db_node_status overhead.

Ours is one ``ansible-playbook`` run with one db_node_status task (wall time), and the task's own time inside the play.
The baseline replays, with ``kubectl exec``, exactly the commands the module reports it ran (``command``), one after
the other: MariaDB's status is a ping and a read/write probe (two execs), Cassandra's is ``nodetool status``.
"""

from __future__ import absolute_import, division, print_function

import json
import secrets
import string

from benchlib import BenchError, Playbook, Results, cleanup, kubectl, log, parser, toolkit_cluster, run_main, workdir

__metaclass__ = type

PREFIX = "dok-bench-st-"


def status_task(engine, namespace, statefulset, extra=None):
    args = {"engine": engine, "namespace": namespace, "statefulset": statefulset}
    args.update(extra or {})
    return {"name": "Read the node status", "dok.databases.db_node_status": args, "register": "bench_status"}


def measure(res, engine, namespace, statefulset, n, play, label=None, extra=None):
    """n rounds of: the module through ansible-playbook, then its commands through kubectl exec."""
    label = label or "db_node_status %s" % engine
    task = status_task(engine, namespace, statefulset, extra)
    for rep in range(n):
        log("%s: rep %d/%d" % (label, rep + 1, n))
        run = play.run([{"name": "Measure a module round trip", "ansible.builtin.ping": {}}, task])
        result = run["tasks"][-1]["result"]
        commands = result["command"]
        if commands and isinstance(commands[0], str):
            commands = [commands]
        container = (extra or {}).get("container") or engine
        total = 0.0
        for argv in commands:
            total += kubectl("exec", "-n", namespace, result["pod"], "-c", container, "--", *argv, timeout=300)[2]
        res.add(label, "ours", run["seconds"])
        res.add(label, "baseline", total)
        res.add(label + " [task only]", "ours", run["tasks"][-1]["seconds"])
        res.add(label + " [task only]", "baseline", total)
        row = res.row(label)
        row["extra"]["commands"] = [" ".join(a) for a in commands]
        row["extra"]["nodes"] = len(result.get("nodes") or [])
        row["extra"].setdefault("ansible_ping_task_seconds", []).append(round(run["tasks"][0]["seconds"], 3))
    return res


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--node", default="dok-node-1", help="node of the MariaDB local PV")
    args = p.parse_args()
    if not toolkit_cluster():
        raise BenchError("the node_status pair deploys MariaDB on a local PV of the offline toolkit cluster; "
                         "run tests/cluster/up.sh")
    # The deployment is the one the failover pair uses, in this pair's own namespace.
    from failover import deploy_ours
    res = Results("node_status", args.out)
    cleanup(PREFIX)
    play = Playbook(workdir())
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for dummy in range(20))
    try:
        side = deploy_ours(play, args.node, password, namespace=PREFIX + "mariadb", name="st")
        side.pod()
        measure(res, "mariadb", side.namespace, "st", args.n, play)
        res.notes.append("ours = ansible-playbook wall time (one task); [task only] = the db_node_status task inside "
                         "the play; baseline = kubectl exec of the same command(s)")
        res.save()
    finally:
        if not args.keep:
            cleanup(PREFIX)
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
