"""Driver of bench/ingest/run.sh: generates each log, times driftrec ingest, DuckDB and
polars on it (each a child process; wall time and wait4's peak RSS), prints JSON."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import polars

DUCKDB_JOB = """
import sys, duckdb
src, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(f"COPY (SELECT * FROM read_csv('{src}') ORDER BY time) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
"""

POLARS_JOB = """
import sys, polars as pl
src, out = sys.argv[1], sys.argv[2]
pl.scan_csv(src).sort("time").sink_parquet(out, compression="zstd")
"""


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run(argv, env=None):
    """Wall seconds and peak RSS bytes of one child; raises if it fails."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    seconds = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit(f"ingest_bench: {argv[0]} {argv[1]} failed with exit {p.returncode}")
    return {"seconds": seconds, "peak_rss_bytes": ru.ru_maxrss * 1024, "stdout": out.decode()}


def one_size(a, n):
    gen = os.path.join(a.work, f"gen-{n}")
    t0 = time.monotonic()
    subprocess.run([a.driftrec, "generate", "-o", gen, "--users", "500000", "--items", "200000", "--labels", "50",
                    "--periods", "24", "--events", str(n), "--threads", str(a.threads), "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    os.remove(os.path.join(gen, "truth.csv"))  # not read here; 1.2 GB of disk
    gen_seconds = time.monotonic() - t0
    src = os.path.join(gen, "events.csv")
    file_bytes = os.path.getsize(src)
    subprocess.run(["cat", src], check=True, stdout=subprocess.DEVNULL)  # into the page cache
    env = dict(os.environ, POLARS_MAX_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads))
    store = os.path.join(a.work, "store.h5")
    jobs = {
        "driftrec": [a.driftrec, "ingest", src, "--labels", os.path.join(gen, "labels.csv"), "--slice", "2592000s",
                     "-o", store, "--force", "--threads", str(a.threads), "--json"],
        "duckdb": [sys.executable, "-c", DUCKDB_JOB, src, os.path.join(a.work, "duckdb.parquet"), str(a.threads)],
        "polars": [sys.executable, "-c", POLARS_JOB, src, os.path.join(a.work, "polars.parquet")],
    }
    outputs = {"driftrec": store, "duckdb": os.path.join(a.work, "duckdb.parquet"),
               "polars": os.path.join(a.work, "polars.parquet")}
    best = {}
    runs = []
    names = list(jobs)
    for r in range(a.repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            before = loadavg()
            res = run(jobs[name], env)
            res["load_before"], res["load_after"] = before, loadavg()
            res["output_bytes"] = os.path.getsize(outputs[name])
            if name == "driftrec":
                report = json.loads(res["stdout"])
                res["stages_seconds"] = report["seconds"]
                events = report["events"]
            del res["stdout"]
            runs.append({"repeat": r, "job": name, **res})
            if name not in best or res["seconds"] < best[name]["seconds"]:
                best[name] = res
            os.remove(outputs[name])
    d = best["driftrec"]
    result = {"events": events, "file_bytes": file_bytes, "generate_seconds": gen_seconds}
    for name, res in best.items():
        result[name] = {
            "seconds": res["seconds"],
            "mb_per_s": file_bytes / res["seconds"] / 1e6,
            "events_per_s": events / res["seconds"],
            "peak_rss_bytes": res["peak_rss_bytes"],
            "peak_bytes_per_event": res["peak_rss_bytes"] / events,
            "output_bytes": res["output_bytes"],
            "load_before": res["load_before"],
            "load_after": res["load_after"],
            **({"stages_seconds": res["stages_seconds"]} if "stages_seconds" in res else {}),
        }
    result["throughput_ratio_to_duckdb"] = best["duckdb"]["seconds"] / d["seconds"]
    result["throughput_ratio_to_polars"] = best["polars"]["seconds"] / d["seconds"]
    result["goal"] = {"throughput_ratio_at_least": 1.5, "peak_bytes_per_event_at_most": 30}
    result["meets_goal"] = (min(result["throughput_ratio_to_duckdb"], result["throughput_ratio_to_polars"]) >= 1.5
                            and d["peak_rss_bytes"] / events <= 30)
    result["runs"] = runs
    shutil.rmtree(gen)
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--driftrec", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--events", type=int, nargs="+", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    out = {
        "benchmark": "ingest: CSV -> driftrec store against CSV -> time-sorted zstd Parquet",
        "threads": a.threads,
        "versions": {"duckdb": duckdb.__version__, "polars": polars.__version__,
                     "driftrec": subprocess.run([a.driftrec, "--version"], capture_output=True, text=True).stdout.strip()},
        "cpus": os.cpu_count(),
        "load_start": loadavg(),
        "ratio": "tool seconds / driftrec seconds, the same file in the same run (> 1: driftrec faster)",
        "sizes": [],
    }
    for n in a.events:
        out["sizes"].append(one_size(a, n))
        # Each size as soon as it is done: a long 10^8 run that is stopped keeps the rest.
        print(json.dumps({k: v for k, v in out["sizes"][-1].items() if k != "runs"}), file=sys.stderr, flush=True)
    out["load_end"] = loadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
