"""Long calls release the GIL: another Python thread keeps running while the engine
works. A thread records the time of each of its loop iterations while a long ALS fit runs
on another; with the GIL held for the whole fit, the gap between two of its iterations
would be the fit's length."""

import numpy as np
import scipy.sparse as sp

import driftrec
from conftest import largest_gap_while


def test_fit_lets_other_python_threads_run(rng):
    ratings = sp.random(3000, 2000, density=0.02, random_state=rng, format="csr").astype(np.float32)
    model = driftrec.ALS(factors=48, iterations=4, threads=1, solver="cholesky")
    seconds, largest_gap = largest_gap_while(lambda: model.fit(ratings))
    assert seconds > 0.3, "the fit is too short to tell"
    assert largest_gap < 0.5 * seconds
