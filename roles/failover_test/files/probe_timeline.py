#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw probe logs as a timeline PNG: answered and failed probes around each disruption.

    probe_timeline.py REPORT.json OUTPUT.png

REPORT.json is the failover_test role's report: its ``timelines`` list holds, per mode, the time of the disruption
and the probe pod's log lines (``probe N T0 T1 ok|error ...``). Prints one JSON object: ``written`` (true or false),
``path``, ``rows`` and, when nothing was written, ``reason`` (matplotlib not importable, no probe lines). Exits 0 in
both cases: a missing picture never fails the test it illustrates. bench/pictures.py draws the benchmark's failover
runs with the same ``draw_timeline``.
"""

from __future__ import absolute_import, division, print_function

import json
import sys

__metaclass__ = type

ANSWERED = "#2a9d3a"
FAILED = "#d62728"
BEFORE = 5.0
AFTER_RECOVERY = 5.0
MIN_AFTER = 15.0
RECOVERED_AFTER = 5
LANE_HEIGHT = 0.8


def parse_role_lines(lines):
    """[[t0, t1, ok], ...] from the role's probe log lines; other lines (probe-done, noise) are left out."""
    probes = []
    for line in lines or []:
        fields = line.split(" ", 5)
        if len(fields) < 5 or fields[0] != "probe" or fields[4] not in ("ok", "error"):
            continue
        try:
            probes.append([float(fields[2]), float(fields[3]), fields[4] == "ok"])
        except ValueError:
            continue
    return probes


def lane_probes(lane):
    """The lane's probes up to its ``until`` (the next disruption of the same probe log), when it has one."""
    until = lane.get("until")
    return [p for p in lane["probes"] if until is None or p[0] < until]


def recovery(lane, recovered_after=RECOVERED_AFTER):
    """Seconds from the disruption to the end of the first `recovered_after` answers in a row after its first
    failure (what the role and the benchmark wait for); None when no probe failed after the disruption."""
    at, in_row, failed = lane["disrupted_at"], 0, False
    for t0, t1, ok in sorted(lane_probes(lane)):
        if t1 < at:
            continue
        if not ok:
            failed, in_row = True, 0
        elif failed:
            in_row += 1
            if in_row >= recovered_after:
                return t1 - at
    return None


def window(lanes, recovered_after=RECOVERED_AFTER):
    """(start, end) in seconds around the disruptions: from BEFORE ahead to a little after the slowest recovery.
    Failures after a recovery (a loaded host) stay out of the window unless another lane recovered later."""
    end = MIN_AFTER
    for lane in lanes:
        seconds = recovery(lane, recovered_after)
        if seconds is None:
            seconds = max([t1 - lane["disrupted_at"] for t0, t1, ok in lane_probes(lane) if not ok] or [0.0])
        end = max(end, seconds + AFTER_RECOVERY)
    return -BEFORE, end


def draw_timeline(panels, path, title=None, recovered_after=RECOVERED_AFTER):
    """Write a PNG: one panel per entry, one row per ``rows`` entry, one lane per disruption of that row.

    panels: [{"title": str, "rows": [{"label": str, "lanes": [{"label": str, "disrupted_at": epoch seconds,
    "probes": [[t0, t1, answered], ...], optional "until": epoch seconds}]}]}]. Time is relative to each lane's
    disruption; the window ends AFTER_RECOVERY seconds after the slowest lane answered `recovered_after` times in a
    row. Returns what was drawn: {"path", "panels": [{"title", "rows": [label, ...], "lanes": [tick label, ...],
    "window": [start, end]}]}.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = [p for p in panels if any(row["lanes"] for row in p["rows"])]
    if not panels:
        raise ValueError("no probe lanes to draw")
    heights = [max(1.2, 0.32 * sum(len(row["lanes"]) for row in p["rows"]) + 0.6) for p in panels]
    fig = Figure(figsize=(9, sum(heights) + 0.9), dpi=90)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    drawn = []
    for ax, panel in zip(axes, panels):
        lanes = [lane for row in panel["rows"] for lane in row["lanes"]]
        start, end = window(lanes, recovered_after)
        ticks, labels, y = [], [], 0
        for row in panel["rows"]:
            for k, lane in enumerate(row["lanes"]):
                at = lane["disrupted_at"]
                for answered in (True, False):
                    bars = [(t0 - at, max(t1 - t0, 0.02)) for t0, t1, ok in lane_probes(lane)
                            if ok is answered and t1 - at >= start and t0 - at <= end]
                    if bars:
                        ax.broken_barh(bars, (y - LANE_HEIGHT / 2, LANE_HEIGHT),
                                       facecolors=ANSWERED if answered else FAILED, linewidth=0)
                ticks.append(y)
                text = lane.get("label") or ""
                labels.append(("%s %s" % (row["label"], text)).strip() if k == 0 else text)
                y -= 1
            y -= 0.5
        ax.axvline(0, color="black", linestyle="--", linewidth=1)
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_xlim(start, end)
        ax.set_ylim(y + 0.4, 0.6)
        ax.set_title(panel["title"], fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", linewidth=0.3)
        drawn.append({"title": panel["title"], "rows": [row["label"] for row in panel["rows"]],
                      "lanes": [t.get_text() for t in ax.get_yticklabels()], "window": [start, end]})
    axes[-1].set_xlabel("seconds since the disruption (dashed line)", fontsize=8)
    axes[0].legend(handles=[Patch(color=ANSWERED, label="answered"), Patch(color=FAILED, label="failed")],
                   loc="lower right", fontsize=7, ncol=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return {"path": path, "panels": drawn}


def role_panels(report):
    """The role's report as one panel: one row per disruption mode, with its probe log."""
    rows = []
    for timeline in report.get("timelines") or []:
        probes = parse_role_lines(timeline.get("log_lines"))
        if probes and timeline.get("disrupted_at") is not None:
            rows.append({"label": timeline["mode"], "lanes": [
                {"label": "", "disrupted_at": float(timeline["disrupted_at"]), "probes": probes}]})
    title = "failover_test on %s/%s" % (report.get("namespace", "?"), report.get("name", "?"))
    return [{"title": title, "rows": rows}]


def main(argv):
    if len(argv) != 3:
        print(json.dumps({"written": False, "reason": "usage: probe_timeline.py REPORT.json OUTPUT.png"}))
        return 2
    source, target = argv[1], argv[2]
    try:
        import matplotlib  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        print(json.dumps({"written": False, "path": None, "rows": [],
                          "reason": "matplotlib is not importable by %s (%s); install it on the controller to get "
                                    "the timeline" % (sys.executable, exc)}))
        return 0
    with open(source, encoding="utf-8") as handle:
        panels = role_panels(json.load(handle))
    rows = [row["label"] for row in panels[0]["rows"]]
    if not rows:
        print(json.dumps({"written": False, "path": None, "rows": [],
                          "reason": "the report holds no probe lines with a disruption time"}))
        return 0
    draw_timeline(panels, target)
    print(json.dumps({"written": True, "path": target, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
