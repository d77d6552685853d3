#!/usr/bin/env python3
"""Compares two `driftrec evaluate --json` reports (A: the reference, B: the changed run).

Prints how many rows (model, task, metric) are bit-identical, whether the notes,
hyper-parameters, validation scores, fallbacks and pairs are equal, and for every row that
differs: A's value, B's value, the change, and the change as a fraction of half A's 95%
bootstrap interval (|change| / half-width; below 1: inside the interval's half-width).

    bench/evaluate/compare.py A.json B.json [--json OUT] [--common]

--common compares only the models both reports have (B run with --models on a subset of A's
rows, say): notes are matched by their model name prefix, per-model fields by key.
"""
import json
import sys


def rows(report):
    return {(r["model"], r["task"], r["metric"]): r for r in report["results"]}


def restrict(report, models):
    report["results"] = [r for r in report["results"] if r["model"] in models]
    report["notes"] = [n for n in report.get("notes", []) if n.split(" ", 1)[0] in models]
    for field in ("hyperparameters", "validation", "fallbacks"):
        if isinstance(report.get(field), dict):
            report[field] = {k: v for k, v in report[field].items() if k in models}


def main(argv):
    a, b = (json.load(open(f)) for f in argv[1:3])
    if "--common" in argv:
        models = {r["model"] for r in a["results"]} & {r["model"] for r in b["results"]}
        for r in (a, b):
            restrict(r, models)
    ra, rb = rows(a), rows(b)
    if ra.keys() != rb.keys():
        sys.exit("the reports have different rows")
    same = [k for k in ra if {x: y for x, y in ra[k].items()} == rb[k]]
    print(f"bit-identical rows: {len(same)} of {len(ra)}")
    for field in ("notes", "hyperparameters", "validation", "fallbacks", "users_evaluated", "truth"):
        print(f"{field}: {'equal' if a.get(field) == b.get(field) else 'different'}")
    changed = []
    for k in ra:
        if k in same:
            continue
        x, y = ra[k], rb[k]
        half = (x["ci95"][1] - x["ci95"][0]) / 2 if x.get("ci95") else float("nan")
        delta = y["value"] - x["value"]
        changed.append({"model": k[0], "task": k[1], "metric": k[2], "a": x["value"], "b": y["value"],
                        "change": delta, "ci95_half_width_a": half,
                        "change_over_half_width": abs(delta) / half if half > 0 else float("inf")})
    changed.sort(key=lambda c: -c["change_over_half_width"])
    for c in changed:
        print(f"{c['model']:20} {c['task']:15} {c['metric']:20} {c['a']:.5f} -> {c['b']:.5f} "
              f"({c['change']:+.5f}, {c['change_over_half_width']:.2f} of the half-interval)")
    if "--json" in argv:
        json.dump({"identical_rows": len(same), "rows": len(ra), "changed": changed},
                  open(argv[argv.index("--json") + 1], "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv)
