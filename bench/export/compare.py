#!/usr/bin/env python3
"""implicit's batch recommend on the inputs export_bench dumped, timed the same way.

Reads the raw arrays export_bench --dump wrote (user and item factors, the seen-items CSR),
builds implicit.cpu.als.AlternatingLeastSquares with those factors and runs
    model.recommend(userids, user_items[userids], N=k, filter_already_liked_items=True)
over all users (or those done within --max-seconds) in chunks of --chunk (export's chunking; implicit's own topk batches inside),
with implicit's and the BLAS's threads both set to --threads. Prints one JSON object:
users per second and the peak resident memory (ru_maxrss) beside the inputs' size.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import scipy.sparse as sp
import threadpoolctl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="stop after the chunk that passes this many seconds (0: all users); users/s is then over "
                         "the users done")
    a = ap.parse_args()

    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    x = np.fromfile(os.path.join(a.dir, "user_factors.f32"), dtype=np.float32).reshape(a.users, a.factors)
    y = np.fromfile(os.path.join(a.dir, "item_factors.f32"), dtype=np.float32).reshape(a.items, a.factors)
    indptr = np.fromfile(os.path.join(a.dir, "seen_indptr.i64"), dtype=np.int64)
    indices = np.fromfile(os.path.join(a.dir, "seen_indices.i32"), dtype=np.int32)
    seen = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(a.users, a.items))
    inputs_mib = (x.nbytes + y.nbytes + indices.nbytes * 2 + indptr.nbytes) / 2**20
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    model = AlternatingLeastSquares(factors=a.factors, num_threads=a.threads)
    model.user_factors, model.item_factors = x, y
    checksum = 0.0
    with threadpoolctl.threadpool_limits(a.threads):
        t0 = time.perf_counter()
        done = 0
        for first in range(0, a.users, a.chunk):
            ids = np.arange(first, min(first + a.chunk, a.users), dtype=np.int32)
            _, scores = model.recommend(ids, seen[ids], N=a.k, filter_already_liked_items=True)
            checksum += float(scores[0, 0])
            done += len(ids)
            if a.max_seconds and time.perf_counter() - t0 > a.max_seconds:
                break
        seconds = time.perf_counter() - t0
    print(json.dumps({"implicit": implicit.__version__, "users": a.users, "items": a.items, "factors": a.factors,
                      "k": a.k, "threads": a.threads, "chunk": a.chunk, "seconds": seconds,
                      "users_done": done, "users_per_second": done / seconds,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_before_scoring_mib": rss_before, "inputs_mib": inputs_mib, "checksum": checksum}))


if __name__ == "__main__":
    main()
