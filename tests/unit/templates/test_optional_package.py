# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Without kubernetes-validate every template test still runs: the schema tests fail, none is skipped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import sys

import pytest

from .db_cluster_render import ROOT

TEMPLATE_TESTS = "tests/unit/templates/test_db_cluster_templates.py"
PLAIN = TEMPLATE_TESTS + "::test_contract_names[mariadb-statefulset]"
SCHEMA = TEMPLATE_TESTS + "::test_every_object_validates_strictly[mariadb-statefulset-1.34.0]"


@pytest.fixture(name="hidden_package")
def fixture_hidden_package(tmp_path):
    """An environment in which `import kubernetes_validate` raises ImportError, as where it is not installed."""
    (tmp_path / "kubernetes_validate.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'kubernetes_validate'\", name='kubernetes_validate')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return env


def pytest_run(env, *args):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"] + list(args),
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def outcome_counts(output):
    summary = output.strip().splitlines()[-1]
    return {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}


def test_every_template_test_is_collected_without_the_package(hidden_package):
    dummy, with_package = pytest_run(dict(os.environ), "--collect-only", TEMPLATE_TESTS)
    dummy, without = pytest_run(hidden_package, "--collect-only", TEMPLATE_TESTS)
    assert "skipped" not in without, without
    collected = outcome_counts(with_package).get("tests") or outcome_counts(with_package).get("test")
    assert collected and collected > 50, with_package
    assert outcome_counts(without) == outcome_counts(with_package), without


def test_without_the_package_plain_tests_pass_and_schema_tests_fail(hidden_package):
    rc, output = pytest_run(hidden_package, "-rA", PLAIN, SCHEMA)
    counts = outcome_counts(output)
    assert rc == 1, output
    assert counts.get("passed") == 1 and "skipped" not in counts, output
    assert counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0) == 1, output
    assert "requirements-dev.txt" in output, output
    assert re.search(r"PASSED .*test_contract_names\[mariadb-statefulset\]", output), output
