# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib.util
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "scripts", "matrix.py")


def load_matrix_script():
    spec = importlib.util.spec_from_file_location("matrix_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


matrix_script = load_matrix_script()


@pytest.fixture(scope="module")
def real_matrix():
    with open(os.path.join(ROOT, "docs", "matrix.yml")) as f:
        return yaml.safe_load(f)


@pytest.fixture
def targets(tmp_path):
    """A targets directory: `runs` (selected), `off` (disabled), `later` (unproven), `quiet` (not selected)."""
    for name, aliases in (("runs", "mariadb\n"), ("off", "# shared setup\ndisabled\n"), ("later", "unproven # why\n"),
                          ("quiet", "mariadb\n"), ("more", "mariadb\nextended\n")):
        os.makedirs(str(tmp_path / name / "tasks"))
        (tmp_path / name / "tasks" / "main.yml").write_text("---\n")
        (tmp_path / name / "aliases").write_text(aliases)
    return str(tmp_path), {"runs", "more"}


def small_matrix():
    cell = {"status": "real", "targets": ["runs"]}
    return {
        "engines": [{"key": e, "title": e.title()} for e in matrix_script.ENGINES],
        "operations": [{"key": o, "title": o, "content": "x", "cells": {e: dict(cell) for e in matrix_script.ENGINES}}
                       for o in matrix_script.OPERATIONS],
    }


def set_cell(matrix, op, engine, cell):
    changed = copy.deepcopy(matrix)
    next(o for o in changed["operations"] if o["key"] == op)["cells"][engine] = cell
    return changed


def test_the_repository_check_passes():
    """README.md agrees with docs/matrix.yml and every claim is backed by a target `make test` runs."""
    result = subprocess.run([sys.executable, SCRIPT, "--check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_repository_matrix_is_valid_against_the_real_targets(real_matrix):
    selected = matrix_script.selected_targets(ROOT)
    assert "crdb_cluster" in selected and "setup_crdb_double" not in selected
    assert matrix_script.validate(real_matrix, os.path.join(ROOT, "tests", "integration", "targets"), selected) == []


def test_a_valid_small_matrix_has_no_problem(targets):
    assert matrix_script.validate(small_matrix(), *targets) == []


@pytest.mark.parametrize("status", ["real", "double"])
def test_a_proven_cell_without_target_fails(targets, status):
    problems = matrix_script.validate(set_cell(small_matrix(), "scale", "mysql", {"status": status}), *targets)
    assert problems == ["scale/mysql: status %s names no target; name the integration targets that prove it or say "
                        "untested" % status]


@pytest.mark.parametrize("target, found", [
    ("nowhere", "target nowhere does not exist"),
    ("off", "target off is disabled"),
    ("later", "target later is unproven"),
    ("quiet", "target quiet is not selected by tests/integration/run.sh --all --list"),
])
def test_a_target_that_make_test_does_not_run_fails(targets, target, found):
    cell = {"status": "double", "targets": ["runs", target]}
    problems = matrix_script.validate(set_cell(small_matrix(), "deploy", "kaiwudb", cell), *targets)
    assert len(problems) == 1 and problems[0].startswith("deploy/kaiwudb: " + found), problems


def test_a_cell_proven_only_by_the_extended_tier_fails(targets):
    """`make test` leaves the extended tier out: a cell must name a target that it runs."""
    problems = matrix_script.validate(set_cell(small_matrix(), "scale", "cassandra",
                                               {"status": "real", "targets": ["more"]}), *targets)
    assert len(problems) == 1 and "scale/cassandra: every target named (more) is in the extended tier" in problems[0]
    assert matrix_script.validate(set_cell(small_matrix(), "scale", "cassandra",
                                           {"status": "real", "targets": ["more", "runs"]}), *targets) == []


def test_extended_targets_are_marked_in_the_table(targets):
    extended = matrix_script.extended_targets(targets[0])
    assert extended == {"more"}
    assert matrix_script.render_cell({"status": "real", "targets": ["runs", "more"]}, extended) == "real: `runs`, `more`*"


def test_a_refusal_target_is_checked_too(targets):
    cell = {"status": "unsupported", "reason": "single node", "targets": ["off"]}
    problems = matrix_script.validate(set_cell(small_matrix(), "decommission", "mariadb", cell), *targets)
    assert len(problems) == 1 and "target off is disabled" in problems[0]


def test_a_missing_engine_operation_or_cell_fails(targets):
    matrix = small_matrix()
    matrix["engines"] = [e for e in matrix["engines"] if e["key"] != "mysql"]
    matrix["operations"] = [o for o in matrix["operations"] if o["key"] != "failover_test"]
    del matrix["operations"][0]["cells"]["cassandra"]
    problems = matrix_script.validate(matrix, *targets)
    assert "engines: mysql is missing; add {key: mysql, title: ...}" in problems
    assert "operations: failover_test is missing; add it with a cell for every engine" in problems
    assert any(p.startswith("local_pv/cassandra: no cell") for p in problems), problems
    assert len(problems) == 3


@pytest.mark.parametrize("cell, found", [
    ({"status": "yes"}, "status 'yes' is not one of"),
    ({"status": "unsupported"}, "status unsupported gives no reason"),
    ({"status": "rendered"}, "status rendered names no unit test"),
    ({"status": "rendered", "unit": ["tests/unit/nowhere.py"]}, "unit test tests/unit/nowhere.py does not exist"),
    ({"status": "untested", "targets": ["runs"]}, "status untested but names targets runs"),
])
def test_a_malformed_cell_fails(targets, cell, found):
    problems = matrix_script.validate(set_cell(small_matrix(), "teardown", "cassandra", cell), *targets)
    assert len(problems) == 1 and found in problems[0], problems


def test_cells_show_status_reason_note_and_targets():
    assert matrix_script.render_cell({"status": "real", "targets": ["a", "b"], "note": "n"}) == "real (n): `a`, `b`"
    assert matrix_script.render_cell({"status": "unsupported", "reason": "r"}) == "unsupported (r)"
    assert matrix_script.render_cell({"status": "untested"}) == "untested"


def test_only_the_lines_between_the_markers_change():
    readme = "# Title\n\nhand\n%s\nold table\n%s\nmore hand\n" % (matrix_script.BEGIN, matrix_script.END)
    assert matrix_script.splice(readme, ["| new |"]) == (
        "# Title\n\nhand\n%s\n| new |\n%s\nmore hand\n" % (matrix_script.BEGIN, matrix_script.END))
    with pytest.raises(ValueError, match="must hold the line"):
        matrix_script.splice("no markers\n", ["| new |"])


def test_check_fails_when_the_readme_differs_and_rendering_fixes_it(tmp_path):
    """--check on a copy whose table was edited by hand fails and changes nothing; rendering makes it pass."""
    root = tmp_path / "repo"
    for rel in ("docs", "tests/integration"):
        os.makedirs(str(root / rel))
    (root / "docs" / "matrix.yml").write_text(open(os.path.join(ROOT, "docs", "matrix.yml")).read())
    os.symlink(os.path.join(ROOT, "tests", "integration", "targets"), str(root / "tests" / "integration" / "targets"))
    os.symlink(os.path.join(ROOT, "tests", "integration", "run.sh"), str(root / "tests" / "integration" / "run.sh"))
    matrix = yaml.safe_load(open(os.path.join(ROOT, "docs", "matrix.yml")))
    for unit in {u for op in matrix["operations"] for cell in op["cells"].values() for u in cell.get("unit", [])}:
        if not (root / unit).parent.is_dir():
            os.makedirs(str((root / unit).parent))
        (root / unit).write_text("")
    good = open(os.path.join(ROOT, "README.md")).read()
    edited = good.replace("| Teardown | role `teardown` |", "| Teardown | role `teardown`, by hand |")
    assert edited != good
    (root / "README.md").write_text(edited)

    def run(*args):
        return subprocess.run([sys.executable, SCRIPT, "--root", str(root)] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)

    checked = run("--check")
    assert checked.returncode == 1
    assert "README.md's table differs from what docs/matrix.yml renders" in checked.stderr
    assert (root / "README.md").read_text() == edited
    assert run().returncode == 0
    assert (root / "README.md").read_text() == good
    assert run("--check").returncode == 0
