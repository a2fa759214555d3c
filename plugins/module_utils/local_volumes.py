# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local PersistentVolumes: desired objects from a volume list, a plan against the live ones, and its execution.

Everything except ``apply_plan``/``read_live`` is pure (plain dicts in, plain dicts out).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import posixpath
import re
from decimal import Decimal, InvalidOperation

from ansible_collections.dok.databases.plugins.module_utils.common import MANAGED_BY_LABEL, MANAGED_BY_VALUE, is_ours
from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError, PreconditionError

NO_PROVISIONER = "kubernetes.io/no-provisioner"
HOSTNAME_LABEL = "kubernetes.io/hostname"
PREFIX_LABEL = "dok.databases/local-pv-prefix"
# What ties a claimRef to one claim object; without them it names a claim by namespace and name only (pre-bound).
CLAIM_INSTANCE_FIELDS = ("uid", "resourceVersion")
MAX_NAME = 253

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m|[eE][+-]?[0-9]+)?$")
_SUFFIX = {
    "": 1, "m": Decimal("0.001"), "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
    "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def parse_quantity(value):
    """A Kubernetes resource quantity as a Decimal number of units; ValueError when it is not one."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(text)
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return number * (Decimal(10) ** int(suffix[1:]))
        return number * _SUFFIX[suffix]
    except (InvalidOperation, KeyError):
        raise ValueError(text)


def same_quantity(a, b):
    try:
        return parse_quantity(a) == parse_quantity(b)
    except ValueError:
        return str(a) == str(b)


def sanitize(text):
    """Lowercase DNS-label characters only, runs of anything else collapsed to '-'."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", str(text).lower())).strip("-")


def pv_name(name_prefix, node, path):
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:10]
    return "%s-%s-%s" % (name_prefix, sanitize(node), digest)


def validate(params):
    """Check the module input; return the volumes normalized ({node, path, capacity, name})."""
    prefix = params["name_prefix"]
    if not _DNS_LABEL.match(prefix or "") or len(prefix) > 63:
        raise PreconditionError("name_prefix %r is not a valid name part: use lowercase letters, digits and '-', "
                                "starting and ending with a letter or digit, at most 63 characters." % prefix)
    if params.get("create_storage_class") and not _DNS_SUBDOMAIN.match(params["storage_class"] or ""):
        raise PreconditionError("storage_class %r is not a valid StorageClass name (lowercase DNS subdomain)."
                                % params["storage_class"])
    volumes, seen_names, seen_paths = [], {}, {}
    for index, vol in enumerate(params.get("volumes") or []):
        where = "volumes[%d]" % index
        path = vol.get("path") or ""
        if not path.startswith("/"):
            raise PreconditionError("%s: path %r is not absolute. Local PVs need the absolute path of a directory "
                                    "(or block device) on node %s." % (where, path, vol.get("node")))
        normalized = posixpath.normpath(path)
        if normalized != path.rstrip("/") or normalized == "/":
            raise PreconditionError("%s: path %r must be a normalized absolute path below / (no '.', '..', or "
                                    "repeated '/'); did you mean %r?" % (where, path, normalized))
        try:
            if parse_quantity(vol.get("capacity")) <= 0:
                raise ValueError(vol.get("capacity"))
        except ValueError:
            raise PreconditionError("%s: capacity %r is not a positive Kubernetes quantity (examples: 10Gi, "
                                    "500Mi, 1Ti)." % (where, vol.get("capacity")))
        name = vol.get("name") or pv_name(prefix, vol["node"], normalized)
        if not _DNS_SUBDOMAIN.match(name) or len(name) > MAX_NAME:
            raise PreconditionError("%s: PV name %r is not a valid object name (lowercase DNS subdomain, at most "
                                    "%d characters)." % (where, name, MAX_NAME))
        if name in seen_names:
            raise PreconditionError("%s and %s both produce PV name %s; give them different names or paths."
                                    % (seen_names[name], where, name))
        key = (vol["node"], normalized)
        if key in seen_paths:
            raise PreconditionError("%s and %s both use path %s on node %s; one directory can back only one PV."
                                    % (seen_paths[key], where, normalized, vol["node"]))
        seen_names[name], seen_paths[key] = where, where
        volumes.append({"node": vol["node"], "path": normalized, "capacity": str(vol["capacity"]), "name": name})
    return volumes


def object_labels(params):
    labels = dict(params.get("labels") or {})
    labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
    labels[PREFIX_LABEL] = params["name_prefix"]
    return labels


def desired_pv(volume, params):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": volume["name"], "labels": object_labels(params)},
        "spec": {
            "capacity": {"storage": volume["capacity"]},
            "accessModes": list(params["access_modes"]),
            "persistentVolumeReclaimPolicy": params["reclaim_policy"],
            "storageClassName": params["storage_class"],
            "volumeMode": params["volume_mode"],
            "local": {"path": volume["path"]},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": HOSTNAME_LABEL, "operator": "In", "values": [volume["node"]]}]}]}},
        },
    }


def desired_storage_class(params):
    labels = dict(params.get("labels") or {})
    labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": params["storage_class"], "labels": labels},
        "provisioner": NO_PROVISIONER,
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": params["reclaim_policy"] if params["reclaim_policy"] != "Recycle" else "Retain",
    }


def pv_view(pv):
    """The fields this module manages, as compared and shown in the diff."""
    if pv is None:
        return None
    spec = pv.get("spec") or {}
    terms = ((spec.get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms") or []
    return {
        "labels": dict((pv.get("metadata") or {}).get("labels") or {}),
        "capacity": (spec.get("capacity") or {}).get("storage"),
        "accessModes": list(spec.get("accessModes") or []),
        "persistentVolumeReclaimPolicy": spec.get("persistentVolumeReclaimPolicy"),
        "storageClassName": spec.get("storageClassName"),
        "volumeMode": spec.get("volumeMode") or "Filesystem",
        "local.path": (spec.get("local") or {}).get("path"),
        "nodeAffinity": terms,
        "claim": claim_of(pv),
        "claimRef": dict(spec["claimRef"]) if spec.get("claimRef") else None,
    }


def claim_of(pv):
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return None
    return "%s/%s" % (ref.get("namespace"), ref.get("name"))


def former_claim(pv):
    """'namespace/name' of the claim a PV's claimRef names, or None when it lacks either."""
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    if not ref.get("namespace") or not ref.get("name"):
        return None
    return "%s/%s" % (ref["namespace"], ref["name"])


def pre_bind_patch(pv):
    """Merge patch that reserves a Released PV for a new claim of its former claim's namespace and name, or None
    when its claimRef already names no claim instance.

    Namespace and name are restated so that the patch itself names the only claim that can bind the PV."""
    ref = pv["spec"]["claimRef"]
    drop = [f for f in CLAIM_INSTANCE_FIELDS if ref.get(f)]
    if not drop:
        return None
    claim_ref = {"namespace": ref["namespace"], "name": ref["name"]}
    claim_ref.update((f, None) for f in drop)
    return {"spec": {"claimRef": claim_ref}}


def _phase(pv):
    return (pv.get("status") or {}).get("phase")


def _check_prefix(pv, params):
    prefix = ((pv.get("metadata") or {}).get("labels") or {}).get(PREFIX_LABEL)
    if prefix and prefix != params["name_prefix"]:
        raise PreconditionError("PersistentVolume %s belongs to name_prefix %s (label %s=%s), not %s. Nothing was "
                                "changed. Manage it with name_prefix=%s, or give this volume another name or path."
                                % (pv["metadata"]["name"], prefix, PREFIX_LABEL, prefix, params["name_prefix"],
                                   prefix))


def pv_changes(desired, live):
    """(merge patch or None, list of immutable fields that differ) to turn `live` into `desired`."""
    want, have = pv_view(desired), pv_view(live)
    bound = claim_of(live) is not None
    immutable = [f for f in ("local.path", "nodeAffinity", "volumeMode") if want[f] != have[f]]
    if bound and want["storageClassName"] != have["storageClassName"]:
        immutable.append("storageClassName")
    spec = {}
    if not same_quantity(want["capacity"], have["capacity"]):
        spec["capacity"] = {"storage": want["capacity"]}
    for field in ("accessModes", "persistentVolumeReclaimPolicy"):
        if want[field] != have[field]:
            spec[field] = want[field]
    if not bound and want["storageClassName"] != have["storageClassName"]:
        spec["storageClassName"] = want["storageClassName"]
    patch = {}
    missing_labels = dict((k, v) for k, v in want["labels"].items() if have["labels"].get(k) != v)
    if missing_labels:
        patch["metadata"] = {"labels": missing_labels}
    if spec:
        patch["spec"] = spec
    return (patch or None), immutable


def _after_view(desired, live):
    """What the live PV looks like after the patch: extra labels stay, an equal quantity keeps its spelling."""
    view, have = pv_view(desired), pv_view(live)
    view["claim"], view["claimRef"] = have["claim"], have["claimRef"]
    labels = dict(have["labels"])
    labels.update(view["labels"])
    view["labels"] = labels
    if same_quantity(view["capacity"], have["capacity"]):
        view["capacity"] = have["capacity"]
    return view


def _sc_problems(desired, live):
    return [f for f in ("provisioner", "volumeBindingMode", "reclaimPolicy")
            if (live.get(f) or ("Delete" if f == "reclaimPolicy" else None)) != desired[f]]


def plan(params, volumes, live_pvs, live_sc, all_pvs=()):
    """Actions that bring the cluster to the requested state.

    live_pvs: {name: live PV or None} for every name that matters; live_sc: the live StorageClass or None;
    all_pvs: every PV in the cluster (to know whether the StorageClass is still used on removal).
    Returns {"actions": [...], "before": {...}, "after": {...}, "released": [(PV name, former claim or None)],
    "reclaimed": [(PV name, the only claim that can bind it now)]}; raises PreconditionError on anything unsafe.
    """
    actions, before, after, released, reclaimed = [], {}, {}, [], []
    if params["state"] == "present":
        for vol in volumes:
            want = desired_pv(vol, params)
            name = vol["name"]
            have = live_pvs.get(name)
            before[name], after[name] = pv_view(have), pv_view(want)
            if have is None:
                actions.append({"action": "create", "kind": "PersistentVolume", "name": name, "body": want})
                continue
            if _terminating(have):
                raise PreconditionError("PersistentVolume %s is being deleted%s. Nothing was changed. Run again once "
                                        "it is gone." % (name, ", waiting for claim %s to release it" % claim_of(have)
                                                         if claim_of(have) else ""))
            if not is_ours(have):
                raise PreconditionError("PersistentVolume %s already exists and was not created by dok.databases "
                                        "(no %s=%s label). Nothing was changed. Pick another name_prefix or name, "
                                        "or delete that PV." % (name, MANAGED_BY_LABEL, MANAGED_BY_VALUE))
            _check_prefix(have, params)
            patch, immutable = pv_changes(want, have)
            after[name] = _after_view(want, have)
            if immutable:
                raise PreconditionError(
                    "PersistentVolume %s differs from the request in %s, which Kubernetes does not allow to change "
                    "(%s). Nothing was changed. Delete it first (state=absent%s) or request what it has." % (
                        name, ", ".join(immutable),
                        "; ".join("%s: live %r, requested %r" % (f, pv_view(have)[f], pv_view(want)[f])
                                  for f in immutable),
                        ", force=true: it is bound to %s" % claim_of(have) if claim_of(have) else ""))
            if patch:
                actions.append({"action": "patch", "kind": "PersistentVolume", "name": name, "patch": patch})
            if _phase(have) != "Released":
                continue
            claim = former_claim(have)
            reclaim = pre_bind_patch(have) if claim else None
            if claim and not reclaim:
                continue
            if not params.get("reclaim_released"):
                released.append((name, claim))
                continue
            if claim is None:
                ref = (have.get("spec") or {}).get("claimRef") or {}
                raise PreconditionError(
                    "PersistentVolume %s is Released but its claimRef does not name the claim that had it "
                    "(namespace %r, name %r), so it cannot be reserved for that claim alone. Nothing was changed. "
                    "Set spec.claimRef.namespace and spec.claimRef.name of the PV to the claim that should get its "
                    "data, or to start empty delete the PV (state=absent), clear %s on node %s and create it again."
                    % (name, ref.get("namespace"), ref.get("name"), vol["path"], vol["node"]))
            actions.append({"action": "reclaim", "kind": "PersistentVolume", "name": name, "patch": reclaim})
            after[name]["claimRef"] = dict((k, v) for k, v in have["spec"]["claimRef"].items()
                                           if k not in CLAIM_INSTANCE_FIELDS)
            reclaimed.append((name, claim))
        if params.get("create_storage_class"):
            want = desired_storage_class(params)
            sc_name = want["metadata"]["name"]
            key = "storageclass/%s" % sc_name
            before[key], after[key] = _sc_view(live_sc), _sc_view(want)
            if live_sc is None:
                actions.insert(0, {"action": "create", "kind": "StorageClass", "name": sc_name, "body": want})
            else:
                problems = _sc_problems(want, live_sc)
                if problems:
                    raise PreconditionError(
                        "StorageClass %s exists with %s different from what local PVs need (%s); StorageClass "
                        "fields cannot be changed. Use another storage_class name, set create_storage_class=false "
                        "to use it as it is, or delete it." % (
                            sc_name, ", ".join(problems),
                            "; ".join("%s: live %r, wanted %r" % (f, live_sc.get(f), want[f]) for f in problems)))
                after[key] = _sc_view(live_sc)
                if is_ours(live_sc):
                    labels = (live_sc.get("metadata") or {}).get("labels") or {}
                    missing = dict((k, v) for k, v in want["metadata"]["labels"].items() if labels.get(k) != v)
                    if missing:
                        after[key]["labels"].update(missing)
                        actions.insert(0, {"action": "patch", "kind": "StorageClass", "name": sc_name,
                                           "patch": {"metadata": {"labels": missing}}})
        return {"actions": actions, "before": before, "after": after, "released": released, "reclaimed": reclaimed}

    refused = []
    for name in sorted(live_pvs):
        have = live_pvs[name]
        before[name], after[name] = pv_view(have), None
        if have is None:
            continue
        if not is_ours(have):
            raise PreconditionError("PersistentVolume %s was not created by dok.databases (no %s=%s label); it is "
                                    "not deleted. Nothing was changed." % (name, MANAGED_BY_LABEL, MANAGED_BY_VALUE))
        _check_prefix(have, params)
        if _terminating(have):
            after[name] = before[name]
            continue
        claim = claim_of(have)
        if claim and (have.get("status") or {}).get("phase") == "Bound" and not params.get("force"):
            refused.append("%s (bound to claim %s)" % (name, claim))
        actions.append({"action": "delete", "kind": "PersistentVolume", "name": name})
    if refused:
        raise PreconditionError("Refusing to delete bound PersistentVolumes: %s. Nothing was changed. Delete the "
                                "claims (and the pods using them) first, or set force=true to delete the PVs anyway "
                                "(the data directories on the nodes are not touched)." % "; ".join(refused))
    if params.get("create_storage_class") and live_sc is not None and is_ours(live_sc):
        leaving = set(a["name"] for a in actions)
        users = sorted(p["metadata"]["name"] for p in all_pvs
                       if (p.get("spec") or {}).get("storageClassName") == live_sc["metadata"]["name"]
                       and p["metadata"]["name"] not in leaving)
        if not users:
            key = "storageclass/%s" % live_sc["metadata"]["name"]
            before[key], after[key] = _sc_view(live_sc), None
            actions.append({"action": "delete", "kind": "StorageClass", "name": live_sc["metadata"]["name"]})
    return {"actions": actions, "before": before, "after": after, "released": released, "reclaimed": reclaimed}


def _terminating(obj):
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _sc_view(sc):
    if sc is None:
        return None
    return {
        "labels": dict((sc.get("metadata") or {}).get("labels") or {}),
        "provisioner": sc.get("provisioner"),
        "volumeBindingMode": sc.get("volumeBindingMode"),
        "reclaimPolicy": sc.get("reclaimPolicy"),
    }


def check_nodes(kube, volumes, warn):
    """Every node named must exist; when RBAC forbids reading Nodes, warn and go on."""
    for node in sorted(set(v["node"] for v in volumes)):
        try:
            found = kube.get("Node", node)
        except ClusterError as exc:
            warn("Could not check that node %s exists: %s" % (node, exc.msg))
            continue
        if found is None:
            names = []
            try:
                names = sorted(n["metadata"]["name"] for n in kube.list("Node"))
            except ClusterError:
                pass
            raise PreconditionError("Node %s does not exist in the cluster (nodes: %s). Nothing was changed. "
                                    "Use the node's name as in kubectl get nodes." % (
                                        node, ", ".join(names) or "unknown"))


def read_live(kube, params, volumes):
    """Live PVs that matter ({name: PV or None}), the live StorageClass and all PVs."""
    all_pvs = kube.list("PersistentVolume")
    by_name = dict((p["metadata"]["name"], p) for p in all_pvs)
    if params["state"] == "absent" and not volumes:
        names = [n for n, p in by_name.items()
                 if ((p.get("metadata") or {}).get("labels") or {}).get(PREFIX_LABEL) == params["name_prefix"]
                 and is_ours(p)]
    else:
        names = [v["name"] for v in volumes]
    live_pvs = dict((n, by_name.get(n)) for n in names)
    live_sc = kube.get("StorageClass", params["storage_class"]) if params.get("create_storage_class") else None
    return live_pvs, live_sc, all_pvs


def apply_plan(kube, actions):
    for act in actions:
        if act["action"] == "create":
            kube.create(act["kind"], act["body"])
        elif act["action"] in ("patch", "reclaim"):
            kube.patch(act["kind"], act["name"], act["patch"])
        elif act["action"] == "delete":
            kube.delete(act["kind"], act["name"])


def ensure(kube, params, check_mode, warn):
    """The whole local_pv run: validate, compare, act (unless check mode); returns the module result."""
    volumes = validate(params)
    if params["state"] == "present":
        check_nodes(kube, volumes, warn)
    live_pvs, live_sc, all_pvs = read_live(kube, params, volumes)
    result = plan(params, volumes, live_pvs, live_sc, all_pvs)
    for name, claim in result["released"]:
        if claim is None:
            warn("PersistentVolume %s is Released and its claimRef does not name the claim that had it, so it cannot "
                 "be reserved for that claim. Its directory still holds the old data. Set spec.claimRef.namespace "
                 "and spec.claimRef.name of the PV to the claim that should get the data; to start empty, delete "
                 "the PV (state=absent), clear the directory on the node and create it again." % name)
            continue
        warn("PersistentVolume %s is Released: its claim %s was deleted, and Kubernetes binds it to no new claim "
             "while it keeps a reference to that deleted claim. Its directory still holds the old data. To give "
             "that data to a new claim of the same namespace and name (the claim a recreated StatefulSet pod "
             "makes), run again with reclaim_released=true: then only a claim named %s binds the PV, no other "
             "claim. To start empty, delete the PV (state=absent), clear the directory on the node and create it "
             "again." % (name, claim, claim))
    if not check_mode:
        apply_plan(kube, result["actions"])
    return {
        "changed": bool(result["actions"]),
        "actions": ["%s %s %s" % (a["action"], a["kind"], a["name"]) for a in result["actions"]],
        "pvs": [v["name"] for v in volumes] if params["state"] == "present" else sorted(live_pvs),
        "storage_class": params["storage_class"],
        "released": [name for name, dummy in result["released"]],
        "reclaimed": [{"pv": name, "claim": claim} for name, claim in result["reclaimed"]],
        "diff": {"before": result["before"], "after": result["after"]},
    }
