# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/integration/run.sh sweeps what an interrupted run of a target left, by names that start with its namespace;
a target whose namespace starts the same (teardown, teardown_crdb) must never lose its objects to that sweep."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUN_SH = os.path.join(ROOT, "tests", "integration", "run.sh")


def of_other_target(targets_dir, ns, name, suffix=""):
    script = ('targets_dir="$1"; source <(sed -n "/^of_other_target()/,/^}/p" "$2"); '
              'of_other_target "$3" "$4" && echo other || echo own')
    env = dict(os.environ, DOK_IT_NS_SUFFIX=suffix)
    out = subprocess.run(["bash", "-c", script, "x", str(targets_dir), RUN_SH, ns, name],
                         capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


@pytest.fixture
def targets(tmp_path):
    for name in ("teardown", "teardown_crdb", "crdb_scale"):
        (tmp_path / name).mkdir()
    return tmp_path


@pytest.mark.parametrize("ns, name, owner", [
    ("dok-it-teardown", "dok-it-teardown-dok-node-2-da9a1efbed", "own"),
    ("dok-it-teardown", "dok-it-teardown-foreign", "own"),
    ("dok-it-teardown", "dok-it-teardown-crdb-dok-node-0-f67a51f9b8", "other"),
    ("dok-it-teardown", "dok-it-teardown-crdb-1", "other"),
    ("dok-it-teardown", "dok-it-teardown-crdb", "other"),
    ("dok-it-teardown-crdb", "dok-it-teardown-crdb-1", "own"),
    ("dok-it-crdb-scale", "dok-it-crdb-scale-3", "own"),
])
def test_sweep_leaves_the_names_of_a_longer_namespace_alone(targets, ns, name, owner):
    assert of_other_target(targets, ns, name) == owner


def test_the_tag_of_a_shared_cluster_is_part_of_both_namespaces(targets):
    assert of_other_target(targets, "dok-it-me-teardown", "dok-it-me-teardown-crdb-0", suffix="-me") == "other"
    assert of_other_target(targets, "dok-it-me-teardown", "dok-it-me-teardown-spare", suffix="-me") == "own"
