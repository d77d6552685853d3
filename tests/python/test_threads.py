"""Long calls release the GIL: another Python thread keeps running while the engine
works. A thread records the time of each of its loop iterations while a long ALS fit runs
on another; with the GIL held for the whole fit, the gap between two of its iterations
would be the fit's length."""

import threading
import time

import numpy as np
import scipy.sparse as sp

import driftrec


def test_fit_lets_other_python_threads_run(rng):
    ratings = sp.random(3000, 2000, density=0.02, random_state=rng, format="csr").astype(np.float32)
    model = driftrec.ALS(factors=48, iterations=4, threads=1, solver="cholesky")
    started, done = threading.Event(), threading.Event()
    span = {}

    def work():
        started.set()
        t0 = time.perf_counter()
        model.fit(ratings)
        span["fit"] = time.perf_counter() - t0
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    stamps = []
    while not done.is_set():
        stamps.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    largest_gap = max(np.diff(stamps), default=0.0)
    print(f"fit {span['fit']:.2f} s, {len(stamps)} ticks of the other thread, largest gap {largest_gap:.3f} s")
    assert span["fit"] > 0.3, "the fit is too short to tell"
    assert largest_gap < 0.5 * span["fit"]
