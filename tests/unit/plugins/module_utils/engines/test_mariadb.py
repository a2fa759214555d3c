"""MariaDB adapter on output recorded from dok.test/mariadb:10.11 (fixtures/mariadb/recorded_10.11.yml).

The status script runs in a real ``sh`` here, with stand-ins for mariadb-admin and mariadb that replay the recorded
output of each command, so the tests cover the script's layout as well as its parser.
"""
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import (
    MARK, MariaDBAdapter, client_for, parse_probe, split_status,
)
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    CommandError, NotApplicableError, ParseError, PreconditionError, WaitTimeout,
)
from ansible_collections.dok.databases.plugins.module_utils.node_status import node_status

from engine_fixtures import load

CASES = yaml.safe_load(load("mariadb", "recorded_10.11.yml"))
PODS = [{"name": "db-0", "ordinal": 0, "ready": True}]


def result(name):
    case = CASES[name]
    return CommandResult(case["rc"], case["stdout"], case["stderr"])


SH = shutil.which("sh")
STUB = """#!%s
printf '%%s' "$MYSQL_PWD" > "$0.password"
cat "$0.stdout"; cat "$0.stderr" >&2; exit $(cat "$0.rc")
"""


def replay(path, name, case):
    """A stand-in for the binary `name` in directory `path` that prints the recorded case."""
    for suffix, value in ((".stdout", case["stdout"]), (".stderr", case["stderr"]), (".rc", str(case["rc"]))):
        with open(os.path.join(path, name + suffix), "w", encoding="utf-8") as handle:
            handle.write(value)
    with open(os.path.join(path, name), "w", encoding="utf-8") as handle:
        handle.write(STUB % SH)
    os.chmod(os.path.join(path, name), 0o755)


def scripted(ping, probe, calls=None, tmp=None, binaries=("mariadb-admin", "mariadb"), env=None):
    """A run() that execs argv in sh with the admin and client replaying the recorded cases (None: no such binary)."""
    tmp = tmp or scripted.tmp
    for name, case in zip(binaries, (ping, probe)):
        if case is not None:
            replay(tmp, name, CASES[case])

    def run(pod, argv, timeout=None):
        if calls is not None:
            calls.append(list(argv))
        environ = dict(env if env is not None else {"MARIADB_ROOT_PASSWORD": "s3cret-pw"},
                       PATH="%s:%s" % (tmp, os.path.dirname(SH)))
        done = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=60, check=False)
        return CommandResult(done.returncode, done.stdout, done.stderr)
    return run


@pytest.fixture(autouse=True)
def stub_dir(tmp_path):
    scripted.tmp = str(tmp_path)
    yield str(tmp_path)


class Ops(object):
    """The slice of the ops interface node status uses: one Ready pod, a simulated clock, every exec recorded."""

    def __init__(self, run):
        self._run, self.execs, self.clock = run, [], 0.0

    def pods(self):
        return PODS

    def describe(self):
        return "StatefulSet db (namespace ns)"

    def expected_nodes(self):
        return 1

    def run(self, pod, argv, timeout=None):
        self.execs.append((pod, argv[4:6], timeout))
        return self._run(pod, argv, timeout)

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds


def test_one_call_is_one_exec_per_poll():
    ops = Ops(scripted("ping_alive", "probe_ok"))
    result = node_status(ops, MariaDBAdapter({"exec_timeout": 30}), {"wait_for": "healthy", "wait_timeout": 60})
    assert result["summary"]["healthy"] and result["polls"] == 1
    assert ops.execs == [("db-0", ["mariadb-admin", "mariadb"], 60)]
    assert result["command"][:2] == ["sh", "-c"]


def test_a_wait_costs_one_exec_per_poll():
    ops = Ops(scripted("ping_refused_tcp", "probe_ok"))
    with pytest.raises(WaitTimeout) as err:
        node_status(ops, MariaDBAdapter({}), {"wait_for": "healthy", "wait_timeout": 10, "poll_interval": 5})
    assert err.value.details["polls"] == 3 and len(ops.execs) == 3
    assert len(err.value.details["unmet_polls"]) == 3 and "Can't connect" in err.value.details["unmet_polls"][0]


def test_the_password_reaches_both_commands_through_the_environment_only(stub_dir):
    calls = []
    MariaDBAdapter({}).status(scripted("ping_alive", "probe_ok", calls), "db-0", PODS)
    assert len(calls) == 1 and "s3cret-pw" not in " ".join(calls[0])
    for name in ("mariadb-admin", "mariadb"):
        with open(os.path.join(stub_dir, name + ".password"), encoding="utf-8") as handle:
            assert handle.read() == "s3cret-pw"


def test_the_probe_does_not_run_after_a_ping_that_did_not_answer(stub_dir):
    MariaDBAdapter({}).status(scripted("ping_refused_tcp", "probe_ok"), "db-0", PODS)
    assert not os.path.exists(os.path.join(stub_dir, "mariadb.password"))


def test_the_password_file_twin_is_read_inside_the_pod(stub_dir):
    with open(os.path.join(stub_dir, "pw"), "w", encoding="utf-8") as handle:
        handle.write("from-file")
    run = scripted("ping_alive", "probe_ok", env={"MARIADB_ROOT_PASSWORD_FILE": os.path.join(stub_dir, "pw")})
    MariaDBAdapter({}).status(run, "db-0", PODS)
    with open(os.path.join(stub_dir, "mariadb.password"), encoding="utf-8") as handle:
        assert handle.read() == "from-file"


def test_each_step_keeps_its_own_exit_code_and_output():
    run = scripted("ping_alive", "probe_refused_tcp")
    steps = split_status(run("db-0", MariaDBAdapter({}).status_argv()), "db-0")
    assert steps["ping"] == CommandResult(0, "mysqld is alive", "")
    assert steps["probe"] == CommandResult(1, "", CASES["probe_refused_tcp"]["stderr"])


@pytest.mark.parametrize("stdout,stderr,rc,found", [
    ("", "", 0, "no '%s' section at all" % MARK),
    ("10.11.18\t0\n1\n", "", 0, "no '%s' section at all" % MARK),
    ("%s ping 0\nmysqld is alive\n" % MARK, "%s ping\n" % MARK, 137, "the sections ['ping']"),
    ("%s probe 0\n%s end\n" % (MARK, MARK), "%s probe\n\n%s end\n" % (MARK, MARK), 0, "the sections ['probe', 'end']"),
    ("%s ping 0\n%s ping 0\n%s end\n" % (MARK, MARK, MARK), "", 0, "the sections ['ping', 'ping', 'end']"),
    ("%s ping 0\n%s pong 0\n%s end\n" % (MARK, MARK, MARK), "", 0, "an unknown mark"),
    ("noise\n%s ping 0\n%s end\n" % (MARK, MARK), "", 0, "'noise' outside the sections"),
    ("%s ping 1\n\n%s end\n" % (MARK, MARK), "%s ping\nx" % MARK, 0, "error output whose marks"),
    ("%s ping 1\n\n%s end\n" % (MARK, MARK), "%s ping\n\n%s end\nmore" % (MARK, MARK), 0, "error output whose marks"),
    ("%s ping 1\n\n%s end\n" % (MARK, MARK), "%s ping\n\n%s end\n" % (MARK, MARK), 2, "still exit code 2"),
])
def test_garbled_output_is_an_error_that_quotes_it(stdout, stderr, rc, found):
    with pytest.raises(ParseError) as err:
        split_status(CommandResult(rc, stdout, stderr), "db-0")
    assert found in err.value.msg and "status script in pod db-0" in err.value.msg


def test_an_exec_that_never_ran_the_script_is_the_pings_failure():
    failed = CommandResult(126, "", "OCI runtime exec failed: exec failed: sh: no such file or directory")
    assert split_status(failed, "db-0") == {"ping": failed, "probe": None}
    with pytest.raises(CommandError) as err:
        MariaDBAdapter({}).status(lambda pod, argv, timeout=None: failed, "db-0", PODS)
    assert "mariadb-admin ping failed in pod db-0 with exit code 126" in err.value.msg


def test_a_ping_that_answered_without_a_probe_section_is_an_error():
    text = "%s ping 0\nmysqld is alive\n%s end\n" % (MARK, MARK)
    with pytest.raises(ParseError) as err:
        MariaDBAdapter({}).status(lambda pod, argv, timeout=None: CommandResult(
            0, text, "%s ping\n\n%s end\n" % (MARK, MARK)), "db-0", PODS)
    assert "no probe section" in err.value.msg


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
        MariaDBAdapter({"binary": "no-such-admin"}).status(
            scripted(None, "probe_ok", binaries=("no-such-admin", "no-such")), "db-0", PODS)
    assert "exit code 127" in err.value.msg and "does not exist in that container" in err.value.msg
    assert err.value.details["command"][4] == "no-such-admin"


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
