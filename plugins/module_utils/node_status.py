# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node status of a database cluster, once or until a condition holds (engine-neutral)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.errors import (
    AccessDenied, DokError, PreconditionError, WaitTimeout,
)
from ansible_collections.dok.databases.plugins.module_utils.pod_exec import pick_pod
from ansible_collections.dok.databases.plugins.module_utils.replace import lost_volumes

WAIT_CONDITIONS = ("none", "healthy", "all_live", "count")


class RecordingRun(object):
    """Wraps ops.run so the result can show the commands that were run (passwords are not in argv)."""

    def __init__(self, ops):
        self.ops = ops
        self.commands = []

    def __call__(self, pod, argv, timeout=None):
        self.commands.append(list(argv))
        return self.ops.run(pod, argv, timeout=timeout)


def condition_met(wait_for, summary, expected_nodes):
    """(met, why not) for one summary."""
    if wait_for == "none":
        return True, None
    if wait_for == "healthy":
        return bool(summary.get("healthy")), "; ".join(summary.get("reasons") or []) or "not healthy"
    live, dead, nodes = summary.get("live") or 0, summary.get("dead") or 0, summary.get("nodes") or 0
    if wait_for == "all_live":
        if dead or live < nodes:
            return False, "%d of %d nodes live" % (live, nodes)
        if expected_nodes is not None and live < expected_nodes:
            return False, "%d nodes live, expected %d" % (live, expected_nodes)
        return True, None
    if live != expected_nodes:
        return False, "%d nodes live, expected exactly %d" % (live, expected_nodes)
    return True, None


def status_once(ops, adapter, params, expected_nodes=None, exclude=()):
    pods = ops.pods()
    pod = pick_pod(pods, params.get("pod"), exclude, ops.describe())
    run = RecordingRun(ops)
    nodes = adapter.status(run, pod, pods=pods)
    summary = adapter.summarize(nodes, expected_nodes, params.get("replication_factor"))
    return {"nodes": nodes, "summary": summary, "pod": pod,
            "command": run.commands[0] if len(run.commands) == 1 else run.commands}


def _lost_volumes(ops):
    """The report of pods whose volume sits on a node that is down, or none when it cannot be read (a namespaced
    Role cannot list Nodes): a report never turns a status into an error."""
    try:
        return lost_volumes(ops)
    except DokError:
        return []


def _with_lost_volumes(exc, ops):
    """The error, its message extended by the pods whose volume sits on a node that is down."""
    lost = _lost_volumes(ops)
    if lost:
        exc.msg = "%s %s." % (exc.msg, "; ".join(item["message"] for item in lost))
        exc.args = (exc.msg,)
        exc.details["lost_volumes"] = lost
    return exc


def node_status(ops, adapter, params):
    """Status now, or polled until params['wait_for'] holds; never changes anything."""
    wait_for = params.get("wait_for") or "none"
    if wait_for == "count" and params.get("expected_nodes") is None:
        raise PreconditionError("wait_for=count needs expected_nodes (the number of live nodes to wait for).")
    expected = params.get("expected_nodes")
    if expected is None:
        expected = ops.expected_nodes()
    start = ops.now()
    deadline = start + (params.get("wait_timeout") or 0)
    polls, last, last_error, unmet = 0, None, None, []
    while True:
        polls += 1
        try:
            last = status_once(ops, adapter, params, expected)
            last_error = None
            met, why = condition_met(wait_for, last["summary"], expected)
        except DokError as exc:
            if wait_for == "none" or isinstance(exc, AccessDenied):
                raise _with_lost_volumes(exc, ops)
            met, why, last_error = False, exc.msg, exc.msg
        if met:
            last.update(changed=False, waited=round(ops.now() - start, 1), polls=polls, unmet_polls=unmet,
                        lost_volumes=_lost_volumes(ops))
            return last
        unmet.append("poll %d: %s" % (polls, why))
        if ops.now() >= deadline:
            summary = (last or {}).get("summary")
            raise _with_lost_volumes(WaitTimeout(
                "Waited %s seconds (%d polls) for %s to reach wait_for=%s; last %s: %s. Check the pods and the "
                "database logs, or raise wait_timeout." % (
                    params.get("wait_timeout"), polls, ops.describe(), wait_for,
                    "error" if last_error else "state", last_error or why),
                summary=summary, nodes=(last or {}).get("nodes"), polls=polls, unmet_polls=unmet,
                reasons=(summary or {}).get("reasons")), ops)
        ops.sleep(params.get("poll_interval") or 5)
