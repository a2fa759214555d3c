# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade_state filters as db_cluster and status.yml call them: a registered exec result in, the state out;
a failed, skipped or unreadable read is said as unknown, never guessed; converge_drift adds the waiting upgrade."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.filter.converge import FilterModule as ConvergeFilters
from ansible_collections.dok.databases.plugins.filter.upgrade_state import FilterModule

FILTERS = FilterModule().filters()
STATE, COMMAND = FILTERS["upgrade_state"], FILTERS["upgrade_state_command"]
DRIFT = ConvergeFilters().filters()["converge_drift"]
IMAGES = ["dok.test/cockroach-double:v23.2.4", "registry.example:5000/cockroachdb/cockroach:v23.2.4@sha256:" + "a" * 64]


def read(version="23.1", preserve="23.1", rc=0):
    out = ("DOK-SETTING version\nversion\n%s\nDOK-SETTING cluster.preserve_downgrade_option\n"
           "cluster.preserve_downgrade_option\n%s\n" % (version, preserve))
    return {"rc": rc, "stdout": out, "stderr": "", "changed": False}


def test_pending_from_images_of_the_pods():
    s = STATE(read(), IMAGES, False, "crdb")
    assert s["state"] == "pending" and s["waits"] and s["binaries"] == ["23.2"]
    assert s["text"].startswith("crdb: the upgrade to 23.2 is not finalized")


def test_images_without_a_release_tag_are_left_out():
    s = STATE(read(), ["registry.example:5000/cockroach", "cockroach@sha256:" + "b" * 64, "v23.2.4"], False, "crdb")
    assert s["binaries"] == ["23.2"]


def test_finalized_with_nothing_to_do():
    s = STATE(read("23.2", ""), IMAGES, True, "crdb")
    assert s["state"] == "finalized" and not s["finalize"]


@pytest.mark.parametrize("result,says", [
    ({"skipped": True, "changed": False}, "no ready pod to ask"),
    (dict(read(), rc=1, stderr="ERROR: cannot dial server"), "the exec failed (rc 1): ERROR: cannot dial server"),
    ({"failed": True, "msg": "pods \"crdb-0\" not found"}, "the exec failed (rc n/a): pods \"crdb-0\" not found"),
    (dict(read(), stdout="version\n23.1\n"), "starts with"),
    (read("23.1-beta", ""), "not a version this collection reads"),
])
def test_failed_or_unreadable_reads_are_unknown(result, says):
    s = STATE(result, IMAGES, True, "crdb")
    assert s["state"] == "unknown" and not s["finalize"] and not s["waits"]
    assert says in s["text"]
    item, = DRIFT([], None, s)
    assert item["field"] == "finalize" and item["action"] == "none"


def test_converge_drift_adds_a_waiting_upgrade_after_the_other_items():
    plan = {"drift": [{"workload": "crdb", "field": "replicas", "text": "crdb: replicas"}], "live": {}}
    items = DRIFT([plan], None, STATE(read(), IMAGES, True, "crdb"))
    assert [i["field"] for i in items] == ["replicas", "finalize"]
    assert items[1]["action"] == "finalize"
    assert DRIFT([plan], None, STATE(read("23.2", ""), IMAGES, False, "crdb")) == plan["drift"]
    assert DRIFT([plan], None, {}) == plan["drift"]


@pytest.mark.parametrize("bad", [None, "text", ["list"]])
def test_state_refuses_what_is_not_a_result(bad):
    with pytest.raises(AnsibleFilterError):
        STATE(bad)


def test_state_refuses_a_build_that_is_not_a_string():
    with pytest.raises(AnsibleFilterError):
        STATE(read(), [23.2])


def test_command_wraps_the_client():
    cmd = COMMAND("kwbase sql --certs-dir=/c --host=localhost:26257 --format=csv ")
    assert cmd.count("kwbase sql --certs-dir=/c --host=localhost:26257 --format=csv -e 'SHOW CLUSTER SETTING") == 2
    with pytest.raises(AnsibleFilterError):
        COMMAND("  ")
