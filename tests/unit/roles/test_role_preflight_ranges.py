# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The range checks of the rolling_upgrade, failover_test and local_storage preflights: each bound refuses with a
message that names the variable, the range and the value. The asserts of tasks/preflight.yml are evaluated the way
the role runs them (defaults, vars, the task's loop and vars), like tests/unit/templates does for db_cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))

init_plugin_loader()

BASE = {
    "rolling_upgrade": {"rolling_upgrade_engine": "cockroachdb", "rolling_upgrade_name": "db1",
                        "rolling_upgrade_namespace": "ns1", "rolling_upgrade_image": "cockroachdb/cockroach:v24.1.0"},
    "failover_test": {"failover_test_engine": "mariadb", "failover_test_name": "db1", "failover_test_namespace": "ns1",
                      "failover_test_confirm": True},
    "local_storage": {"local_storage_volumes": [{"path": "/srv/dok/a", "capacity": "1Gi"}],
                      "local_storage_pv_name_prefix": "dok"},
    # The first task of these preflights names the run (set_fact); the evaluation here starts after it.
    "backup": {"backup_cluster": "db1", "backup_namespace": "ns1", "__backup_run_name": "db1-20261206120000"},
    "restore": {"restore_cluster": "db1", "restore_namespace": "ns1", "__restore_name": ""},
    "replace_node": {"replace_node_engine": "cockroachdb", "replace_node_name": "db1",
                     "replace_node_namespace": "ns1", "replace_node_node": "node-3"},
}


def role_vars(role):
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        path = os.path.join(ROOT, "roles", role, name)
        if os.path.exists(path):
            variables.update(loader.load_from_file(path, trusted_as_template=True) or {})
    return loader, variables


def refusals(role, overrides):
    """fail_msg of every preflight assert (and loop item) whose conditions do not all hold, in task order."""
    loader, variables = role_vars(role)
    variables.update({"inventory_hostname": "node-1", "ansible_check_mode": False})
    variables.update(BASE[role])
    variables.update(overrides)
    tasks = loader.load_from_file(os.path.join(ROOT, "roles", role, "tasks", "preflight.yml"),
                                  trusted_as_template=True)
    messages = []
    for task in tasks:
        args = task.get("ansible.builtin.assert")
        if args is None:
            continue
        scope = dict(variables, **(task.get("vars") or {}))
        templar = Templar(loader=loader, variables=scope)
        loop = task.get("loop")
        items = [None] if loop is None else templar.template(loop if not isinstance(loop, str) else
                                                             trust_as_template(loop))
        conditions = args["that"] if isinstance(args["that"], list) else [args["that"]]
        for item in items:
            local = Templar(loader=loader, variables=dict(scope, item=item) if loop is not None else scope)
            held = all(local.template(trust_as_template("{{ %s }}" % c)) for c in conditions)
            if not held:
                messages.append(" ".join(str(local.template(trust_as_template(args["fail_msg"]))).split()))
    return messages


@pytest.mark.parametrize("role", sorted(BASE))
def test_the_defaults_pass_the_preflight(role):
    assert refusals(role, {}) == []


def whole(name, low, high, what, value):
    bound = ("from %s to %s" % (low, high)) if high is not None else ("of at least %s" % low)
    return "%s must be a whole number %s (%s); got %s. Nothing was changed." % (name, bound, what, value)


RU = "rolling_upgrade"
FT = "failover_test"


@pytest.mark.parametrize("role, variable, value, low, high, what", [
    (RU, "rolling_upgrade_canary", -1, 0, None, "pods, 0 for no canary"),
    (RU, "rolling_upgrade_canary", "many", 0, None, "pods, 0 for no canary"),
    (RU, "rolling_upgrade_safety_window", -1, 0, 604800, "seconds, 0 for none"),
    (RU, "rolling_upgrade_safety_window", 10 ** 7, 0, 604800, "seconds, 0 for none"),
    (RU, "rolling_upgrade_pod_timeout", 0, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_pod_timeout", -60, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_pod_timeout", 10 ** 9, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_gate_timeout", 0, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_gate_timeout", -1, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_gate_timeout", 10 ** 9, 10, 604800, "seconds"),
    (RU, "rolling_upgrade_poll_interval", 0, 1, 3600, "seconds"),
    (RU, "rolling_upgrade_poll_interval", -5, 1, 3600, "seconds"),
    (RU, "rolling_upgrade_poll_interval", 86400, 1, 3600, "seconds"),
    (RU, "rolling_upgrade_replication_factor", 0, 1, None, "copies of each range or row"),
    (RU, "rolling_upgrade_replication_factor", -3, 1, None, "copies of each range or row"),
    (FT, "failover_test_rows", 0, 1, 10000, "rows"),
    (FT, "failover_test_rows", -1, 1, 10000, "rows"),
    (FT, "failover_test_rows", 10 ** 6, 1, 10000, "rows"),
    (FT, "failover_test_replication_factor", 0, 1, None, "copies of each row"),
    (FT, "failover_test_port", -1, 0, 65535, "a TCP port; 0 means the engine's default"),
    (FT, "failover_test_port", 65536, 0, 65535, "a TCP port; 0 means the engine's default"),
    (FT, "failover_test_probe_interval_ms", 0, 50, 5000, "milliseconds"),
    (FT, "failover_test_probe_interval_ms", -100, 50, 5000, "milliseconds"),
    (FT, "failover_test_probe_interval_ms", 60000, 50, 5000, "milliseconds"),
    (FT, "failover_test_probe_timeout", 0, 1, 300, "seconds"),
    (FT, "failover_test_probe_timeout", -1, 1, 300, "seconds"),
    (FT, "failover_test_probe_timeout", 3600, 1, 300, "seconds"),
    (FT, "failover_test_probe_max_seconds", 0, 30, 3600, "seconds"),
    (FT, "failover_test_probe_max_seconds", -30, 30, 3600, "seconds"),
    (FT, "failover_test_probe_max_seconds", 10 ** 6, 30, 3600, "seconds"),
    (FT, "failover_test_probe_warmup", 0, 1, None, "successful probes in a row"),
    (FT, "failover_test_probe_warmup", -2, 1, None, "successful probes in a row"),
    (FT, "failover_test_settle_seconds", -1, 0, 3600, "seconds, 0 for none"),
    (FT, "failover_test_settle_seconds", 86400, 0, 3600, "seconds, 0 for none"),
    (FT, "failover_test_ready_timeout", 0, 10, 604800, "seconds"),
    (FT, "failover_test_ready_timeout", -10, 10, 604800, "seconds"),
    (FT, "failover_test_ready_timeout", 10 ** 9, 10, 604800, "seconds"),
    (FT, "failover_test_poll_interval", 0, 1, 3600, "seconds"),
    (FT, "failover_test_poll_interval", -1, 1, 3600, "seconds"),
    (FT, "failover_test_poll_interval", 86400, 1, 3600, "seconds"),
])
def test_a_number_outside_its_range_is_refused_naming_it(role, variable, value, low, high, what):
    shown = value if isinstance(value, int) else '"%s"' % value
    assert whole(variable, low, high, what, shown) in refusals(role, {variable: value})


@pytest.mark.parametrize("role, variable, value", [
    (RU, "rolling_upgrade_canary", 0), (RU, "rolling_upgrade_safety_window", 604800),
    (RU, "rolling_upgrade_pod_timeout", 10), (RU, "rolling_upgrade_poll_interval", 1),
    (FT, "failover_test_port", 0), (FT, "failover_test_port", 65535), (FT, "failover_test_probe_interval_ms", 50),
    (FT, "failover_test_rows", 10000), (FT, "failover_test_settle_seconds", 0),
])
def test_the_bounds_themselves_are_accepted(role, variable, value):
    assert refusals(role, {variable: value}) == []


@pytest.mark.parametrize("role, overrides, message", [
    (RU, {"rolling_upgrade_poll_interval": 600, "rolling_upgrade_pod_timeout": 300},
     "rolling_upgrade_poll_interval (600 s) is longer than rolling_upgrade_pod_timeout (300 s): the wait would poll "
     "at most once. Lower rolling_upgrade_poll_interval or raise rolling_upgrade_pod_timeout. Nothing was changed."),
    (RU, {"rolling_upgrade_poll_interval": 60, "rolling_upgrade_gate_timeout": 30},
     "rolling_upgrade_poll_interval (60 s) is longer than rolling_upgrade_gate_timeout (30 s)"),
    (FT, {"failover_test_poll_interval": 60, "failover_test_ready_timeout": 30},
     "failover_test_poll_interval (60 s) is longer than failover_test_ready_timeout (30 s). Lower "
     "failover_test_poll_interval or raise failover_test_ready_timeout. Nothing was changed."),
    (FT, {"failover_test_probe_timeout": 120, "failover_test_probe_max_seconds": 60},
     "failover_test_probe_timeout (120 s) is longer than failover_test_probe_max_seconds (60 s)"),
    (FT, {"failover_test_settle_seconds": 600, "failover_test_probe_max_seconds": 300},
     "failover_test_settle_seconds (600 s) is longer than failover_test_probe_max_seconds (300 s)"),
])
def test_a_wait_longer_than_the_time_it_is_part_of_is_refused(role, overrides, message):
    assert any(m.startswith(message) for m in refusals(role, overrides)), refusals(role, overrides)


@pytest.mark.parametrize("capacity", ["0", "0Gi", "0.0Mi"])
def test_local_storage_refuses_a_capacity_of_zero(capacity):
    volumes = [{"path": "/srv/dok/a", "capacity": "1Gi"}, {"path": "/srv/dok/b", "capacity": capacity}]
    assert refusals("local_storage", {"local_storage_volumes": volumes}) == [
        "local_storage_volumes of node-1: the capacity of /srv/dok/b must be more than zero, such as 10Gi; got %s. "
        "Nothing was changed." % capacity]


@pytest.mark.parametrize("capacity", ["-1Gi", "-5", "1Gb", "1e9", "lots"])
def test_local_storage_refuses_a_negative_or_malformed_capacity(capacity):
    volumes = [{"path": "/srv/dok/b", "capacity": capacity}]
    messages = refusals("local_storage", {"local_storage_volumes": volumes})
    assert messages and messages[0].startswith(
        "local_storage_volumes of node-1 must be a list of {path, capacity, name (optional), owner/group/mode "
        "(optional)} with unique absolute normalized paths and capacities such as 10Gi; found ")
    assert capacity in messages[0] and messages[0].endswith("Nothing was changed.")


@pytest.mark.parametrize("mode, hint", [(488, True), (750, True), ("0999", False), ("rwx", False)])
def test_local_storage_refuses_a_mode_that_is_not_a_quoted_mode(mode, hint):
    messages = refusals("local_storage", {"local_storage_mode": mode})
    assert len(messages) == 1 and messages[0].startswith("local_storage_mode must be a quoted mode")
    assert ("YAML reads an unquoted 0750 as 488" in messages[0]) is hint


BK = "backup"


@pytest.mark.parametrize("variable, value, low, high, what", [
    ("backup_retention_keep", -1, 0, 10000, "backups, 0 for no count limit"),
    ("backup_retention_keep", "seven", 0, 10000, "backups, 0 for no count limit"),
    ("backup_retention_days", -1, 0, 36500, "days, 0 for no age limit"),
    ("backup_retention_days", 10 ** 6, 0, 36500, "days, 0 for no age limit"),
    ("backup_timeout", 29, 30, 604800, "seconds"),
    ("backup_start_timeout", 0, 10, 86400, "seconds"),
    ("backup_run_as_user", 0, 1, 2147483647, "a user ID other than root"),
])
def test_backup_refuses_a_number_outside_its_range(variable, value, low, high, what):
    expected = "%s is %s: it must be a whole number from %s to %s (%s). Nothing was changed." % (
        variable, value, low, high, what)
    assert expected in refusals(BK, {variable: value})


@pytest.mark.parametrize("overrides, words", [
    ({"backup_databases": ["it", "x; DROP"]}, 'backup_databases holds "x; DROP"'),
    ({"__backup_run_name": "../etc"}, "backup_name '../etc'"),
    ({"backup_pvc_namespace": "Bad_NS"}, "backup_pvc_namespace 'Bad_NS'"),
    ({"backup_storage": "s3"}, "backup_storage is 's3'"),
    ({"backup_pvc_size": "lots"}, "backup_pvc_size 'lots'"),
    ({"backup_schedule": "every day"}, "backup_schedule 'every day' is neither a cron expression"),
    ({"backup_schedule": "0 3 * *"}, "backup_schedule '0 3 * *' is neither a cron expression"),
])
def test_backup_refuses_bad_names_and_options(overrides, words):
    assert any(words in m for m in refusals(BK, overrides)), refusals(BK, overrides)


@pytest.mark.parametrize("schedule", ["", "off", "0 3 * * *", "*/15 * * * 1-5", "@daily", "0 0 1 JAN *"])
def test_backup_accepts_schedules(schedule):
    assert refusals(BK, {"backup_schedule": schedule}) == []


@pytest.mark.parametrize("overrides, words", [
    ({"restore_timeout": 5}, "restore_timeout is 5"),
    ({"restore_start_timeout": 0}, "restore_start_timeout 0"),
    ({"restore_run_as_user": 0}, "restore_run_as_user is 0"),
    ({"__restore_name": "UPPER"}, "restore_backup_name"),
    ({"restore_source_namespace": "a/b"}, "the source 'a/b/db1'"),
])
def test_restore_refuses_bad_input(overrides, words):
    assert any(words in m for m in refusals("restore", overrides)), refusals("restore", overrides)


@pytest.mark.parametrize("overrides, words", [
    ({"replace_node_pod": "db1-1"}, "exactly one of replace_node_pod"),
    ({"replace_node_node": ""}, "exactly one of replace_node_pod"),
    ({"replace_node_engine": "cassandra"}, "Cassandra replacement is not supported yet"),
    ({"replace_node_pod": "Not_A_Pod", "replace_node_node": ""}, "pod 'Not_A_Pod'"),
    ({"replace_node_min_down": -1}, "replace_node_min_down must be a whole number of seconds (0 or more)"),
    ({"replace_node_min_down": "soon"}, "replace_node_min_down must be a whole number"),
    ({"replace_node_wait_timeout": 0}, "positive whole numbers of seconds"),
    ({"replace_node_poll_interval": 0}, "positive whole numbers of seconds"),
    ({"replace_node_poll_interval": 901}, "the interval no longer than the timeout"),
])
def test_replace_node_refuses_bad_input(overrides, words):
    messages = refusals("replace_node", overrides)
    assert len(messages) == 1 and words in messages[0] and messages[0].endswith("Nothing was done.")


@pytest.mark.parametrize("overrides", [{"replace_node_min_down": 0}, {"replace_node_poll_interval": 900},
                                       {"replace_node_engine": "mysql"}])
def test_replace_node_accepts_the_bounds(overrides):
    assert refusals("replace_node", overrides) == []
