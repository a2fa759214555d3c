# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command in a container of a Ready pod through the Kubernetes exec (stream) API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError, CommandError

ERROR_CHANNEL = 3
UPDATE_SECONDS = 1


def pod_is_ready(pod):
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def container_names(pod):
    return [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]


def check_pod(pod, name, namespace, container):
    """Raise ClusterError unless `pod` exists, is Ready and has `container`."""
    if pod is None:
        raise ClusterError("Pod %s was not found in namespace %s. Check the pod name and namespace "
                           "(kubectl get pods -n %s)." % (name, namespace, namespace))
    if not pod_is_ready(pod):
        status = pod.get("status") or {}
        raise ClusterError("Pod %s in namespace %s is not Ready (phase %s%s), so no command can run in it. "
                           "Wait for it to become Ready or choose another pod." % (
                               name, namespace, status.get("phase"),
                               ", being deleted" if (pod.get("metadata") or {}).get("deletionTimestamp") else ""))
    names = container_names(pod)
    if container not in names:
        raise ClusterError("Pod %s in namespace %s has no container named %s (it has: %s). Set the "
                           "container option to the database container." % (
                               name, namespace, container, ", ".join(names)))


def parse_status(raw):
    """Exit code from the exec error channel (a metav1.Status document); None when it is empty."""
    if not raw:
        return None, None
    try:
        status = json.loads(to_text(raw))
    except ValueError:
        status = None
    if not isinstance(status, dict):
        return None, to_text(raw)
    if status.get("status") == "Success":
        return 0, None
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message")), None
    return None, status.get("message") or to_text(raw)


def collect(resp, timeout, now, argv, where):
    """Read a streaming exec response until it closes; raise CommandError after `timeout` seconds."""
    stdout, stderr = [], []
    deadline = None if timeout is None else now() + timeout
    error = ""
    try:
        while resp.is_open():
            resp.update(timeout=UPDATE_SECONDS)
            if resp.peek_stdout():
                stdout.append(resp.read_stdout())
            if resp.peek_stderr():
                stderr.append(resp.read_stderr())
            if deadline is not None and now() >= deadline and resp.is_open():
                raise CommandError(
                    "%s did not finish within %s seconds in %s (stdout so far: %r, stderr so far: %r). Raise "
                    "exec_timeout if the database is just slow, otherwise check the pod's health." % (
                        " ".join(argv), timeout, where, "".join(stdout)[-500:], "".join(stderr)[-500:]))
        error = resp.read_channel(ERROR_CHANNEL)
    finally:
        resp.close()
    rc, failure = parse_status(error)
    if rc is None:
        raise CommandError("Could not run %s in %s: %s. Check that the binary exists in that container "
                           "(option binary) and that the container is the database container (option container)."
                           % (" ".join(argv), where, failure or "the exec stream closed without an exit status"))
    return CommandResult(rc, "".join(stdout), "".join(stderr))


def exec_in_pod(kube, namespace, pod_name, container, argv, timeout=None, pod=None):
    """Run argv in `container` of a Ready pod and return CommandResult(rc, stdout, stderr)."""
    if pod is None:
        pod = kube.get("Pod", pod_name, namespace)
    check_pod(pod, pod_name, namespace, container)
    where = "container %s of pod %s (namespace %s)" % (container, pod_name, namespace)
    resp = kube.open_exec(namespace, pod_name, container, argv)
    return collect(resp, timeout, kube.now, argv, where)


def pick_pod(pods, pod=None, exclude=(), what="the target"):
    """Name of the Ready pod to run commands in: `pod` if given, else the lowest Ready ordinal not excluded."""
    if pod:
        for record in pods:
            if record["name"] == pod:
                if not record["ready"]:
                    raise ClusterError("Pod %s of %s is not Ready. Choose a Ready pod (Ready ones: %s) or wait." % (
                        pod, what, ", ".join(p["name"] for p in pods if p["ready"]) or "none"))
                return pod
        raise ClusterError("Pod %s is not one of the pods of %s (%s)." % (
            pod, what, ", ".join(p["name"] for p in pods) or "no pods"))
    candidates = [p for p in pods if p["ready"] and not p.get("deleting") and p["name"] not in exclude]
    if not candidates:
        raise ClusterError("No Ready pod of %s to run the command in (pods: %s%s). Wait for a pod to become "
                           "Ready, or check the workload with kubectl describe." % (
                               what,
                               ", ".join("%s ready=%s phase=%s" % (p["name"], p["ready"], p.get("phase"))
                                         for p in pods) or "none",
                               "; excluded: %s" % ", ".join(exclude) if exclude else ""))
    return sorted(candidates, key=lambda p: (p["ordinal"] is None, p["ordinal"], p["name"]))[0]["name"]
