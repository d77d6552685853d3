"""Shared fixtures of the Python tests: the repository's paths and a seeded generator whose
seed is printed (pytest shows it with a failure; DRIFTREC_TEST_SEED reruns one)."""

import os
import pathlib
import threading
import time

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MOVIELENS = REPO / "data" / "movielens-latest-small"


@pytest.fixture
def seed():
    value = int(os.environ.get("DRIFTREC_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"seed = {value} (rerun with DRIFTREC_TEST_SEED={value})")
    return value


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


# The driftrec CLI the Python jobs are compared with: DRIFTREC_CLI, or the build of
# scripts/test.sh (which builds build/ before it runs this suite).
CLI = pathlib.Path(os.environ.get("DRIFTREC_CLI", REPO / "build" / "cli" / "driftrec"))


@pytest.fixture(scope="session")
def cli():
    if not os.access(CLI, os.X_OK):
        pytest.fail(f"the driftrec CLI is not at {CLI}: build it (cmake --build build --target driftrec) "
                    f"or set DRIFTREC_CLI", pytrace=False)
    return CLI


def largest_gap_while(job):
    """Runs job() on another thread while this one ticks every millisecond; returns (the
    job's seconds, the largest gap between two ticks). With the GIL held for the whole job,
    the gap would be the job's length."""
    started, done = threading.Event(), threading.Event()
    span = {}

    def work():
        started.set()
        t0 = time.perf_counter()
        try:
            job()
        finally:
            span["job"] = time.perf_counter() - t0
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
    print(f"job {span['job']:.2f} s, {len(stamps)} ticks of the other thread, largest gap {largest_gap:.3f} s")
    return span["job"], largest_gap
