# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remove database nodes safely, engine-neutral: plan, pre-checks, start, poll with stall detection, finalize,
scale the StatefulSet down, apply the PVC policy.

``ops`` is the Kubernetes side (see statefulset.py): ``pods()``, ``namespace_pods()``, ``run(pod, argv,
timeout=None)``, ``replicas()``, ``scale(n)``, ``wait_pods_gone(names, timeout)``, ``claims()``,
``annotate_pvc(name, annotations)``, ``delete_pvc(name)``, ``now()``, ``sleep(seconds)``. The adapter knows the
database (engines/). Every run reads the live state first, so a rerun after an interruption continues where the
last one stopped and a finished job changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.errors import (
    AccessDenied, ClusterError, CommandError, NotApplicableError, ParseError, PreconditionError, WaitTimeout,
)

ACTIVE, DECOMMISSIONING, DECOMMISSIONED, GONE = "active", "decommissioning", "decommissioned", "gone"
ASSUMED_GONE = "assumed_gone"
CONFIRMED_GONE = (DECOMMISSIONED, GONE)
CHANGING_ACTIONS = ("decommission", "resume", "finalize", "assume_gone", "scale", "delete_pvc")
MEMBER_LEFT = "dok.databases/member-left"
NODE_ID = "dok.databases/node-id"
DELETE_PENDING = "dok.databases/delete-after-scale-down"
DEFAULTS = {
    "replication_factor": 3, "force": False, "stall_timeout": 600, "wait_timeout": 3600, "poll_interval": 5,
    "pvc_policy": "retain", "scale_down": True, "assume_gone": [],
}
MINIMUM = (("replication_factor", 1), ("stall_timeout", 1), ("wait_timeout", 1), ("poll_interval", 1))


def settings(params):
    """Defaults merged with the given values, each checked; bad values raise PreconditionError before any change."""
    merged = dict(DEFAULTS)
    merged.update(dict((k, v) for k, v in (params or {}).items() if v is not None))
    for name, lowest in MINIMUM:
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise PreconditionError("%s must be a whole number of at least %d, got %r. Nothing was changed." % (
                name, lowest, value))
    if merged["stall_timeout"] < merged["poll_interval"]:
        raise PreconditionError(
            "stall_timeout must be at least poll_interval (got %s and %s): a stall is declared only after a poll "
            "saw no progress. Nothing was changed." % (merged["stall_timeout"], merged["poll_interval"]))
    if merged["pvc_policy"] not in ("retain", "delete"):
        raise PreconditionError("pvc_policy must be retain or delete, got %r." % (merged["pvc_policy"],))
    if merged["pvc_policy"] == "delete" and not merged["scale_down"]:
        raise PreconditionError("pvc_policy=delete needs scale_down=true: the claims of pods that keep running "
                                "cannot be deleted. Set scale_down: true or pvc_policy: retain.")
    assume = merged["assume_gone"]
    if not isinstance(assume, (list, tuple)) or any(not isinstance(n, str) or not n.strip() for n in assume):
        raise PreconditionError("assume_gone must be a list of pod names, got %r. Nothing was changed." % (assume,))
    merged["assume_gone"] = list(assume)
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
    if node.get("membership") == DECOMMISSIONED:
        return DECOMMISSIONED
    if node.get("is_decommissioning"):
        return DECOMMISSIONING
    return ACTIVE


def pod_name_for(statefulset, pods, ordinal):
    """The name the StatefulSet gives the pod of `ordinal` (also when that pod does not exist now)."""
    if not statefulset:
        named = [p["name"] for p in pods if p.get("ordinal") is not None]
        statefulset = named[0].rsplit("-", 1)[0] if named else None
    if not statefulset:
        raise ClusterError("Cannot tell the StatefulSet's name to name the pod of ordinal %s." % ordinal)
    return "%s-%d" % (statefulset, ordinal)


def absent_pod(name, ordinal):
    return {"name": name, "ordinal": ordinal, "ready": False, "ip": None, "phase": "Absent", "deleting": False,
            "absent": True}


def select_targets(params, pods, nodes, spec_replicas, statefulset=None):
    """[(pod dict, why)] to remove and the replica count to scale to (None when not scaling).

    In replicas mode every ordinal from the target count up to spec.replicas must have a pod whose database node
    can be identified; a missing pod is taken only when assume_gone names it.
    """
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
        present = set(p["ordinal"] for p, dummy in chosen)
        for ordinal in range(replicas, spec_replicas):
            if ordinal in present:
                continue
            name = pod_name_for(statefulset, pods, ordinal)
            if name not in params["assume_gone"]:
                raise PreconditionError(
                    "Ordinal %d (pod %s) is among those to remove (%d to %d) but has no pod now, so its database "
                    "node can be neither identified nor confirmed gone. Nothing was changed. Wait until the pod "
                    "is back (kubectl get pod %s), then run again; only if you know its member already left the "
                    "database, name the pod in assume_gone." % (ordinal, name, replicas, spec_replicas - 1, name))
            chosen.append((absent_pod(name, ordinal), "ordinal %s is at or above the target replica count %s; "
                                                      "its pod is absent" % (ordinal, replicas)))
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


def identify(run, adapter, pod, nodes, all_pods):
    """(node, state, evidence) of a chosen pod; state None when the database cannot tell.

    A pod maps to a node by the adapter's address matching. A pod that maps to none is asked for its own node id
    (Cassandra's host ID) when it runs. Otherwise it is unknown where the engine keeps departed members in its
    status (they map as decommissioned), and, where the engine forgets them, gone only when every member of the
    status is up at some running pod's address: a down or changing member could be this pod's at its old address.
    """
    mapped = [n for n in nodes if n.get("pod") == pod["name"]]
    members = [n for n in mapped if n.get("membership") != DECOMMISSIONED]
    if len(members) > 1:
        raise PreconditionError(
            "Pod %s matches several members in %s's node status (%s), so it is not clear which one is its node. "
            "Nothing was changed. Remove the stale members first." % (
                pod["name"], adapter.name, ", ".join(map(node_label, members))))
    if members:
        return members[0], target_state(members[0]), "matched by address"
    if mapped:
        return mapped[0], DECOMMISSIONED, "the database lists its node as decommissioned"
    found = adapter.identify(run, pod) if pod.get("phase") == "Running" and not pod.get("absent") else None
    if found and found.get("id") is not None:
        by_id = [n for n in nodes if n.get("id") == found["id"]]
        if by_id:
            node = dict(by_id[0], pod=pod["name"], ordinal=pod.get("ordinal"))
            return node, target_state(node), "matched by node id %s reported inside the pod" % found["id"]
        if found.get("left"):
            return None, GONE, "the node in the pod reports that it left (%s) and its id %s is not in the status" % (
                found.get("mode"), found["id"])
    if adapter.lists_left_members:
        return None, None, "%s's node status has no node at this pod's address" % adapter.name
    candidates = unaccounted_members(nodes, all_pods)
    if candidates:
        return None, None, ("%s's status lists members that are not up at a running pod's address and "
                            "could be this pod's node: %s" % (adapter.name, ", ".join(
                                "%s at %s (%s)" % (n.get("id"), n.get("address"), n.get("status_code") or n.get(
                                    "state")) for n in candidates)))
    return None, GONE, ("no member of %s's status is at its address, and every member is up at another running "
                        "pod's address" % adapter.name)


def unaccounted_members(nodes, all_pods):
    """Members that are not confirmed up at the address of a running pod: any of them could be a moved pod's node."""
    running = set(p.get("ip") for p in all_pods if p.get("ip") and p.get("phase") == "Running")
    return [n for n in nodes if n.get("membership") != DECOMMISSIONED
            and not (n.get("is_live") is True and n.get("address") in running)]


def build_targets(run, chosen, nodes, adapter, params, all_pods):
    assume = set(params["assume_gone"])
    named_unknown = assume - set(pod["name"] for pod, dummy in chosen)
    if named_unknown:
        raise PreconditionError(
            "assume_gone names %s, which are not among the pods to remove (%s). Nothing was changed." % (
                ", ".join(sorted(named_unknown)), ", ".join(pod["name"] for pod, dummy in chosen) or "none"))
    targets = []
    for pod, why in chosen:
        node, state, evidence = identify(run, adapter, pod, nodes, all_pods)
        if pod["name"] in assume:
            if state is not None and state not in CONFIRMED_GONE:
                raise PreconditionError(
                    "assume_gone names pod %s, but %s still lists its node %s (state %s; %s). Nothing was changed. "
                    "Decommission it instead: leave it out of assume_gone." % (
                        pod["name"], adapter.name, node_label(node), node.get("state"), evidence))
            if state is None:
                state, evidence = ASSUMED_GONE, "named in assume_gone; %s" % evidence
        if state is None:
            raise PreconditionError(
                "Pod %s cannot be matched to a node of %s, so whether its data still lives in the cluster is "
                "unknown: %s. Nothing was changed. Bring the pod back (Running, with its member up), or remove "
                "that member the database's way first. Only if you know this pod's member left the cluster, name "
                "the pod in assume_gone (its claim is then kept); force does not do this." % (
                    pod["name"], adapter.name, evidence))
        targets.append({
            "pod": pod["name"], "ordinal": pod.get("ordinal"), "why": why, "evidence": evidence,
            "node_id": node.get("id") if node else None, "address": node.get("address") if node else None,
            "state": state, "is_live": node.get("is_live") if node else None,
            "replicas": node.get("replicas") if node else None, "load": node.get("load") if node else None,
        })
    return targets


def prechecks(run, adapter, params, nodes, targets, remaining_pods):
    """Refuse (PreconditionError, nothing changed) unless removing the targets is safe. Returns warnings."""
    moving = [t for t in targets if t["state"] == ACTIVE]
    unknown = [t for t in moving if t.get("node_id") is None]
    if unknown:
        raise PreconditionError(
            "%s gives no node id for %s, so the decommission could not be followed to its end. Nothing was "
            "changed. Check the status output of the database." % (adapter.name, ", ".join(t["pod"] for t in unknown)))
    unsure = [t for t in moving if t.get("is_live") is None]
    if unsure:
        raise PreconditionError(
            "The liveness of %s is unknown in %s's status (%s). Nothing was changed. Wait until the database "
            "reports these nodes up or down, then run again." % (
                ", ".join(t["pod"] for t in unsure), adapter.name,
                ", ".join("%s at %s" % (t["node_id"], t["address"]) for t in unsure)))
    down = [t for t in moving if t.get("is_live") is False]
    if down and not adapter.decommissions_dead_nodes:
        raise PreconditionError(
            "%s is down in %s's status: a %s node streams its own data away when it leaves, so it must be up. "
            "Nothing was changed. Bring it up and run again, or remove the dead member the database's way "
            "(nodetool removenode, or the replace_node procedure)." % (
                ", ".join("%s (node %s at %s)" % (t["pod"], t["node_id"], t["address"]) for t in down),
                adapter.name, adapter.name))
    leaving_ids = set(t["node_id"] for t in targets if t.get("node_id") is not None)
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


def claim_plan(ops, targets, new_replicas, params):
    """(ordinal, claim, action, why) for every claim of the StatefulSet at or above the new replica count.

    Only the claims of this run's targets whose member the database confirmed gone, or claims that an interrupted
    run of the same decommission marked for deletion, may be deleted; every other claim there is kept and listed.
    """
    by_ordinal = dict((t["ordinal"], t) for t in targets if t.get("ordinal") is not None)
    plan = []
    for claim in ops.claims():
        ordinal = claim["ordinal"]
        if ordinal < new_replicas:
            continue
        target = by_ordinal.get(ordinal)
        annotations = claim.get("annotations") or {}
        if target is None:
            if params["pvc_policy"] == "delete" and annotations.get(DELETE_PENDING) == "true":
                action, why = "delete_pvc", ("pvc_policy=delete; its member left (%s) in an earlier run of this "
                                             "decommission, which stopped before deleting it" % (
                                                 annotations.get(MEMBER_LEFT) or "confirmed"))
            else:
                action, why = "retain_pvc", "not removed by this run: its ordinal was not a target (kept)"
        elif target["state"] == ASSUMED_GONE or target["pod"] in params["assume_gone"]:
            action, why = "retain_pvc", (
                "assume_gone: the database did not confirm that this member left, so its data is kept"
                if target["state"] == ASSUMED_GONE else
                "assume_gone names this pod, so its data is kept (%s)" % target["evidence"])
        elif params["pvc_policy"] == "delete":
            action, why = "delete_pvc", "pvc_policy=delete"
        else:
            action, why = "retain_pvc", "pvc_policy=retain"
        plan.append((ordinal, claim, action, why))
    return sorted(plan, key=lambda entry: (entry[0], entry[1]["name"]))


def plan_steps(adapter, params, targets, spec_replicas, new_replicas, claims):
    steps = []
    for group in adapter.decommission_groups([t for t in targets if t["state"] != ASSUMED_GONE]) if targets else []:
        for target in group:
            base = {"pod": target["pod"], "node_id": target["node_id"]}
            if target["state"] == ACTIVE:
                steps.append(dict(base, action="decommission", why=target["why"]))
            elif target["state"] == DECOMMISSIONING:
                steps.append(dict(base, action="resume", why="already decommissioning: not restarted, watched to the end"))
            else:
                steps.append(dict(base, action="skip", why="already %s: %s" % (target["state"], target["evidence"])))
        moving = [t for t in group if t["state"] in (ACTIVE, DECOMMISSIONING)]
        for target in moving:
            steps.append({"action": "wait", "pod": target["pod"], "node_id": target["node_id"],
                          "why": "poll until the node holds no data; fail after %ss without progress"
                                 % params["stall_timeout"]})
        for target in moving:
            steps.append({"action": "finalize", "pod": target["pod"], "node_id": target["node_id"],
                          "why": "confirm the node is decommissioned before any pod goes away"})
    for target in targets:
        if target["state"] == ASSUMED_GONE:
            steps.append({"action": "assume_gone", "pod": target["pod"], "node_id": None,
                          "why": "%s; not decommissioned, its data is not moved" % target["evidence"]})
    if new_replicas is not None and spec_replicas > new_replicas:
        steps.append({"action": "scale", "from": spec_replicas, "to": new_replicas,
                      "pods": [t["pod"] for t in targets],
                      "why": "remove the decommissioned pods (highest ordinals first)"})
    for ordinal, claim, action, why in claims:
        if action == "retain_pvc" and adapter.name in ("cockroachdb", "kaiwudb") and "not a target" not in why:
            why += ("; its node is decommissioned and %s cannot recommission it: delete this claim before "
                    "scaling up to ordinal %s again" % (adapter.name, ordinal))
        steps.append({"action": action, "pvc": claim["name"], "ordinal": ordinal, "why": why})
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
    chosen, new_replicas = select_targets(params, pods, nodes, spec_replicas, getattr(ops, "name", None))
    targets = build_targets(ops.run, chosen, nodes, adapter, params, ops.namespace_pods())
    leaving = set(t["pod"] for t in targets)
    control = control_pod(pods, leaving)
    remaining = [p["name"] for p in pods if p["name"] not in leaving]
    warnings, capacity = [], None
    if any(t["state"] == ACTIVE for t in targets):
        warnings, capacity = prechecks(ops.run, adapter, params, nodes, targets, remaining)
    claims = claim_plan(ops, targets, new_replicas, params) if new_replicas is not None else []
    steps = plan_steps(adapter, params, targets, spec_replicas, new_replicas, claims)
    return {
        "params": params, "pods": pods, "control": control, "targets": targets, "steps": steps,
        "spec_replicas": spec_replicas, "new_replicas": new_replicas, "warnings": warnings, "capacity": capacity,
        "changed": any(s["action"] in CHANGING_ACTIONS for s in steps),
    }


def wait_group(ops, adapter, plan, group, started, samples):
    """Poll until the group is done. A failed poll (exec timeout, busy database) is retried and never counts as
    progress; an error the adapter marks ``final`` (the operation itself failed) and a 401/403 from Kubernetes
    (``AccessDenied``: no wait grants a permission) end the wait at once.
    """
    params = plan["params"]
    begin = ops.now()
    last_key, last_change, last, error = None, begin, {"targets": {}}, None
    while True:
        try:
            last = adapter.decommission_progress(ops.run, plan["control"], group, plan["pods"])
            error = None
        except (CommandError, ParseError, ClusterError) as exc:
            if exc.details.get("final") or isinstance(exc, AccessDenied):
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
    mark_claims(ops, adapter, plan)
    present = set(p["name"] for p in plan["pods"])
    for step in plan["steps"]:
        if step["action"] == "scale":
            ops.scale(step["to"])
            ops.wait_pods_gone([p for p in step["pods"] if p in present], params["wait_timeout"])
        elif step["action"] == "delete_pvc":
            ops.delete_pvc(step["pvc"])
    return result


def mark_claims(ops, adapter, plan):
    """Record on each confirmed target's claims that its member left, before its pod goes away: a rerun after an
    interruption then knows which claims this decommission may still delete, and a scale-up which claims hold the
    data of a member that left."""
    deleting = set(s["pvc"] for s in plan["steps"] if s["action"] == "delete_pvc")
    claims = ops.claims()
    for target in plan["targets"]:
        if target["state"] not in CONFIRMED_GONE or target.get("ordinal") is None:
            continue
        for claim in [c for c in claims if c["ordinal"] == target["ordinal"]]:
            wanted = {MEMBER_LEFT: "%s node %s: %s" % (adapter.name, target["node_id"], target["state"])}
            if target["node_id"] is not None:
                wanted[NODE_ID] = str(target["node_id"])
            if claim["name"] in deleting:
                wanted[DELETE_PENDING] = "true"
            have = claim.get("annotations") or {}
            if any(have.get(k) != v for k, v in wanted.items()):
                ops.annotate_pvc(claim["name"], wanted)
