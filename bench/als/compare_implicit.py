#!/usr/bin/env python3
"""driftrec implicit ALS against the `implicit` library (0.7.3, CPU, conjugate gradient), in one run.

For each dataset (a driftrec store's temporal split, and a seeded synthetic matrix of
>= 10^7 stored entries) and each factor count, this script
  1. fits implicit.cpu.als.AlternatingLeastSquares on the training CSR, timing every
     iteration (implicit's fit callback);
  2. runs als_bench (driftrec's fit_implicit_als) on the same matrix with the same settings
     and thread count, reading its per-sweep seconds and its saved factors;
  3. scores both models with the same Python code: Recall@K on the held-out period.
and prints one JSON object (also written to --out).

The same objective on both sides. driftrec minimises
    sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2),  c_ui = 1 + alpha r_ui,
p_ui = [r_ui > 0], absent entries c = 1, p = 0. implicit 0.7.3 treats the matrix it is given
as the confidence itself (C = alpha_implicit * M; absent entries c = 1; its CG solves
(Y^T Y + lambda I + Y^T (C_u - I) Y) x = Y^T C_u p_u, with the same unscaled lambda). So
implicit is given M = 1 + alpha r on the stored entries, with its own alpha = 1.0: the two
solve exactly the same problem. Every stored r is checked to be > 0 (implicit would read a
negative value as a dislike). Only the initial factors differ: implicit draws U[0, 0.01),
driftrec N(0, 0.01^2).

Evaluation (docs/evaluation.md, "Exact definitions", items): candidates = items with a training
entry; truth = the user's held-out items that are candidates and not in her training row;
users with no truth or no training entry are skipped; the ranking is over all candidates
with the user's training items excluded; recall@K = hits / min(K, |truth|); ties break
toward the lower item index. Bootstrap 95% intervals (1000 resamples over evaluated
users, seeded, the same resamples for both models) for each recall and for the difference.

Environment (see README.md):
    /usr/bin/python3 -m venv --system-site-packages VENV
    VENV/bin/pip install implicit==0.7.3 "numpy<2" "scipy<1.14"
"numpy<2" keeps Debian's python3-h5py (built against numpy 1.x) importable in the venv.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import h5py
    import scipy
    import scipy.sparse as sp
    import threadpoolctl
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares
except ImportError as e:  # pragma: no cover - environment message
    sys.exit(
        f"compare_implicit.py: {e}. Run it in a venv with implicit 0.7.3:\n"
        "  /usr/bin/python3 -m venv --system-site-packages /tmp/als-venv\n"
        '  /tmp/als-venv/bin/pip install implicit==0.7.3 "numpy<2" "scipy<1.14"'
    )

IMPLICIT_VERSION = "0.7.3"


# ---------------------------------------------------------------------------- data


def read_csr_group(f, name, shape):
    g = f[name]
    return sp.csr_matrix(
        (g["data"][:].astype(np.float32), g["indices"][:].astype(np.int32), g["indptr"][:].astype(np.int64)),
        shape=shape,
    )


def store_split(path):
    """(train, test): the sum of all slices but the last, and the last slice."""
    with h5py.File(path, "r") as f:
        shape = (len(f["users/id"]), len(f["items/id"]))
        n = len(f["slices/begin"])
        if n < 2:
            raise SystemExit(f"{path}: {n} slice(s); the temporal split needs at least 2")
        train = sp.csr_matrix(shape, dtype=np.float32)
        for k in range(n - 1):
            train = train + read_csr_group(f, f"slices/{k:04d}", shape)
        test = read_csr_group(f, f"slices/{n - 1:04d}", shape)
        periods = {
            "slices": n,
            "test_period": [int(f["slices/begin"][n - 1]), int(f["slices/end"][n - 1])],
            "slicing": f.attrs["slicing"].decode() if isinstance(f.attrs["slicing"], bytes) else str(f.attrs["slicing"]),
        }
    train.sum_duplicates()
    train.sort_indices()
    train.eliminate_zeros()
    return train.astype(np.float32), test, periods


def load_dumped_csr(folder, prefix, shape):
    return sp.csr_matrix(
        (
            np.load(os.path.join(folder, f"{prefix}_data.npy")),
            np.load(os.path.join(folder, f"{prefix}_indices.npy")),
            np.load(os.path.join(folder, f"{prefix}_indptr.npy")),
        ),
        shape=shape,
    )


def fingerprint(m):
    return {
        "rows": int(m.shape[0]),
        "cols": int(m.shape[1]),
        "nnz": int(m.nnz),
        "value_sum": float(np.sum(m.data, dtype=np.float64)),
        "index_sum": int(np.sum(m.indices, dtype=np.int64)),
    }


def check_same_matrix(ours, theirs, what):
    """als_bench's fingerprint of its training matrix against the one Python loaded."""
    for key in ("rows", "cols", "nnz", "index_sum"):
        if int(ours[key]) != int(theirs[key]):
            raise SystemExit(f"{what}: als_bench trained on a different matrix ({key}: {ours[key]} vs {theirs[key]})")
    if abs(ours["value_sum"] - theirs["value_sum"]) > 1e-6 * max(1.0, abs(theirs["value_sum"])):
        raise SystemExit(f"{what}: value sums differ ({ours['value_sum']} vs {theirs['value_sum']})")


# ---------------------------------------------------------------------------- models


def fit_implicit(train, factors, regularization, alpha, iterations, cg_steps, threads, seed):
    """implicit's CPU CG ALS on confidence 1 + alpha r (its own alpha 1.0); per-iteration seconds."""
    if train.nnz and not (train.data > 0).all():
        raise SystemExit("the training matrix has values <= 0; implicit would read them as dislikes")
    confidence = train.copy()
    confidence.data = (1.0 + alpha * confidence.data).astype(np.float32)
    seconds = []
    # implicit's own advice: one BLAS thread, its OpenMP loop owns the cores.
    with threadpoolctl.threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=1.0,
            dtype=np.float32,
            use_native=True,
            use_cg=True,
            iterations=iterations,
            calculate_training_loss=False,
            num_threads=threads,
            random_state=seed,
        )
        model.cg_steps = cg_steps
        t0 = time.perf_counter()
        model.fit(confidence, show_progress=False, callback=lambda it, elapsed, loss: seconds.append(elapsed))
        fit_seconds = time.perf_counter() - t0
    return np.asarray(model.user_factors), np.asarray(model.item_factors), seconds, fit_seconds


def objective(train, user_f, item_f, regularization, alpha, chunk=1 << 20):
    """The shared objective, in float64: trace(X^T X Y^T Y) + sum over stored entries of
    [c (1 - s)^2 - s^2] + lambda (|X|^2 + |Y|^2), c = 1 + alpha r, s = x_u . y_i."""
    x = np.asarray(user_f, dtype=np.float64)
    y = np.asarray(item_f, dtype=np.float64)
    xtx, yty = x.T @ x, y.T @ y
    rows = np.repeat(np.arange(train.shape[0]), np.diff(train.indptr))
    stored = 0.0
    for b in range(0, train.nnz, chunk):
        r, c = rows[b:b + chunk], train.indices[b:b + chunk]
        s = np.einsum("ij,ij->i", x[r], y[c])
        conf = 1.0 + alpha * train.data[b:b + chunk].astype(np.float64)
        stored += float(np.sum(conf * (1 - s) ** 2 - s * s))
    return float(np.sum(xtx * yty) + stored + regularization * (np.trace(xtx) + np.trace(yty)))


def run_als_bench(als_bench, source_args, factors, args, save_dir):
    cmd = [
        als_bench, *source_args,
        "--factors", str(factors),
        "--regularization", repr(args.regularization),
        "--alpha", repr(args.alpha),
        "--iterations", str(args.iterations),
        "--cg-steps", str(args.cg_steps),
        "--threads", str(args.threads),
        "--seed", str(args.seed),
        "--save", save_dir,
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    report = json.loads(out.stdout)
    user = np.load(os.path.join(save_dir, "user_factors.npy"))
    item = np.load(os.path.join(save_dir, "item_factors.npy"))
    return user, item, report, cmd


# ---------------------------------------------------------------------------- evaluation


def eligible_users(train, test):
    """Users with a training entry and a non-empty truth, and each one's truth."""
    candidate = np.bincount(train.indices, minlength=train.shape[1]) > 0
    users, truths = [], []
    for u in range(train.shape[0]):
        if train.indptr[u + 1] == train.indptr[u]:
            continue
        t = test.indices[test.indptr[u]:test.indptr[u + 1]]
        t = t[candidate[t]]
        t = np.setdiff1d(t, train.indices[train.indptr[u]:train.indptr[u + 1]], assume_unique=False)
        if t.size:
            users.append(u)
            truths.append(t)
    return np.asarray(users, dtype=np.int64), truths, candidate


def top_k_rows(scores, k):
    """Top k columns per row, best first, ties toward the lower column index."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for r in range(scores.shape[0]):
        s = scores[r]
        threshold = s[part[r]].min()
        above = np.flatnonzero(s > threshold)
        tied = np.flatnonzero(s == threshold)[: k - above.size]
        chosen = np.concatenate([above, tied])
        order = np.lexsort((chosen, -s[chosen]))  # by score desc, then index asc
        out[r] = chosen[order]
    return out


def recall_per_user(user_f, item_f, train, users, truths, candidate, k, batch=2048):
    user_f = np.ascontiguousarray(user_f, dtype=np.float32)
    item_t = np.ascontiguousarray(item_f.T, dtype=np.float32)
    recalls = np.empty(len(users))
    for b in range(0, len(users), batch):
        bu = users[b:b + batch]
        scores = user_f[bu] @ item_t
        scores[:, ~candidate] = -np.inf
        rows = np.repeat(np.arange(len(bu)), np.diff(train.indptr)[bu])
        cols = np.concatenate([train.indices[train.indptr[u]:train.indptr[u + 1]] for u in bu])
        scores[rows, cols] = -np.inf
        top = top_k_rows(scores, k)
        for r in range(len(bu)):
            t = truths[b + r]
            recalls[b + r] = np.intersect1d(top[r], t).size / min(k, t.size)
    return recalls


def bootstrap_ci(values_a, values_b, resamples, seed):
    rng = np.random.default_rng(seed)
    n = len(values_a)
    idx = rng.integers(0, n, size=(resamples, n))
    a, b = values_a[idx].mean(axis=1), values_b[idx].mean(axis=1)
    q = lambda x: [float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))]
    return q(a), q(b), q(a - b)


# ---------------------------------------------------------------------------- driver


def summarise(seconds):
    s = np.asarray(seconds, dtype=np.float64)
    return {"mean": float(s.mean()), "median": float(np.median(s)), "min": float(s.min()), "per_iteration": [float(x) for x in s]}


def compare(name, train, test, source_args, args, work, data_note, eval_sample, repeats):
    users, truths, candidate = eligible_users(train, test)
    n_eligible = len(users)
    if eval_sample and len(users) > eval_sample:
        pick = np.sort(np.random.default_rng(args.seed).choice(len(users), size=eval_sample, replace=False))
        users, truths = users[pick], [truths[i] for i in pick]
    results = []
    for factors in args.factors:
        runs = []
        for rep in range(repeats):
            print(f"[{name}] factors={factors} repeat {rep + 1}/{repeats}: implicit ...", file=sys.stderr, flush=True)
            iu, ii, isec, ifit = fit_implicit(train, factors, args.regularization, args.alpha, args.iterations,
                                              args.cg_steps, args.threads, args.seed)
            load_i = os.getloadavg()[0]
            print(f"[{name}] factors={factors} repeat {rep + 1}/{repeats}: driftrec ...", file=sys.stderr, flush=True)
            save = os.path.join(work, f"{name}-f{factors}-r{rep}")
            du, di, report, cmd = run_als_bench(args.als_bench, source_args, factors, args, save)
            check_same_matrix(report["train"], fingerprint(train), name)
            runs.append((iu, ii, isec, ifit, du, di, report, cmd, os.getloadavg()[0], load_i))
        # Timings pooled over repeats; recall from the last repeat's factors.
        i_secs = [s for r in runs for s in r[2]]
        d_secs = [it["seconds"] for r in runs for it in r[6]["iterations"]]
        iu, ii, _, _, du, di, report, cmd = runs[-1][:8]
        rec_d = recall_per_user(du, di, train, users, truths, candidate, args.k)
        rec_i = recall_per_user(iu, ii, train, users, truths, candidate, args.k)
        ci_d, ci_i, ci_diff = bootstrap_ci(rec_d, rec_i, 1000, args.seed)
        loss_d = objective(train, du, di, args.regularization, args.alpha)
        loss_i = objective(train, iu, ii, args.regularization, args.alpha)
        t_d, t_i = summarise(d_secs), summarise(i_secs)
        results.append({
            "dataset": name,
            "factors": factors,
            "seconds_per_iteration": {"driftrec": t_d, "implicit": t_i},
            # On a shared machine the min (each side's least-disturbed iteration) is the
            # most stable of the three; all three are reported.
            "ratio_driftrec_over_implicit": {"mean": t_d["mean"] / t_i["mean"], "median": t_d["median"] / t_i["median"],
                                             "min": t_d["min"] / t_i["min"]},
            "loadavg_1min_after_each_fit": {"driftrec": [r[8] for r in runs], "implicit": [r[9] for r in runs]},
            "goal_ratio_at_most": 0.8,
            "fit_seconds": {"driftrec": [r[6]["fit_seconds"] for r in runs], "implicit": [r[3] for r in runs]},
            "final_objective": {"driftrec": loss_d, "implicit": loss_i, "driftrec_over_implicit": loss_d / loss_i},
            f"recall@{args.k}": {
                "driftrec": float(rec_d.mean()),
                "implicit": float(rec_i.mean()),
                "driftrec_ci95": ci_d,
                "implicit_ci95": ci_i,
                "difference_ci95": ci_diff,
                "users_evaluated": int(len(users)),
                "users_eligible": int(n_eligible),
            },
            "als_bench_command": " ".join(cmd),
        })
        print(json.dumps({k: results[-1][k] for k in ("dataset", "factors", "ratio_driftrec_over_implicit")}), file=sys.stderr, flush=True)
    return {"data": {**data_note, "train": fingerprint(train), "test": fingerprint(test)}, "results": results}


def machine_note():
    note = {"platform": platform.platform(), "cpus_online": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    note["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        note["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return note


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--als-bench", required=True, help="path to the als_bench binary")
    ap.add_argument("--store", help="driftrec store (e.g. the bundled MovieLens ingested by month)")
    ap.add_argument("--synthetic", action="store_true", help="also run the synthetic >= 10^7 nnz matrix")
    ap.add_argument("--synthetic-users", type=int, default=200000)
    ap.add_argument("--synthetic-items", type=int, default=50000)
    ap.add_argument("--synthetic-mean-activity", type=float, default=60)
    ap.add_argument("--synthetic-eval-users", type=int, default=20000, help="seeded sample of eligible users scored")
    ap.add_argument("--factors", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--regularization", type=float, default=0.01)
    ap.add_argument("--alpha", type=float, default=1.0, help="confidence c = 1 + alpha * r on both sides")
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--cg-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="store: fits per side and setting (timings pooled)")
    ap.add_argument("--synthetic-repeats", type=int, default=1, help="synthetic: fits per side and setting")
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--work", help="folder for factors and dumped matrices (default: a temporary one)")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    if implicit.__version__ != IMPLICIT_VERSION:
        sys.exit(f"compare_implicit.py: implicit {implicit.__version__} found, {IMPLICIT_VERSION} required")
    if not args.store and not args.synthetic:
        sys.exit("compare_implicit.py: give --store, --synthetic or both")

    tmp = None
    work = args.work
    if not work:
        tmp = tempfile.TemporaryDirectory(prefix="driftrec-als-bench-")
        work = tmp.name
    os.makedirs(work, exist_ok=True)

    out = {
        "benchmark": "implicit ALS: driftrec vs implicit " + implicit.__version__,
        "settings": {
            "regularization": args.regularization,
            "alpha": args.alpha,
            "confidence": "c = 1 + alpha * r on both sides (implicit is given 1 + alpha * r with its alpha = 1.0)",
            "iterations": args.iterations,
            "cg_steps": args.cg_steps,
            "solver": "conjugate gradient (implicit.cpu.als, use_cg=True; driftrec Solver::cg)",
            "threads": args.threads,
            "implicit_blas_threads": 1,
            "seed": args.seed,
            "k": args.k,
            "repeats": {"store": args.repeats, "synthetic": args.synthetic_repeats},
        },
        "machine": machine_note(),
        "versions": {"implicit": implicit.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "datasets": [],
    }
    if args.store:
        train, test, periods = store_split(args.store)
        out["datasets"].append(compare("store", train, test, ["--store", args.store], args, work,
                                       {"kind": "store", "path": args.store, **periods,
                                        "split": "train = all slices but the last; test = the last"}, 0, args.repeats))
    if args.synthetic:
        syn = ["--synthetic", "--users", str(args.synthetic_users), "--items", str(args.synthetic_items),
               "--mean-activity", repr(args.synthetic_mean_activity)]
        mat = os.path.join(work, "synthetic-matrix")
        subprocess.run([args.als_bench, *syn, "--iterations", "0", "--dump-matrix", mat], check=True, capture_output=True)
        shape = (args.synthetic_users, args.synthetic_items)
        train, test = load_dumped_csr(mat, "train", shape), load_dumped_csr(mat, "test", shape)
        if train.nnz < 10**7:
            print(f"warning: synthetic training matrix has {train.nnz} < 10^7 entries", file=sys.stderr)
        out["datasets"].append(compare("synthetic", train, test, syn, args, work,
                                       {"kind": "synthetic", "generator": "als_bench --synthetic (see als_bench.cpp)",
                                        "split": "test = a held-out draw from the same users' tastes"},
                                       args.synthetic_eval_users, args.synthetic_repeats))
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
