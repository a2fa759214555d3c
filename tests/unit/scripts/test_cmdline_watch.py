# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/integration/cmdline_watch.py: on a fake /proc, then on this host's real processes."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
WATCH = os.path.join(ROOT, "tests", "integration", "cmdline_watch.py")
SECRET = "Zq8vLr2pXw4sTn6y"


def fake_proc(tmp_path, processes):
    proc = tmp_path / "proc"
    proc.mkdir()
    for pid, argv in processes.items():
        (proc / str(pid)).mkdir()
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "self").mkdir()
    (proc / "uptime").write_text("1 1")
    return proc


def run(tmp_path, proc, secrets=(SECRET,)):
    (tmp_path / "secrets").write_text("\n".join(secrets) + "\n")
    (tmp_path / "stop").write_text("")
    result = subprocess.run([sys.executable, WATCH, "--secrets", str(tmp_path / "secrets"), "--stop",
                             str(tmp_path / "stop"), "--report", str(tmp_path / "report.json"), "--proc", str(proc)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    report = json.loads((tmp_path / "report.json").read_text()) if result.returncode == 0 else None
    return result, report


def test_a_password_on_a_command_line_is_a_hit_with_the_secret_masked(tmp_path):
    proc = fake_proc(tmp_path, {
        10: ["mariadb", "-uroot", "-p" + SECRET, "-e", "SELECT 1"],
        11: ["sh", "-c", 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -e "SELECT 1"'],
        12: ["mariadbd", "--user=mysql"],
    })
    result, report = run(tmp_path, proc)
    assert result.returncode == 0, result.stderr
    assert report["hits"] == [{"pid": "10", "program": "mariadb",
                               "argv": ["mariadb", "-uroot", "-p<secret>", "-e", "SELECT 1"]}]
    assert report["scans"] == 1 and report["processes"] == 3 and report["stopped"] is True
    assert SECRET not in (tmp_path / "report.json").read_text()


def test_no_secret_anywhere_is_an_empty_report(tmp_path):
    result, report = run(tmp_path, fake_proc(tmp_path, {5: ["cassandra", "-f"]}))
    assert result.returncode == 0 and report["hits"] == []


@pytest.mark.parametrize("secrets, message", [((), "holds no secret"), (("abc",), "shorter than 6 characters")])
def test_no_or_short_secrets_are_refused(tmp_path, secrets, message):
    result, dummy = run(tmp_path, fake_proc(tmp_path, {}), secrets)
    assert result.returncode != 0 and message in result.stderr


def test_a_real_process_with_the_secret_in_its_argv_is_caught_on_this_host(tmp_path):
    (tmp_path / "secrets").write_text(SECRET + "\n")
    watcher = subprocess.Popen([sys.executable, WATCH, "--secrets", str(tmp_path / "secrets"), "--stop",
                                str(tmp_path / "stop"), "--report", str(tmp_path / "report.json"), "--interval", "0.02"])
    try:
        time.sleep(0.3)
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)", "--" + SECRET])
        sleeper.wait()
        time.sleep(0.1)
    finally:
        (tmp_path / "stop").write_text("")
        watcher.wait(timeout=30)
    report = json.loads((tmp_path / "report.json").read_text())
    assert [h["argv"] for h in report["hits"]] == [[sys.executable, "-c", "import time; time.sleep(1)", "--<secret>"]]
    assert report["scans"] > 10 and report["processes"] > 10


def test_the_watcher_ends_without_a_report_when_its_files_are_removed(tmp_path):
    (tmp_path / "secrets").write_text(SECRET + "\n")
    watcher = subprocess.Popen([sys.executable, WATCH, "--secrets", str(tmp_path / "secrets"), "--stop",
                                str(tmp_path / "stop"), "--report", str(tmp_path / "report.json"),
                                "--proc", str(fake_proc(tmp_path, {}))])
    time.sleep(0.3)
    (tmp_path / "secrets").unlink()
    assert watcher.wait(timeout=30) == 0
    assert not (tmp_path / "report.json").exists()
