#!/usr/bin/env python3
"""Prints propagation_bench JSON as Markdown tables: the runs (ms per iteration, GB/s,
fraction of triad, speedups vs GraphBLAS and Eigen, peak bytes per edge) and the levers."""
import json
import sys

d = json.load(open(sys.argv[1]))
mem = {}
for g in d.get("graphs", []):
    for m in g["memory"]:
        mem[(g["edges_drawn"], m["k"])] = m
print(f"load average: start {d['load_average_start']}, end {d['load_average_end']}")
print("| edges drawn | nnz | k | thr | ms/it best (median) | GB/s | of triad | triad GB/s | GrB ms | x GrB | Eigen ms | x Eigen | peak B/edge (minus dense) | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in d["runs"]:
    o = r["driftrec"]
    gb = r.get("graphblas")
    ei = r.get("eigen")
    m = mem.get((r["edges_drawn"], r["k"]), {})
    gbs = f"{gb['ms_best']:.1f} | {r['speedup_vs_graphblas']:.2f}" if isinstance(gb, dict) else "n/a | n/a"
    eis = f"{ei['ms_best']:.1f} | {r['speedup_vs_eigen']:.2f}" if isinstance(ei, dict) else "n/a | n/a"
    pm = (f"{m['peak_rss_bytes_per_edge']:.1f} ({m['peak_rss_minus_dense_bytes_per_edge']:.1f})" if m else "")
    print(f"| {r['edges_drawn']} | {r['nnz']} | {r['k']} | {r['threads']} | {o['ms_best']:.1f} ({o['ms_median']:.1f}) | "
          f"{o['gb_per_s']:.2f} | {o['fraction_of_triad']:.3f} | {r['triad_gb_per_s']:.1f} | {gbs} | {eis} | {pm} | "
          f"{r['load_average_before']} |")
levers = d.get("levers", [])
if levers:
    names = [k for k, v in levers[0].items() if isinstance(v, dict)]
    print()
    print("| edges drawn | k | thr | triad | " + " | ".join(names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    for l in levers:
        cells = [f"{l[n]['ms_best']:.1f} ms, {l[n]['fraction_of_triad']:.3f}, x{l[n]['speedup_vs_float32_best']:.2f}"
                 for n in names]
        print(f"| {l['edges_drawn']} | {l['k']} | {l['threads']} | {l['triad_gb_per_s']:.1f} | " + " | ".join(cells) + " |")
    print()
    print("max |diff| / max |value| vs float32 after the same iterations (users, items):")
    for l in levers:
        print(l["edges_drawn"], l["k"], l["threads"],
              {n: (f"{l[n]['max_abs_diff_rel_to_max_users']:.1e}", f"{l[n]['max_abs_diff_rel_to_max_items']:.1e}") for n in names})
print(f"process peak RSS: {d['process_peak_rss_bytes'] / 2**20:.0f} MiB")
