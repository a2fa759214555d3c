"""Whether a CockroachDB/KaiwuDB upgrade waits to be finalized: the settings read strictly, the state and its drift,
on examples and as properties over generated settings and node builds."""
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.dok.databases.plugins.module_utils.errors import ParseError
from ansible_collections.dok.databases.plugins.module_utils.upgrade_state import (
    FINALIZED, FINALIZING, MARK, PENDING, SCRIPT, SETTINGS, UNKNOWN, drift, parse, release, state, unknown,
)


def output(version, preserve, quote_empty=False, crlf=False):
    """What SCRIPT prints: the CLI's csv of each SHOW CLUSTER SETTING after its marker."""
    empty = '""' if quote_empty else ""
    lines = [MARK + "version", "version", version,
             MARK + "cluster.preserve_downgrade_option", "cluster.preserve_downgrade_option", preserve or empty]
    return ("\r\n" if crlf else "\n").join(lines) + "\n"


def test_script_reads_both_settings_and_stops_on_a_failure():
    script = SCRIPT.format(sql="cockroach sql --certs-dir=/c --format=csv")
    for name in SETTINGS:
        assert "echo '%s%s'" % (MARK, name) in script
        assert "$T cockroach sql --certs-dir=/c --format=csv -e 'SHOW CLUSTER SETTING %s' || exit 1" % name in script
    assert script.startswith("T=; command -v timeout >/dev/null 2>&1 && T='timeout 60'; ")


@pytest.mark.parametrize("text,expected", [
    (output("23.1", "23.1"), {"version": "23.1", "cluster.preserve_downgrade_option": "23.1"}),
    (output("23.2", ""), {"version": "23.2", "cluster.preserve_downgrade_option": ""}),
    (output("23.2", "", quote_empty=True), {"version": "23.2", "cluster.preserve_downgrade_option": ""}),
    (output("22.2-38", "", crlf=True), {"version": "22.2-38", "cluster.preserve_downgrade_option": ""}),
    (output("22.2-upgrading-to-23.1-step-010", ""),
     {"version": "22.2-upgrading-to-23.1-step-010", "cluster.preserve_downgrade_option": ""}),
    # an empty value whose line the shell's capture dropped at the end of the output
    (MARK + "version\nversion\n2.0\n" + MARK + "cluster.preserve_downgrade_option\ncluster.preserve_downgrade_option\n",
     {"version": "2.0", "cluster.preserve_downgrade_option": ""}),
])
def test_parse_reads_the_cli_csv(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text,says", [
    ("", "has no value of version"),
    ("ERROR: cannot dial server.\n", "starts with"),
    (output("23.1", "23.1").replace(MARK + "cluster", MARK + "cluster.other"), "not asked for"),
    (output("23.1", "23.1") + MARK + "version\nversion\n23.1\n", "came twice"),
    (output("23.1", "23.1").replace("\nversion\n", "\nsetting\n", 1), "CSV header 'version'"),
    (output("23.1", "23.1").replace("\n23.1\n", "\n23.1\n23.2\n", 1), "2 rows"),
    (output("NULL", ""), "not one value"),
    (output("23.1,23.2", ""), "not one value"),
    (output('"23.1', ""), "not one value"),
    (output("v23.1.11", ""), "not a version this collection reads"),
    (output("twenty-three", ""), "not a version this collection reads"),
    (output("23.1", "yes"), "is not a version"),
    (MARK + "version\nversion\n23.1\n", "has no value of cluster.preserve_downgrade_option"),
])
def test_parse_refuses_what_it_cannot_read(text, says):
    with pytest.raises(ParseError) as err:
        parse(text)
    assert says in err.value.msg


def test_release_of_versions_and_builds():
    assert release("23.1") == (23, 1)
    assert release("22.2-38") == (22, 2)
    assert release("22.2-upgrading-to-23.1-step-010") == (22, 2)
    assert release("1000023.1") == (23, 1)
    assert release("v23.2.4") == (23, 2)
    assert release("v2.1.0") == (2, 1)
    assert release("v23.2.0-rc.1") == (23, 2)
    assert release("latest") is None
    assert release("") is None


def test_pending_after_an_upgrade_that_kept_the_downgrade_option():
    s = state({"version": "23.1", "cluster.preserve_downgrade_option": "23.1"}, ["v23.2.4"] * 3, name="crdb")
    assert s["state"] == PENDING and not s["finalize"]
    assert s["text"].startswith("crdb: the upgrade to 23.2 is not finalized")
    assert "downgrade to the 23.1 binaries is still possible" in s["text"]
    assert "set dok_finalize: true" in s["text"]
    item, = drift(s, "crdb")
    assert (item["field"], item["live"], item["action"]) == ("finalize", "23.1", "none")
    asked = state({"version": "23.1", "cluster.preserve_downgrade_option": "23.1"}, ["v23.2.4"], True, "crdb")
    assert asked["finalize"] and asked["text"].endswith("finalized now (db_cluster_finalize)")
    assert drift(asked, "crdb")[0]["action"] == "finalize"


def test_option_holding_the_next_upgrade_is_no_drift_but_is_reset_when_asked():
    s = state({"version": "23.1", "cluster.preserve_downgrade_option": "23.1"}, ["v23.1.11"], True)
    assert s["state"] == PENDING and s["finalize"]
    assert "no upgrade waits to be finalized" in s["text"]
    assert drift(s, "crdb") == []


def test_finalized_and_finalizing():
    done = state({"version": "23.2", "cluster.preserve_downgrade_option": ""}, ["v23.2.4"], True)
    assert done["state"] == FINALIZED and not done["finalize"] and drift(done, "x") == []
    going = state({"version": "23.1-upgrading-to-23.2-step-004", "cluster.preserve_downgrade_option": ""},
                  ["v23.2.4"])
    assert going["state"] == FINALIZING and "no longer possible" in going["text"]
    by_itself = state({"version": "23.1", "cluster.preserve_downgrade_option": ""}, ["v23.2.4"] * 3)
    assert by_itself["state"] == FINALIZING
    unprotected = state({"version": "23.1", "cluster.preserve_downgrade_option": ""}, ["v23.1.11", "v23.2.4"])
    assert unprotected["state"] == FINALIZING and "is not set" in unprotected["text"]
    assert drift(going, "x") == drift(by_itself, "x") == drift(unprotected, "x") == []


def test_unknown_is_said_and_is_drift():
    u = unknown("exec failed: rc 1", "crdb")
    assert u["state"] == UNKNOWN and not u["finalize"]
    item, = drift(u, "crdb")
    assert item["text"] == "crdb: could not read whether an upgrade waits to be finalized: exec failed: rc 1"


def test_state_refuses_an_unreadable_version():
    with pytest.raises(ParseError):
        state({"version": "soon", "cluster.preserve_downgrade_option": ""})


RELEASES = st.tuples(st.integers(1, 30), st.integers(1, 2))


def text_of(rel, internal=None):
    return "%d.%d" % rel + ("" if internal is None else "-%d" % internal)


@settings(max_examples=300, deadline=None)
@given(cluster=RELEASES, internal=st.none() | st.integers(1, 200), upgrading=st.none() | RELEASES,
       preserve=st.none() | RELEASES, builds=st.lists(RELEASES, max_size=5), patch=st.integers(0, 20),
       finalize=st.booleans(), quote_empty=st.booleans(), crlf=st.booleans())
def test_properties(cluster, internal, upgrading, preserve, builds, patch, finalize, quote_empty, crlf):
    version = text_of(cluster, internal)
    if upgrading:
        version = "%s-upgrading-to-%d.%d-step-%03d" % (text_of(cluster), upgrading[0], upgrading[1], patch)
    preserve_text = text_of(preserve) if preserve else ""
    read = parse(output(version, preserve_text, quote_empty, crlf))
    # what the cluster printed is what is read, nothing more
    assert read == {"version": version, "cluster.preserve_downgrade_option": preserve_text}
    s = state(read, ["v%d.%d.%d" % (b[0], b[1], patch) for b in builds], finalize, "db")
    # only the option keeps an upgrade pending, and only a pending one is ever finalized
    assert (s["state"] == PENDING) == bool(preserve)
    assert s["finalize"] == (bool(preserve) and finalize)
    assert s["text"].startswith("db: ") and s["detail"]
    assert s["binaries"] == sorted(set("%d.%d" % b for b in builds), key=lambda t: tuple(map(int, t.split("."))))
    # without the option the cluster is finalized only when no node runs a newer release and nothing is under way
    if not preserve:
        newer = any(b > cluster for b in builds)
        assert (s["state"] == FINALIZING) == (newer or bool(upgrading))
    # drift is reported exactly for an upgrade that waits: the option set and a node on a newer release (or no
    # node build known to say otherwise)
    items = drift(s, "db")
    waits = bool(preserve) and (not builds or max(builds) > cluster or bool(upgrading))
    assert bool(items) == waits
    for item in items:
        assert item["action"] == ("finalize" if finalize else "none")
        assert item["live"] == version


def run_script(tmp_path, body, env=None):
    """SCRIPT run by a real sh, with a recording SQL client that answers from ``body`` (a shell case)."""
    client = tmp_path / "sql"
    client.write_text("#!/bin/sh\n# $1 is --format=csv, $2 -e, $3 the statement\necho \"$3\" >> %s/calls\n%s\n" % (tmp_path, body))
    client.chmod(0o755)
    proc = subprocess.run(["/bin/sh", "-c", SCRIPT.format(sql=str(client) + " --format=csv")], capture_output=True,
                          text=True, check=False, env=env)
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return proc, calls


@pytest.mark.parametrize("env", [None, {"PATH": "/nonexistent"}], ids=["with timeout", "without timeout"])
def test_script_in_a_real_shell_reads_both_settings(tmp_path, env):
    proc, calls = run_script(tmp_path, 'case "$3" in *version) printf "version\\n23.1\\n";; '
                                       '*) printf "cluster.preserve_downgrade_option\\n23.1\\n";; esac', env)
    assert proc.returncode == 0
    assert calls == ["SHOW CLUSTER SETTING version", "SHOW CLUSTER SETTING cluster.preserve_downgrade_option"]
    assert parse(proc.stdout) == {"version": "23.1", "cluster.preserve_downgrade_option": "23.1"}


def test_script_in_a_real_shell_stops_at_a_failing_statement(tmp_path):
    proc, calls = run_script(tmp_path, 'echo "ERROR: cannot dial server" >&2; exit 1')
    assert proc.returncode == 1 and calls == ["SHOW CLUSTER SETTING version"]
    with pytest.raises(ParseError):
        parse(proc.stdout)
