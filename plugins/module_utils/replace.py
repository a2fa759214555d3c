# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a database member lost with its Kubernetes node (local storage): the rules and the steps.

``plan`` is pure: an observed state in, the next steps (or a refusal) out. The module observes, asks ``plan``,
runs the first step, and observes again, so a run interrupted anywhere resumes where it stopped and never does a
step twice. What must survive the pod and its claim (the dead node, the member, the old volumes) is kept in one
annotation on the StatefulSet from the moment the failure is confirmed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import re
import time

from ansible_collections.dok.databases.plugins.module_utils.errors import (
    CommandError, DokError, PreconditionError, WaitTimeout,
)
from ansible_collections.dok.databases.plugins.module_utils.local_volumes import (
    HOSTNAME_LABEL, NO_PROVISIONER, claim_of, parse_quantity,
)
from ansible_collections.dok.databases.plugins.module_utils.statefulset import pod_record

PROGRESS_PREFIX = "replace.dok.databases/"

# Engines whose members the database knows by itself (removed its own way); MariaDB/MySQL are one server.
MEMBER_ENGINES = ("cockroachdb", "kaiwudb")
SINGLE_ENGINES = ("mariadb", "mysql")

STEPS = ("confirm", "remove_member", "delete_claims", "delete_pod", "delete_volumes", "wait_rejoin",
         "wait_healthy", "finish")
# Steps after which data of the lost member is gone from the database's point of view, or storage is released.
DESTRUCTIVE = ("remove_member", "delete_claims", "delete_pod", "delete_volumes")

_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$")


def parse_time(text):
    """Seconds since the epoch of a Kubernetes timestamp (RFC 3339, UTC); None when absent or not one."""
    match = _TIME.match(text or "")
    if not match:
        return None
    return calendar.timegm(tuple(int(g) for g in match.groups()) + (0, 0, 0))


def format_time(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def progress_key(pod):
    return PROGRESS_PREFIX + pod


def node_view(node):
    """{exists, ready (True/False/None), since (epoch or None), schedulable} of a Node object (None: gone)."""
    if node is None:
        return {"exists": False, "ready": False, "since": None, "schedulable": False}
    ready, since = None, None
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = {"True": True, "False": False}.get(condition.get("status"))
            since = parse_time(condition.get("lastTransitionTime"))
    return {"exists": True, "ready": ready, "since": since,
            "schedulable": not (node.get("spec") or {}).get("unschedulable")}


def volume_node(pv):
    """The one node a local PV is pinned to (kubernetes.io/hostname In [x]), or None."""
    terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms") or []
    nodes = set()
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") == HOSTNAME_LABEL and expr.get("operator") == "In":
                nodes.update(expr.get("values") or [])
    return sorted(nodes)[0] if len(nodes) == 1 else None


def down_for(node, now):
    """Seconds the node has been NotReady (or None when it is Ready, or when it is gone: 'gone' is down)."""
    if not node["exists"]:
        return float("inf")
    if node["ready"] is True:
        return None
    if node["since"] is None:
        return 0
    return max(0, now - node["since"])


def _active_member(members, pod):
    """The database member the pod runs: the one not yet decommissioned whose address names the pod."""
    return [m for m in members if m.get("pod") == pod and m.get("membership") != "decommissioned"]


def plan(state, params, now):
    """Next steps from an observed state.

    state: {engine, pod: {name, uid, exists, ready, node, deleting, phase}, claims: [{name, exists, deleting, volume,
    storage_class, request}], volumes: {name: {exists, node, phase, claim: [ns, name], reclaim}}, nodes: {name: view},
    members: [node records] or None (no database answer), member_error, candidates: {claim: [pv names] or
    'dynamic'}, progress: dict or None, healthy: bool or None, namespace}
    params: {min_down}
    Returns {"steps": [...], "refusal": str or None, "wait": seconds to wait before deciding, "facts": {...},
    "clear_progress": bool}.
    """
    engine = state["engine"]
    pod = state["pod"]
    progress = state.get("progress")
    facts = {}
    out = {"steps": [], "refusal": None, "wait": 0, "facts": facts, "clear_progress": False}

    def refuse(msg, clear=False):
        out["refusal"] = msg
        out["clear_progress"] = clear
        out["steps"] = []
        return out

    # Where the data lived: the progress record once confirmed, else the claims' bound volumes.
    if progress:
        dead = progress["node"]
        old_volumes = list(progress.get("volumes") or [])
        member = progress.get("member")
    else:
        claims = [c for c in state["claims"] if c["exists"]]
        if not claims:
            return refuse("Pod %s has no volume claim bound to a volume; there is no lost local volume to replace. "
                          "Nothing was done." % pod["name"])
        nodes_of = set()
        old_volumes = []
        for claim in claims:
            volume = state["volumes"].get(claim.get("volume") or "")
            if not volume or not volume["exists"] or not volume.get("node"):
                return refuse(
                    "Claim %s is not bound to a volume pinned to one node (local storage); replace_node is for "
                    "data that died with its node. Nothing was done." % claim["name"])
            nodes_of.add(volume["node"])
            old_volumes.append(claim["volume"])
        if len(nodes_of) != 1:
            return refuse("The claims of pod %s are bound to volumes on several nodes (%s); replace_node expects one."
                          " Nothing was done." % (pod["name"], ", ".join(sorted(nodes_of))))
        dead = nodes_of.pop()
        member = None
    node = state["nodes"].get(dead) or node_view(None)
    down = down_for(node, now)
    facts.update(node=dead, node_exists=node["exists"], node_ready=node["ready"],
                 node_not_ready_since=format_time(node["since"]) if node.get("since") and down is not None else None,
                 volumes=old_volumes)
    # Removed: the database dropped the member (its own state says so), or for a one-server engine the claims
    # were released (recorded before the first delete).
    removed = bool(progress and progress.get("removed"))
    if engine in MEMBER_ENGINES and progress and not removed and member is not None:
        removed = _member_removed(state.get("members"), member)
    old_pod = (progress or {}).get("pod_uid") or pod.get("uid")

    if not removed:
        # Nothing of the member is gone yet: every rule that says "dead" must hold now.
        if down is None:
            if progress:
                return refuse("Node %s is Ready again: the run stopped before removing anything (pod %s keeps its "
                              "data). Nothing was removed." % (dead, pod["name"]), clear=True)
            if pod["exists"] and pod["ready"]:
                return out  # nothing to replace: the pod is Ready on a Ready node
            return refuse(
                "Pod %s is not Ready but its node %s is Ready: the node is not lost, so its data is not. Look at "
                "the pod (kubectl describe/logs); replace_node is only for a node that is down. Nothing was done."
                % (pod["name"], dead))
        if pod["exists"] and pod["ready"]:
            return refuse("Pod %s still reports Ready while node %s is NotReady; wait until Kubernetes marks it "
                          "not Ready. Nothing was done." % (pod["name"], dead))
        min_down = params["min_down"]
        if down < min_down:
            out["wait"] = min_down - down
            return out
        if engine in MEMBER_ENGINES:
            found = _member_facts(state, pod["name"], member)
            if isinstance(found, str):
                return refuse(found, clear=bool(progress))
            member = found
        others_live = _others_live(state, pod["name"], member)
        if others_live is not True:
            return refuse(others_live, clear=bool(progress))
        if not progress:
            missing = [c["name"] for c in state["claims"] if c["exists"] and not state["candidates"].get(c["name"])]
            if missing:
                return refuse(
                    "No prepared volume for %s on another Ready node: prepare a directory and its PV there first "
                    "(playbooks/local_storage.yml on that node, the same storage class and at least the same "
                    "capacity). Nothing was done." % ", ".join(missing))
        facts["member"] = member
        out["steps"] = (["confirm"] if not progress else []) + (
            ["remove_member"] if engine in MEMBER_ENGINES else [])
    else:
        facts["member"] = member
    # From here on the member is gone (or there is none): storage, pod, rejoin.
    claims_old = [c for c in state["claims"] if c["exists"] and not c["deleting"] and c.get("volume") in old_volumes]
    if claims_old:
        out["steps"].append("delete_claims")
    if pod["exists"] and pod.get("uid") == old_pod:
        out["steps"].append("delete_pod")
    if any(_deletable(state["volumes"].get(v)) for v in old_volumes):
        out["steps"].append("delete_volumes")
    rejoined = pod["exists"] and pod["ready"] and pod.get("uid") != old_pod and pod.get("node") not in (None, dead)
    if not rejoined:
        out["steps"].append("wait_rejoin")
    if not (rejoined and state.get("healthy")):
        out["steps"].append("wait_healthy")
    out["steps"].append("finish")
    if not progress and out["steps"][:1] != ["confirm"]:
        out["steps"].insert(0, "confirm")
    return out


def _deletable(volume):
    """An old volume the run still has to delete: present, not already being deleted, reclaim policy Retain."""
    return bool(volume and volume.get("exists") and not volume.get("deleting") and volume.get("reclaim") == "Retain")


def _member_removed(members, member):
    if members is None:
        return False
    for m in members:
        if str(m.get("id")) == str(member.get("id")):
            return m.get("membership") == "decommissioned"
    return True  # no longer listed at all


def _member_facts(state, pod, recorded):
    """The lost member as the database sees it, or a refusal message."""
    members = state.get("members")
    if members is None:
        return ("The database could not be asked about pod %s (%s); a member is removed only when the database "
                "itself says it is not live. Nothing was removed." % (pod, state.get("member_error") or "no answer"))
    if recorded is not None:
        mine = [m for m in members if str(m.get("id")) == str(recorded.get("id"))]
    else:
        mine = _active_member(members, pod)
    if len(mine) != 1:
        return ("The database lists %d active members for pod %s (%s); expected exactly one. Nothing was removed."
                % (len(mine), pod, ", ".join("id %s at %s" % (m.get("id"), m.get("address")) for m in mine) or "none"))
    found = mine[0]
    if found.get("is_live") is True:
        return ("The database still sees member %s (pod %s) as live: the node is not lost for the database (a "
                "network split or a slow kubelet). Nothing was removed." % (found.get("id"), pod))
    if found.get("is_live") is not False:
        return ("The database reports the liveness of member %s (pod %s) as unknown; a member is removed only when "
                "the database says it is not live. Nothing was removed." % (found.get("id"), pod))
    return {"id": found.get("id"), "address": found.get("address")}


def _others_live(state, pod, member):
    if state["engine"] not in MEMBER_ENGINES:
        return True
    members = state.get("members") or []
    others = [m for m in members if m.get("membership") != "decommissioned"
              and str(m.get("id")) != str((member or {}).get("id")) and m.get("pod") != pod]
    down = [m for m in others if m.get("is_live") is not True]
    if down:
        return ("Besides pod %s, %d other member(s) are not live (%s): replacing one node while another is down "
                "risks the data that only they hold. Bring them back first. Nothing was removed." % (
                    pod, len(down), ", ".join(
                        "id %s (%s)" % (m.get("id"), m.get("pod") or m.get("address")) for m in down)))
    return True


def candidates(claim, volumes, nodes, dead, storage_classes, taken_nodes):
    """PV names a new claim like `claim` could bind: Available, same class, enough capacity, on a Ready node
    other than the dead one and not one already running a pod of the StatefulSet. 'dynamic' when the class
    provisions volumes itself."""
    sc_name = claim.get("storage_class")
    sc = storage_classes.get(sc_name)
    if sc is not None and sc.get("provisioner") not in (None, NO_PROVISIONER):
        return "dynamic"
    found = []
    try:
        need = parse_quantity(claim.get("request") or "0")
    except ValueError:
        return []
    for name, pv in sorted(volumes.items()):
        spec = pv.get("spec") or {}
        if (pv.get("status") or {}).get("phase") != "Available" or spec.get("storageClassName") != sc_name:
            continue
        ref = spec.get("claimRef")
        if ref and (ref.get("name") != claim["name"] or ref.get("uid")):
            continue
        where = volume_node(pv)
        view = nodes.get(where)
        if where is None or where == dead or where in taken_nodes or not view or view["ready"] is not True \
                or not view["schedulable"]:
            continue
        try:
            if parse_quantity((spec.get("capacity") or {}).get("storage") or "0") < need:
                continue
        except ValueError:
            continue
        found.append(name)
    return found


def encode_progress(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def decode_progress(text, pod):
    """The progress record in the annotation, or None; a record that is not ours is a refusal (ValueError)."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        raise ValueError("annotation %s is not JSON: %r" % (progress_key(pod), text[:200]))
    if not isinstance(record, dict) or record.get("pod") != pod or not isinstance(record.get("node"), str) \
            or not isinstance(record.get("volumes"), list):
        raise ValueError("annotation %s is not a replace_node progress record for pod %s: %r" % (
            progress_key(pod), pod, text[:200]))
    return record


# --- Observation and execution (the only part that talks to Kubernetes and the database) ---

def _pod_view(name, obj):
    """pod_record of the pod plus its uid, or an absent pod."""
    if obj is None:
        return {"name": name, "uid": None, "exists": False, "ready": False, "node": None, "phase": None,
                "deleting": False}
    return dict(pod_record(obj), uid=(obj.get("metadata") or {}).get("uid"), exists=True)


def claim_templates(sts):
    """{claim template name: {storage_class, request}} of the StatefulSet."""
    out = {}
    for tmpl in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        spec = tmpl.get("spec") or {}
        out[tmpl["metadata"]["name"]] = {
            "storage_class": spec.get("storageClassName"),
            "request": ((spec.get("resources") or {}).get("requests") or {}).get("storage")}
    return out


class Replacer(object):
    """Observe, plan, run one step, observe again; see the module db_replace_node."""

    def __init__(self, kube, ops, adapter, engine, params, wall_clock=time.time):
        self.kube = kube
        self.ops = ops
        self.adapter = adapter
        self.engine = engine
        self.params = params
        self.wall = wall_clock
        self.done = []

    # observation
    def observe(self, pod_name):
        kube, ns = self.kube, self.ops.namespace
        sts = self.ops.refresh()
        templates = claim_templates(sts)
        pod = _pod_view(pod_name, kube.get("Pod", pod_name, ns))
        claims = []
        for tmpl, info in sorted(templates.items()):
            name = "%s-%s" % (tmpl, pod_name)
            obj = kube.get("PersistentVolumeClaim", name, ns)
            spec = (obj or {}).get("spec") or {}
            claims.append({
                "name": name, "exists": obj is not None,
                "deleting": bool(((obj or {}).get("metadata") or {}).get("deletionTimestamp")),
                "volume": spec.get("volumeName"),
                "storage_class": spec.get("storageClassName", info["storage_class"]) if obj else info["storage_class"],
                "request": info["request"]})
        pvs = dict((pv["metadata"]["name"], pv) for pv in kube.list("PersistentVolume"))
        volumes = {}
        for name, pv in pvs.items():
            volumes[name] = {"exists": True, "node": volume_node(pv), "phase": (pv.get("status") or {}).get("phase"),
                             "deleting": bool((pv.get("metadata") or {}).get("deletionTimestamp")),
                             "claim": claim_of(pv),
                             "reclaim": (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy")}
        nodes = dict((n["metadata"]["name"], node_view(n)) for n in kube.list("Node"))
        annotations = (sts.get("metadata") or {}).get("annotations") or {}
        try:
            progress = decode_progress(annotations.get(progress_key(pod_name)), pod_name)
        except ValueError as exc:
            raise PreconditionError("%s. Remove that annotation from StatefulSet %s if it is stale. Nothing was "
                                    "done." % (exc, self.ops.name))
        dead = (progress or {}).get("node") or next(
            (volumes.get(c["volume"], {}).get("node") for c in claims if c["exists"] and c.get("volume")), None)
        members, member_error, healthy = None, None, None
        pods = self.ops.pods()
        others = [p for p in pods if p["name"] != pod_name and p["ready"]]
        if self.engine in MEMBER_ENGINES:
            if not others:
                member_error = "no other Ready pod of %s to ask" % self.ops.describe()
            else:
                try:
                    members = self.adapter.status(self.ops.run, others[0]["name"], pods=pods)
                except DokError as exc:
                    member_error = exc.msg
        if pod["ready"] and members is not None:
            healthy = self.adapter.summarize(members, self.ops.expected_nodes(),
                                             self.params.get("replication_factor")).get("healthy")
        elif pod["ready"] and self.engine in SINGLE_ENGINES:
            healthy = True
        taken = set(p["node"] for p in pods if p["name"] != pod_name and p.get("node"))
        scs = {}
        for claim in claims:
            if claim["storage_class"] and claim["storage_class"] not in scs:
                scs[claim["storage_class"]] = self.kube.get("StorageClass", claim["storage_class"])
        cands = dict((c["name"], candidates(c, pvs, nodes, dead, scs, taken)) for c in claims)
        return {"engine": self.engine, "pod": pod, "claims": claims, "volumes": volumes, "nodes": nodes,
                "members": members, "member_error": member_error, "candidates": cands, "progress": progress,
                "healthy": healthy, "namespace": ns}

    # execution
    def _annotate(self, pod_name, record):
        value = encode_progress(record) if record is not None else None
        self.kube.patch("StatefulSet", self.ops.name, {"metadata": {"annotations": {progress_key(pod_name): value}}},
                        self.ops.namespace)

    def _record(self, step, started, detail):
        self.done.append({"step": step, "at": format_time(self.wall()), "seconds": round(self.ops.now() - started, 1),
                          "detail": detail})

    def run_step(self, step, state, decision, deadline):
        started = self.ops.now()
        pod = state["pod"]
        progress = dict(state["progress"] or {})
        facts = decision["facts"]
        if step == "confirm":
            progress = {"pod": pod["name"], "pod_uid": pod["uid"], "node": facts["node"],
                        "volumes": facts["volumes"], "member": facts.get("member"),
                        "claims": [c["name"] for c in state["claims"] if c["exists"]],
                        "confirmed_at": format_time(self.wall())}
            self._annotate(pod["name"], progress)
            detail = "node %s NotReady since %s; pod %s not Ready%s" % (
                facts["node"], facts.get("node_not_ready_since") or "(node gone)", pod["name"],
                "; member %s not live for the database" % facts["member"]["id"] if facts.get("member") else "")
        elif step == "remove_member":
            detail = self._remove_member(state, facts["member"], deadline)
        elif step == "delete_claims":
            if not progress.get("removed"):
                progress["removed"] = True
                self._annotate(pod["name"], progress)
            names = [c["name"] for c in state["claims"] if c["exists"] and not c["deleting"]
                     and c.get("volume") in facts["volumes"]]
            for name in names:
                self.kube.delete("PersistentVolumeClaim", name, self.ops.namespace)
            detail = "deleted claim(s) %s" % ", ".join(names)
        elif step == "delete_pod":
            self.kube.delete("Pod", pod["name"], self.ops.namespace, grace_period=0, uid=pod["uid"])
            detail = "deleted pod %s (uid %s) of node %s at once; its StatefulSet recreates it" % (
                pod["name"], pod["uid"], facts["node"])
        elif step == "delete_volumes":
            detail = self._delete_volumes(state, facts, deadline)
            if detail is None:
                return False
        elif step in ("wait_rejoin", "wait_healthy"):
            if self.ops.now() >= deadline:
                raise WaitTimeout(
                    "Timed out after wait_timeout=%s seconds with pod %s at step %s (pod: %s; healthy: %s). The "
                    "replacement is recorded on StatefulSet %s: rerun to resume." % (
                        self.params["wait_timeout"], pod["name"], step, pod, state.get("healthy"), self.ops.name),
                    steps_done=self.done)
            self.ops.sleep(self.params.get("poll_interval") or 5)
            return False
        elif step == "finish":
            self._annotate(pod["name"], None)
            detail = "pod %s runs on node %s" % (pod["name"], pod.get("node"))
        else:
            raise ValueError(step)
        self._record(step, started, detail)
        return True

    def _remove_member(self, state, member, deadline):
        pods = self.ops.pods()
        control = [p["name"] for p in pods if p["name"] != state["pod"]["name"] and p["ready"]]
        if not control:
            raise CommandError("No Ready pod of %s to run the decommission in; nothing was removed." %
                               self.ops.describe())
        group = [{"node_id": member["id"], "pod": state["pod"]["name"]}]
        self.adapter.start_decommission(self.ops.run, control[0], group)
        while True:
            try:
                self.adapter.finalize_decommission(self.ops.run, control[0], group, pods=pods)
                return "decommissioned member %s (was pod %s at %s)" % (
                    member["id"], state["pod"]["name"], member.get("address"))
            except CommandError as exc:
                if self.ops.now() >= deadline:
                    raise WaitTimeout("Decommission of member %s did not complete within wait_timeout: %s Rerun to "
                                      "resume." % (member["id"], exc.msg))
            self.ops.sleep(self.params.get("poll_interval") or 5)

    def _delete_volumes(self, state, facts, deadline):
        """Delete the old PVs once their claims are gone (Released); None while a claim still holds one."""
        ns = self.ops.namespace
        deleted, left = [], []
        for name in facts["volumes"]:
            pv = state["volumes"].get(name)
            if not pv or not pv.get("exists") or pv.get("deleting"):
                continue
            if pv["claim"] not in ["%s/%s" % (ns, c["name"]) for c in state["claims"]]:
                raise PreconditionError(
                    "Volume %s is now claimed by %s, not by a claim of pod %s; it is left alone. Remove it from "
                    "the plan by hand if this is expected." % (name, pv["claim"], state["pod"]["name"]))
            if pv["phase"] in ("Released", "Failed") and pv["reclaim"] == "Retain":
                self.kube.delete("PersistentVolume", name)
                deleted.append(name)
            elif pv["phase"] in ("Released", "Failed"):
                left.append("%s (reclaim policy %s: its provisioner removes it)" % (name, pv["reclaim"]))
        if not deleted and not left:
            if self.ops.now() >= deadline:
                raise WaitTimeout("The old volumes %s were not released within wait_timeout. Rerun to resume." %
                                  ", ".join(facts["volumes"]))
            self.ops.sleep(self.params.get("poll_interval") or 5)
            return None
        return "deleted volume(s) %s of node %s (their directories stay on that node's disk)%s" % (
            ", ".join(deleted) or "none", facts["node"], "; left %s" % ", ".join(left) if left else "")


def claim_volumes(kube, namespace, sts, pod, pvs=None):
    """(claim, volume, node the volume is pinned to) for each existing claim of `pod` bound to a volume; `pvs`
    (name -> PV) saves a request per volume when the caller listed them already."""
    found = []
    for tmpl in claim_templates(sts):
        claim = "%s-%s" % (tmpl, pod)
        volume = (((kube.get("PersistentVolumeClaim", claim, namespace) or {}).get("spec")) or {}).get("volumeName")
        if volume:
            pv = pvs.get(volume) if pvs is not None else kube.get("PersistentVolume", volume)
            found.append((claim, volume, volume_node(pv)))
    return found


def pods_on_node(kube, ops, node):
    """Pods of the StatefulSet whose data is on `node`: bound to a PV pinned there, or recorded as replaced."""
    sts = ops.refresh()
    annotations = (sts.get("metadata") or {}).get("annotations") or {}
    found = set()
    for key, value in annotations.items():
        if key.startswith(PROGRESS_PREFIX):
            try:
                record = decode_progress(value, key[len(PROGRESS_PREFIX):])
            except ValueError:
                continue
            if record and record["node"] == node:
                found.add(record["pod"])
    pvs = dict((pv["metadata"]["name"], pv) for pv in kube.list("PersistentVolume"))
    for ordinal in range(int((sts.get("spec") or {}).get("replicas", 0))):
        pod = "%s-%d" % (ops.name, ordinal)
        if any(where == node for dummy, dummy, where in claim_volumes(kube, ops.namespace, sts, pod, pvs)):
            found.add(pod)
    return sorted(found)


def replace_node(kube, ops, adapter, engine, params, check_mode):
    """The module's whole run; see db_replace_node."""
    if params.get("pod_name"):
        pods = [params["pod_name"]]
    else:
        pods = pods_on_node(kube, ops, params["node"])
        if not pods:
            return {"changed": False, "pods": [], "plan": [], "steps_done": [],
                    "msg": "No pod of %s has its data on node %s; nothing to replace." % (
                        ops.describe(), params["node"])}
        if len(pods) > 1:
            raise PreconditionError(
                "Pods %s of %s all have data on node %s; replace them one at a time with pod=<name>, the member "
                "of each rejoining before the next. Nothing was done." % (", ".join(pods), ops.describe(),
                                                                          params["node"]))
    pod_name = pods[0]
    replacer = Replacer(kube, ops, adapter, engine, params)
    start = ops.now()
    deadline = start + params["min_down"] + params["wait_timeout"]
    first_plan, facts, waiting = None, {}, {}
    while True:
        state = replacer.observe(pod_name)
        decision = plan(state, params, replacer.wall())
        facts = dict(decision["facts"], **facts) if facts else decision["facts"]
        if first_plan is None and not decision["wait"]:
            first_plan = list(decision["steps"])
        if decision["refusal"]:
            if decision["clear_progress"] and state["progress"] and not check_mode:
                replacer._annotate(pod_name, None)
            raise PreconditionError(decision["refusal"], plan=first_plan, steps_done=replacer.done, facts=facts)
        if decision["wait"] > 0:
            if check_mode:
                return {"changed": True, "pod": pod_name, "plan": decision["steps"] or _full_plan(engine),
                        "steps_done": [], "facts": facts,
                        "msg": "Node %s has been NotReady for less than min_down=%s seconds; a run would wait %d "
                               "more seconds, then check again before removing anything." % (
                                   facts.get("node"), params["min_down"], int(decision["wait"]) + 1)}
            if ops.now() - start > params["min_down"] + 60:
                raise WaitTimeout("Node %s did not stay NotReady for min_down=%s seconds." % (
                    facts.get("node"), params["min_down"]), facts=facts)
            ops.sleep(min(decision["wait"], params.get("poll_interval") or 5))
            continue
        steps = decision["steps"]
        for step in ("wait_rejoin", "wait_healthy"):
            if step in waiting and step not in steps:
                replacer._record(step, waiting.pop(step), "pod %s Ready on node %s" % (
                    pod_name, state["pod"].get("node")) if step == "wait_rejoin" else "the database is healthy")
            elif step in steps and step not in waiting and steps[0] == step and not check_mode:
                waiting[step] = ops.now()
        if not steps:
            return {"changed": bool(replacer.done), "pod": pod_name, "plan": first_plan, "steps_done": replacer.done,
                    "facts": facts,
                    "msg": "Pod %s runs and is Ready on node %s; nothing to replace." % (
                        pod_name, state["pod"].get("node"))}
        if check_mode:
            return {"changed": True, "pod": pod_name, "plan": steps, "steps_done": [], "facts": facts,
                    "msg": "Would run: %s." % ", ".join(steps)}
        if not params.get("confirm"):
            raise PreconditionError(
                "Replacing pod %s removes its member from the database and releases its volume(s) %s on node %s. "
                "Plan: %s. Set confirm=true to run it (check mode shows the plan). Nothing was done." % (
                    pod_name, ", ".join(facts.get("volumes") or []), facts.get("node"), ", ".join(steps)),
                plan=steps, facts=facts)
        replacer.run_step(steps[0], state, decision, deadline)
        if steps[0] == "finish":
            new = replacer.observe(pod_name)
            return {"changed": True, "pod": pod_name, "plan": first_plan, "steps_done": replacer.done,
                    "facts": facts, "node": new["pod"].get("node"),
                    "volumes": [c.get("volume") for c in new["claims"]],
                    "seconds": round(ops.now() - start, 1),
                    "msg": "Pod %s was replaced: it runs on node %s (was %s)." % (
                        pod_name, new["pod"].get("node"), facts.get("node"))}


def _full_plan(engine):
    return [s for s in STEPS if engine in MEMBER_ENGINES or s != "remove_member"]


def lost_volumes(ops, pods=None):
    """For each pod that is not Ready and whose claim is bound to a volume pinned to a node that is not Ready:
    {pod, claim, volume, node, node_exists, not_ready_since, message}. No API call while every pod is Ready."""
    kube, sts = getattr(ops, "kube", None), getattr(ops, "sts", None)
    if kube is None or sts is None:
        return []
    pods = ops.pods() if pods is None else pods
    down = [p for p in pods if not p.get("ready")]
    if not down:
        return []
    nodes = dict((n["metadata"]["name"], node_view(n)) for n in kube.list("Node"))
    found = []
    for pod in down:
        for claim, volume, where in claim_volumes(kube, ops.namespace, sts, pod["name"]):
            if not where:
                continue
            view = nodes.get(where) or node_view(None)
            if view["ready"] is True:
                continue
            since = format_time(view["since"]) if view.get("since") else None
            state = "gone from the cluster" if not view["exists"] else "NotReady since %s" % (since or "an unknown time")
            found.append({"pod": pod["name"], "claim": claim, "volume": volume, "node": where,
                          "node_exists": view["exists"], "not_ready_since": since,
                          "message": "pod %s is bound to PV %s on node %s, which is %s; if the node is lost, "
                                     "replace the pod with playbooks/replace_node.yml" % (
                                         pod["name"], volume, where, state)})
    return found
