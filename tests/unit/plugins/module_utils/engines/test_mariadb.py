"""MariaDB adapter on output recorded from dok.test/mariadb:10.11 (fixtures/mariadb/recorded_10.11.yml)."""
import pytest
import yaml

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import MariaDBAdapter, client_for, parse_probe
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    CommandError, NotApplicableError, ParseError, PreconditionError,
)

from engine_fixtures import load

CASES = yaml.safe_load(load("mariadb", "recorded_10.11.yml"))
PODS = [{"name": "db-0", "ordinal": 0, "ready": True}]


def result(name):
    case = CASES[name]
    return CommandResult(case["rc"], case["stdout"], case["stderr"])


def scripted(ping, probe, calls=None):
    def run(pod, argv, timeout=None):
        if calls is not None:
            calls.append(list(argv))
        return result(ping) if "ping" in argv else result(probe)
    return run


def test_recorded_argv_is_what_the_adapter_builds():
    adapter = MariaDBAdapter({})
    assert CASES["ping_alive"]["command"] == adapter.ping_argv()
    assert CASES["probe_ok"]["command"] == adapter.probe_argv()
    assert CASES["ping_access_denied"]["command"] == MariaDBAdapter({"login_password_env": "NO_SUCH_VAR"}).ping_argv()
    assert CASES["ping_mysqladmin"]["command"] == MariaDBAdapter({"binary": "mysqladmin"}).ping_argv()


def test_healthy_server():
    nodes = MariaDBAdapter({}).status(scripted("ping_alive", "probe_ok"), "db-0", PODS)
    assert nodes[0] == dict(nodes[0], id="db-0", pod="db-0", ordinal=0, is_live=True, is_available=True,
                            state="live", version="10.11.18-MariaDB-0+deb12u1", read_only=False)
    summary = MariaDBAdapter({}).summarize(nodes, expected_nodes=1)
    assert summary["healthy"] is True and (summary["live"], summary["dead"]) == (1, 0)


def test_read_only_server_is_not_available():
    adapter = MariaDBAdapter({})
    nodes = adapter.status(scripted("ping_alive", "probe_read_only"), "db-0", PODS)
    assert (nodes[0]["is_live"], nodes[0]["is_available"], nodes[0]["state"]) == (True, False, "read_only")
    assert "does not accept writes (read_only=True)" in adapter.summarize(nodes)["reasons"][0]


@pytest.mark.parametrize("ping", ["ping_refused_tcp", "ping_no_socket"])
def test_server_not_answering_is_a_status_not_an_error(ping):
    adapter = MariaDBAdapter({})
    nodes = adapter.status(scripted(ping, "probe_ok"), "db-0", PODS)
    assert (nodes[0]["is_live"], nodes[0]["state"]) == (False, "down")
    summary = adapter.summarize(nodes, expected_nodes=1)
    assert summary["healthy"] is False and "does not answer" in summary["reasons"][0]
    assert "Can't connect" in summary["reasons"][0]


def test_probe_refused_after_ping_is_down_too():
    nodes = MariaDBAdapter({}).status(scripted("ping_alive", "probe_refused_tcp"), "db-0", PODS)
    assert nodes[0]["is_available"] is False and "Can't connect" in nodes[0]["error"]


@pytest.mark.parametrize("ping,probe", [("ping_access_denied", "probe_ok"), ("ping_alive", "probe_access_denied")])
def test_wrong_credentials_raise(ping, probe):
    with pytest.raises(CommandError) as err:
        MariaDBAdapter({}).status(scripted(ping, probe), "db-0", PODS)
    assert "Authentication failed" in err.value.msg and "Access denied" in err.value.msg
    assert "login_password_env" in err.value.msg


def test_missing_binary_raises():
    with pytest.raises(CommandError) as err:
        MariaDBAdapter({"binary": "no-such-admin"}).status(scripted("ping_missing_binary", "probe_ok"), "db-0", PODS)
    assert "exit code 127" in err.value.msg and "does not exist in that container" in err.value.msg


@pytest.mark.parametrize("params,expected", [
    ({}, ["mariadb-admin", "--user=root", "ping"]),
    ({"login_user": "app", "host": "db.example", "port": 3307},
     ["mariadb-admin", "--user=app", "--host=db.example", "--port=3307", "ping"]),
    ({"port": 3307}, ["mariadb-admin", "--user=root", "--port=3307", "ping"]),
])
def test_ping_argv_has_no_password(params, expected):
    argv = MariaDBAdapter(dict(params, login_password="s3cret")).ping_argv()
    assert argv[4:] == expected and "s3cret" not in " ".join(argv)
    assert 'MYSQL_PWD="$pw"' in argv[2]


@pytest.mark.parametrize("env", ["A B", "X;rm -rf /", "1ABC", "$(id)", ""])
def test_unsafe_password_env_names_are_refused(env):
    with pytest.raises(PreconditionError):
        MariaDBAdapter({"login_password_env": env or "-"}).ping_argv()


@pytest.mark.parametrize("admin,client", [
    ("mariadb-admin", "mariadb"), ("mysqladmin", "mysql"), ("/usr/bin/mariadb-admin", "/usr/bin/mariadb"),
])
def test_client_for(admin, client):
    assert client_for(admin) == client


@pytest.mark.parametrize("text", ["", "garbage\n"])
def test_probe_parse_errors(text):
    with pytest.raises(ParseError):
        parse_probe(text)


def test_decommission_not_applicable():
    with pytest.raises(NotApplicableError) as err:
        MariaDBAdapter({}).decommission_groups([])
    assert "single server" in err.value.msg
