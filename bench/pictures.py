# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Draws: the failover probe logs as a timeline and the growth pairs (objects vs seconds, ours and kubectl) as lines.
"""Pictures of a benchmark run, from the files the run wrote.

    pictures.py --results RESULT.json [--probes FAILOVER.probes.json] [--out-prefix PREFIX]

Writes PREFIX.failover.png (one panel per disruption, one row per manifest, one lane per repetition, time relative
to the disruption) when a probe file is given, and PREFIX.growth.png (median seconds per object count, ours solid,
kubectl dashed) when the results hold the scale pair. PREFIX defaults to RESULT without .json. Needs matplotlib
(requirements-dev.txt); the timeline is the failover_test role's own drawing (roles/failover_test/files).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import sys

__metaclass__ = type

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "roles", "failover_test", "files"))

from probe_timeline import draw_timeline  # noqa: E402  pylint: disable=wrong-import-position

MODE_TITLES = {"kill": "outage after SIGKILL of mariadbd", "delete": "outage after kubectl delete pod"}
SIDE_LABELS = {"ours": "db_cluster", "previous": "db_cluster, previous defaults", "baseline": "seed 004"}
LOCAL_PV = re.compile(r"^local_pv,\s*(\d+) fake nodes: (.+)$")
NODE_STATUS = re.compile(r"^db_node_status, STS of\s*(\d+) pods$")


def failover_panels(probes):
    """Panels for draw_timeline from failover.py's probe file: one per mode, a row per side, a lane per repetition."""
    panels = []
    modes = []
    for event in probes["disruptions"]:
        if event["mode"] not in modes:
            modes.append(event["mode"])
    for mode in modes:
        rows = []
        for side in probes["sides"]:
            times = sorted(e["at"] for e in probes["disruptions"] if e["side"] == side["key"])
            lanes = [{"label": "#%d" % (e["rep"] + 1), "disrupted_at": e["at"], "probes": side["probes"],
                      "until": next((t for t in times if t > e["at"]), None)}
                     for e in probes["disruptions"] if e["mode"] == mode and e["side"] == side["key"]]
            if lanes:
                rows.append({"label": SIDE_LABELS.get(side["key"], side["key"]), "lanes": lanes})
        panels.append({"title": MODE_TITLES.get(mode, mode), "rows": rows})
    return panels


def growth_series(rows):
    """{(module, operation, side): [(objects, median seconds), ...]} from the scale pair's rows."""
    series = {}
    for row in rows:
        if row.get("pair") != "scale" or row.get("unit", "s") != "s" or row["case"].endswith("[task only]"):
            continue
        match = LOCAL_PV.match(row["case"])
        if match:
            key, count = ("local_pv", match.group(2)), int(match.group(1))
        else:
            match = NODE_STATUS.match(row["case"])
            if not match:
                continue
            key, count = ("db_node_status", "status"), int(match.group(1))
        for side in ("ours", "baseline"):
            if row.get(side):
                series.setdefault(key + (side,), []).append((count, row[side]["median"]))
    return dict((k, sorted(v)) for k, v in series.items())


def draw_growth(rows, path):
    """Line chart of the growth pairs; returns {"path", "lines": [legend labels]}."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = growth_series(rows)
    if not series:
        raise ValueError("the results hold no scale pair rows")
    fig = Figure(figsize=(9, 3.6), dpi=90)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=False)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
    lines = []
    for ax, module in zip(axes, ("local_pv", "db_node_status")):
        operations = []
        for key in sorted(series):
            if key[0] == module and key[1] not in operations:
                operations.append(key[1])
        for k, operation in enumerate(operations):
            for side, style in (("ours", "-"), ("baseline", "--")):
                points = series.get((module, operation, side))
                if not points:
                    continue
                label = "%s %s (%s)" % (module, operation, "ours" if side == "ours" else "kubectl")
                ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", markersize=3,
                        color=colors[k % len(colors)], label=label)
                lines.append(label)
        ax.set_xscale("log")
        counts = sorted(set(p[0] for key, pts in series.items() if key[0] == module for p in pts))
        ax.set_xticks(counts)
        ax.set_xticklabels([str(c) for c in counts])
        ax.set_xlabel("fake nodes (PVs)" if module == "local_pv" else "pods in the StatefulSet", fontsize=8)
        ax.set_ylabel("median seconds", fontsize=8)
        ax.set_title(module, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(linewidth=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return {"path": path, "lines": lines}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", required=True)
    p.add_argument("--probes", default="")
    p.add_argument("--out-prefix", default="")
    args = p.parse_args()
    prefix = args.out_prefix or re.sub(r"\.json$", "", args.results)
    with open(args.results, encoding="utf-8") as f:
        results = json.load(f)
    written = []
    if args.probes and os.path.exists(args.probes):
        with open(args.probes, encoding="utf-8") as f:
            probes = json.load(f)
        panels = failover_panels(probes)
        if any(row["lanes"] for panel in panels for row in panel["rows"]):
            title = "failover: probes through the Service, every %d ms" % probes.get("probe_every_ms", 100)
            written.append(draw_timeline(panels, prefix + ".failover.png", title=title,
                                         recovered_after=probes.get("recovered_after", 20))["path"])
    if growth_series(results.get("rows") or []):
        written.append(draw_growth(results["rows"], prefix + ".growth.png")["path"])
    for path in written:
        print("picture: %s" % path)
    if not written:
        print("pictures: nothing to draw (no failover probe file, no scale pair rows)")


if __name__ == "__main__":
    main()
