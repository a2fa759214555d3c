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
