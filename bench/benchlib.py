# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the benchmarks: commands, kubectl, generated playbooks, samples and cleanup.

Every benchmark script takes ``--n N`` (repetitions per side) and ``--out FILE`` (its measurements as JSON, merged
into the table by report.py). Objects it creates carry the ``dok-bench-`` prefix (namespaces, PVs, StorageClasses,
Nodes) so that ``cleanup()`` finds them again, even after an interrupted run.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time

import yaml

__metaclass__ = type

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "dok-bench-"
STATE_DIR = os.environ.get("DOK_K8S_STATE", "/var/lib/dokc")


def log(msg):
    sys.stderr.write("%s bench: %s\n" % (time.strftime("%H:%M:%S", time.gmtime()), msg))
    sys.stderr.flush()


class BenchError(Exception):
    pass


def run(argv, timeout=900, check=True, env=None, stdin=None):
    """(stdout, stderr, seconds) of argv; BenchError with the output when it fails and check is set."""
    start = time.time()
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})), check=False)
    took = time.time() - start
    if check and proc.returncode != 0:
        raise BenchError("%s exited %d after %.1f s:\n%s\n%s" % (
            " ".join(argv), proc.returncode, took, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc.stdout, proc.stderr, took


def peak_rss_kb(pid):
    """VmHWM (peak resident set) of a live process from /proc, in KiB; 0 once it has exited."""
    try:
        with open("/proc/%d/status" % pid, encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measured(argv, timeout=900, env=None):
    """(stdout, stderr, seconds, memory) of argv. memory: the process's own peak RSS (VmHWM from /proc, sampled
    every 0.1 s until it exits, so a growth in its last 0.1 s is missed) and the peak RSS of the largest process of
    its tree (ru_maxrss from wait4: it and every descendant it waited for), both in MiB."""
    start = time.time()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err,  # pylint: disable=consider-using-with
                                env=dict(os.environ, **(env or {})))
        own = 0
        while True:
            own = max(own, peak_rss_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.time() - start > timeout:
                proc.kill()
                proc.wait()
                raise BenchError("%s did not finish within %d s" % (" ".join(argv), timeout))
            time.sleep(0.1)
        took = time.time() - start
        out.seek(0)
        err.seek(0)
        memory = {"process_peak_rss_mib": round(own / 1024.0, 1),
                  "tree_peak_rss_mib": round(usage.ru_maxrss / 1024.0, 1)}
        return out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"), took, memory


def kubectl(*args, **kwargs):
    return run(["kubectl"] + list(args), **kwargs)


def kubectl_json(*args):
    out = kubectl(*(list(args) + ["-o", "json"]))[0]
    return json.loads(out)


def apply_objects(objects, namespace=None):
    argv = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
    return kubectl(*argv, stdin=yaml.safe_dump_all(objects))


def toolkit_cluster():
    """True on the offline toolkit cluster: node directories and containerd sockets are on this host."""
    return os.path.isdir("/run/dokc") and os.path.exists(os.path.join(STATE_DIR, "admin.kubeconfig"))


def node_index(node):
    return node.rsplit("-", 1)[-1]


def pv_dir(node, name):
    return os.path.join(STATE_DIR, "node-%s" % node_index(node), "pv", name)


def ready_pods(namespace, selector):
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
    ready = []
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        conds = (pod.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
            ready.append(pod)
    return ready


def wait_ready_pod(namespace, selector, timeout=600, not_uid=None, min_restarts=None):
    """The single Ready pod of selector, waiting for it (optionally a new pod, or one restarted)."""
    deadline = time.time() + timeout
    while True:
        for pod in ready_pods(namespace, selector):
            if not_uid and pod["metadata"]["uid"] == not_uid:
                continue
            restarts = sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses") or [])
            if min_restarts is not None and restarts < min_restarts:
                continue
            return pod
        if time.time() > deadline:
            raise BenchError("no Ready pod for %s in %s within %d s" % (selector, namespace, timeout))
        time.sleep(1)


class Playbook(object):
    """Runs generated single-play playbooks on localhost and reads each task's duration (json callback)."""

    def __init__(self, directory):
        self.workdir = directory
        self.count = 0

    def run(self, tasks, extra_vars=None, check=False, timeout=1800):
        self.count += 1
        path = os.path.join(self.workdir, "play-%d.yml" % self.count)
        play = [{"name": "Benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "tasks": tasks}]
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(play, f, sort_keys=False)
        argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", path]
        if check:
            argv.append("--check")
        if extra_vars:
            vars_path = path + ".vars.json"
            with open(vars_path, "w", encoding="utf-8") as f:
                json.dump(extra_vars, f)
            argv += ["-e", "@" + vars_path]
        env = {"ANSIBLE_STDOUT_CALLBACK": "bench_json",
               "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "bench", "callback_plugins"),
               "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".collections"),
               "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_LOCALHOST_WARNING": "0",
               "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_DEPRECATION_WARNINGS": "0"}
        out, err, took, memory = run_measured(argv, timeout=timeout, env=env)
        try:
            report = json.loads(out[out.index('{"tasks"'):].splitlines()[0])
        except ValueError as exc:
            raise BenchError("ansible-playbook %s printed no JSON report:\n%s\n%s"
                             % (path, out[-2000:], err[-2000:])) from exc
        tasks_done = []
        failed = []
        for task in report["tasks"]:
            seconds = task["end"] - task["start"] if task["end"] else None
            tasks_done.append({"name": task["name"], "seconds": seconds, "result": task["result"]})
            if task["result"].get("failed") and not task["result"].get("ignored"):
                failed.append((task["name"], task["result"].get("msg")))
        if failed:
            raise BenchError("playbook %s failed: %s" % (path, json.dumps(failed)[:3000]))
        return {"seconds": took, "tasks": tasks_done, "memory": memory}


def task_result(play_run, name):
    for task in play_run["tasks"]:
        if task["name"] == name:
            return task
    raise BenchError("task %r not in the playbook report" % name)


class Results(object):
    """Samples per (pair, case, side), written as one JSON file for report.py."""

    def __init__(self, pair, out):
        self.pair = pair
        self.out = out
        self.rows = []
        self.notes = []

    def row(self, case, unit="s", note=""):
        for r in self.rows:
            if r["case"] == case:
                return r
        r = {"pair": self.pair, "case": case, "unit": unit, "ours": [], "baseline": [], "note": note, "extra": {}}
        self.rows.append(r)
        return r

    def add(self, case, side, value, unit="s", note=""):
        r = self.row(case, unit, note)
        r[side].append(round(value, 3))
        log("%s / %s / %s: %.2f %s" % (self.pair, case, side, value, unit))
        self.save()

    def save(self):
        if not self.out:
            return
        with open(self.out, "w", encoding="utf-8") as f:
            json.dump({"pair": self.pair, "rows": self.rows, "notes": self.notes}, f, indent=1)


def run_main(main):
    """Run a benchmark's main(); a BenchError ends the process with its message and exit status 1."""
    try:
        main()
    except BenchError as exc:
        log("failed: %s" % exc)
        sys.exit(1)


def start_mariadb_pair(pair, args, prefix, what):
    """The toolkit cluster checked, what an earlier run left deleted: (Results, Playbook, a fresh root password)."""
    if not toolkit_cluster():
        raise BenchError("the %s pair deploys %s of the offline toolkit cluster; run tests/cluster/up.sh" % (pair, what))
    res = Results(pair, args.out)
    cleanup(prefix)
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for dummy in range(20))
    return res, Playbook(workdir()), password


def measure_and_clean(res, args, prefix, measure):
    """Run measure(), save the results, delete what was created (unless --keep) also after a failure, print the rows."""
    try:
        measure()
        res.save()
    finally:
        if not args.keep:
            cleanup(prefix)
    print(json.dumps(res.rows))


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, default=5, help="repetitions per side (default 5)")
    p.add_argument("--out", default="", help="write the measurements to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the objects created (for debugging)")
    return p


def workdir():
    return tempfile.mkdtemp(prefix="dok-bench-")


def cleanup(prefix, dirs=True):
    """Delete the namespaces, PVs, StorageClasses and Nodes named prefix*, and their PV directories."""
    for kind in ("namespace", "pv", "storageclass", "node"):
        names = kubectl("get", kind, "-o", "name", check=False)[0].split()
        mine = [n for n in names if n.split("/", 1)[1].startswith(prefix)]
        if mine:
            log("deleting %d %s object(s) named %s*" % (len(mine), kind, prefix))
            wait = "--wait=true" if kind == "namespace" else "--wait=false"
            kubectl("delete", wait, "--ignore-not-found", "--timeout=600s", *mine, check=False, timeout=900)
    if dirs and toolkit_cluster():
        for node_dir in sorted(os.listdir(STATE_DIR)):
            pv_root = os.path.join(STATE_DIR, node_dir, "pv")
            if not node_dir.startswith("node-") or not os.path.isdir(pv_root):
                continue
            for name in os.listdir(pv_root):
                if name.startswith(prefix):
                    shutil.rmtree(os.path.join(pv_root, name), ignore_errors=True)


def pv_names_with_prefix(prefix):
    names = kubectl("get", "pv", "-o", "name", check=False)[0].split()
    return [n.split("/", 1)[1] for n in names if n.split("/", 1)[1].startswith(prefix)]
