# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(ROOT, "roles")


def load_checker():
    spec = importlib.util.spec_from_file_location("check_role_argspecs", os.path.join(ROOT, "scripts", "check_role_argspecs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = load_checker()


def specs(**options):
    return {"argument_specs": {"main": {"short_description": "x", "options": options}}}


@pytest.mark.parametrize(
    "defaults, argument_specs",
    [
        ({}, specs()),
        ({"demo_name": "db"}, specs(demo_name={"type": "str", "default": "db"})),
        ({"demo_replicas": 3}, specs(demo_replicas={"type": "int", "default": 3})),
        ({"demo_labels": {}}, specs(demo_labels={"type": "dict", "default": {}})),
        ({"demo_service": "{{ demo_name }}-public"}, specs(demo_service={"type": "str", "default": "{{ demo_name }}-public"})),
        ({"demo_engine": "mariadb"}, specs(demo_engine={"type": "str", "default": "mariadb", "choices": ["mariadb", "cassandra"]})),
        ({"demo_password": None}, specs(demo_password={"type": "str", "no_log": True})),
        ({}, specs(demo_name={"type": "str", "required": True})),
    ],
)
def test_consistent_role_has_no_problems(defaults, argument_specs):
    assert checker.check_role("demo", defaults, argument_specs) == []


@pytest.mark.parametrize(
    "defaults, argument_specs, expected",
    [
        ({"demo_name": "db"}, specs(), "demo_name is not documented"),
        ({"name": "db"}, specs(name={"type": "str", "default": "db"}), "does not start with the role prefix 'demo_'"),
        ({"demo_name": "db"}, specs(demo_name={"type": "str", "default": "other"}), "documents default 'other', defaults/main.yml sets 'db'"),
        ({}, specs(demo_name={"type": "str", "default": "db"}), "defaults/main.yml has no demo_name"),
        ({"demo_name": "db"}, specs(demo_name={"type": "str"}), "has no 'default'"),
        ({"demo_name": "db"}, specs(demo_name={"type": "str", "required": True}), "is required but defaults/main.yml sets it"),
        ({"demo_replicas": "3"}, specs(demo_replicas={"type": "int", "default": "3"}), "is type int"),
        ({"demo_confirm": "yes"}, specs(demo_confirm={"type": "bool", "default": "yes"}), "is type bool"),
        ({"demo_engine": "oracle"}, specs(demo_engine={"type": "str", "default": "oracle", "choices": ["mariadb"]}), "not one of the choices"),
        ({"demo_x": 1}, specs(demo_x={"type": "integer", "default": 1}), "unknown type 'integer'"),
        ({}, {"argument_specs": {"other": {"options": {}}}}, "no 'main' entry point"),
        ({}, {"something": {}}, "expected a top-level 'argument_specs' mapping"),
        (["demo_name"], specs(), "expected a mapping of variables"),
    ],
)
def test_mismatch_is_reported(defaults, argument_specs, expected):
    problems = checker.check_role("demo", defaults, argument_specs)
    assert any(expected in problem for problem in problems), problems


def test_role_without_argument_specs_is_reported(tmp_path):
    (tmp_path / "demo" / "defaults").mkdir(parents=True)
    (tmp_path / "demo" / "defaults" / "main.yml").write_text("demo_name: db\n")
    assert checker.check_roles_dir(str(tmp_path)) == {"demo": ["meta/argument_specs.yml is missing; every role documents its variables there"]}


def test_main_exit_status(tmp_path, capsys):
    role = tmp_path / "demo"
    (role / "defaults").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "defaults" / "main.yml").write_text("demo_name: db\n")
    (role / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    options:\n      demo_name:\n        type: str\n        default: db\n"
    )
    assert checker.main([str(tmp_path)]) == 0
    (role / "defaults" / "main.yml").write_text("demo_name: other\n")
    assert checker.main([str(tmp_path)]) == 1
    assert "roles/demo/meta/argument_specs.yml: main.demo_name documents default 'db'" in capsys.readouterr().out


def repository_roles():
    if not os.path.isdir(ROLES):
        return []
    return sorted(name for name in os.listdir(ROLES) if os.path.isdir(os.path.join(ROLES, name)))


@pytest.mark.parametrize("role", repository_roles())
def test_repository_role_argument_specs_match_defaults(role):
    results = checker.check_roles_dir(ROLES)
    assert results.get(role, []) == []
