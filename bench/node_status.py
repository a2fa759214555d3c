# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: one dok.databases.db_node_status call vs the raw `kubectl exec <pod> -- <status command>` it wraps (MariaDB; Cassandra in rolling_upgrade.py).
"""db_node_status overhead.

Ours is one ``ansible-playbook`` run with one db_node_status task (wall time), and the task's own time inside the play.
The baseline replays, with ``kubectl exec``, exactly the commands the module reports it ran (``command``), one after
the other: MariaDB's status is a ping and a read/write probe in one exec, Cassandra's is ``nodetool status``.
Then --n more runs measure memory: the module process's peak RSS (ru_maxrss of RUSAGE_CHILDREN in an interpreter
wrapper that runs the module, set as the task's ansible_python_interpreter) and the ansible-playbook controller's
(VmHWM from /proc, see benchlib.run_measured). Apart from the timed runs, so the wrapper costs them nothing.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys

from benchlib import BenchError, cleanup, kubectl, log, parser, run_main, start_mariadb_pair

__metaclass__ = type

PREFIX = "dok-bench-st-"


def status_task(engine, namespace, statefulset, extra=None):
    args = {"engine": engine, "namespace": namespace, "statefulset": statefulset}
    args.update(extra or {})
    return {"name": "Read the node status", "dok.databases.db_node_status": args, "register": "bench_status"}


WRAPPER = """#!%(python)s
import resource, subprocess, sys
rc = subprocess.call([%(python)r] + sys.argv[1:])
with open(%(out)r, "a") as f:
    f.write("%%d\\n" %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
"""


def interpreter_wrapper(directory):
    """(path of a python that records its child's peak RSS in KiB, path of the file it appends to)."""
    path, out = os.path.join(directory, "rss-python"), os.path.join(directory, "rss-python.kb")
    with open(path, "w", encoding="utf-8") as f:
        f.write(WRAPPER % {"python": sys.executable, "out": out})
    os.chmod(path, 0o755)
    return path, out


def measure_memory(res, label, task, n, play):
    """n runs of the task under the wrapper: the module's and the controller's peak RSS."""
    wrapper, out = interpreter_wrapper(play.workdir)
    task = dict(task, vars={"ansible_python_interpreter": wrapper})
    for rep in range(n):
        log("%s: memory run %d/%d" % (label, rep + 1, n))
        if os.path.exists(out):
            os.unlink(out)
        run = play.run([task])
        with open(out, encoding="utf-8") as f:
            module_kb = [int(line) for line in f if line.strip()]
        if len(module_kb) != 1:
            raise BenchError("the interpreter wrapper ran %d processes for one db_node_status task" % len(module_kb))
        res.add(label + ": peak RSS of the module process, MiB", "ours", module_kb[0] / 1024.0, unit="MiB")
        res.add(label + ": peak RSS of ansible-playbook, MiB", "ours", run["memory"]["process_peak_rss_mib"],
                unit="MiB")


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
    # The deployment is the one the failover pair uses, in this pair's own namespace.
    from failover import deploy_ours
    res, play, password = start_mariadb_pair("node_status", args, PREFIX, "MariaDB on a local PV")
    try:
        side = deploy_ours(play, args.node, password, namespace=PREFIX + "mariadb", name="st")
        side.pod()
        measure(res, "mariadb", side.namespace, "st", args.n, play)
        measure_memory(res, "db_node_status mariadb", status_task("mariadb", side.namespace, "st"), args.n, play)
        res.notes.append("ours = ansible-playbook wall time (one task); [task only] = the db_node_status task inside "
                         "the play; baseline = kubectl exec of the same command(s)")
        res.notes.append("peak RSS: the module process = ru_maxrss of RUSAGE_CHILDREN in an interpreter wrapper "
                         "around it; ansible-playbook = VmHWM of its own process from /proc, sampled every 0.1 s")
        res.save()
    finally:
        if not args.keep:
            cleanup(PREFIX)
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
