# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure logic of the backup and restore roles: what a storage Job printed, and which backups retention deletes.

The storage Job (roles/backup/files/dok-backup.sh) prints one line per result, starting with DOK-<KIND>. Lines without
that prefix are the tools' own output and are kept as text. A DOK- line that is not one of the known kinds, or whose
JSON does not hold the fields of its kind, is refused: a Job of another version or a damaged catalog must never be
read as "no backups" or as a backup that is not there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from datetime import datetime, timedelta, timezone

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,126}[a-z0-9])?$")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SHA_RE = re.compile(r"^[0-9a-f]{64}$")

# Fields of a catalog entry (backup.json) and their types.
ENTRY_FIELDS = {
    "format": int, "name": str, "engine": str, "method": str, "cluster": str, "namespace": str, "version": str,
    "databases": list, "file": str, "size_bytes": int, "sha256": str, "start": str, "end": str, "duration_ms": int,
    "consistency": str, "encrypted": bool,
}
RESTORED_FIELDS = {"name": str, "duration_ms": int, "size_bytes": int}
KINDS = ("BACKUP", "ENTRY", "PARTIAL", "VERIFIED", "RESTORED", "PRUNED", "EXPIRED", "ERROR")
FORMATS = (1,)


class BackupLogError(ValueError):
    pass


def parse_time(text, what):
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        raise BackupLogError("%s is %r, not a UTC time like 2026-01-31T23:59:59Z" % (what, text))


def _typed(obj, fields, what):
    if not isinstance(obj, dict):
        raise BackupLogError("%s is not a JSON object" % what)
    missing = [k for k in fields if k not in obj]
    if missing:
        raise BackupLogError("%s has no %s" % (what, ", ".join(missing)))
    for key, kind in fields.items():
        value = obj[key]
        # bool is an int in Python; a size of true is as wrong as a size of "12".
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BackupLogError("%s has %s=%r, which is not a %s" % (what, key, value, kind.__name__))
    return obj


def check_entry(obj, what="a catalog entry"):
    entry = _typed(obj, ENTRY_FIELDS, what)
    what = "%s (%s)" % (what, entry["name"])
    if entry["format"] not in FORMATS:
        raise BackupLogError("%s has format %s; this collection reads format %s" % (
            what, entry["format"], ", ".join(str(f) for f in FORMATS)))
    if not NAME_RE.match(entry["name"]):
        raise BackupLogError("%s has a name that is not a backup name" % what)
    if not SHA_RE.match(entry["sha256"]):
        raise BackupLogError("%s has sha256=%r, not 64 hex digits" % (what, entry["sha256"]))
    if entry["size_bytes"] < 0 or entry["duration_ms"] < 0:
        raise BackupLogError("%s has a negative size or duration" % what)
    if not all(isinstance(d, str) and d for d in entry["databases"]):
        raise BackupLogError("%s lists databases that are not names" % what)
    start = parse_time(entry["start"], "start of %s" % what)
    end = parse_time(entry["end"], "end of %s" % what)
    if end < start:
        raise BackupLogError("%s ends (%s) before it starts (%s)" % (what, entry["end"], entry["start"]))
    return entry


def parse_job_log(text):
    """The results a storage Job printed: {backup, entries, partial, verified, restored, pruned, errors, other}."""
    out = {"backup": None, "entries": [], "partial": [], "verified": None, "restored": None, "pruned": [],
           "expired": [], "errors": [], "other": []}
    if not isinstance(text, str):
        raise BackupLogError("the Job's log is not text")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("DOK-"):
            if line.strip():
                out["other"].append(line)
            continue
        kind, rest = (line[4:].split(" ", 1) + [""])[:2]
        where = "line %d of the Job's log (DOK-%s)" % (number, kind)
        if kind not in KINDS:
            raise BackupLogError("%s is a result this collection does not know; the Job may run another version "
                                 "of dok-backup.sh" % where)
        if kind == "ERROR":
            out["errors"].append(rest.strip() or "the Job reported an error without a message")
            continue
        if kind in ("PARTIAL", "PRUNED", "EXPIRED"):
            if not NAME_RE.match(rest):
                raise BackupLogError("%s names %r, which is not a backup name" % (where, rest))
            out[kind.lower() if kind != "PARTIAL" else "partial"].append(rest)
            continue
        try:
            obj = json.loads(rest)
        except ValueError as exc:
            raise BackupLogError("%s is not JSON: %s" % (where, exc))
        if kind == "RESTORED":
            out["restored"] = _typed(obj, RESTORED_FIELDS, where)
            continue
        entry = check_entry(obj, where)
        if kind == "ENTRY":
            if any(e["name"] == entry["name"] for e in out["entries"]):
                raise BackupLogError("%s lists %s a second time" % (where, entry["name"]))
            out["entries"].append(entry)
        elif kind == "BACKUP":
            out["backup"] = entry
        else:
            out["verified"] = entry
    out["entries"].sort(key=lambda e: (e["end"], e["name"]), reverse=True)
    return out


def _non_negative_int(value, what):
    if isinstance(value, bool):
        raise BackupLogError("%s is %r, not a whole number" % (what, value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise BackupLogError("%s is %r, not a whole number" % (what, value))
    if number < 0:
        raise BackupLogError("%s is %s; it must be 0 (no limit) or more" % (what, number))
    return number


def expired(entries, keep=0, max_age_days=0, now=None, protect=()):
    """Names of the backups retention deletes, oldest first.

    A backup expires when it is not among the `keep` newest (keep > 0) or ended more than `max_age_days` days before
    `now` (max_age_days > 0). The newest backup and the names in `protect` (the one this run took) never expire, so
    retention can never leave the cluster without a backup. Both limits 0: nothing expires.
    """
    keep = _non_negative_int(keep, "backup_retention_keep")
    max_age_days = _non_negative_int(max_age_days, "backup_retention_days")
    if now is None:
        now = datetime.now(timezone.utc)
    elif isinstance(now, str):
        now = parse_time(now, "now")
    checked = [check_entry(dict(e)) for e in entries or []]
    names = [e["name"] for e in checked]
    if len(set(names)) != len(names):
        raise BackupLogError("the catalog lists a backup twice: %s" % sorted(n for n in set(names) if names.count(n) > 1))
    newest_first = sorted(checked, key=lambda e: (e["end"], e["name"]), reverse=True)
    limit = now - timedelta(days=max_age_days)
    out = []
    for rank, entry in enumerate(newest_first):
        if rank == 0 or entry["name"] in protect:
            continue
        too_many = keep > 0 and rank >= keep
        too_old = max_age_days > 0 and parse_time(entry["end"], "end") < limit
        if too_many or too_old:
            out.append(entry["name"])
    return list(reversed(out))


def latest(entries):
    """The name of the newest complete backup, or '' when there is none."""
    checked = [check_entry(dict(e)) for e in entries or []]
    if not checked:
        return ""
    return max(checked, key=lambda e: (e["end"], e["name"]))["name"]
