"""driftrec.propagate against a dense float64 numpy implementation of the temporal
label-propagation iteration (reference.temporal_propagation), and one period against the
closed-form fixed point."""

import threading

import numpy as np
import pytest
import scipy.sparse as sp

import driftrec
import reference


def random_periods(rng, users=9, items=11, labels=3, periods=4, density=0.3):
    slices = []
    for _ in range(periods):
        m = sp.random(users, items, density=density, random_state=rng, format="csr",
                      data_rvs=lambda n: rng.uniform(0.5, 5.0, n))
        m.data = m.data.astype(np.float32)
        slices.append(m)
    labelled = rng.random((items, labels)) < 0.4
    labelled[rng.random(items) < 0.2] = False  # some items have no label
    weights = np.where(labelled, rng.uniform(0.5, 2.0, (items, labels)), 0.0)
    return slices, sp.csr_matrix(weights.astype(np.float32))


@pytest.mark.parametrize("gamma, mu", [(0.5, 0.5), (0.0, 0.0), (1.0, 0.9)])
def test_propagate_matches_the_dense_iteration(rng, gamma, mu):
    slices, item_labels = random_periods(rng)
    alpha, tolerance = 0.8, 1e-6
    got = driftrec.propagate_slices(slices, item_labels, alpha=alpha, gamma=gamma, mu=mu, tolerance=tolerance,
                                    max_iterations=500, keep_item_labels=True)
    want = reference.temporal_propagation(slices, item_labels, alpha, gamma, mu, tolerance, 500)
    assert len(got) == len(want) == len(slices)
    for t, (interests, f_i, iterations, residual, converged) in enumerate(want):
        assert got.interests[t].dtype == np.float32 and got.interests[t].shape == interests.shape
        np.testing.assert_allclose(got.interests[t], interests, atol=2e-5, err_msg=f"period {t}")
        np.testing.assert_allclose(got.item_labels[t], f_i, atol=2e-5, err_msg=f"period {t}")
        assert abs(int(got.iterations[t]) - iterations) <= 1
        assert got.converged[t] == converged
        assert got.residual[t] <= tolerance
        # rows sum to one, or stay zero for users outside labelled territory
        sums = got.interests[t].sum(axis=1)
        assert np.all((np.abs(sums - 1) < 1e-5) | (sums == 0))


def test_one_period_reaches_the_closed_form_fixed_point(rng):
    slices, item_labels = random_periods(rng, periods=1)
    alpha = 0.7
    got = driftrec.propagate_slices(slices, item_labels, alpha=alpha, tolerance=1e-8, max_iterations=1000,
                                    keep_item_labels=True)
    f_u, f_i = reference.propagation_fixed_point(slices[0], item_labels, alpha)
    np.testing.assert_allclose(got.interests[0], reference.row_normalised(f_u), atol=1e-5)
    np.testing.assert_allclose(got.item_labels[0], f_i, atol=1e-5)


def test_non_convergence_is_reported(rng):
    slices, item_labels = random_periods(rng)
    got = driftrec.propagate_slices(slices, item_labels, alpha=0.95, tolerance=1e-12, max_iterations=2)
    assert not got.all_converged
    np.testing.assert_array_equal(got.iterations, 2)
    assert np.all(got.residual > 1e-12)


def test_propagate_on_a_store_equals_propagate_on_its_slices(tmp_path, rng):
    n = 300
    user = rng.integers(0, 20, n)
    item = rng.integers(0, 30, n)
    time = rng.integers(0, 86400 * 200, n)
    value = rng.uniform(1, 5, n)
    labels = [(i, f"g{rng.integers(0, 4)}") for i in range(0, 30, 2)]
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", user, item, time, value, labels=labels, slice="month")
    from_store = driftrec.propagate(store, alpha=0.8)
    from_path = driftrec.propagate(store.path, alpha=0.8)
    direct = driftrec.propagate_slices(store.slices(), store.item_labels, alpha=0.8)
    assert len(from_store) == store.n_slices
    for a, b, c in zip(from_store.interests, from_path.interests, direct.interests):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert list(from_store.labels) == list(store.labels)
    np.testing.assert_array_equal(from_store.periods.begin, store.periods.begin)
    # keep: the last periods only, the same numbers; user_history stacks them
    last = driftrec.propagate(store, alpha=0.8, keep="last:2")
    assert len(last) == 2 and last.first_period == store.n_slices - 2
    np.testing.assert_array_equal(last.interests[1], from_store.interests[-1])
    assert len(last.iterations) == store.n_slices
    history = from_store.user_history(3)
    assert history.shape == (store.n_slices, store.n_labels)
    np.testing.assert_array_equal(history[-1], from_store.interests[-1][3])


def test_reorder_changes_nothing_but_rounding(rng):
    slices, item_labels = random_periods(rng, users=30, items=40)
    off = driftrec.propagate_slices(slices, item_labels, reorder="off")
    on = driftrec.propagate_slices(slices, item_labels, reorder="on")
    for a, b in zip(off.interests, on.interests):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("reorder", ["off", "on"])
def test_low_memory_gives_the_same_results_bit_for_bit(rng, reorder):
    slices, item_labels = random_periods(rng, users=30, items=40)
    runs = [driftrec.propagate_slices(slices, item_labels, reorder=reorder, low_memory=low_memory,
                                      keep_item_labels=True) for low_memory in (None, True, False)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.iterations, runs[0].iterations)
        np.testing.assert_array_equal(other.residual, runs[0].residual)
        for a, b in zip(other.interests + other.item_labels, runs[0].interests + runs[0].item_labels):
            np.testing.assert_array_equal(a, b)


def test_concurrent_propagations_of_one_store_agree(tmp_path, rng):
    n = 2000
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", rng.integers(0, 50, n), rng.integers(0, 80, n),
                                       rng.integers(0, 86400 * 365, n), labels=[(i, f"g{i % 5}") for i in range(80)])
    serial = driftrec.propagate(store)
    results = [None] * 4

    def run(k):
        results[k] = driftrec.propagate(store, threads=1)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        for a, b in zip(r.interests, serial.interests):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_bad_options_and_stores_raise_input_error(tmp_path, rng):
    slices, item_labels = random_periods(rng)
    with pytest.raises(driftrec.InputError, match="alpha"):
        driftrec.propagate_slices(slices, item_labels, alpha=1.0)
    with pytest.raises(driftrec.InputError, match="gamma"):
        driftrec.propagate_slices(slices, item_labels, gamma=-0.1)
    with pytest.raises(driftrec.InputError, match="reorder"):
        driftrec.propagate_slices(slices, item_labels, reorder="maybe")
    with pytest.raises(driftrec.InputError, match="keep"):
        driftrec.propagate_slices(slices, item_labels, keep="first:2")
    with pytest.raises(driftrec.InputError, match="low_memory: expected True or False, found str 'on'"):
        driftrec.propagate_slices(slices, item_labels, low_memory="on")
    with pytest.raises(driftrec.InputError, match="threads"):
        driftrec.propagate_slices(slices, item_labels, threads=-1)
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", [1, 2], [1, 2], [0, 1])
    with pytest.raises(driftrec.InputError, match="no item labels"):
        driftrec.propagate(store)
