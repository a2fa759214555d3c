# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: where one db_node_status call spends its time (interpreter start, imports, client, API requests, execs).
"""Profile of one db_node_status call, phase by phase.

Runs the module's main() in a fresh interpreter (as AnsiballZ does, minus the zip) against an existing MariaDB
StatefulSet, --n times, and prints the median of each phase: interpreter start (``python -c pass``), the imports
(ansible's module_utils, the kubernetes client, kubernetes.core, this collection), the module's argument handling,
building the client, each API request and each exec (websocket open, then until the exit status). Also the peak RSS
of the process. Not part of run.sh's table: it explains the node_status row.

    bench/profile_node_status.py --namespace NS --statefulset NAME [--n 5] [--out FILE] [--collections PATH]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

__metaclass__ = type

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r'''
import json, resource, sys, time
t0 = time.monotonic()
phases = []


def mark(name, since):
    now = time.monotonic()
    phases.append([name, now - since])
    return now


t = t0
from ansible.module_utils import basic  # noqa
t = mark("import ansible.module_utils.basic", t)
import kubernetes  # noqa
t = mark("import kubernetes", t)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_client, core  # noqa
t = mark("import kubernetes.core", t)
from ansible_collections.dok.databases.plugins.modules import db_node_status  # noqa
from ansible_collections.dok.databases.plugins.module_utils import common, pod_exec
t = mark("import dok.databases", t)
import urllib3
real_urlopen = urllib3.PoolManager.urlopen


def urlopen(self, method, url, *args, **kwargs):
    start = time.monotonic()
    try:
        return real_urlopen(self, method, url, *args, **kwargs)
    finally:
        phases.append(["API %s %s" % (method, url.split("?")[0].split("/", 3)[-1]), time.monotonic() - start])


urllib3.PoolManager.urlopen = urlopen
real_open, real_collect, real_connect = common.KubeApi.open_exec, pod_exec.collect, common.connect


def open_exec(self, *args):
    start = time.monotonic()
    try:
        return real_open(self, *args)
    finally:
        phases.append(["exec %s: open" % args[3][-1][:20], time.monotonic() - start])


def collect(resp, timeout, now, argv, where):
    start = time.monotonic()
    try:
        return real_collect(resp, timeout, now, argv, where)
    finally:
        phases.append(["exec %s: run until exit status" % argv[-1][:20], time.monotonic() - start])


def connect(module):
    phases.append(["argument spec and module setup", time.monotonic() - t])
    start = time.monotonic()
    try:
        return real_connect(module)
    finally:
        phases.append(["client construction", time.monotonic() - start])


common.KubeApi.open_exec, pod_exec.collect = open_exec, collect
real_run_module = common.run_module
db_node_status.run_module = lambda module, execute: real_run_module(module, execute, connect)
sys.argv = ["db_node_status", sys.argv[1]]
out = sys.stdout
sys.stdout = open("/dev/null", "w")
try:
    db_node_status.main()
except SystemExit:
    pass
sys.stdout = out
phases.append(["total in the interpreter", time.monotonic() - t0])
print(json.dumps({"phases": phases, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
'''


def run_once(args_path, env):
    out = subprocess.run([sys.executable, "-c", CHILD, args_path], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def interpreter_start(env, n):
    import time
    samples = []
    for dummy in range(n):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        samples.append(time.monotonic() - t)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--namespace", required=True)
    p.add_argument("--statefulset", required=True)
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--out")
    p.add_argument("--collections", default=os.path.join(REPO, ".collections"),
                   help="collections path to import from (another checkout's, to compare two versions)")
    args = p.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = args.collections
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"ANSIBLE_MODULE_ARGS": {"engine": "mariadb", "namespace": args.namespace,
                                           "statefulset": args.statefulset}}, f)
        args_path = f.name
    try:
        runs = [run_once(args_path, env) for dummy in range(args.n)]
    finally:
        os.unlink(args_path)
    names = []
    for run in runs:
        for name, dummy in run["phases"]:
            if name not in names:
                names.append(name)
    table = [["interpreter start (python -c pass)", round(interpreter_start(env, args.n), 3)]]
    for name in names:
        values = [sum(v for n, v in run["phases"] if n == name) for run in runs]
        table.append([name, round(statistics.median(values), 3)])
    table.append(["peak RSS (MiB)", round(statistics.median(r["max_rss_kb"] for r in runs) / 1024.0, 1)])
    for name, value in table:
        print("%-60s %8.3f" % (name, value))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"n": args.n, "median": table, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
