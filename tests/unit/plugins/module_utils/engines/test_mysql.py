"""The mysql engine runs MySQL's client names (mysqladmin, mysql); the mariadb engine keeps MariaDB's."""
import pytest

from ansible_collections.dok.databases.plugins.module_utils.engines import get_engine
from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import ENGINE_FACTS, MARK
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError

PODS = [{"name": "db-0", "ordinal": 0, "ready": True}]
# What the status script prints when mysqladmin answers and the probe writes (its layout: mariadb.STATUS_SCRIPT).
STATUS_OK = CommandResult(0, "{0} ping 0\nmysqld is alive\n{0} probe 0\n8.4.6\t0\n1\n{0} end\n".format(MARK),
                          "{0} ping\n\n{0} probe\n\n{0} end\n".format(MARK))


def binary_of(argv):
    """The program the sh -c wrapper execs: argv is [sh, -c, script, sh, <program>, args...]."""
    assert argv[:2] == ["sh", "-c"] and argv[3] == "sh"
    return argv[4]


@pytest.mark.parametrize("engine,admin,client,password_env", [
    ("mysql", "mysqladmin", "mysql", "MYSQL_ROOT_PASSWORD"),
    ("mariadb", "mariadb-admin", "mariadb", "MARIADB_ROOT_PASSWORD"),
])
def test_each_engine_runs_its_own_client_names(engine, admin, client, password_env):
    adapter = get_engine(engine, {})
    assert (adapter.name, adapter.engine) == ("mariadb", engine)
    assert binary_of(adapter.ping_argv()) == admin and adapter.ping_argv()[5:] == ["--user=root", "ping"]
    assert binary_of(adapter.probe_argv()) == client and adapter.probe_argv()[5:8] == ["--user=root", "-N", "-B"]
    for argv in (adapter.ping_argv(), adapter.probe_argv()):
        assert '"${%s}"' % password_env in argv[2] and 'MYSQL_PWD="$pw" exec' in argv[2]


def test_mysql_container_is_named_after_the_engine_like_db_cluster_names_it():
    assert get_engine("mysql", {}).container == "mysql"
    assert get_engine("mariadb", {}).container == "mariadb"


def test_the_engine_facts_are_one_table():
    assert ENGINE_FACTS["mysql"] == {"admin": "mysqladmin", "client": "mysql", "container": "mysql",
                                     "password_env": "MYSQL_ROOT_PASSWORD", "server": "MySQL"}
    assert ENGINE_FACTS["mariadb"]["admin"] == "mariadb-admin" and ENGINE_FACTS["mariadb"]["client"] == "mariadb"


@pytest.mark.parametrize("engine", ["mysql", "mariadb"])
def test_password_never_in_argv(engine):
    adapter = get_engine(engine, {"login_password": "s3cret-pw", "login_password_env": "DB_PW"})
    for argv in (adapter.ping_argv(), adapter.probe_argv()):
        assert "s3cret-pw" not in " ".join(argv) and not any(a.startswith("--password") for a in argv)
        assert '"${DB_PW}"' in argv[2]


@pytest.mark.parametrize("binary,client", [("mariadb-admin", "mariadb"), ("/opt/mysql/bin/mysqladmin",
                                                                          "/opt/mysql/bin/mysql")])
def test_an_explicit_binary_still_wins_and_brings_its_client(binary, client):
    adapter = get_engine("mysql", {"binary": binary})
    assert binary_of(adapter.ping_argv()) == binary and binary_of(adapter.probe_argv()) == client


def test_mysql_status_runs_mysqladmin_then_mysql_in_one_exec_and_reports_mysql():
    calls = []

    def run(pod, argv, timeout=None):
        calls.append(list(argv))
        return STATUS_OK

    adapter = get_engine("mysql", {})
    nodes = adapter.status(run, "db-0", PODS)
    assert len(calls) == 1 and calls[0][4:6] == ["mysqladmin", "mysql"]
    assert '"${MYSQL_ROOT_PASSWORD}"' in calls[0][2] and calls[0][7:] == ["--user=root"]
    assert (nodes[0]["is_live"], nodes[0]["is_available"], nodes[0]["version"]) == (True, True, "8.4.6")
    down = dict(nodes[0], is_live=False, is_available=False, error="x")
    assert adapter.summarize([down])["reasons"][0].startswith("MySQL in pod db-0 does not answer")


def test_mysql_errors_name_the_mysql_binary():
    def run(pod, argv, timeout=None):
        return CommandResult(127, "", "sh: 1: exec: mysqladmin: not found")

    with pytest.raises(CommandError) as err:
        get_engine("mysql", {}).status(run, "db-0", PODS)
    assert err.value.msg.startswith("mysqladmin ping failed in pod db-0 with exit code 127")
    assert binary_of(err.value.details["command"]) == "mysqladmin"
