"""Arrays in every dtype and layout analytics code hands over: converted when the meaning is
plain (float64 values, int64 or uint ids, Fortran order, strided views, read-only buffers,
any sparse format) with the same result as the canonical input; refused with InputError
naming the argument otherwise (wrong ndim, float or bool ids, ids out of range, NaN, empty
input). Never a crash, and the caller's arrays are never modified."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import driftrec


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


# ---- Store.from_arrays ----

@pytest.fixture
def log(rng):
    n = 200
    return dict(user=rng.integers(0, 15, n), item=rng.integers(100, 130, n),
                time=rng.integers(0, 86400 * 90, n), value=rng.uniform(0.5, 5, n))


def events_of(store):
    e = store.events
    return store.users.tolist(), store.items.tolist(), e.user, e.item, e.time, e.value


def assert_same_store(a, b):
    for x, y in zip(events_of(a), events_of(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("variant", ["int32 ids and float64 values", "uint16 ids", "strided views",
                                     "read-only", "pandas Series", "lists", "object ids"])
def test_from_arrays_converts_plain_inputs(tmp_path, log, variant):
    base = driftrec.Store.from_arrays(tmp_path / "base.h5", log["user"], log["item"], log["time"],
                                      log["value"].astype(np.float32))
    user, item, time, value = log["user"], log["item"], log["time"], log["value"]
    if variant == "int32 ids and float64 values":
        user, item = user.astype(np.int32), item.astype(np.int32)
    elif variant == "uint16 ids":
        user, item = user.astype(np.uint16), item.astype(np.uint16)
    elif variant == "strided views":
        def strided(a):
            doubled = np.repeat(a, 2)
            return doubled[::2]
        user, item, time, value = strided(user), strided(item), strided(time), strided(value)
        assert not user.flags.c_contiguous
    elif variant == "read-only":
        user, item, time, value = read_only(user), read_only(item), read_only(time), read_only(value)
    elif variant == "pandas Series":
        user, item, time, value = pd.Series(user), pd.Series(item), pd.Series(time), pd.Series(value)
    elif variant == "lists":
        user, item, time, value = user.tolist(), item.tolist(), time.tolist(), value.tolist()
    else:
        user, item = user.astype(object), item.astype(str).astype(object)
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", user, item, time, value)
    assert_same_store(store, base)


def test_from_dataframe_with_fortran_order_columns(tmp_path, log):
    base = driftrec.Store.from_arrays(tmp_path / "base.h5", log["user"], log["item"], log["time"], log["value"])
    block = np.asfortranarray(np.column_stack([log["user"], log["item"], log["time"]]))
    df = pd.DataFrame(block, columns=["u", "i", "t"]).assign(v=log["value"])
    store = driftrec.Store.from_dataframe(tmp_path / "s.h5", df, user="u", item="i", time="t", value="v")
    assert_same_store(store, base)


@pytest.mark.parametrize("change, message", [
    (dict(user=np.zeros((2, 100))), r"user: expected a 1-D array"),
    (dict(item=np.arange(200) + 0.5), r"item: ids must be integers or strings, found float64"),
    (dict(user=np.ones(200, dtype=bool)), r"user: ids must be integers or strings, found dtype bool"),
    (dict(user=[None] + [1] * 199), r"user\[0\]: expected a str or int id, found NoneType"),
    (dict(value=np.r_[np.ones(7), np.nan, np.ones(192)]), r"value\[7\]: expected a finite number, found 'nan'"),
    (dict(value=np.r_[np.ones(3), 1e300, np.ones(196)]),
     r"value\[3\]: expected a number of magnitude at most 3.4028235e\+38 \(values are stored as float32\), "
     r"found '1e\+300'"),
    (dict(value=np.r_[np.ones(3), 1e40, np.ones(196)]), r"value\[3\]: .*at most 3.4028235e\+38"),
    (dict(value=np.r_[np.ones(5), -2.0, np.ones(194)]), r"value\[5\]: expected a value >= 0.*found '-2'.*--negative"),
    (dict(time=np.r_[0, 1.5, np.zeros(198)]), r"time\[1\]: expected whole Unix seconds"),
    (dict(time=np.r_[0, -10**11, np.zeros(198)].astype(np.int64)), r"time\[1\]: expected Unix seconds between"),
    (dict(time=np.array(["2020-01-01"] * 200)), r"time: expected Unix seconds \(integers\) or datetime64"),
    (dict(time=np.arange(199)), r"the columns differ in length: user 200, item 200, time 199"),
    (dict(value=["x"] * 200), r"value\[0\]: expected a number, found 'x'"),
    (dict(value=np.array(["x"] * 200)), r"value: expected numbers, found dtype <U1"),
    (dict(user=np.r_[np.uint64(2**64 - 1), np.zeros(199, np.uint64)]), r"does not fit in 64 bits"),
])
def test_from_arrays_refuses_with_input_error(tmp_path, log, change, message):
    args = {**log, **change}
    with pytest.raises(driftrec.InputError, match=message):
        driftrec.Store.from_arrays(tmp_path / "s.h5", args["user"], args["item"], args["time"], args["value"])
    assert not (tmp_path / "s.h5").exists()


def test_from_dataframe_drops_or_clips_negative_values_as_asked_and_counts_them(tmp_path):
    df = pd.DataFrame(dict(user=[1, 2, 3], item=[10, 10, 11], time=[0, 1, 2], value=[2.0, -1.0, 3.0]))
    with pytest.raises(driftrec.InputError, match=r"value\[1\]: expected a value >= 0"):
        driftrec.Store.from_dataframe(tmp_path / "s.h5", df, value="value")
    dropped = driftrec.Store.from_dataframe(tmp_path / "d.h5", df, value="value", negative="drop")
    assert dropped.n_events == 2
    assert dropped.ingest_report["negative_values"] == {"dropped": 1, "clipped": 0}
    clipped = driftrec.Store.from_dataframe(tmp_path / "c.h5", df, value="value", negative="clip")
    assert clipped.n_events == 3
    assert sorted(clipped.events.value.tolist()) == [0.0, 2.0, 3.0]
    assert clipped.ingest_report["negative_values"] == {"dropped": 0, "clipped": 1}
    with pytest.raises(driftrec.InputError, match=r"--negative: expected refuse, drop or clip"):
        driftrec.Store.from_dataframe(tmp_path / "x.h5", df, value="value", negative="zero")


def test_from_dataframe_passes_threads_on_as_from_arrays(tmp_path):
    df = pd.DataFrame(dict(user=[1, 2, 3, 1], item=[10, 10, 11, 12], time=[0, 1, 2, 40 * 86400]))
    one = driftrec.Store.from_dataframe(tmp_path / "one.h5", df, threads=1)
    two = driftrec.Store.from_dataframe(tmp_path / "two.h5", df, threads=2)
    assert one.n_slices == two.n_slices == 2
    for k in range(one.n_slices):
        assert (one.slice(k) != two.slice(k)).nnz == 0
    with pytest.raises(driftrec.InputError, match="threads"):
        driftrec.Store.from_dataframe(tmp_path / "bad.h5", df, threads=-1)
    assert not (tmp_path / "bad.h5").exists()


def test_from_arrays_refuses_empty_input(tmp_path):
    with pytest.raises(driftrec.InputError, match="no valid events"):
        driftrec.Store.from_arrays(tmp_path / "s.h5", np.array([], np.int64), np.array([], np.int64),
                                   np.array([], np.int64))
    with pytest.raises(driftrec.InputError, match="labels: no label rows"):
        driftrec.Store.from_arrays(tmp_path / "s.h5", [1], [1], [0], labels=[])


def test_from_arrays_does_not_modify_its_inputs(tmp_path, log):
    copies = {k: v.copy() for k, v in log.items()}
    driftrec.Store.from_arrays(tmp_path / "s.h5", log["user"], log["item"], log["time"], log["value"])
    for k in log:
        np.testing.assert_array_equal(log[k], copies[k])


# ---- ALS ----

@pytest.fixture
def ratings(rng):
    m = sp.random(40, 30, density=0.2, random_state=rng, format="csr", data_rvs=lambda n: rng.integers(1, 6, n))
    return m.astype(np.float32)


def fit(matrix, seed=3):
    return driftrec.ALS(factors=5, iterations=2, random_state=seed).fit(matrix)


@pytest.mark.parametrize("variant", ["float64", "int64 data", "csc", "coo with duplicates", "csr with duplicates", "unsorted indices",
                                     "dense Fortran", "read-only", "csr_array", "int32 indptr"])
def test_fit_converts_any_sparse_layout(ratings, variant):
    base = fit(ratings)
    m = ratings
    if variant == "float64":
        m = ratings.astype(np.float64)
    elif variant == "int64 data":
        m = ratings.astype(np.int64)
    elif variant == "csc":
        m = ratings.tocsc()
    elif variant == "coo with duplicates":
        coo = ratings.tocoo()
        half = coo.data / 2
        m = sp.coo_matrix((np.r_[half, half], (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])), shape=coo.shape)
    elif variant == "csr with duplicates":  # each entry stored as two halves, side by side
        lengths = np.diff(ratings.indptr) * 2
        m = sp.csr_matrix((np.repeat(ratings.data / 2, 2), np.repeat(ratings.indices, 2),
                           np.r_[0, np.cumsum(lengths)]), shape=ratings.shape)
        assert not m.has_canonical_format
        before = (m.indices.copy(), m.data.copy())
    elif variant == "unsorted indices":
        m = ratings.copy()
        for r in range(m.shape[0]):
            lo, hi = m.indptr[r], m.indptr[r + 1]
            m.indices[lo:hi] = m.indices[lo:hi][::-1]
            m.data[lo:hi] = m.data[lo:hi][::-1]
        m.has_sorted_indices = False
        before = (m.indices.copy(), m.data.copy())
    elif variant == "dense Fortran":
        m = np.asfortranarray(ratings.toarray())
    elif variant == "read-only":
        m = ratings.copy()
        for a in (m.data, m.indices, m.indptr):
            a.flags.writeable = False
    elif variant == "csr_array":
        m = sp.csr_array(ratings)
    elif variant == "int32 indptr":
        m = ratings.copy()
        m.indptr = m.indptr.astype(np.int32)
        m.indices = m.indices.astype(np.int32)
    model = fit(m)
    np.testing.assert_array_equal(model.user_factors, base.user_factors)
    np.testing.assert_array_equal(model.item_factors, base.item_factors)
    if variant in ("unsorted indices", "csr with duplicates"):  # the caller's matrix is left as it was
        np.testing.assert_array_equal(m.indices, before[0])
        np.testing.assert_array_equal(m.data, before[1])


@pytest.mark.parametrize("matrix, message", [
    (lambda r: np.ones(30), r"user_items: expected a 2-D matrix"),
    (lambda r: sp.csr_matrix(np.where(np.eye(40, 30) > 0, np.nan, 1.0)), r"user_items: the value at row 0, column 0 is nan"),
    (lambda r: sp.csr_matrix(np.full((3, 3), np.inf)), r"not finite|is inf"),
    (lambda r: sp.csr_matrix(np.ones((2, 2), dtype=np.complex64)), r"expected real values"),
    (lambda r: np.array([["a", "b"]]), r"expected numbers"),
])
def test_fit_refuses_with_input_error(ratings, matrix, message):
    with pytest.raises(driftrec.InputError, match=message):
        fit(matrix(ratings))


def test_fit_on_empty_matrices(ratings):
    for shape in [(0, 5), (5, 0), (0, 0)]:
        model = fit(sp.csr_matrix(shape, dtype=np.float32))
        assert model.user_factors.shape == (shape[0], 5)
        assert model.item_factors.shape == (shape[1], 5)


def test_query_ids_are_converted_or_refused(ratings):
    model = fit(ratings)
    want, _ = model.recommend(3, ratings[3], N=4)
    for userid in [np.int64(3), np.int32(3), np.uint8(3), np.array(3)]:
        np.testing.assert_array_equal(model.recommend(userid, ratings[3], N=4)[0], want)
    many = np.array([[3, 5, 7]], dtype=np.int64)[0, ::2]  # strided
    ids, _ = model.recommend(read_only(many), ratings[many], N=4)
    assert ids.shape == (2, 4)
    np.testing.assert_array_equal(ids[0], want)
    for bad, message in [(-1, r"userid: id -1 is outside \[0, 40\)"), (40, r"id 40 is outside"),
                         (3.0, "expected integer ids"), (np.zeros((1, 1), int), "expected an id or a 1-D array"),
                         (True, "expected integer ids")]:
        with pytest.raises(driftrec.InputError, match=message):
            model.recommend(bad, ratings[3], N=4)
    with pytest.raises(driftrec.InputError, match=r"items: id 30 is outside"):
        model.recommend(3, ratings[3], items=[1, 30])
    with pytest.raises(driftrec.InputError, match=r"filter_items: id -2 is outside"):
        model.recommend(3, ratings[3], filter_items=np.array([-2]))
    with pytest.raises(driftrec.InputError, match=r"itemid: id 99 is outside"):
        model.similar_items(99)
    with pytest.raises(driftrec.InputError, match="expected 30 columns"):
        model.recommend(3, ratings[3][:, :20])
    empty_ids, empty_scores = model.recommend([], ratings[[]], N=4)
    assert empty_ids.shape == (0, 4) and empty_scores.shape == (0, 4)
    assert model.similar_items(2, N=0)[0].shape == (0,)


def test_factors_set_by_hand_are_converted(ratings):
    model = fit(ratings)
    want = model.recommend(3, ratings[3], N=4)[0]
    model.user_factors = np.asfortranarray(model.user_factors.astype(np.float64))
    model.item_factors = read_only(model.item_factors.astype(np.float64))
    np.testing.assert_array_equal(model.recommend(3, ratings[3], N=4)[0], want)
    model.item_factors = np.zeros((30, 5, 1))
    with pytest.raises(driftrec.InputError, match="item_factors: expected a 2-D array"):
        model.recommend(3, ratings[3])


# ---- propagate_slices ----

def test_propagate_slices_converts_and_refuses(rng):
    w = sp.random(6, 8, density=0.4, random_state=rng, format="csr")
    labels = sp.csr_matrix(np.eye(8, 3))
    base = driftrec.propagate_slices([w.astype(np.float32)], labels.astype(np.float32))
    for slices, item_labels in [([w.tocoo()], labels.toarray()), ([np.asfortranarray(w.toarray())], labels),
                                ((w.astype(np.float64),), labels.tocsc())]:
        got = driftrec.propagate_slices(slices, item_labels)
        np.testing.assert_array_equal(got.interests[0], base.interests[0])
    negative = w.copy()
    negative.data[0] = -1  # the first stored entry: in the first non-empty row, which the seed decides
    first_row = int(np.flatnonzero(np.diff(negative.indptr))[0])
    for slices, item_labels, message in [
        ([], labels, "at least one"),
        ([w, sp.random(7, 8, density=0.3, random_state=rng)], labels, r"slices\[1\]: expected 6 rows"),
        ([w], sp.csr_matrix(np.eye(9, 3)), r"item_labels: expected 8 rows"),
        ([negative], labels, rf"row {first_row}, column \d+ is -1; edge weights must be finite and >= 0"),
        ([sp.csr_matrix(np.full((6, 8), np.nan))], labels, "nan"),
        ("store.h5", labels, "expected a list"),
    ]:
        with pytest.raises(driftrec.InputError, match=message):
            driftrec.propagate_slices(slices, item_labels)
