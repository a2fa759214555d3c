# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/backup: reading what a storage Job printed, and retention over generated catalogs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.backup import (
    BackupLogError, TIME_FORMAT, expired, latest, parse_job_log,
)

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=timezone.utc)


def entry(name, ended, **over):
    start, end = ended - timedelta(seconds=5), ended
    e = {"format": 1, "name": name, "engine": "mariadb", "method": "logical", "cluster": "db", "namespace": "ns",
         "version": "11.8.3-MariaDB", "databases": ["it"], "file": "dump.sql.gz", "size_bytes": 1234,
         "sha256": "a" * 64, "start": start.strftime(TIME_FORMAT), "end": end.strftime(TIME_FORMAT),
         "duration_ms": 5000, "consistency": "single-transaction snapshot taken at start", "encrypted": False}
    e.update(over)
    return e


def log_of(entries, noise=()):
    lines = list(noise)
    lines += ["DOK-ENTRY " + json.dumps(e) for e in entries]
    return "\n".join(lines) + "\n"


def test_reads_the_backup_the_catalog_and_partial_ones():
    a = entry("db-1", NOW - timedelta(days=2))
    b = entry("db-2", NOW - timedelta(days=1))
    text = ("-- some tool output\nDOK-BACKUP %s\nDOK-ENTRY %s\nDOK-ENTRY %s\nDOK-PARTIAL db-3\n"
            % (json.dumps(b), json.dumps(a), json.dumps(b)))
    out = parse_job_log(text)
    assert out["backup"]["name"] == "db-2"
    assert [e["name"] for e in out["entries"]] == ["db-2", "db-1"]
    assert out["partial"] == ["db-3"]
    assert out["other"] == ["-- some tool output"]
    assert out["errors"] == []


def test_errors_are_kept_as_text():
    out = parse_job_log("DOK-ERROR backup x is corrupt: the SHA-256 of dump.sql.gz is 00\n")
    assert out["errors"] == ["backup x is corrupt: the SHA-256 of dump.sql.gz is 00"]


@pytest.mark.parametrize("line, words", [
    ("DOK-SNAPSHOT {}", "does not know"),
    ("DOK-ENTRY {not json", "is not JSON"),
    ("DOK-ENTRY []", "not a JSON object"),
    ("DOK-ENTRY " + json.dumps({k: v for k, v in entry("a", NOW).items() if k != "sha256"}), "has no sha256"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, size_bytes="12")), "size_bytes='12'"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, size_bytes=True)), "size_bytes=True"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, format=2)), "has format 2"),
    ("DOK-ENTRY " + json.dumps(entry("Not_A_Name", NOW)), "not a backup name"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, sha256="xyz")), "not 64 hex digits"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, end="yesterday")), "not a UTC time"),
    ("DOK-ENTRY " + json.dumps(entry("a", NOW, start=(NOW + timedelta(seconds=9)).strftime(TIME_FORMAT))), "before it starts"),
    ("DOK-PARTIAL ../etc", "not a backup name"),
    ("DOK-PRUNED ", "not a backup name"),
    ("DOK-RESTORED {\"name\": \"a\"}", "has no duration_ms"),
])
def test_refuses_what_it_cannot_read(line, words):
    with pytest.raises(BackupLogError) as exc:
        parse_job_log(line + "\n")
    assert words in str(exc.value)


def test_refuses_an_entry_listed_twice():
    a = entry("db-1", NOW)
    with pytest.raises(BackupLogError, match="a second time"):
        parse_job_log(log_of([a, a]))


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_any_text_is_read_or_refused_never_crashes(text):
    try:
        out = parse_job_log(text)
    except BackupLogError:
        return
    assert isinstance(out["entries"], list)


# Catalogs of distinct names ending at distinct times within a year before NOW.
@st.composite
def catalogs(draw):
    ages = draw(st.lists(st.integers(min_value=0, max_value=365 * 24 * 3600), min_size=0, max_size=15, unique=True))
    return [entry("db-%d" % i, NOW - timedelta(seconds=age)) for i, age in enumerate(ages)]


@given(catalogs(), st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=400),
       st.data())
@settings(max_examples=400, deadline=None)
def test_retention_deletes_exactly_the_expired(catalog, keep, days, data):
    names = [e["name"] for e in catalog]
    protect = data.draw(st.lists(st.sampled_from(names), max_size=2) if names else st.just([]))
    out = expired(catalog, keep, days, NOW.strftime(TIME_FORMAT), tuple(protect))
    newest_first = sorted(catalog, key=lambda e: e["end"], reverse=True)
    rank = {e["name"]: i for i, e in enumerate(newest_first)}
    limit = NOW - timedelta(days=days)
    for e in catalog:
        ended = datetime.strptime(e["end"], TIME_FORMAT).replace(tzinfo=timezone.utc)
        breaks_a_rule = (keep > 0 and rank[e["name"]] >= keep) or (days > 0 and ended < limit)
        spared = rank[e["name"]] == 0 or e["name"] in protect
        assert (e["name"] in out) == (breaks_a_rule and not spared), (e["name"], rank[e["name"]], keep, days)
    # Oldest first, no name twice, never the whole catalog.
    assert out == sorted(out, key=lambda n: rank[n], reverse=True)
    assert len(set(out)) == len(out)
    assert not catalog or len(out) < len(catalog)
    # Applied again to what is left, retention deletes nothing more.
    left = [e for e in catalog if e["name"] not in out]
    assert expired(left, keep, days, NOW.strftime(TIME_FORMAT), tuple(protect)) == []


@given(catalogs())
def test_no_limits_delete_nothing(catalog):
    assert expired(catalog, 0, 0, NOW.strftime(TIME_FORMAT)) == []


@pytest.mark.parametrize("keep, days, words", [
    (-1, 0, "backup_retention_keep is -1"),
    ("two", 0, "backup_retention_keep is 'two'"),
    (True, 0, "not a whole number"),
    (0, -3, "backup_retention_days is -3"),
])
def test_retention_refuses_bad_limits(keep, days, words):
    with pytest.raises(BackupLogError) as exc:
        expired([entry("db-1", NOW)], keep, days, NOW.strftime(TIME_FORMAT))
    assert words in str(exc.value)


def test_retention_refuses_a_catalog_it_cannot_read():
    with pytest.raises(BackupLogError):
        expired([entry("db-1", NOW, end="garbage")], 1, 0, NOW.strftime(TIME_FORMAT))
    with pytest.raises(BackupLogError, match="twice"):
        expired([entry("db-1", NOW), entry("db-1", NOW)], 1, 0, NOW.strftime(TIME_FORMAT))


def test_latest():
    assert latest([]) == ""
    assert latest([entry("db-1", NOW - timedelta(hours=1)), entry("db-0", NOW)]) == "db-0"
