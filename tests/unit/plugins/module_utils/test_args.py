# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

import pytest
import yaml

from ansible_collections.dok.databases.plugins.doc_fragments.db_target import ModuleDocFragment
from ansible_collections.dok.databases.plugins.module_utils import args
from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

MODULES = {
    "db_node_status": args.node_status_argspec,
    "db_decommission": args.decommission_argspec,
    "local_pv": args.local_pv_argspec,
}


def documented_options(module_name):
    module = importlib.import_module("ansible_collections.dok.databases.plugins.modules.%s" % module_name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {})
    if "dok.databases.db_target" in doc.get("extends_documentation_fragment", []):
        options.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    return options


def compare(spec, docs, where):
    problems = []
    for name in sorted(set(spec) | set(docs)):
        if name not in docs or name not in spec:
            problems.append("%s.%s only in %s" % (where, name, "spec" if name in spec else "docs"))
            continue
        s, d = spec[name], docs[name]
        for key, default in (("type", "str"), ("default", None), ("choices", None), ("required", False),
                             ("aliases", None), ("elements", None)):
            if s.get(key, default) != d.get(key, default):
                problems.append("%s.%s %s: spec %r, docs %r"
                                % (where, name, key, s.get(key, default), d.get(key, default)))
        if "options" in s:
            problems += compare(s["options"], d.get("suboptions") or {}, "%s.%s" % (where, name))
    return problems


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_argspec_matches_documentation(module_name):
    spec = dict((k, v) for k, v in MODULES[module_name]().items() if k not in AUTH_ARG_SPEC)
    assert compare(spec, documented_options(module_name), module_name) == []


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_every_module_takes_the_kubernetes_core_auth_options(module_name):
    assert set(AUTH_ARG_SPEC) <= set(MODULES[module_name]())


def test_own_options_never_shadow_auth_options():
    with pytest.raises(ValueError) as err:
        args.with_auth({"host": {"type": "str"}})
    assert "host" in str(err.value)


def test_passwords_are_no_log():
    spec = args.node_status_argspec()
    assert spec["login_password"]["no_log"] is True
    assert spec["api_key"]["no_log"] is True


def test_engine_params_moves_db_host_and_refuses_inline_passwords():
    assert args.engine_params({"db_host": "db-0.db", "host": "https://api:6443"})["host"] == "db-0.db"
    with pytest.raises(PreconditionError) as err:
        args.engine_params({"db_host": "localhost", "login_password": "secret"})
    assert "login_password_env" in err.value.msg and "secret" not in err.value.msg


@pytest.mark.parametrize("values,needle", [
    ({"port": 99999}, "port must be between 1 and 65535, got 99999"),
    ({"port": 0}, "port must be between 1 and 65535, got 0"),
    ({"poll_interval": -1}, "poll_interval must be at least 1, got -1"),
    ({"poll_interval": 0}, "poll_interval must be at least 1, got 0"),
    ({"exec_timeout": 0}, "exec_timeout must be at least 1, got 0"),
    ({"replication_factor": 0}, "replication_factor must be at least 1, got 0"),
    ({"expected_nodes": 0}, "expected_nodes must be at least 1, got 0"),
    ({"wait_timeout": -5}, "wait_timeout must be at least 1, got -5"),
    ({"stall_timeout": 0}, "stall_timeout must be at least 1, got 0"),
    ({"replicas": -1}, "replicas must be at least 0, got -1"),
])
def test_engine_params_refuse_numbers_out_of_range(values, needle):
    with pytest.raises(PreconditionError) as err:
        args.engine_params(dict({"db_host": "localhost"}, **values))
    assert needle in err.value.msg and "Nothing was done" in err.value.msg


def test_engine_params_accept_the_defaults_and_unset_options():
    spec = args.decommission_argspec()
    defaults = dict((k, v.get("default")) for k, v in spec.items())
    assert args.engine_params(dict(defaults, db_host="localhost", port=None, replicas=0))["port"] is None


def test_assume_gone_is_an_option_of_db_decommission():
    assert args.decommission_argspec()["assume_gone"] == {"type": "list", "elements": "str", "default": []}
