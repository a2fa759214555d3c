# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Merges the benchmarks' measurement files into one table (median, min, max, ratio ours/baseline) and one JSON file.
"""Print the benchmark table and write the combined JSON.

  report.py --json RESULT.json --meta META.json PART.json...

The ratio is median(ours) / median(baseline): below 1 ours is faster (or the outage shorter).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import statistics

__metaclass__ = type


def stats(samples):
    if not samples:
        return None
    return {"n": len(samples), "median": round(statistics.median(samples), 3), "min": min(samples),
            "max": max(samples), "samples": samples}


def fmt(value):
    return "-" if value is None else ("%.2f" % value)


def table(rows):
    head = ("pair", "case", "ours med", "min", "max", "base med", "min", "max", "ours/base", "n")
    lines = [head]
    for r in rows:
        o, b = r["ours"], r["baseline"]
        lines.append((r["pair"], r["case"],
                      fmt(o and o["median"]), fmt(o and o["min"]), fmt(o and o["max"]),
                      fmt(b and b["median"]), fmt(b and b["min"]), fmt(b and b["max"]),
                      fmt(r["ratio"]), "%s/%s" % (o["n"] if o else 0, b["n"] if b else 0)))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for k, line in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(widths[i]) if i < 2 else str(c).rjust(widths[i])
                                     for i, c in enumerate(line)) + " |")
        if k == 0:
            out.append("|" + "|".join("-" * (w + 2) if i < 2 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
                       + "|")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", required=True)
    p.add_argument("--meta", default="")
    p.add_argument("parts", nargs="*")
    args = p.parse_args()
    meta = {}
    if args.meta:
        with open(args.meta, encoding="utf-8") as f:
            meta = json.load(f)
    rows, notes, failed = [], [], []
    for path in args.parts:
        try:
            with open(path, encoding="utf-8") as f:
                part = json.load(f)
        except (OSError, ValueError) as exc:
            failed.append("%s: %s" % (path, exc))
            continue
        notes += part.get("notes") or []
        for r in part["rows"]:
            o, b = stats(r["ours"]), stats(r["baseline"])
            ratio = round(o["median"] / b["median"], 3) if o and b and b["median"] else None
            rows.append({"pair": r["pair"], "case": r["case"], "unit": r["unit"], "ours": o, "baseline": b,
                         "ratio": ratio, "note": r.get("note") or "", "extra": r.get("extra") or {}})
    meta.update({"rows": rows, "notes": notes, "unreadable_parts": failed})
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    print(table(rows))
    for note in notes:
        print("- " + note)
    print("JSON: %s" % args.json)


if __name__ == "__main__":
    main()
