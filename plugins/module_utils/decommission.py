# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remove database nodes safely, engine-neutral: plan, pre-checks, start, poll with stall detection, finalize,
scale the StatefulSet down, apply the PVC policy.

``ops`` is the Kubernetes side (see statefulset.py): ``pods()``, ``run(pod, argv, timeout=None)``, ``replicas()``,
``scale(n)``, ``wait_pods_gone(names, timeout)``, ``pvcs_for(ordinal)``, ``delete_pvc(name)``, ``now()``,
``sleep(seconds)``. The adapter knows the database (engines/). Every run reads the live state first, so a rerun
after an interruption continues where the last one stopped and a finished job changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.errors import (
    ClusterError, CommandError, NotApplicableError, ParseError, PreconditionError, WaitTimeout,
)

ACTIVE, DECOMMISSIONING, DECOMMISSIONED, GONE = "active", "decommissioning", "decommissioned", "gone"
CHANGING_ACTIONS = ("decommission", "resume", "finalize", "scale", "delete_pvc")
PVC_PROBE_LIMIT = 1000
DEFAULTS = {
    "replication_factor": 3, "force": False, "stall_timeout": 600, "wait_timeout": 3600, "poll_interval": 5,
    "pvc_policy": "retain", "scale_down": True,
}


def settings(params):
    merged = dict(DEFAULTS)
    merged.update(dict((k, v) for k, v in (params or {}).items() if v is not None))
    if merged["pvc_policy"] not in ("retain", "delete"):
        raise PreconditionError("pvc_policy must be retain or delete, got %r." % (merged["pvc_policy"],))
    if merged["pvc_policy"] == "delete" and not merged["scale_down"]:
        raise PreconditionError("pvc_policy=delete needs scale_down=true: the claims of pods that keep running "
                                "cannot be deleted. Set scale_down: true or pvc_policy: retain.")
    return merged


def node_label(node):
    where = node.get("pod") or node.get("address") or "no pod"
    return "%s (%s)" % (node.get("id"), where)


def control_pod(pods, exclude):
    """The lowest-ordinal Ready pod that is not leaving: commands about the cluster run there."""
    ready = [p for p in pods if p.get("ready") and not p.get("deleting") and p["name"] not in exclude]
    if not ready:
        raise ClusterError(
            "No Ready pod outside the nodes to remove (%s) to run the database CLI in; pods: %s. Wait until the "
            "remaining pods are Ready." % (", ".join(sorted(exclude)) or "none", ", ".join(
                "%s ready=%s" % (p["name"], p.get("ready")) for p in pods) or "none"))
    return sorted(ready, key=lambda p: (p.get("ordinal") is None, p.get("ordinal"), p["name"]))[0]["name"]


def target_state(node):
    if node is None:
        return GONE
    if node.get("membership") == DECOMMISSIONED:
        return DECOMMISSIONED
    if node.get("is_decommissioning"):
        return DECOMMISSIONING
    return ACTIVE


def select_targets(params, pods, nodes, spec_replicas):
    """[(pod dict, why)] to remove and the replica count to scale to (None when not scaling)."""
    by_name = dict((p["name"], p) for p in pods)
    if params.get("pods"):
        unknown = [name for name in params["pods"] if name not in by_name]
        if unknown:
            raise PreconditionError("Pods %s are not pods of this StatefulSet (its pods: %s)." % (
                ", ".join(unknown), ", ".join(sorted(by_name)) or "none"))
        chosen = [(by_name[name], "named in pods") for name in params["pods"]]
    elif params.get("node_ids"):
        by_id = dict((str(n.get("id")), n) for n in nodes)
        chosen = []
        for node_id in params["node_ids"]:
            node = by_id.get(str(node_id))
            if node is None:
                raise PreconditionError("Node id %s is not in the cluster's node status (ids: %s)." % (
                    node_id, ", ".join(sorted(by_id)) or "none"))
            if node.get("pod") not in by_name:
                raise PreconditionError(
                    "Node %s has no pod of this StatefulSet (address %s); only nodes running in its pods can be "
                    "removed here." % (node_id, node.get("address")))
            chosen.append((by_name[node["pod"]], "node id %s given" % node_id))
    elif params.get("replicas") is not None:
        replicas = params["replicas"]
        if replicas < 0:
            raise PreconditionError("replicas must be 0 or more, got %s." % replicas)
        chosen = [(p, "ordinal %s is at or above the target replica count %s" % (p["ordinal"], replicas))
                  for p in pods if p.get("ordinal") is not None and p["ordinal"] >= replicas]
        return sorted(chosen, key=lambda c: -c[0]["ordinal"]), (replicas if params["scale_down"] else None)
    else:
        raise PreconditionError("Say which nodes to remove: replicas (the count to keep), node_ids or pods.")
    chosen = sorted(chosen, key=lambda c: -(c[0].get("ordinal") or 0))
    if not params["scale_down"]:
        return chosen, None
    ordinals = sorted(c[0]["ordinal"] for c in chosen)
    new_replicas = ordinals[0] if ordinals else spec_replicas
    expected = list(range(new_replicas, max(spec_replicas, ordinals[-1] + 1 if ordinals else 0)))
    if ordinals != expected:
        raise PreconditionError(
            "A StatefulSet scales down by removing its highest ordinals, so removing %s means removing ordinals "
            "%s, not %s. Choose the highest pods, or set scale_down: false to only decommission them." % (
                ", ".join(c[0]["name"] for c in chosen), expected, ordinals))
    return chosen, new_replicas


def build_targets(chosen, nodes, adapter, force):
    by_pod = dict((n["pod"], n) for n in nodes if n.get("pod"))
    targets = []
    for pod, why in chosen:
        node = by_pod.get(pod["name"])
        if node is None and not adapter.missing_node_is_gone and not force:
            raise PreconditionError(
                "Pod %s has no node in %s's node status, so its node id and state are unknown. If that node was "
                "already decommissioned, pass force: true to scale down; otherwise check the pod." % (
                    pod["name"], adapter.name))
        targets.append({
            "pod": pod["name"], "ordinal": pod.get("ordinal"), "why": why,
            "node_id": node.get("id") if node else None, "address": node.get("address") if node else None,
            "state": target_state(node),
            "replicas": node.get("replicas") if node else None, "load": node.get("load") if node else None,
        })
    return targets


def prechecks(run, adapter, params, nodes, targets, remaining_pods):
    """Refuse (PreconditionError, nothing changed) unless removing the targets is safe. Returns warnings."""
    leaving_ids = set(t["node_id"] for t in targets)
    others = [n for n in nodes if n.get("id") not in leaving_ids and n.get("membership") != DECOMMISSIONED]
    dead = [n for n in others if not n.get("is_live")]
    if dead:
        raise PreconditionError(
            "Nodes that would stay are not live: %s. Removing data from the cluster while they are down risks "
            "losing it; bring them back (or remove them first), then run again." % ", ".join(map(node_label, dead)))
    busy = [n for n in others if n.get("is_decommissioning")]
    if busy:
        raise PreconditionError("Other nodes are already decommissioning: %s. Let that finish (or include them) "
                                "before removing more." % ", ".join(map(node_label, busy)))
    force, warnings, refusals = params["force"], [], []
    rf = params["replication_factor"]
    if rf and len(others) < rf:
        refusals.append("%d nodes would remain, fewer than the replication factor %d" % (len(others), rf))
    refusals.extend(adapter.extra_prechecks(nodes, targets, rf))
    under = sum(n.get("ranges_underreplicated") or 0 for n in others)
    unavailable = sum(n.get("ranges_unavailable") or 0 for n in others)
    if under or unavailable:
        refusals.append("the cluster reports %d under-replicated and %d unavailable ranges" % (under, unavailable))
    capacity = adapter.capacity_check(run, nodes, targets, remaining_pods)
    if capacity:
        if capacity.get("checked"):
            refusals.extend(capacity.get("reasons") or [])
        else:
            warnings.extend("capacity not checked: %s" % r for r in capacity.get("reasons") or [])
    if refusals and not force:
        raise PreconditionError(
            "Refusing to decommission %s: %s. Nothing was changed. Fix this first, or set force: true if you accept "
            "the risk." % (", ".join(t["pod"] for t in targets), "; ".join(refusals)), capacity=capacity)
    warnings.extend("forced past: %s" % r for r in refusals)
    return warnings, capacity


def pvc_ordinals(ops, targets, new_replicas, spec_replicas):
    ordinals = set(t["ordinal"] for t in targets if t.get("ordinal") is not None)
    ordinals.update(range(new_replicas, spec_replicas))
    probe = max(ordinals | set([new_replicas - 1])) + 1
    for dummy in range(PVC_PROBE_LIMIT):
        if not ops.pvcs_for(probe):
            break
        ordinals.add(probe)
        probe += 1
    return sorted(o for o in ordinals if o >= new_replicas)


def plan_steps(adapter, params, targets, spec_replicas, new_replicas, pvcs):
    steps = []
    for group in adapter.decommission_groups(targets) if targets else []:
        for target in group:
            base = {"pod": target["pod"], "node_id": target["node_id"]}
            if target["state"] == ACTIVE:
                steps.append(dict(base, action="decommission", why=target["why"]))
            elif target["state"] == DECOMMISSIONING:
                steps.append(dict(base, action="resume", why="already decommissioning: not restarted, watched to the end"))
            else:
                steps.append(dict(base, action="skip", why="already %s" % target["state"]))
        moving = [t for t in group if t["state"] in (ACTIVE, DECOMMISSIONING)]
        for target in moving:
            steps.append({"action": "wait", "pod": target["pod"], "node_id": target["node_id"],
                          "why": "poll until the node holds no data; fail after %ss without progress"
                                 % params["stall_timeout"]})
        for target in moving:
            steps.append({"action": "finalize", "pod": target["pod"], "node_id": target["node_id"],
                          "why": "confirm the node is decommissioned before any pod goes away"})
    if new_replicas is not None and spec_replicas > new_replicas:
        steps.append({"action": "scale", "from": spec_replicas, "to": new_replicas,
                      "pods": [t["pod"] for t in targets],
                      "why": "remove the decommissioned pods (highest ordinals first)"})
    for ordinal, names in pvcs:
        for name in names:
            if params["pvc_policy"] == "delete":
                steps.append({"action": "delete_pvc", "pvc": name, "ordinal": ordinal, "why": "pvc_policy=delete"})
            else:
                why = "pvc_policy=retain"
                if adapter.name in ("cockroachdb", "kaiwudb"):
                    why += ("; its node is decommissioned and %s cannot recommission it: delete this claim before "
                            "scaling up to ordinal %s again" % (adapter.name, ordinal))
                steps.append({"action": "retain_pvc", "pvc": name, "ordinal": ordinal, "why": why})
    return steps


def plan_decommission(ops, adapter, params):
    """Read the live state and return the plan; runs only read-only commands."""
    if not adapter.supports_decommission:
        adapter.decommission_groups([])
        raise NotApplicableError("%s has no decommission." % adapter.name)
    params = settings(params)
    pods = sorted(ops.pods(), key=lambda p: (p.get("ordinal") is None, p.get("ordinal"), p["name"]))
    spec_replicas = ops.replicas()
    first = control_pod(pods, ())
    nodes = adapter.status(ops.run, first, pods=pods)
    chosen, new_replicas = select_targets(params, pods, nodes, spec_replicas)
    targets = build_targets(chosen, nodes, adapter, params["force"])
    leaving = set(t["pod"] for t in targets)
    control = control_pod(pods, leaving)
    remaining = [p["name"] for p in pods if p["name"] not in leaving]
    warnings, capacity = [], None
    if any(t["state"] == ACTIVE for t in targets):
        warnings, capacity = prechecks(ops.run, adapter, params, nodes, targets, remaining)
    pvcs = []
    if new_replicas is not None:
        pvcs = [(o, ops.pvcs_for(o)) for o in pvc_ordinals(ops, targets, new_replicas, spec_replicas)]
    steps = plan_steps(adapter, params, targets, spec_replicas, new_replicas, pvcs)
    return {
        "params": params, "pods": pods, "control": control, "targets": targets, "steps": steps,
        "spec_replicas": spec_replicas, "new_replicas": new_replicas, "warnings": warnings, "capacity": capacity,
        "changed": any(s["action"] in CHANGING_ACTIONS for s in steps),
    }


def wait_group(ops, adapter, plan, group, started, samples):
    """Poll until the group is done. A failed poll (exec timeout, busy database) is retried and never counts as
    progress; an error the adapter marks ``final`` (the operation itself failed) ends the wait at once.
    """
    params = plan["params"]
    begin = ops.now()
    last_key, last_change, last, error = None, begin, {"targets": {}}, None
    while True:
        try:
            last = adapter.decommission_progress(ops.run, plan["control"], group, plan["pods"])
            error = None
        except (CommandError, ParseError, ClusterError) as exc:
            if exc.details.get("final"):
                raise
            error = exc.msg
        now = ops.now()
        key = repr(sorted((pod, sorted(entry.items())) for pod, entry in last["targets"].items()))
        if error is None and key != last_key:
            last_key, last_change = key, now
            samples.append({"seconds": round(now - started, 1), "targets": last["targets"]})
        if error is None and last["done"]:
            return last
        stalled = now - last_change >= params["stall_timeout"]
        if stalled or now - begin >= params["wait_timeout"]:
            raise WaitTimeout(
                "%s while decommissioning %s: last seen %s%s. Nothing was scaled down. Check the database (ranges "
                "or streams that cannot move: too few nodes for the replication factor, placement constraints, a "
                "node down), then run again to resume." % (
                    "No progress for %s seconds" % params["stall_timeout"] if stalled
                    else "Not finished after %s seconds" % params["wait_timeout"],
                    ", ".join(t["pod"] for t in group),
                    "; ".join("%s: state %s, replicas %s" % (pod, e.get("state"), e.get("replicas"))
                              for pod, e in sorted(last["targets"].items())) or "nothing",
                    "; the last poll failed: %s" % error if error else ""),
                last=last["targets"], progress=samples, stalled=stalled, error=error)
        ops.sleep(params["poll_interval"])


def plan_diff(plan):
    """Before/after of what the plan changes: the StatefulSet's replicas, the leaving nodes' states, the claims."""
    moving = (ACTIVE, DECOMMISSIONING)
    claims = [s["pvc"] for s in plan["steps"] if s["action"] in ("retain_pvc", "delete_pvc")]
    kept = [s["pvc"] for s in plan["steps"] if s["action"] == "retain_pvc"]
    replicas = plan["spec_replicas"]
    return {
        "before": {"replicas": replicas, "nodes": dict((t["pod"], t["state"]) for t in plan["targets"]),
                   "pvcs": sorted(claims)},
        "after": {"replicas": replicas if plan["new_replicas"] is None else plan["new_replicas"],
                  "nodes": dict((t["pod"], DECOMMISSIONED if t["state"] in moving else t["state"])
                                for t in plan["targets"]),
                  "pvcs": sorted(kept)},
    }


def run_decommission(ops, adapter, params, check_mode):
    """Plan, and unless check_mode carry the plan out. Returns changed, plan, targets, progress, warnings."""
    plan = plan_decommission(ops, adapter, params)
    result = {
        "changed": plan["changed"], "plan": plan["steps"], "targets": plan["targets"], "progress": [],
        "warnings": plan["warnings"], "capacity": plan["capacity"],
        "replicas": {"before": plan["spec_replicas"], "after": plan["new_replicas"]},
        "diff": plan_diff(plan), "pod": plan["control"],
    }
    if check_mode or not plan["changed"]:
        return result
    started = ops.now()
    params = plan["params"]
    for group in adapter.decommission_groups(plan["targets"]):
        moving = [t for t in group if t["state"] in (ACTIVE, DECOMMISSIONING)]
        if not moving:
            continue
        if any(t["state"] == ACTIVE for t in moving):
            adapter.start_decommission(ops.run, plan["control"], moving)
        wait_group(ops, adapter, plan, moving, started, result["progress"])
        adapter.finalize_decommission(ops.run, plan["control"], moving, plan["pods"])
        for target in moving:
            target["state"] = DECOMMISSIONED
    for step in plan["steps"]:
        if step["action"] == "scale":
            ops.scale(step["to"])
            ops.wait_pods_gone(step["pods"], params["wait_timeout"])
        elif step["action"] == "delete_pvc":
            ops.delete_pvc(step["pvc"])
    return result
