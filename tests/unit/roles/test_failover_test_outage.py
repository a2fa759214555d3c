# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outage arithmetic of the failover_test role (tasks/probe_stop.yml) over probe logs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROBE_STOP = os.path.join(ROOT, "roles", "failover_test", "tasks", "probe_stop.yml")

init_plugin_loader()


def outage_expression():
    with open(PROBE_STOP) as handle:
        tasks = yaml.safe_load(handle)
    task = next(t for t in tasks if t.get("name") == "Compute the outage from the probe log")
    return task["vars"]["__failover_test_outage_json"]


def outage(results, warmup=3):
    """`results` is a string of o (answered) and x (failed), one probe a second, each taking 0.1 s."""
    lines = ["probe %d %.1f %.1f %s %s" % (i, float(i), i + 0.1, "ok" if r == "o" else "err",
                                           "" if r == "o" else "timed out")
             for i, r in enumerate(results)]
    variables = {"__failover_test_probe_log": {"log_lines": ["starting"] + lines},
                 "failover_test_probe_warmup": warmup}
    templar = Templar(loader=DataLoader(), variables=variables)
    return json.loads(templar.template(trust_as_template(outage_expression())))


def test_one_window_then_answers():
    result = outage("ooxxooo")
    assert result["recovered"] is True
    assert result["outage_windows"] == 1
    assert result["outage_seconds"] == 2.1
    assert result["probes_failed"] == 2


def test_never_answered_again():
    result = outage("ooxxx")
    assert result["recovered"] is False
    assert result["outage_windows"] == 1


def test_too_few_answers_before_the_last_failure_is_not_a_recovery():
    result = outage("oxooxx", warmup=3)
    assert result["recovered"] is False


def test_a_failure_after_a_full_recovery_is_counted_but_is_not_a_lost_cluster():
    # The role stops the probe once `warmup` answers came in a row; a probe already in flight may still fail.
    result = outage("oxxooox", warmup=3)
    assert result["recovered"] is True
    assert result["outage_windows"] == 2
    assert result["probes_failed"] == 3
    assert result["outage_seconds"] == 2.1


def test_no_failure_at_all():
    result = outage("oooo")
    assert result == dict(result, recovered=True, outage_windows=0, outage_seconds=0.0, probes_failed=0, probes=4)
