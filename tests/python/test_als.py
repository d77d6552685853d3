"""driftrec.ALS against numpy: fitting against exact and conjugate-gradient sweeps of the
normal equations from the same initial factors, the training loss against the objective,
recalculate_user against an exact row solve, recommend against argsort of X Y^T with the
liked items filtered, similar_items against numpy cosine."""

import numpy as np
import pytest
import scipy.sparse as sp

import driftrec
import reference


def random_ratings(rng, users=30, items=40, density=0.15):
    m = sp.random(users, items, density=density, random_state=rng, format="csr",
                  data_rvs=lambda n: rng.integers(1, 6, n).astype(np.float64))
    m.data = m.data.astype(np.float32)
    return m


def initial_factors(ratings, factors, seed):
    """The engine's seeded starting point: a fit with zero sweeps."""
    m = driftrec.ALS(factors=factors, iterations=0, random_state=seed).fit(ratings)
    return m.user_factors.astype(np.float64), m.item_factors.astype(np.float64)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_fit_follows_numpy_sweeps_from_the_same_start(rng, seed, solver):
    ratings = random_ratings(rng)
    factors, regularization, alpha, sweeps = 6, 0.1, 2.0, 3
    x, y = initial_factors(ratings, factors, seed)
    for _ in range(sweeps):
        if solver == "cholesky":
            x = reference.als_exact_half_sweep(ratings, y, regularization, alpha)
            y = reference.als_exact_half_sweep(ratings.T, x, regularization, alpha)
        else:
            x = reference.als_cg_half_sweep(ratings, y, x, regularization, alpha, steps=3)
            y = reference.als_cg_half_sweep(ratings.T, x, y, regularization, alpha, steps=3)
    model = driftrec.ALS(factors=factors, regularization=regularization, alpha=alpha, iterations=sweeps,
                         random_state=seed, solver=solver).fit(ratings)
    assert model.user_factors.dtype == np.float32 and model.user_factors.shape == (30, factors)
    assert model.item_factors.dtype == np.float32 and model.item_factors.shape == (40, factors)
    scale = max(np.abs(x).max(), np.abs(y).max())
    np.testing.assert_allclose(model.user_factors, x, atol=2e-3 * scale)
    np.testing.assert_allclose(model.item_factors, y, atol=2e-3 * scale)


def test_last_half_sweep_solves_the_item_normal_equations_exactly(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=5, regularization=0.05, alpha=3.0, iterations=4, random_state=seed,
                         solver="cholesky").fit(ratings)
    y = reference.als_exact_half_sweep(ratings.T, model.user_factors, 0.05, 3.0)
    np.testing.assert_allclose(model.item_factors, y, atol=1e-4 * np.abs(y).max())


def test_training_loss_is_the_objective_and_does_not_rise(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=4, regularization=0.2, alpha=1.5, iterations=5, random_state=seed,
                         solver="cholesky", calculate_training_loss=True).fit(ratings)
    losses = model.loss_history
    assert len(losses) == 5
    want = reference.als_loss(ratings, model.user_factors, model.item_factors, 0.2, 1.5)
    assert losses[-1] == pytest.approx(want, rel=1e-5)
    assert np.all(np.diff(losses) <= 1e-6 * losses[0])


def test_recalculate_user_is_the_exact_row_solve(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=6, regularization=0.1, alpha=2.0, iterations=3, random_state=seed).fit(ratings)
    users = rng.choice(ratings.shape[0], 5, replace=False)
    want = reference.als_exact_half_sweep(ratings[users], model.item_factors, 0.1, 2.0)
    got = model.recalculate_user(users, ratings[users])
    assert got.shape == (5, 6) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max())
    one = model.recalculate_user(int(users[0]), ratings[users[0]])
    assert one.shape == (6,)
    np.testing.assert_allclose(one, want[0], atol=1e-5 * np.abs(want).max())


def test_recommend_is_argsort_of_scores_without_liked_items(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=8, iterations=4, random_state=seed).fit(ratings)
    scores = model.user_factors.astype(np.float64) @ model.item_factors.astype(np.float64).T
    items = ratings.shape[1]
    for u in rng.choice(ratings.shape[0], 6, replace=False):
        liked = ratings[u].indices
        candidates = np.setdiff1d(np.arange(items), liked)
        ids, got = model.recommend(u, ratings[u], N=7)
        np.testing.assert_array_equal(ids, reference.top_n(scores[u], candidates, 7))
        np.testing.assert_allclose(got, scores[u, ids], rtol=1e-5, atol=1e-6)
        # without filtering, everything is a candidate
        ids, _ = model.recommend(u, ratings[u], N=7, filter_already_liked_items=False)
        np.testing.assert_array_equal(ids, reference.top_n(scores[u], np.arange(items), 7))
        # items=: only those candidates (liked ones still filtered)
        subset = rng.choice(items, 12, replace=False)
        ids, _ = model.recommend(u, ratings[u], N=5, items=subset)
        np.testing.assert_array_equal(ids, reference.top_n(scores[u], np.setdiff1d(subset, liked), 5))
        # filter_items=: never returned
        banned = rng.choice(items, 10, replace=False)
        ids, _ = model.recommend(u, ratings[u], N=5, filter_items=banned)
        np.testing.assert_array_equal(ids, reference.top_n(scores[u], np.setdiff1d(candidates, banned), 5))
        # N beyond the candidates: cut to what is left
        ids, _ = model.recommend(u, ratings[u], N=1000)
        assert len(ids) == len(candidates)


def test_recommend_for_many_users_is_two_dimensional(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=8, iterations=2, random_state=seed).fit(ratings)
    users = np.array([3, 0, 17, 3])
    ids, scores = model.recommend(users, ratings[users], N=6)
    assert ids.shape == (4, 6) and scores.shape == (4, 6)
    for row, u in enumerate(users):
        one_ids, one_scores = model.recommend(int(u), ratings[u], N=6)
        np.testing.assert_array_equal(ids[row], one_ids)
        np.testing.assert_array_equal(scores[row], one_scores)
    # a row with fewer candidates than N is padded with -1 / -inf
    dense = sp.csr_matrix(np.ones((2, ratings.shape[1]), dtype=np.float32))
    dense[0, 5] = 0
    dense.eliminate_zeros()
    ids, scores = model.recommend([0, 1], dense, N=3)
    assert ids[0, 0] == 5 and np.all(ids[0, 1:] == -1) and np.all(np.isneginf(scores[0, 1:]))
    assert np.all(ids[1] == -1)


def test_recommend_with_recalculated_users(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=8, iterations=3, random_state=seed).fit(ratings)
    u = 4
    x = model.recalculate_user(u, ratings[u]).astype(np.float64)
    ids, _ = model.recommend(u, ratings[u], N=5, recalculate_user=True)
    scores = model.item_factors.astype(np.float64) @ x
    np.testing.assert_array_equal(ids, reference.top_n(scores, np.setdiff1d(np.arange(40), ratings[u].indices), 5))


def test_similar_items_is_numpy_cosine_with_the_item_first(rng, seed):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=8, iterations=3, random_state=seed).fit(ratings)
    y = model.item_factors.astype(np.float64)
    norms = np.linalg.norm(y, axis=1)
    for i in rng.choice(y.shape[0], 5, replace=False):
        cosine = (y @ y[i]) / (norms * norms[i])
        ids, scores = model.similar_items(int(i), N=6)
        assert ids[0] == i and scores[0] == pytest.approx(1.0, abs=1e-6)
        others = np.setdiff1d(np.arange(y.shape[0]), [i])
        np.testing.assert_array_equal(ids[1:], reference.top_n(cosine, others, 5))
        np.testing.assert_allclose(scores[1:], cosine[ids[1:]], atol=1e-6)
    many_ids, many_scores = model.similar_items([2, 9], N=4)
    assert many_ids.shape == (2, 4)
    np.testing.assert_array_equal(many_ids[1], model.similar_items(9, N=4)[0])


def test_thread_count_does_not_change_the_factors(rng, seed):
    ratings = random_ratings(rng, users=300, items=200, density=0.1)
    one = driftrec.ALS(factors=16, iterations=3, random_state=seed, threads=1).fit(ratings)
    two = driftrec.ALS(factors=16, iterations=3, random_state=seed, threads=2).fit(ratings)
    np.testing.assert_array_equal(one.user_factors, two.user_factors)
    np.testing.assert_array_equal(one.item_factors, two.item_factors)


def test_breakdown_raises_numerical_error_naming_the_parameter(rng):
    ratings = sp.csr_matrix(np.array([[1, 0], [0, 2], [1, 1]], dtype=np.float32))
    model = driftrec.ALS(factors=4, regularization=0.0, iterations=1, solver="cholesky")
    with pytest.raises(driftrec.NumericalError, match="regularization") as info:
        model.fit(ratings)
    assert isinstance(info.value, ArithmeticError)


def test_misuse_raises_input_error(rng):
    ratings = random_ratings(rng)
    model = driftrec.ALS(factors=4, iterations=1)
    with pytest.raises(driftrec.InputError, match="not fitted"):
        model.recommend(0, ratings[0])
    model.fit(ratings)
    with pytest.raises(driftrec.InputError, match="1 row for every user"):
        model.recommend(0, ratings)
    with pytest.raises(driftrec.InputError, match="either items or filter_items"):
        model.recommend(0, ratings[0], items=[1], filter_items=[2])
    with pytest.raises(driftrec.InputError, match="N"):
        model.recommend(0, ratings[0], N=-1)
    with pytest.raises(driftrec.InputError, match="factors"):
        driftrec.ALS(factors=0).fit(ratings)
    with pytest.raises(driftrec.InputError, match="regularization"):
        driftrec.ALS(regularization=-1).fit(ratings)
    with pytest.raises(driftrec.InputError, match="random_state"):
        driftrec.ALS(random_state=-3).fit(ratings)


def test_partial_fit_users_and_items_are_exact_row_solves_and_grow_the_factors(rng, seed):
    ratings = random_ratings(rng)
    n_users, n_items = ratings.shape
    model = driftrec.ALS(factors=6, regularization=0.1, alpha=2.0, iterations=3, random_state=seed).fit(ratings)
    before_users, before_items = model.user_factors.copy(), model.item_factors.copy()
    # Two known users with changed rows and one new user two ids past the end.
    users = np.array([1, 4, n_users + 1])
    rows = sp.vstack([ratings[1], ratings[0], ratings[2]]).tocsr()
    model.partial_fit_users(users, rows)
    want = reference.als_exact_half_sweep(rows, before_items, 0.1, 2.0)
    assert model.user_factors.shape == (n_users + 2, 6)
    np.testing.assert_allclose(model.user_factors[users], want, atol=1e-5 * np.abs(want).max())
    untouched = np.setdiff1d(np.arange(n_users), users)
    np.testing.assert_array_equal(model.user_factors[untouched], before_users[untouched])
    np.testing.assert_array_equal(model.user_factors[n_users], np.zeros(6, np.float32))  # not given: zero

    # Items against the (updated) user factors; a new item id.
    item_users = sp.csr_matrix(sp.vstack([ratings.T.tocsr()[3], ratings.T.tocsr()[5]]))
    item_users = sp.hstack([item_users, sp.csr_matrix((2, 2))]).tocsr()  # the two new user columns
    items = np.array([3, n_items])
    users_now = model.user_factors.copy()
    model.partial_fit_items(items, item_users)
    want = reference.als_exact_half_sweep(item_users, users_now, 0.1, 2.0)
    assert model.item_factors.shape == (n_items + 1, 6)
    np.testing.assert_allclose(model.item_factors[items], want, atol=1e-5 * np.abs(want).max())
    np.testing.assert_array_equal(model.item_factors[:3], before_items[:3])

    with pytest.raises(driftrec.InputError, match="userids"):
        model.partial_fit_users([1, 1], sp.vstack([ratings[1], ratings[1]]).tocsr())
    with pytest.raises(driftrec.InputError, match="user_items"):
        model.partial_fit_users([1, 2], ratings[1])
