# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a CockroachDB/KaiwuDB major upgrade waits to be finalized, read from the cluster's own settings.

A major upgrade of these engines runs the new binaries at the old cluster version until it is finalized: while
``cluster.preserve_downgrade_option`` holds the old version, the cluster stays there and a downgrade to the old
binaries is still possible; once the option is reset, the cluster upgrades its version by itself (``version`` then
reads ``23.1-upgrading-to-23.2-step-010`` and the like, or the old version for a while) and there is no way back.

``SCRIPT`` is the shell fragment db_cluster runs in a database pod (``{sql}`` is the SQL client with its connection
flags, ``--format=csv``): each setting's CSV after a marker line, so one exec reads both, each statement bounded by
``timeout`` where the image has it. ``parse(text)`` reads that output strictly: anything else is a ParseError
quoting it, never a guess. ``state(settings, builds, finalize)`` is pure and says what the run should do and tell
the user.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dok.databases.plugins.module_utils.errors import ParseError

MARK = "DOK-SETTING "
SETTINGS = ("version", "cluster.preserve_downgrade_option")
# Each statement gets 60 s where the image has coreutils' timeout: a cluster without quorum can stall a query.
SCRIPT = "T=; command -v timeout >/dev/null 2>&1 && T='timeout 60'; " + "; ".join(
    "echo '%s%s'; $T {sql} -e 'SHOW CLUSTER SETTING %s' || exit 1" % (MARK, s, s) for s in SETTINGS)

FINALIZED, PENDING, FINALIZING, UNKNOWN = "finalized", "pending", "finalizing", "unknown"

# 23.1, 22.2-38 (an internal version), 22.2-upgrading-to-23.1-step-010 (a finalization under way), and the
# 1000000 offset of development builds (1000023.1).
_CLUSTER_VERSION = re.compile(
    r"^(?P<major>\d+)\.(?P<minor>\d+)(?:-(?P<internal>\d+))?"
    r"(?:-upgrading-(?:to-(?P<to_major>\d+)\.(?P<to_minor>\d+)-step-\d+|final-step))?$")
_BUILD = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?$")
_DEV_OFFSET = 1000000


def _quote(text, limit=400):
    text = text if len(text) <= limit else text[:limit] + "..."
    return repr(text)


def _major(major, minor):
    major = int(major)
    return (major - _DEV_OFFSET if major >= _DEV_OFFSET else major, int(minor))


def cluster_release(value):
    """(major, minor) of a cluster version (``23.2``, ``22.2-38``, ``22.2-upgrading-to-23.1-step-010``), or None."""
    m = _CLUSTER_VERSION.match((value or "").strip())
    return _major(m.group("major"), m.group("minor")) if m else None


def release(value):
    """(major, minor) of a cluster version or of a build or image tag (``v23.2.4``), or None."""
    text = (value or "").strip()
    if cluster_release(text):
        return cluster_release(text)
    m = _BUILD.match(text)
    if m:
        return _major(m.group("major"), m.group("minor"))
    return None


def _field(line):
    """One CSV field: the CLI quotes a value only when it must; an empty value is an empty line."""
    line = line.rstrip("\r")
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        inner = line[1:-1]
        if '"' in inner.replace('""', ""):
            return None
        return inner.replace('""', '"')
    if '"' in line or "," in line:
        return None
    return line


def parse(text):
    """{setting: value} from the SCRIPT's output; ParseError for anything else."""
    text = text or ""
    blocks, current = {}, None
    for line in text.splitlines():
        if line.startswith(MARK):
            current = line[len(MARK):].strip()
            if current not in SETTINGS or current in blocks:
                raise ParseError("The cluster settings read back a marker for %r, which was not asked for or came "
                                 "twice: %s." % (current, _quote(text)), output=text)
            blocks[current] = []
        elif current is None:
            if line.strip():
                raise ParseError("The cluster settings output starts with %r before any setting: %s." % (
                    line, _quote(text)), output=text)
        else:
            blocks[current].append(line)
    settings = {}
    for name in SETTINGS:
        if name not in blocks:
            raise ParseError("The cluster settings output has no value of %s: %s." % (name, _quote(text)),
                             output=text)
        lines = blocks[name]
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        # SHOW CLUSTER SETTING names its one column after the setting (``version`` for the version).
        header = lines[0].strip() if lines else ""
        if header != name:
            raise ParseError("SHOW CLUSTER SETTING %s printed %r where its CSV header %r was expected: %s." % (
                name, header, name, _quote(text)), output=text)
        values = lines[1:]
        if len(values) > 1:
            raise ParseError("SHOW CLUSTER SETTING %s printed %d rows where one was expected: %s." % (
                name, len(values), _quote(text)), output=text)
        value = _field(values[0]) if values else ""
        if value is None or value == "NULL":
            raise ParseError("SHOW CLUSTER SETTING %s printed %r, which is not one value: %s." % (
                name, values[0], _quote(text)), output=text)
        settings[name] = value.strip()
    if cluster_release(settings["version"]) is None:
        raise ParseError("The cluster version %r is not a version this collection reads (such as 23.1, 22.2-38 or "
                         "22.2-upgrading-to-23.1-step-010): %s." % (settings["version"], _quote(text)), output=text)
    preserve = settings["cluster.preserve_downgrade_option"]
    if preserve and cluster_release(preserve) is None:
        raise ParseError("cluster.preserve_downgrade_option %r is not a version: %s." % (preserve, _quote(text)),
                         output=text)
    return settings


def _text_release(rel):
    return "%d.%d" % rel


def state(settings, builds=None, finalize=False, name=""):
    """What the cluster's settings say of an upgrade: {state, cluster_version, preserve_downgrade_option, binaries,
    waits (an upgrade waits to be finalized), finalize (whether this run finalizes), detail, text}.

    ``builds``: the versions the nodes run (``v23.2.4``), or image tags; None or unreadable ones are left out.
    ``finalize``: the inventory asks to finalize (db_cluster_finalize)."""
    version = settings.get("version", "")
    preserve = settings.get("cluster.preserve_downgrade_option", "")
    cluster = cluster_release(version)
    if cluster is None:
        raise ParseError("The cluster version %r is not a version this collection reads." % version)
    binaries = sorted(set(r for r in (release(b) for b in builds or []) if r is not None))
    newest = binaries[-1] if binaries else None
    finalizing = "-upgrading-" in version
    result = {"cluster_version": version, "preserve_downgrade_option": preserve,
              "binaries": [_text_release(b) for b in binaries], "finalize": False, "waits": False}
    if preserve:
        result.update(state=PENDING, finalize=bool(finalize),
                      waits=not (newest is not None and newest <= cluster and not finalizing))
        if not result["waits"]:
            return _said(result, name, (
                "cluster.preserve_downgrade_option is %s and every node runs %s: no upgrade waits to be finalized, "
                "the option holds the next one until it is reset%s" % (
                    preserve, _text_release(newest), " (reset now: db_cluster_finalize)" if finalize else
                    " (dok_finalize: true resets it)")))
        what = ("the upgrade%s is not finalized: the cluster version stays %s (cluster.preserve_downgrade_option "
                "= %s), so a downgrade to the %s binaries is still possible" % (
                    " to " + _text_release(newest) if newest is not None else "", version, preserve, preserve))
        return _said(result, name, what + (
            "; finalized now (db_cluster_finalize)" if finalize else
            "; set dok_finalize: true (db_cluster_finalize) and rerun site.yml to finalize it"))
    if finalizing or (newest is not None and cluster < binaries[0]):
        result["state"] = FINALIZING
        return _said(result, name, (
            "the cluster is finalizing its upgrade by itself (cluster version %s%s); a downgrade is no longer "
            "possible" % (version, ", the nodes run " + ", ".join(result["binaries"]) if binaries else "")))
    if newest is not None and cluster < newest:
        result["state"] = FINALIZING
        return _said(result, name, (
            "nodes run %s at cluster version %s and cluster.preserve_downgrade_option is not set: the cluster "
            "finalizes by itself once every node runs %s, after which no downgrade is possible" % (
                ", ".join(result["binaries"]), version, _text_release(newest))))
    result["state"] = FINALIZED
    return _said(result, name, "cluster version %s, no upgrade waits to be finalized" % version)


def _said(result, name, detail):
    result["name"] = name
    result["detail"] = detail
    result["text"] = "%s: %s" % (name, detail) if name else detail
    return result


def unknown(error, name=""):
    """The state when the settings could not be read: said, never guessed."""
    return _said({"state": UNKNOWN, "cluster_version": "", "preserve_downgrade_option": "", "binaries": [],
                  "finalize": False, "waits": False}, name,
                 "could not read whether an upgrade waits to be finalized: %s" % error)


def drift(result, name):
    """A converge_drift item for an upgrade that waits to be finalized, or for a state that could not be read; none
    when the option only holds the next upgrade (every node runs the cluster version)."""
    if not (result.get("waits") or result.get("state") == UNKNOWN):
        return []
    return [{"workload": name, "field": "finalize", "live": result.get("cluster_version", ""),
             "inventory": "finalized" if result.get("finalize") else "not finalized",
             "action": "finalize" if result.get("finalize") else "none",
             "text": "%s: %s" % (name, result["detail"])}]
