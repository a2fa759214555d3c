# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/: the pictures drawn from a run's files and the memory measurements, on synthetic data."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.abspath(os.path.join(HERE, "..", "..", "..", "bench"))
sys.path.insert(0, BENCH)

import benchlib  # noqa: E402  pylint: disable=wrong-import-position
import failover  # noqa: E402  pylint: disable=wrong-import-position
import node_status  # noqa: E402  pylint: disable=wrong-import-position
import pictures  # noqa: E402  pylint: disable=wrong-import-position

PNG = b"\x89PNG\r\n\x1a\n"
T = 1765000000.0
ALLOCATE = "x = bytearray(80 * 2 ** 20); import time; time.sleep(1)"


def probes(start, count, failed_from, failed_to, every=0.2):
    return [[start + i * every, start + i * every + 0.05, not failed_from <= i < failed_to] for i in range(count)]


def probe_file():
    """As failover.py writes it: every probe of each side, and each disruption (side, mode, repetition, time)."""
    return {"probe_every_ms": 100, "sides": [
        {"key": "ours", "probes": probes(T, 600, 30, 120) + probes(T + 200, 600, 30, 45)},
        {"key": "baseline", "probes": probes(T + 100, 300, 30, 40)}],
        "disruptions": [{"side": "ours", "mode": "kill", "rep": 0, "at": T + 5},
                        {"side": "baseline", "mode": "kill", "rep": 0, "at": T + 105},
                        {"side": "ours", "mode": "delete", "rep": 0, "at": T + 205},
                        {"side": "ours", "mode": "kill", "rep": 1, "at": T + 305}]}


def scale_rows():
    rows = []
    for count, ours, kubectl in ((10, 5.0, 0.8), (30, 6.0, 2.1), (100, 6.5, 6.3)):
        for case in ("local_pv, %3d fake nodes: create" % count, "db_node_status, STS of %3d pods" % count):
            rows.append({"pair": "scale", "case": case, "unit": "s", "ours": {"median": ours},
                         "baseline": {"median": kubectl}})
            rows.append({"pair": "scale", "case": case + " [task only]", "unit": "s", "ours": {"median": 1.0},
                         "baseline": {"median": kubectl}})
        rows.append({"pair": "scale", "case": "local_pv, %3d fake nodes: peak RSS of ansible-playbook, MiB" % count,
                     "unit": "MiB", "ours": {"median": 90.0}, "baseline": None})
    rows.append({"pair": "local_pv", "case": "local_pv 300 PVs: create", "unit": "s", "ours": {"median": 9.0},
                 "baseline": {"median": 19.0}})
    return rows


def test_failover_panels_one_per_mode_one_row_per_manifest_one_lane_per_repetition():
    panels = pictures.failover_panels(probe_file())
    assert [p["title"] for p in panels] == ["outage after SIGKILL of mariadbd", "outage after kubectl delete pod"]
    kill = panels[0]["rows"]
    assert [r["label"] for r in kill] == ["db_cluster", "seed 004"]
    # A lane ends at the next disruption of the same probe log, so one outage never stretches another's window.
    assert [(lane["label"], lane["disrupted_at"], lane["until"]) for lane in kill[0]["lanes"]] == [
        ("#1", T + 5, T + 205), ("#2", T + 305, None)]
    assert [r["label"] for r in panels[1]["rows"]] == ["db_cluster"]


def test_the_timeline_png_has_the_rows_of_the_run(tmp_path):
    drawn = pictures.draw_timeline(pictures.failover_panels(probe_file()), str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").read_bytes().startswith(PNG)
    assert [p["lanes"] for p in drawn["panels"]] == [["db_cluster #1", "#2", "seed 004 #1"], ["db_cluster #1"]]
    # The kill panel ends 5 s after the slowest recovery: ours #1 answers a 5th time in a row with probe 124,
    # 19.85 s after its disruption.
    assert abs(drawn["panels"][0]["window"][1] - 24.85) < 0.01


def test_growth_series_takes_wall_time_rows_of_the_scale_pair_only():
    series = pictures.growth_series(scale_rows())
    assert sorted(series) == [("db_node_status", "status", "baseline"), ("db_node_status", "status", "ours"),
                              ("local_pv", "create", "baseline"), ("local_pv", "create", "ours")]
    assert series[("local_pv", "create", "baseline")] == [(10, 0.8), (30, 2.1), (100, 6.3)]


def test_the_growth_png_has_a_line_per_module_operation_and_side(tmp_path):
    drawn = pictures.draw_growth(scale_rows(), str(tmp_path / "g.png"))
    assert (tmp_path / "g.png").read_bytes().startswith(PNG)
    assert drawn["lines"] == ["local_pv create (ours)", "local_pv create (kubectl)",
                              "db_node_status status (ours)", "db_node_status status (kubectl)"]


def test_the_cli_draws_what_the_run_wrote(tmp_path):
    results, probes_path = tmp_path / "run.json", tmp_path / "failover.probes.json"
    results.write_text(json.dumps({"rows": scale_rows()}))
    probes_path.write_text(json.dumps(probe_file()))
    done = subprocess.run([sys.executable, os.path.join(BENCH, "pictures.py"), "--results", str(results),
                           "--probes", str(probes_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name in ("run.failover.png", "run.growth.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_the_probe_file_holds_every_side_and_disruption(tmp_path):
    class Side(object):
        key = "ours"

        def probe_lines(self):
            return [(T, T + 0.1, True, ""), (T + 1, T + 1.1, False, "ERROR 2002")]

    path = tmp_path / "p.json"
    failover.save_probes(str(path), [Side()], [{"side": "ours", "mode": "kill", "rep": 0, "at": T + 0.5}])
    data = json.loads(path.read_text())
    assert data["sides"] == [{"key": "ours", "probes": [[T, T + 0.1, True], [T + 1, T + 1.1, False]]}]
    assert data["disruptions"][0]["at"] == T + 0.5 and data["probe_every_ms"] == 100
    assert data["recovered_after"] == failover.RECOVERED_AFTER


def test_run_measured_reports_the_peak_rss_of_the_process():
    out, dummy, dummy, memory = benchlib.run_measured([sys.executable, "-c", ALLOCATE + "; print('done')"])
    assert out.strip() == "done"
    assert memory["process_peak_rss_mib"] >= 80 and memory["tree_peak_rss_mib"] >= 80


def test_the_interpreter_wrapper_records_the_module_process_peak_rss(tmp_path):
    wrapper, out = node_status.interpreter_wrapper(str(tmp_path))
    done = subprocess.run([wrapper, "-c", ALLOCATE + "; raise SystemExit(3)"], check=False)
    assert done.returncode == 3
    with open(out, encoding="utf-8") as f:
        recorded = [int(line) for line in f]
    assert len(recorded) == 1 and recorded[0] >= 80 * 1024
