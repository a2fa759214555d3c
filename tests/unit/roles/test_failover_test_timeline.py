# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_test role's timeline (files/probe_timeline.py) on synthetic probe logs: what is drawn, not pixels."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "roles", "failover_test", "files", "probe_timeline.py"))
sys.path.insert(0, os.path.dirname(SCRIPT))

import probe_timeline  # noqa: E402  pylint: disable=wrong-import-position

PNG = b"\x89PNG\r\n\x1a\n"
T = 1765000000.0


def log_lines(start, count, failed=(), every=0.2):
    """Probe lines as the role's probe pod prints them; probes whose index is in `failed` fail."""
    lines = []
    for i in range(count):
        t0 = start + i * every
        ok = i not in failed
        lines.append("probe %d %.6f %.6f %s %s" % (i + 1, t0, t0 + 0.05, "ok" if ok else "error",
                                                   "" if ok else "ERROR 2002 (HY000): Can't connect"))
    return lines + ["probe-done %d" % count]


def report(*modes):
    return {"namespace": "ns", "name": "db", "timelines": [
        {"mode": mode, "disrupted_at": T + 4.0, "log_lines": log_lines(T, 100, failed=range(22, 40))}
        for mode in modes]}


def run_script(tmp_path, data, hide_matplotlib=False):
    source, target = tmp_path / "report.json", tmp_path / "report.png"
    source.write_text(json.dumps(data))
    hide = "sys.modules['matplotlib'] = None; " if hide_matplotlib else ""
    code = "import runpy, sys; %ssys.argv = [%r, %r, %r]; runpy.run_path(%r, run_name='__main__')" % (
        hide, SCRIPT, str(source), str(target), SCRIPT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return done, json.loads(done.stdout.strip().splitlines()[-1]), target


def test_parse_role_lines_keeps_probe_lines_only():
    lines = ["probe 1 10.0 10.5 ok ", "probe 2 11.0 12.0 error ERROR 2002 (HY000): x", "probe-done 2", "noise",
             "probe 3 x y ok", "probe 4 13.0 13.1 maybe"]
    assert probe_timeline.parse_role_lines(lines) == [[10.0, 10.5, True], [11.0, 12.0, False]]


def test_the_window_ends_a_little_after_the_slowest_recovery():
    lane = {"disrupted_at": 100.0, "probes": [[99.0, 99.1, True], [101.0, 131.0, False], [131.5, 131.6, True],
                                              [132.0, 132.1, True], [140.0, 141.0, False], [142.0, 142.1, True]]}
    assert probe_timeline.recovery(lane, 2) == pytest.approx(32.1)
    assert probe_timeline.window([lane], 2) == (-5.0, pytest.approx(37.1))
    # The failure at 140 s came after the recovery: a loaded host, not the outage, so it stays out of the window.
    assert probe_timeline.recovery(dict(lane, probes=lane["probes"][:1]), 2) is None
    assert probe_timeline.window([dict(lane, probes=lane["probes"][:1])], 2) == (-5.0, 15.0)
    # Probes after the lane's end (the next disruption of the same log) do not count.
    assert probe_timeline.recovery(dict(lane, until=131.0), 2) is None


def test_the_script_writes_a_png_with_one_row_per_mode(tmp_path):
    done, result, target = run_script(tmp_path, report("delete_pod", "kill_container"))
    assert done.returncode == 0, done.stderr
    assert result == {"written": True, "path": str(target), "rows": ["delete_pod", "kill_container"]}
    assert target.read_bytes().startswith(PNG)


def test_without_matplotlib_the_script_says_so_and_writes_nothing(tmp_path):
    done, result, target = run_script(tmp_path, report("delete_pod"), hide_matplotlib=True)
    assert done.returncode == 0, done.stderr
    assert result["written"] is False and "matplotlib is not importable" in result["reason"]
    assert not target.exists()


def test_a_report_without_probe_lines_writes_nothing(tmp_path):
    data = {"timelines": [{"mode": "delete_pod", "disrupted_at": T, "log_lines": ["probe-done 0"]}]}
    done, result, target = run_script(tmp_path, data)
    assert result["written"] is False and "no probe lines" in result["reason"] and not target.exists()


def test_draw_timeline_lays_out_rows_and_lanes(tmp_path):
    probes = probe_timeline.parse_role_lines(log_lines(T, 200, failed=range(30, 45)))
    panels = [{"title": "kill", "rows": [
        {"label": "ours", "lanes": [{"label": "#1", "disrupted_at": T + 5, "probes": probes},
                                    {"label": "#2", "disrupted_at": T + 25, "probes": probes}]},
        {"label": "seed", "lanes": [{"label": "#1", "disrupted_at": T + 5, "probes": probes}]}]},
        {"title": "delete", "rows": [{"label": "ours", "lanes": []}]}]
    drawn = probe_timeline.draw_timeline(panels, str(tmp_path / "t.png"), title="t")
    assert (tmp_path / "t.png").read_bytes().startswith(PNG)
    # The panel without lanes is left out; each row's first lane carries the row's name; the first lane recovers
    # 5 answers after its last failure, 4.85 s after its disruption, so the window keeps its minimum of 15 s.
    assert drawn["panels"] == [{"title": "kill", "rows": ["ours", "seed"], "lanes": ["ours #1", "#2", "seed #1"],
                                "window": [-5.0, 15.0]}]


def test_nothing_to_draw_is_an_error(tmp_path):
    with pytest.raises(ValueError):
        probe_timeline.draw_timeline([{"title": "x", "rows": []}], str(tmp_path / "t.png"))
