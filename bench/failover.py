# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: client-visible outage of single-node MariaDB after a pod delete and after SIGKILL of the server, db_cluster's manifest vs seed 004's.
"""Failover outage, ours vs seed 004.

Both deployments run side by side on the same node, on the same kind of local PV, with the same image. A probe pod on
another node connects through the Service's ClusterIP and runs ``SELECT 1`` every 100 ms (new connection each time),
like the seed's probe loop through its load balancer. Outage = the longest time between two successful answers
around the disruption. The disruptions alternate between the deployments, so all see the same background load.
A third deployment (unless --no-previous) is the role's manifest as it was before its probes changed (readiness by
``healthcheck.sh`` every 5 s after 5 s, liveness after 60 s, preStop ``mariadb-admin shutdown``): the rows marked
"previous defaults" show the change against the same baseline in the same run.
"""

from __future__ import absolute_import, division, print_function

import json
import re
import secrets
import string
import threading
import time

from benchlib import (BenchError, Playbook, Results, cleanup, kubectl, kubectl_json, apply_objects, log, parser, pv_dir,
                      run, toolkit_cluster, wait_ready_pod, run_main, workdir)

__metaclass__ = type

PREFIX = "dok-bench-fo-"
IMAGE = "dok.test/mariadb:11.8"
PROBE_EVERY = 0.1
RECOVERED_AFTER = 20
PREVIOUS_CASE = ", previous defaults"

PROBE_SCRIPT = r"""
while [ ! -e /tmp/stop ]; do
  t0=$(date +%s.%N)
  if timeout 3 mariadb --protocol=TCP -h "$PROBE_HOST" -uroot --connect-timeout=1 -N -B -e 'SELECT 1' \
       >/dev/null 2>/tmp/err; then r=ok; else r=err; fi
  t1=$(date +%s.%N)
  echo "$t0 $t1 $r $(grep -v '^WARNING' /tmp/err | tail -n 1 | head -c 120 | tr -s '\r\t' '  ')"
  sleep PROBE_SLEEP
done
"""


def seed_objects(namespace, storage_class):
    """Seed 004's PVC, Deployment and Service as printed there; only the image and the StorageClass differ."""
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "cbs-pvc1"},
           "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem",
                    "resources": {"requests": {"storage": "10Gi"}}, "storageClassName": storage_class}}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "mariadb", "labels": {"app": "mariadb"}},
        "spec": {
            "selector": {"matchLabels": {"app": "mariadb"}}, "replicas": 1,
            "template": {
                "metadata": {"labels": {"app": "mariadb"}},
                "spec": {
                    "securityContext": {"fsGroup": 27},
                    "containers": [{
                        "name": "mariadb-pod", "image": IMAGE,
                        "ports": [{"containerPort": 3306, "protocol": "TCP"}],
                        "env": [{"name": "MYSQL_ROOT_PASSWORD", "value": "123456"}],
                        "volumeMounts": [{"name": "cbs-volume1", "mountPath": "/var/lib/mysql", "readOnly": False}],
                    }],
                    "volumes": [{"name": "cbs-volume1", "persistentVolumeClaim": {"claimName": "cbs-pvc1"}}],
                }}}}
    # The seed's cloud load-balancer annotation has no meaning here; the type stays LoadBalancer.
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mariadb", "labels": {"app": "mariadb"}},
               "spec": {"type": "LoadBalancer", "selector": {"app": "mariadb"},
                        "ports": [{"port": 3306, "targetPort": 3306}]}}
    for obj in (pvc, deployment, service):
        obj["metadata"]["namespace"] = namespace
    return [pvc, deployment, service]


class Side(object):
    def __init__(self, key, namespace, selector, service, container, password):
        self.key = key
        self.namespace = namespace
        self.selector = selector
        self.service = service
        self.container = container
        self.password = password
        self.restarts = 0
        self.lock_waits = 0
        self.disrupted_at = None

    def pod(self):
        return wait_ready_pod(self.namespace, self.selector, timeout=600)

    def probe_lines(self):
        out = kubectl("logs", "-n", self.namespace, "probe", check=False)[0]
        lines = []
        for line in out.splitlines():
            f = line.split(" ", 3)
            if len(f) >= 3 and f[2] in ("ok", "err"):
                try:
                    lines.append((float(f[0]), float(f[1]), f[2] == "ok", f[3] if len(f) > 3 else ""))
                except ValueError:
                    continue
        return lines


def start_probe(side, probe_node):
    cluster_ip = kubectl_json("get", "service", "-n", side.namespace, side.service)["spec"]["clusterIP"]
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "probe", "namespace": side.namespace, "labels": {"app.kubernetes.io/component": "probe"}},
        "spec": {
            "restartPolicy": "Never", "nodeName": probe_node, "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "containers": [{
                "name": "probe", "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", PROBE_SCRIPT.replace("PROBE_SLEEP", "%.3f" % PROBE_EVERY)],
                "env": [{"name": "PROBE_HOST", "value": cluster_ip}, {"name": "MYSQL_PWD", "value": side.password}],
                "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}},
            }]}}
    apply_objects([pod])
    kubectl("wait", "-n", side.namespace, "--for=condition=Ready", "pod/probe", "--timeout=300s", timeout=330)
    deadline = time.time() + 300
    while sum(1 for line in side.probe_lines() if line[2]) < RECOVERED_AFTER:
        if time.time() > deadline:
            raise BenchError("the probe in %s never got %d answers from %s: %s" % (
                side.namespace, RECOVERED_AFTER, cluster_ip, side.probe_lines()[-3:]))
        time.sleep(2)


def outage(lines, t_disrupt):
    """(longest gap between successful answers around t_disrupt, failed probes after it, first error)."""
    prev = None
    gap = 0.0
    failed = 0
    first_error = ""
    for dummy, t1, ok, err in lines:
        if t1 <= t_disrupt:
            if ok:
                prev = t1
            continue
        if not ok:
            failed += 1
            first_error = first_error or err.strip()
            continue
        if prev is not None:
            gap = max(gap, t1 - prev)
        prev = t1
    return gap, failed, first_error


def recovered(lines, t_disrupt):
    after = [line for line in lines if line[0] > t_disrupt]
    return len(after) >= RECOVERED_AFTER and all(line[2] for line in after[-RECOVERED_AFTER:])


def wait_recovered(side, t_disrupt, old_uid=None, min_restarts=None, timeout=900):
    wait_ready_pod(side.namespace, side.selector, timeout=timeout, not_uid=old_uid, min_restarts=min_restarts)
    deadline = time.time() + timeout
    while True:
        lines = side.probe_lines()
        if recovered(lines, t_disrupt):
            # A replacement that crashed on its way up (e.g. on the datadir lock of a pod still stopping) shows here.
            pod = side.pod()
            side.restarts = sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses") or [])
            server_log = kubectl("logs", "-n", side.namespace, pod["metadata"]["name"], "-c", side.container,
                                 check=False)[0]
            side.lock_waits = sum(1 for line in server_log.splitlines() if "Unable to lock" in line)
            return outage(lines, t_disrupt)
        if time.time() > deadline:
            raise BenchError("%s: the probe did not recover within %d s after the disruption" % (side.key, timeout))
        time.sleep(2)


def kill_server(side):
    """SIGKILL the database container's process from the node, as `docker kill` did in the seed."""
    pod = side.pod()
    status = [s for s in pod["status"]["containerStatuses"] if s["name"] == side.container][0]
    cid = status["containerID"].split("://", 1)[1]
    sock = "/run/dokc/node-%s/containerd.sock" % pod["spec"]["nodeName"].rsplit("-", 1)[-1]
    restarts = status.get("restartCount", 0)
    t = side.disrupted_at = time.time()
    run(["ctr", "-a", sock, "-n", "k8s.io", "task", "kill", "-s", "SIGKILL", cid])
    gap, failed, err = wait_recovered(side, t, min_restarts=restarts + 1)
    return gap, failed, err, None


def delete_pod(side):
    pod = side.pod()
    timing = {}

    def call():
        timing["seconds"] = kubectl("delete", "pod", "-n", side.namespace, pod["metadata"]["name"],
                                    "--timeout=300s", timeout=330)[2]

    t = side.disrupted_at = time.time()
    thread = threading.Thread(target=call)
    thread.start()
    gap, failed, err = wait_recovered(side, t, old_uid=pod["metadata"]["uid"])
    thread.join()
    return gap, failed, err, timing.get("seconds")


def deploy_ours(play, node, password, namespace=PREFIX + "ours", name="fo", role_vars=None):
    """MariaDB deployed by the db_cluster role on a local PV of node (what a user of the collection runs)."""
    ns = namespace
    role_vars = dict(role_vars or {})
    path = pv_dir(node, ns)
    play.run([
        {"name": "Create the PV directory",
         "ansible.builtin.file": {"path": path, "state": "directory", "mode": "0755"}},
        {"name": "Register the local PV", "dok.databases.local_pv": {
            "name_prefix": ns, "storage_class": ns,
            "volumes": [{"node": node, "path": path, "capacity": "10Gi"}]}},
        {"name": "Deploy MariaDB", "ansible.builtin.include_role": {"name": "dok.databases.db_cluster"},
         "vars": {"db_cluster_engine": "mariadb", "db_cluster_name": name, "db_cluster_namespace": ns,
                  "db_cluster_image": IMAGE, "db_cluster_storage_class": ns,
                  "db_cluster_mariadb_root_password": password, **role_vars}},
    ])
    return Side("ours", ns, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=database" % name,
                name + "-public", "mariadb", password)


PREVIOUS_PRESTOP = ('mariadb-admin --user=root --password="$MARIADB_ROOT_PASSWORD" --host=127.0.0.1 --port=3306 '
                    'shutdown || true')


def deploy_previous(play, node, password):
    """The role's manifest with the probes and preStop it had before (exec readiness every 5 s), for comparison."""
    side = deploy_ours(play, node, password, namespace=PREFIX + "prev", name="fp",
                       role_vars={"db_cluster_mariadb_readiness": "exec"})
    side.key = "previous"
    container = "/spec/template/spec/containers/0"
    patch = [{"op": "remove", "path": container + "/startupProbe"},
             {"op": "add", "path": container + "/livenessProbe/initialDelaySeconds", "value": 60},
             {"op": "add", "path": container + "/lifecycle",
              "value": {"preStop": {"exec": {"command": ["/bin/sh", "-c", PREVIOUS_PRESTOP]}}}}]
    kubectl("patch", "statefulset", "-n", side.namespace, "fp", "--type=json", "-p", json.dumps(patch))
    kubectl("rollout", "status", "-n", side.namespace, "statefulset/fp", "--timeout=600s", timeout=630)
    side.pod()
    return side


def deploy_seed(play, node):
    ns = PREFIX + "seed"
    path = pv_dir(node, ns)
    kubectl("create", "namespace", ns)
    play.run([
        {"name": "Create the PV directory",
         "ansible.builtin.file": {"path": path, "state": "directory", "mode": "0755"}},
        {"name": "Register the local PV", "dok.databases.local_pv": {
            "name_prefix": ns, "storage_class": ns,
            "volumes": [{"node": node, "path": path, "capacity": "10Gi"}]}},
    ])
    apply_objects(seed_objects(ns, ns))
    side = Side("baseline", ns, "app=mariadb", "mariadb", "mariadb-pod", "123456")
    side.pod()
    return side


def save_probes(path, sides, disruptions):
    """Every probe of every side and when each disruption hit, for bench/pictures.py's timeline."""
    data = {"probe_every_ms": int(PROBE_EVERY * 1000), "recovered_after": RECOVERED_AFTER, "disruptions": disruptions,
            "sides": [{"key": side.key, "probes": [[t0, t1, ok] for t0, t1, ok, dummy in side.probe_lines()]}
                      for side in sides]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--node", default="dok-node-1", help="node of both databases (local PVs)")
    p.add_argument("--probe-node", default="dok-node-0", help="node of the probe pods")
    p.add_argument("--modes", default="kill,delete", help="comma-separated: kill, delete")
    p.add_argument("--no-previous", dest="previous", action="store_false",
                   help="skip the third deployment: the role's manifest with its previous probes and preStop")
    args = p.parse_args()
    res = Results("failover", args.out)
    if not toolkit_cluster():
        raise BenchError("the failover pair needs the offline toolkit cluster (local PV directories and each node's "
                         "containerd socket on this host); run tests/cluster/up.sh")
    modes = [m for m in args.modes.split(",") if m]
    cases = {"kill": ("outage after SIGKILL of mariadbd", kill_server),
             "delete": ("outage after kubectl delete pod", delete_pod)}
    cleanup(PREFIX)
    play = Playbook(workdir())
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for dummy in range(20))
    sides, disruptions = [], []
    try:
        log("deploying MariaDB with the db_cluster role and with seed 004's manifest on %s" % args.node)
        sides.append(deploy_ours(play, args.node, password))
        if args.previous:
            sides.append(deploy_previous(play, args.node, password))
        sides.append(deploy_seed(play, args.node))
        for side in sides:
            start_probe(side, args.probe_node)
        for rep in range(args.n):
            for mode in modes:
                case, action = cases[mode]
                for side in sides:
                    time.sleep(5)
                    log("rep %d/%d: %s on %s" % (rep + 1, args.n, mode, side.key))
                    side.disrupted_at = None
                    try:
                        gap, failed, err, delete_seconds = action(side)
                    finally:
                        # Also a disruption that never recovered (the run stopped) ends the lane before it.
                        if side.disrupted_at is not None:
                            disruptions.append({"side": side.key, "mode": mode, "rep": rep, "at": side.disrupted_at})
                    if side.key == "previous":
                        res.add(case + PREVIOUS_CASE, "ours", gap)
                        if delete_seconds is not None:
                            res.add("kubectl delete pod returns after" + PREVIOUS_CASE, "ours", delete_seconds)
                        continue
                    res.add(case, side.key, gap)
                    if side.key == "baseline" and args.previous:
                        res.add(case + PREVIOUS_CASE, "baseline", gap)
                        if delete_seconds is not None:
                            res.add("kubectl delete pod returns after" + PREVIOUS_CASE, "baseline", delete_seconds)
                    row = res.row(case)
                    row["extra"].setdefault(side.key + "_container_restarts_after", []).append(side.restarts)
                    row["extra"].setdefault(side.key + "_datadir_lock_retries", []).append(side.lock_waits)
                    row["extra"].setdefault(side.key + "_failed_probes", []).append(failed)
                    if err:
                        row["extra"].setdefault(side.key + "_errors", [])
                        if err[:80] not in row["extra"][side.key + "_errors"]:
                            row["extra"][side.key + "_errors"].append(err[:80])
                    if delete_seconds is not None:
                        res.add("kubectl delete pod returns after", side.key, delete_seconds)
        res.notes.append("probe: new connection + SELECT 1 through the Service ClusterIP from a pod on %s, every "
                         "%d ms plus the probe's own time; outage = longest gap between successful answers"
                         % (args.probe_node, PROBE_EVERY * 1000))
        res.save()
    finally:
        if args.out and disruptions:
            # The probe logs live in the probe pods: read them before the cleanup deletes the namespaces.
            save_probes(re.sub(r"\.json$", "", args.out) + ".probes.json", sides, disruptions)
        if not args.keep:
            cleanup(PREFIX)
    print(json.dumps(res.rows))


if __name__ == "__main__":
    run_main(main)
