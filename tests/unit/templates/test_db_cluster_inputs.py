# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster's numeric inputs and sizes: the range each must be in, named in one refusal before any change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from .db_cluster_render import CASES, ROLE, evaluate, load_tasks

MARIADB = CASES["mariadb-statefulset"]
COCKROACH = CASES["cockroachdb-insecure"]
CASSANDRA = CASES["cassandra-one-rack"]
RACKS = CASES["cassandra-racks"]


def errors(overrides):
    return evaluate(overrides, "{{ _db_cluster_input_errors }}")


def argument_specs():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as stream:
        return yaml.safe_load(stream)["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_defaults_and_every_case_are_in_range(case):
    assert errors(CASES[case]) == []


SECONDS = "a whole number from 1 to 86400 (seconds)"


@pytest.mark.parametrize("base, variable, value, message", [
    (MARIADB, "db_cluster_wait_timeout", 0, "db_cluster_wait_timeout is 0: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", -5, "db_cluster_wait_timeout is -5: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", "-5", "db_cluster_wait_timeout is -5: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", 1.5, "db_cluster_wait_timeout is 1.5: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", "ten", "db_cluster_wait_timeout is ten: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", True, "db_cluster_wait_timeout is True: it must be " + SECONDS),
    (MARIADB, "db_cluster_wait_timeout", 10 ** 9, "db_cluster_wait_timeout is 1000000000: it must be " + SECONDS),
    (MARIADB, "db_cluster_verify_timeout", 0, "db_cluster_verify_timeout is 0: it must be " + SECONDS),
    (MARIADB, "db_cluster_poll_interval", 0,
     "db_cluster_poll_interval is 0: it must be a whole number from 1 to 3600 (seconds)"),
    (COCKROACH, "db_cluster_cockroach_init_timeout", -1, "db_cluster_cockroach_init_timeout is -1: it must be " + SECONDS),
    (MARIADB, "db_cluster_port", 99999, "db_cluster_port is 99999: it must be a whole number from 1 to 65535 (a TCP port)"),
    (MARIADB, "db_cluster_port", 0, "db_cluster_port is 0: it must be a whole number from 1 to 65535 (a TCP port)"),
    (COCKROACH, "db_cluster_http_port", 70000,
     "db_cluster_http_port is 70000: it must be a whole number from 1 to 65535 (a TCP port)"),
    (MARIADB, "db_cluster_replicas", 0, "db_cluster_replicas is 0: it must be a whole number from 1 to 1000 (pods)"),
    (COCKROACH, "db_cluster_replicas", -3, "db_cluster_replicas is -3: it must be a whole number from 1 to 1000 (pods)"),
    (COCKROACH, "db_cluster_replicas", 5000,
     "db_cluster_replicas is 5000: it must be a whole number from 1 to 1000 (pods)"),
    (MARIADB, "db_cluster_termination_grace_period", 0,
     "db_cluster_termination_grace_period is 0: it must be " + SECONDS),
    (CASSANDRA, "db_cluster_cassandra_num_tokens", 0,
     "db_cluster_cassandra_num_tokens is 0: it must be a whole number from 1 to 1536 (tokens per node)"),
    (MARIADB, "db_cluster_mariadb_run_as_user", 0,
     "db_cluster_mariadb_run_as_user is 0: it must be a whole number from 1 to 2147483647 (a user ID other than root)"),
    (MARIADB, "db_cluster_mariadb_fs_group", -1,
     "db_cluster_mariadb_fs_group is -1: it must be a whole number from 0 to 2147483647 (a group ID)"),
    (MARIADB, "db_cluster_readiness_probe", {"periodSeconds": 0},
     "db_cluster_readiness_probe.periodSeconds is 0: it must be a whole number from 1 to 3600 (seconds)"),
    (MARIADB, "db_cluster_readiness_probe", {"timeoutSeconds": "0"},
     "db_cluster_readiness_probe.timeoutSeconds is 0: it must be a whole number from 1 to 3600 (seconds)"),
    (MARIADB, "db_cluster_readiness_probe", {"initialDelaySeconds": -1},
     "db_cluster_readiness_probe.initialDelaySeconds is -1: it must be a whole number from 0 to 3600 (seconds)"),
    (MARIADB, "db_cluster_readiness_probe", {"failureThreshold": 1000},
     "db_cluster_readiness_probe.failureThreshold is 1000: it must be a whole number from 1 to 100 (failed probes)"),
    (MARIADB, "db_cluster_storage_size", "0Gi",
     "db_cluster_storage_size is 0Gi: it must be a Kubernetes quantity above zero, e.g. 10Gi"),
    (MARIADB, "db_cluster_storage_size", "-1Gi",
     "db_cluster_storage_size is -1Gi: it must be a Kubernetes quantity above zero, e.g. 10Gi"),
    (MARIADB, "db_cluster_storage_size", "10 GB",
     "db_cluster_storage_size is 10 GB: it must be a Kubernetes quantity above zero, e.g. 10Gi"),
    (dict(MARIADB, db_cluster_wordpress_enabled=True), "db_cluster_wordpress_storage_size", "0",
     "db_cluster_wordpress_storage_size is 0: it must be a Kubernetes quantity above zero, e.g. 10Gi"),
    (CASSANDRA, "db_cluster_cassandra_max_heap_size", "0M",
     "db_cluster_cassandra_max_heap_size is 0M: it must be a Java heap size above zero, e.g. 512M or 4G"),
    (CASSANDRA, "db_cluster_cassandra_heap_newsize", "128MB",
     "db_cluster_cassandra_heap_newsize is 128MB: it must be a Java heap size above zero, e.g. 512M or 4G"),
    (COCKROACH, "db_cluster_cockroach_cache", "0%",
     "db_cluster_cockroach_cache is 0%: it must be a share of the memory above zero (e.g. 25% or .25) "
     "or a size (e.g. 2GiB)"),
    (COCKROACH, "db_cluster_cockroach_max_sql_memory", "150%",
     "db_cluster_cockroach_max_sql_memory is 150%: it must be a share of the memory above zero (e.g. 25% or .25) "
     "or a size (e.g. 2GiB)"),
])
def test_each_out_of_range_value_is_named_with_its_range(base, variable, value, message):
    assert errors(dict(base, **{variable: value})) == [message]


@pytest.mark.parametrize("base, variable, value", [
    (MARIADB, "db_cluster_wait_timeout", "600"),
    (MARIADB, "db_cluster_wait_timeout", 1),
    (MARIADB, "db_cluster_wait_timeout", 86400),
    (MARIADB, "db_cluster_port", 65535),
    (MARIADB, "db_cluster_port", "3307"),
    (MARIADB, "db_cluster_mariadb_fs_group", 0),
    (MARIADB, "db_cluster_readiness_probe", {"initialDelaySeconds": 0, "periodSeconds": "1"}),
    (MARIADB, "db_cluster_storage_size", "0.5Gi"),
    (MARIADB, "db_cluster_storage_size", "500M"),
    (COCKROACH, "db_cluster_replicas", 1000),
    (COCKROACH, "db_cluster_cockroach_cache", ".25"),
    (COCKROACH, "db_cluster_cockroach_cache", "100%"),
    (COCKROACH, "db_cluster_cockroach_max_sql_memory", "2GiB"),
    (CASSANDRA, "db_cluster_cassandra_max_heap_size", "4G"),
    (CASSANDRA, "db_cluster_cassandra_num_tokens", 1536),
])
def test_values_at_the_edges_and_numbers_as_strings_are_accepted(base, variable, value):
    assert errors(dict(base, **{variable: value})) == []


@pytest.mark.parametrize("base, variable, value", [
    (CASSANDRA, "db_cluster_mariadb_run_as_user", 0),
    (CASSANDRA, "db_cluster_http_port", 0),
    (CASSANDRA, "db_cluster_cockroach_init_timeout", 0),
    (MARIADB, "db_cluster_cassandra_num_tokens", 0),
    (MARIADB, "db_cluster_cockroach_cache", "0%"),
    (COCKROACH, "db_cluster_wordpress_storage_size", "0"),
])
def test_another_engines_settings_are_not_checked(base, variable, value):
    """A group_vars file may set one value for every cluster; only the engine's own settings matter."""
    assert errors(dict(base, **{variable: value})) == []


def test_every_bad_value_is_named_at_once():
    got = errors(dict(COCKROACH, db_cluster_wait_timeout=0, db_cluster_port=99999, db_cluster_replicas=0))
    assert [e.split(" ")[0] for e in got] == ["db_cluster_replicas", "db_cluster_port", "db_cluster_wait_timeout"]


def test_cassandra_rack_replicas_are_checked_per_rack():
    racks = [{"name": "r1", "replicas": 2}, {"name": "r2", "replicas": 0}, {"name": "r3", "replicas": "x"},
             {"name": "r4"}]
    assert errors(dict(RACKS, db_cluster_cassandra_racks=racks)) == [
        "db_cluster_cassandra_racks[r2].replicas is 0: it must be a whole number from 1 to 1000 (pods)",
        "db_cluster_cassandra_racks[r3].replicas is x: it must be a whole number from 1 to 1000 (pods)",
    ]


@pytest.mark.parametrize("base, ports, message", [
    (COCKROACH, {"db_cluster_port": 8080}, "db_cluster_port and db_cluster_http_port are both 8080"),
    (COCKROACH, {"db_cluster_http_port": 26257}, "db_cluster_port and db_cluster_http_port are both 26257"),
    (CASSANDRA, {"db_cluster_port": 7199}, "db_cluster_port 7199 is taken by jmx"),
    (CASSANDRA, {"db_cluster_port": 7000}, "db_cluster_port 7000 is taken by intra-node"),
])
def test_ports_that_collide_are_refused(base, ports, message):
    got = errors(dict(base, **ports))
    assert len(got) == 1 and got[0].startswith(message), got


def test_every_whole_number_option_has_a_range():
    """A new numeric variable in meta/argument_specs.yml must get its range in _db_cluster_number_rules."""
    options = argument_specs()
    numeric = sorted(name for name, spec in options.items() if spec.get("type") == "int")
    assert numeric
    rules = evaluate(COCKROACH, "{{ _db_cluster_number_rules | map(attribute='var') | list }}")
    assert sorted(set(numeric) - set(rules)) == []
    sub = options["db_cluster_readiness_probe"]["options"]
    assert all(spec["type"] == "int" for spec in sub.values())
    assert sorted("db_cluster_readiness_probe." + f for f in sub) == sorted(r for r in rules if "." in r)
    assert options["db_cluster_cassandra_racks"]["options"]["replicas"]["type"] == "int"


def validate(parameters):
    options = argument_specs()
    spec = {name: {k: v for k, v in option.items() if k != "description"} for name, option in options.items()}
    for option in spec.values():
        for sub in (option.get("options") or {}).values():
            sub.pop("description", None)
    return ArgumentSpecValidator(spec).validate(parameters)


def test_the_argument_specs_accept_the_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as stream:
        defaults = yaml.safe_load(stream)
    # a default read from the inventory's shared variables is templated before Ansible validates it
    defaults = {name: evaluate({}, value) if isinstance(value, str) and "{{" in value else value
                for name, value in defaults.items()}
    assert validate(defaults).error_messages == []


@pytest.mark.parametrize("parameters, fragment", [
    ({"db_cluster_wait_timeout": "ten"}, "argument 'db_cluster_wait_timeout' is of type str"),
    ({"db_cluster_port": "https"}, "argument 'db_cluster_port' is of type str"),
    ({"db_cluster_readiness_probe": {"periodSeconds": "often"}},
     "argument 'periodSeconds' is of type str found in 'db_cluster_readiness_probe'"),
    ({"db_cluster_readiness_probe": {"period": 5}}, "db_cluster_readiness_probe.period. Supported parameters include"),
    ({"db_cluster_cassandra_racks": [{"name": "r1", "replicas": "two"}]},
     "argument 'replicas' is of type str found in 'db_cluster_cassandra_racks'"),
    ({"db_cluster_cassandra_racks": [{"replicas": 2}]}, "missing required arguments: name"),
])
def test_the_argument_specs_refuse_wrong_types(parameters, fragment):
    messages = validate(parameters).error_messages
    assert messages and fragment in " ".join(messages), messages


def test_preflight_refuses_on_any_input_error():
    tasks = load_tasks("preflight.yml")
    checks = [t for t in tasks if "_db_cluster_input_errors" in str(t.get("ansible.builtin.assert", {}).get("that"))]
    assert len(checks) == 1
    check = checks[0]["ansible.builtin.assert"]
    assert check["that"].strip() == "_db_cluster_input_errors | length == 0"
    message = " ".join(evaluate(dict(MARIADB, db_cluster_wait_timeout=0, db_cluster_port=99999),
                                check["fail_msg"]).split())
    assert message == ("Invalid input: db_cluster_port is 99999: it must be a whole number from 1 to 65535 (a TCP port); "
                       "db_cluster_wait_timeout is 0: it must be " + SECONDS + ". Nothing was changed.")


# Hostile or malformed free text: each alone gets exactly one error that names its variable, before any change.
IMAGE = "it must be an image reference"
SECRET = "it must be a Secret name (lower-case DNS subdomain)"
PATH = "it must be an absolute path of letters, digits"
LOCALITY = "it must be key=value pairs separated by commas"
ARG = "each must be --flag or --flag=value"
HOSTILE = [
    (MARIADB, "db_cluster_image", "dok.test/mariadb:11.8\nkind: Pod", IMAGE),
    (MARIADB, "db_cluster_image", "mariadb:11.8 --privileged", IMAGE),
    (MARIADB, "db_cluster_image", "mariadb:11.8\"}, {\"name\": \"x", IMAGE),
    (MARIADB, "db_cluster_image", "MariaDB:11", IMAGE),
    (MARIADB, "db_cluster_image", "mariadb:" + "1" * 200, IMAGE),
    (MARIADB, "db_cluster_image", "mariadb:11;rm -rf /", IMAGE),
    (dict(MARIADB, db_cluster_wordpress_enabled=True), "db_cluster_wordpress_image", "wordpress:6\n  privileged: true",
     IMAGE),
    (MARIADB, "db_cluster_storage_class", "local\nprovisioner: x", "it must be a StorageClass name"),
    (MARIADB, "db_cluster_storage_class", "Local_Storage", "it must be a StorageClass name"),
    (MARIADB, "db_cluster_storage_class", "a" * 254, "it must be a StorageClass name"),
    (dict(MARIADB, db_cluster_mariadb_root_password=""), "db_cluster_mariadb_root_password_secret",
     "creds\n  namespace: kube-system", SECRET),
    (MARIADB, "db_cluster_mariadb_root_password_key", "root password", "it must be a Secret key"),
    (MARIADB, "db_cluster_mariadb_root_password_key", "pw\nkey: x", "it must be a Secret key"),
    (MARIADB, "db_cluster_mariadb_user", "root", "other than root"),
    (MARIADB, "db_cluster_mariadb_user", "wp'@'%'; DROP USER root", "it must be a user name"),
    (MARIADB, "db_cluster_mariadb_user", "u" * 81, "it must be a user name"),
    (dict(MARIADB, db_cluster_wordpress_enabled=True), "db_cluster_mariadb_database", "wp`; DROP DATABASE mysql",
     "it must be a database name"),
    (CASES["cockroachdb-tls-locality"], "db_cluster_cockroach_tls_secret", "certs; cat /etc/shadow", SECRET),
    (CASES["cockroachdb-tls-locality"], "db_cluster_cockroach_client_tls_secret", "Client", SECRET),
    (COCKROACH, "db_cluster_cockroach_data_dir", "/data; sh", PATH),
    (COCKROACH, "db_cluster_cockroach_data_dir", "relative/dir", PATH),
    (COCKROACH, "db_cluster_cockroach_certs_dir", "/certs\n    - name: evil", PATH),
    (COCKROACH, "db_cluster_cockroach_locality", "region=eu,zone=$(reboot)", LOCALITY),
    (COCKROACH, "db_cluster_cockroach_locality", "region=eu zone=a", LOCALITY),
    (COCKROACH, "db_cluster_cockroach_locality", "region", LOCALITY),
    (COCKROACH, "db_cluster_cockroach_extra_args", ["--max-offset=250ms; curl x | sh"], ARG),
    (COCKROACH, "db_cluster_cockroach_extra_args", ["--cache=1GiB", "`id`"], ARG),
    (COCKROACH, "db_cluster_cockroach_extra_args", ["--log-dir=/x\n  - evil"], ARG),
    (COCKROACH, "db_cluster_cockroach_extra_args", ["--listen-addr='0.0.0.0'"], ARG),
]


@pytest.mark.parametrize("base, variable, value, message", HOSTILE,
                         ids=["%s=%r" % (h[1], h[2])[:60] for h in HOSTILE])
def test_hostile_free_text_gets_one_error_naming_its_variable(base, variable, value, message):
    found = errors(dict(base, **{variable: value}))
    assert len(found) == 1, found
    name = "db_cluster_cockroach_extra_args has " if variable == "db_cluster_cockroach_extra_args" else variable + " is "
    assert found[0].startswith(name) and message in found[0], found


@pytest.mark.parametrize("base, variable, value", [
    (MARIADB, "db_cluster_image", "registry.example.com:5000/team/mariadb:11.8"),
    (MARIADB, "db_cluster_image", "mariadb@sha256:" + "a" * 64),
    (MARIADB, "db_cluster_image", "localhost/mariadb_custom__x:11.8-noble"),
    (MARIADB, "db_cluster_storage_class", "local-storage.example.com"),
    (MARIADB, "db_cluster_mariadb_root_password_key", "MARIADB_ROOT.password-1"),
    (MARIADB, "db_cluster_mariadb_user", "wp_app.prod-1"),
    (MARIADB, "db_cluster_mariadb_user", "rooted"),
    (MARIADB, "db_cluster_mariadb_database", "shop_$1"),
    (COCKROACH, "db_cluster_cockroach_locality", "region=eu-west-1,zone=eu-west-1a,rack=r_1"),
    (COCKROACH, "db_cluster_cockroach_extra_args", ["--max-offset=250ms", "--cluster-name=prod.eu",
                                                    "--attrs=ssd:fast", "--disable-max-offset-check"]),
    (COCKROACH, "db_cluster_cockroach_data_dir", "/cockroach/data-01"),
])
def test_ordinary_values_pass(base, variable, value):
    assert errors(dict(base, **{variable: value})) == []
