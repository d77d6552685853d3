"""Shared fixtures of the Python tests: the repository's paths and a seeded generator whose
seed is printed (pytest shows it with a failure; DRIFTREC_TEST_SEED reruns one)."""

import os
import pathlib

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
