# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan how one database workload gets from its live state to the inventory's desired state, without reverting
what a gated role did.

``plan(live, desired, options)`` is pure: it takes plain dicts and returns an ordered list of steps and a list of
refusals. A refusal means nothing may be done; a step names the gated path that does the change (the
rolling_upgrade role for an image or another pod template change, the scale role for replicas).

``live`` (from ``live_state()``): ``exists``, ``managed``, ``kind``, ``name``, ``image``, ``replicas``,
``partition``, ``current_revision``, ``update_revision``, ``template_hash``, ``claims`` ({template name:
{storage, storage_class}}), ``pods`` ([{name, ordinal, image, revision, ready}]), ``decommissioning`` (members
the database reports leaving). ``desired``: ``kind``, ``image``, ``replicas``, ``template_hash`` (of the pod
template the apply would leave, image aside) and ``claims``. ``options``: ``allow_downgrade``,
``engine_allows_downgrade``, ``confirm_scale_down``. Claim sizes compare as quantities (``1Gi`` equals ``1024Mi``);
a size that is not a quantity is refused, never guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.dok.databases.plugins.module_utils.quantity import QuantityError, describe, parse_quantity

DEPLOY, FINISH_ROLLOUT, UPGRADE, DOWNGRADE, ROLLOUT = "deploy", "finish_rollout", "upgrade", "downgrade", "rollout"
SCALE_UP, SCALE_DOWN, FINISH_SCALE = "scale_up", "scale_down", "finish_scale"
# The order a run takes: what an earlier run left half done first, then fewer nodes before the rollout (fewer pods
# to restart), more nodes after it (new pods start on the new template).
ORDER = (DEPLOY, FINISH_ROLLOUT, FINISH_SCALE, SCALE_DOWN, UPGRADE, DOWNGRADE, ROLLOUT, SCALE_UP)
CHANGES = {DEPLOY: "apply", FINISH_ROLLOUT: "rolling_upgrade", UPGRADE: "rolling_upgrade",
           DOWNGRADE: "rolling_upgrade", ROLLOUT: "rolling_upgrade", SCALE_UP: "scale", SCALE_DOWN: "scale",
           FINISH_SCALE: "scale"}

_TAG = re.compile(r"^v?(?P<numbers>\d+(?:\.\d+){0,3})(?:-(?P<variant>[A-Za-z][A-Za-z0-9.]*))?$")
_PRERELEASE = re.compile(r"^(alpha|beta|rc|pre|dev|snapshot|nightly)", re.IGNORECASE)


class VersionError(PreconditionError):
    """An image tag that is not a release version: the plan refuses rather than guess a direction."""


def split_image(image):
    """Return (repository, tag, digest) of an image reference; tag and digest may be ''."""
    rest, digest = (image.split("@", 1) + [""])[:2]
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1:], digest
    return rest, "", digest


def parse_version(image):
    """Return the release of an image tag as (numbers padded to four, variant); raise VersionError otherwise."""
    repository, tag, digest = split_image(image or "")
    match = _TAG.match(tag)
    if not match or (match.group("variant") and _PRERELEASE.match(match.group("variant"))):
        raise VersionError(
            "Checked the tag of image %r to order it against the live one; found %r, which is not a release "
            "version (digits and dots, optionally v first and -variant after, e.g. 11.8 or v23.1.11). Name the "
            "image by a release tag; the comparison never guesses." % (image, tag or "no tag"))
    numbers = tuple(int(n) for n in match.group("numbers").split("."))
    return numbers + (0,) * (4 - len(numbers)), match.group("variant") or ""


def compare_versions(live_image, desired_image):
    """-1, 0 or 1: desired older, same release or newer than live. Raise VersionError when they cannot be ordered."""
    live_numbers, live_variant = parse_version(live_image)
    desired_numbers, desired_variant = parse_version(desired_image)
    if live_numbers == desired_numbers and live_variant != desired_variant:
        raise VersionError(
            "Checked whether %s is newer than the live %s; both are release %s but of different variants (%r, %r), "
            "which have no order. Keep the live variant or change it with rolling_upgrade directly, with "
            "rolling_upgrade_allow_downgrade if its release notes allow it." % (
                desired_image, live_image, ".".join(str(n) for n in live_numbers), live_variant, desired_variant))
    return (desired_numbers > live_numbers) - (desired_numbers < live_numbers)


def template_hash(template, container):
    """A stable fingerprint of a pod template without the database container's image (the image is compared apart)."""
    template = json.loads(json.dumps(template or {}, sort_keys=True))
    for section in ("containers", "initContainers"):
        for item in (template.get("spec") or {}).get(section) or []:
            if item.get("name") == container:
                item.pop("image", None)
    for key in ("creationTimestamp",):
        (template.get("metadata") or {}).pop(key, None)
    return hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def live_state(workload, pods, container, decommissioning=None):
    """Reduce a StatefulSet/Deployment (or None) and its pods to the ``live`` mapping of plan(). Pods of another
    StatefulSet under the same selector (a Cassandra rack, say) are left out by name."""
    if not workload:
        return {"exists": False}
    meta = workload.get("metadata") or {}
    spec = workload.get("spec") or {}
    status = workload.get("status") or {}
    template = spec.get("template") or {}
    images = [c.get("image", "") for c in (template.get("spec") or {}).get("containers") or []
              if c.get("name") == container]
    claims = {}
    for claim in spec.get("volumeClaimTemplates") or []:
        claim_spec = claim.get("spec") or {}
        claims[(claim.get("metadata") or {}).get("name", "")] = {
            "storage": ((claim_spec.get("resources") or {}).get("requests") or {}).get("storage", ""),
            "storage_class": claim_spec.get("storageClassName") or ""}
    name = meta.get("name", "")
    pod_list = []
    for pod in pods or []:
        pod_meta = pod.get("metadata") or {}
        pod_name = pod_meta.get("name", "")
        suffix = pod_name[len(name) + 1:] if pod_name.startswith(name + "-") else ""
        if workload.get("kind", "StatefulSet") == "StatefulSet" and not suffix.isdigit():
            continue
        pod_images = [c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or []
                      if c.get("name") == container]
        conditions = (pod.get("status") or {}).get("conditions") or []
        pod_list.append({
            "name": pod_name,
            "ordinal": int(suffix) if suffix.isdigit() else None,
            "image": pod_images[0] if pod_images else "",
            "revision": (pod_meta.get("labels") or {}).get("controller-revision-hash", ""),
            "ready": any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            and not pod_meta.get("deletionTimestamp")})
    rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
    return {
        "exists": True,
        "managed": (meta.get("labels") or {}).get("app.kubernetes.io/managed-by") == "dok.databases",
        "kind": workload.get("kind", "StatefulSet"),
        "name": name,
        "image": images[0] if images else "",
        "replicas": int(spec.get("replicas", 1)),
        "partition": int(rolling.get("partition") or 0) if workload.get("kind") == "StatefulSet" else 0,
        "current_revision": status.get("currentRevision", ""),
        "update_revision": status.get("updateRevision", ""),
        "template_hash": template_hash(template, container),
        "claims": claims,
        "pods": sorted(pod_list, key=lambda p: (p["ordinal"] is None, p["ordinal"] or 0, p["name"])),
        "decommissioning": sorted(decommissioning or []),
    }


def desired_state(rendered, applied, container):
    """The ``desired`` mapping of plan() from the rendered workload and the dry-run result of applying it with the
    live image and size (whose pod template is what the apply would leave)."""
    state = live_state(rendered, [], container)
    applied_template = ((applied or {}).get("spec") or {}).get("template")
    return {"kind": state["kind"], "name": state["name"], "image": state["image"], "replicas": state["replicas"],
            "claims": state["claims"],
            "template_hash": template_hash(applied_template, container) if applied_template else ""}


def _claim_refusals(name, claim, have, want):
    """Refusals for one claim template: its size is compared as a quantity (1Gi == 1024Mi), its class as text."""
    refusals = []
    field = "spec.volumeClaimTemplates[%s].spec.resources.requests.storage" % claim
    try:
        have_size = parse_quantity(have.get("storage", ""), "the live %s of %s" % (field, name))
        want_size = parse_quantity(want.get("storage", ""), "the inventory's %s of %s (dok_storage_size)" % (
            field, name))
    except QuantityError as exc:
        refusals.append("%s: %s" % (name, exc.msg))
    else:
        sizes = "%s is %s live and %s in the inventory" % (field, describe(have["storage"]), describe(want["storage"]))
        if want_size > have_size:
            refusals.append(
                "%s: %s; a StatefulSet's claim templates are immutable, so the converge does not grow them. To "
                "grow the volumes: expand each claim (kubectl patch pvc <claim> -p "
                "'{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}') where its StorageClass has "
                "allowVolumeExpansion: true, then recreate the StatefulSet around the kept claims (kubectl delete "
                "sts %s --cascade=orphan) and rerun; or keep the live size in the inventory." % (
                    name, sizes, want["storage"], name))
        elif want_size < have_size:
            refusals.append(
                "%s: %s; claims cannot shrink and the claim template is immutable. Keep the live size (%s) in the "
                "inventory; a smaller volume means a new cluster restored from a backup." % (
                    name, sizes, have["storage"]))
    path = "spec.volumeClaimTemplates[%s].spec.storageClassName" % claim
    if want.get("storage_class", "") != have.get("storage_class", ""):
        refusals.append(
            "%s: %s is %r live and %r in the inventory; a StatefulSet's claim templates are immutable and a "
            "claim's class never changes. Keep the live value, or move the data by backup and restore into a new "
            "cluster." % (name, path, have.get("storage_class", ""), want.get("storage_class", "")))
    return refusals


def _pods_high_to_low(name, replicas):
    return ["%s-%d" % (name, ordinal) for ordinal in range(replicas - 1, -1, -1)]


def _rollout_state(live):
    """The pods a rollout has not reached yet: not on the template's image or on its latest revision."""
    pods = live.get("pods") or []
    off_image = [p["name"] for p in pods if p.get("image") and p["image"] != live.get("image")]
    revision = live.get("update_revision")
    off_revision = [p["name"] for p in pods if revision and p.get("revision") and p["revision"] != revision]
    return sorted(set(off_image) | set(off_revision))


def plan(live, desired, options=None):
    """Return {changed, steps: [{action, via, pods, text, ...}], refusals: [msg]} for one workload."""
    options = options or {}
    name = live.get("name") or desired.get("name", "")
    if not live.get("exists"):
        return _result([{"action": DEPLOY, "via": CHANGES[DEPLOY], "pods": [],
                         "text": "%s %s: absent, deploy %d pod(s) of %s" % (
                             desired.get("kind", "StatefulSet"), name, int(desired.get("replicas") or 1),
                             desired.get("image", ""))}], [])
    if not live.get("managed"):
        return _result([], [
            "%s %s exists without the label app.kubernetes.io/managed-by=dok.databases: dok.databases never adopts "
            "or changes it. Choose another name, or label it if it really is this cluster." % (live.get("kind"), name)])

    steps, refusals = [], []
    kind = live.get("kind", "StatefulSet")
    live_replicas, want_replicas = int(live.get("replicas") or 0), int(desired.get("replicas") or 0)
    live_image, want_image = live.get("image", ""), desired.get("image", "")

    if desired.get("kind") and desired["kind"] != kind:
        refusals.append(
            "%s: the live workload is a %s, the inventory asks for a %s (field kind, immutable); dok.databases does "
            "not move data between them. Keep the live kind (e.g. db_cluster_mariadb_workload) or move the data by "
            "backup and restore into a new cluster." % (name, kind, desired["kind"]))
    for claim, want in sorted((desired.get("claims") or {}).items()):
        have = (live.get("claims") or {}).get(claim)
        if have is not None:
            refusals.extend(_claim_refusals(name, claim, have, want))

    behind = _rollout_state(live)
    rollout_half_done = bool(behind)
    if rollout_half_done:
        if want_image == live_image:
            steps.append({"action": FINISH_ROLLOUT, "via": CHANGES[FINISH_ROLLOUT], "image": live_image,
                          "pods": [p for p in _pods_high_to_low(name, live_replicas) if p in behind] or behind,
                          "text": "%s: finish the rollout to %s an earlier run left half done (partition %s; "
                                  "pods still on the old revision: %s), gated" % (
                                      name, live_image, live.get("partition", 0), ", ".join(behind))})
        else:
            refusals.append(
                "%s: a rollout to %s is half done (partition %s; pods still on the old revision: %s) and the "
                "inventory now asks for %s. Finish it first (set the image back to %s and rerun) or roll it back "
                "(rolling_upgrade_rollback: true), then change the image." % (
                    name, live_image, live.get("partition", 0), ", ".join(behind), want_image, live_image))

    decommissioning = list(live.get("decommissioning") or [])
    pod_names = [p["name"] for p in live.get("pods") or []]
    if want_replicas < live_replicas:
        removed = _pods_high_to_low(name, live_replicas)[:live_replicas - want_replicas]
        if rollout_half_done:
            refusals.append(
                "%s: scaling down %d -> %d (would remove %s) is refused while a rollout is half done (%s); finish "
                "the rollout first." % (name, live_replicas, want_replicas, ", ".join(removed), ", ".join(behind)))
        elif not options.get("confirm_scale_down"):
            refusals.append(
                "%s: the inventory asks for %d replicas, %d run: scaling down would decommission and remove %s "
                "(their claims kept). Nothing was changed. Set the scale-down confirmation to do it, or set the "
                "replicas back to %d." % (name, want_replicas, live_replicas, ", ".join(removed), live_replicas))
        else:
            steps.append({"action": SCALE_DOWN, "via": CHANGES[SCALE_DOWN], "pods": removed, "replicas": want_replicas,
                          "text": "%s: %d -> %d, decommission %s through the database, claims kept" % (
                              name, live_replicas, want_replicas, ", ".join(removed))})
    elif decommissioning:
        refusals.append(
            "%s: the database reports %s decommissioning while the inventory keeps %d replicas; an earlier "
            "scale-down is half done. Finish it (set the replicas to the size it aimed at, with the confirmation) "
            "and rerun." % (name, ", ".join(decommissioning), want_replicas))
    elif want_replicas == live_replicas and kind == "StatefulSet" and pod_names and len(pod_names) != live_replicas:
        steps.append({"action": FINISH_SCALE, "via": CHANGES[FINISH_SCALE], "pods": [], "replicas": live_replicas,
                      "text": "%s: %d pod(s) exist for %d replicas: finish the earlier scale, then gate" % (
                          name, len(pod_names), live_replicas)})

    if want_image != live_image and not rollout_half_done:
        try:
            direction = compare_versions(live_image, want_image)
        except VersionError as exc:
            refusals.append("%s: %s" % (name, exc.msg))
            direction = None
        pods = _pods_high_to_low(name, min(live_replicas, want_replicas) or live_replicas)
        if direction is not None and direction < 0:
            if options.get("allow_downgrade") and options.get("engine_allows_downgrade"):
                steps.append({"action": DOWNGRADE, "via": CHANGES[DOWNGRADE], "image": want_image, "pods": pods,
                              "text": "%s: %s: %s -> %s (downgrade, allowed), gated" % (
                                  ", ".join(pods), name, live_image, want_image)})
            else:
                refusals.append(
                    "%s: %s is older than the live %s; nothing was changed and nothing restarted. A database "
                    "rarely reads data files a newer version wrote. %s" % (
                        name, want_image, live_image,
                        "Set the downgrade option only if the release notes allow it (CockroachDB/KaiwuDB only "
                        "before the upgrade is finalized)." if options.get("engine_allows_downgrade") else
                        "This engine has no supported downgrade: restore a backup taken before the upgrade into a "
                        "new cluster instead, or set the image back to %s." % live_image))
        elif direction is not None:
            steps.append({"action": UPGRADE, "via": CHANGES[UPGRADE], "image": want_image, "pods": pods,
                          "text": "%s: %s -> %s, gated" % (", ".join(pods), live_image, want_image)})
    elif desired.get("template_hash") and desired["template_hash"] != live.get("template_hash") and not behind:
        # with the image unchanged, another field of the pod template changed (resources, probes, configuration)
        pods = _pods_high_to_low(name, min(live_replicas, want_replicas) or live_replicas)
        steps.append({"action": ROLLOUT, "via": CHANGES[ROLLOUT], "image": live_image, "pods": pods,
                      "text": "%s: pod template changed (image %s kept), replaced one at a time, gated" % (
                          ", ".join(pods), live_image)})

    if want_replicas > live_replicas:
        added = ["%s-%d" % (name, ordinal) for ordinal in range(live_replicas, want_replicas)]
        steps.append({"action": SCALE_UP, "via": CHANGES[SCALE_UP], "pods": added, "replicas": want_replicas,
                      "text": "%s: %d -> %d, add %s, then gate" % (name, live_replicas, want_replicas,
                                                                   ", ".join(added))})
    return _result(steps, refusals)


def _result(steps, refusals):
    steps = sorted(steps, key=lambda s: ORDER.index(s["action"]))
    return {"changed": bool(steps) and not refusals, "steps": [] if refusals else steps,
            "planned": steps, "refusals": refusals}


def plan_text(result):
    """One line per step, or the refusals, or that nothing is to do."""
    if result["refusals"]:
        return ["refused: " + r for r in result["refusals"]]
    return [s["text"] for s in result["steps"]] or ["nothing to do: the live cluster matches the inventory"]


_DRIFT_STEPS = {"image": (UPGRADE, DOWNGRADE), "replicas": (SCALE_UP, SCALE_DOWN), "pod_template": (ROLLOUT,),
                "rollout": (FINISH_ROLLOUT,), "scale": (FINISH_SCALE,), "workload": (DEPLOY,)}


def _drift_item(name, field, have, want, action, text):
    return {"workload": name, "field": field, "live": have, "inventory": want, "action": action,
            "text": "%s: %s" % (name, text)}


def _what_site_does(result, field):
    """The planned step for a field (``upgrade``, text) or ``refused``: every refusal stops the whole run."""
    for step in result.get("planned") or []:
        if step["action"] in _DRIFT_STEPS.get(field, ()) and not result.get("refusals"):
            return step["action"], "site.yml: %s" % step["action"].replace("_", " ") + (
                ", gated" if step["via"] == "rolling_upgrade" else ", add %s" % ", ".join(step["pods"])
                if step["action"] == SCALE_UP else "")
    return "refused", "site.yml refuses it (run it in check mode for why)"


def _same_claim_value(key, have, want):
    if key != "storage":
        return have == want
    try:
        return parse_quantity(have) == parse_quantity(want)
    except QuantityError:
        return False


def drift(live, desired, result):
    """Where the live workload differs from the inventory, one item per field, from the same plan() result the
    converge runs: [{workload, field, live, inventory, action (the planned step or 'refused'), text}]."""
    name = live.get("name") or desired.get("name", "")
    items = []
    if not live.get("exists"):
        action, does = _what_site_does(result, "workload")
        return [_drift_item(name, "workload", "absent", desired.get("image", ""), action,
                            "absent live, %s replica(s) of %s in the inventory; %s" % (
                                desired.get("replicas"), desired.get("image", ""), does))]
    if not live.get("managed"):
        return [_drift_item(name, "ownership", "unmanaged", "dok.databases", "refused",
                            "exists without the label app.kubernetes.io/managed-by=dok.databases; never adopted")]
    if desired.get("kind") and desired["kind"] != live.get("kind"):
        items.append(_drift_item(name, "kind", live.get("kind"), desired["kind"], "refused",
                                 "kind %s live, %s in the inventory; site.yml refuses it (immutable)" % (
                                     live.get("kind"), desired["kind"])))
    behind = _rollout_state(live)
    if behind:
        action, does = _what_site_does(result, "rollout")
        items.append(_drift_item(name, "rollout", ", ".join(behind), live.get("image", ""), action,
                                 "rollout to %s half done, still on the old revision: %s; %s" % (
                                     live.get("image", ""), ", ".join(behind), does)))
    for field, have, want in (("image", live.get("image", ""), desired.get("image", "")),
                              ("replicas", int(live.get("replicas") or 0), int(desired.get("replicas") or 0))):
        if have != want:
            action, does = _what_site_does(result, field)
            items.append(_drift_item(name, field, have, want, action, "%s %s live, %s in the inventory; %s" % (
                field, have, want, does)))
    if desired.get("template_hash") and desired["template_hash"] != live.get("template_hash"):
        action, does = _what_site_does(result, "pod_template")
        if action == "refused" and any(i["field"] == "image" and i["action"] != "refused" for i in items):
            action, does = "with_image", "site.yml: rolled out with the image change, gated"
        items.append(_drift_item(name, "pod_template", live.get("template_hash", "")[:12],
                                 desired["template_hash"][:12], action,
                                 "pod template (image aside: resources, probes, configuration) differs from the "
                                 "inventory; %s" % does))
    for claim, want in sorted((desired.get("claims") or {}).items()):
        have = (live.get("claims") or {}).get(claim)
        if have is None:
            continue
        for field, key in (("storage", "storage"), ("storageClassName", "storage_class")):
            if _same_claim_value(key, have.get(key, ""), want.get(key, "")):
                continue
            items.append(_drift_item(name, "volumeClaimTemplates[%s].%s" % (claim, field), have.get(key, ""),
                                     want.get(key, ""), "refused",
                                     "volumeClaimTemplates[%s].%s %r live, %r in the inventory; site.yml refuses "
                                     "it (claim templates are immutable)" % (
                                         claim, field, have.get(key, ""), want.get(key, ""))))
    return items


def member_drift(lives, nodes):
    """Members the database lists that the StatefulSets do not have, members it reports dead or leaving, and pods
    it does not list. ``lives``: the live_state() of each workload of the cluster; ``nodes``: db_node_status's
    normalized node records. A member that finished decommissioning is history, not drift."""
    lives = [w for w in lives or [] if w.get("exists") and w.get("managed")]
    if nodes is None or not lives:
        return []
    sets = [w for w in lives if w.get("kind", "StatefulSet") == "StatefulSet"]
    expected = {}
    for workload in sets:
        for ordinal in range(int(workload.get("replicas") or 0)):
            expected["%s-%d" % (workload["name"], ordinal)] = workload
    items, listed = [], set()
    for node in nodes:
        if node.get("membership") == "decommissioned":
            continue
        pod = node.get("pod") or ""
        label = "node %s (%s)" % (node.get("id"), pod or node.get("address") or "no address")
        owner = expected.get(pod) or (lives[0] if not sets else None)
        if sets and pod not in expected:
            replicas = ", ".join("%s has %s replicas" % (w["name"], w.get("replicas")) for w in sets)
            items.append(_drift_item(
                sets[0]["name"], "member", pod or node.get("address") or "", "", "none",
                "the database lists %s as a member, but no pod of the StatefulSet is behind it (%s): decommission "
                "it (db_decommission) or scale back to include it" % (label, replicas)))
            continue
        listed.add(pod)
        if node.get("is_decommissioning") or node.get("membership") == "decommissioning":
            items.append(_drift_item(owner["name"], "member", pod, "", "none",
                                     "the database reports %s decommissioning: an earlier scale-down is half done; "
                                     "finish it with the scale-down confirmation" % label))
        elif node.get("is_live") is not True:
            items.append(_drift_item(owner["name"], "member", pod, "", "none",
                                     "the database reports %s dead (state %s): see replace_node or the pod's "
                                     "events" % (label, node.get("state"))))
    for pod, workload in sorted(expected.items()):
        if pod not in listed:
            items.append(_drift_item(workload["name"], "pod", pod, "", "none",
                                     "pod %s is in the StatefulSet, but the database does not list it as a member "
                                     "(not started, not joined, or decommissioned)" % pod))
    return items
