"""driftrec.Store: a store written from a DataFrame or arrays holds exactly the events of
its source (ids in order of first appearance, events sorted by time, user, item), its
slices are the events aggregated per period, and its item labels are the source's pairs."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import driftrec
from conftest import MOVIELENS


def first_appearance(values):
    """Distinct values in order of first appearance, and each value's index."""
    uniques, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniques[order], rank[inverse]


def month_start(seconds):
    return seconds.astype("datetime64[s]").astype("datetime64[M]")


def expected_store(user, item, time, value, slicing_months=True):
    """Ids, sorted events, monthly periods and summed slices of a log, in numpy."""
    users, u = first_appearance(np.asarray(user).astype(str))
    items, i = first_appearance(np.asarray(item).astype(str))
    order = np.lexsort((i, u, time))  # stable: exact ties keep their input order
    events = (u[order], i[order], np.asarray(time)[order], np.asarray(value, np.float32)[order])
    months = np.unique(month_start(events[2]))
    begin = months.astype("datetime64[s]").astype(np.int64)
    end = (months + 1).astype("datetime64[s]").astype(np.int64)
    slices = []
    for b, e in zip(begin, end):
        sel = (events[2] >= b) & (events[2] < e)
        m = sp.coo_matrix((events[3][sel].astype(np.float64), (events[0][sel], events[1][sel])),
                          shape=(len(users), len(items))).tocsr()
        m.sum_duplicates()
        slices.append(m)
    return users, items, events, (begin, end), slices


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    ratings = pd.read_csv(MOVIELENS / "ratings.csv")
    movies = pd.read_csv(MOVIELENS / "movies.csv")
    genres = movies.assign(label=movies.genres.str.split("|")).explode("label")
    genres = genres[genres.label != "(no genres listed)"].rename(columns={"movieId": "item"})[["item", "label"]]
    path = tmp_path_factory.mktemp("ml") / "ml.h5"
    store = driftrec.Store.from_dataframe(path, ratings, user="userId", item="movieId", time="timestamp",
                                          value="rating", labels=genres)
    return ratings, genres, store


def test_movielens_store_holds_the_csv_events_ids_and_periods(movielens):
    ratings, _, store = movielens
    users, items, events, (begin, end), _ = expected_store(
        ratings.userId.to_numpy(), ratings.movieId.to_numpy(), ratings.timestamp.to_numpy(), ratings.rating.to_numpy())
    assert store.n_events == len(ratings)
    assert (store.users == users).all() and store.n_users == len(users)
    assert (store.items == items).all() and store.n_items == len(items)
    e = store.events
    assert e.user.dtype == np.int32 and e.item.dtype == np.int32
    assert e.time.dtype == np.int64 and e.value.dtype == np.float32
    np.testing.assert_array_equal(e.user, events[0])
    np.testing.assert_array_equal(e.item, events[1])
    np.testing.assert_array_equal(e.time, events[2])
    np.testing.assert_array_equal(e.value, events[3])
    assert store.slicing == "month" and store.aggregate == "sum"
    np.testing.assert_array_equal(store.periods.begin, begin)
    np.testing.assert_array_equal(store.periods.end, end)
    assert store.n_slices == len(begin)
    assert store.ingest_report["events"] == len(ratings)


def test_movielens_slices_are_the_events_summed_per_period(movielens):
    ratings, _, store = movielens
    *_, slices = expected_store(ratings.userId.to_numpy(), ratings.movieId.to_numpy(),
                                ratings.timestamp.to_numpy(), ratings.rating.to_numpy())
    assert store.n_slices == len(slices)
    for k, want in enumerate(slices):
        got = store.slice(k)
        assert isinstance(got, sp.csr_matrix) and got.shape == want.shape
        assert got.nnz == want.nnz
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-6)
    np.testing.assert_allclose(store.slice(-1).toarray(), slices[-1].toarray(), rtol=1e-6)


def test_movielens_item_labels_are_the_genre_pairs(movielens):
    _, genres, store = movielens
    item_index = {name: k for k, name in enumerate(store.items)}
    kept = genres[genres["item"].astype(str).isin(item_index)]
    labels, _ = first_appearance(kept.label.to_numpy().astype(str))
    assert (store.labels == labels).all()
    label_index = {name: k for k, name in enumerate(labels)}
    want = sp.coo_matrix((np.ones(len(kept)), ([item_index[str(i)] for i in kept["item"]],
                                               [label_index[g] for g in kept.label])),
                         shape=(store.n_items, store.n_labels)).toarray()
    np.testing.assert_array_equal(store.item_labels.toarray(), want)
    report = store.ingest_report
    assert report["labels"] == len(labels)
    assert report["label_rows_for_unknown_items"] == len(genres) - len(kept)


def test_int_and_string_ids_are_stored_as_text(tmp_path):
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", [7, "x", np.int64(7)], np.array(["a", "b", "a"]),
                                       [86400, 86400 * 2, 86400 * 3], slice="day")
    assert list(store.users) == ["7", "x"]
    assert list(store.items) == ["a", "b"]
    assert store.user_index(7) == 0 and store.user_index("x") == 1 and store.item_index("b") == 1
    assert store.aggregate == "count"
    np.testing.assert_array_equal(store.events.value, [1, 1, 1])
    with pytest.raises(driftrec.InputError, match="no user with id 8"):
        store.user_index(8)


@pytest.mark.parametrize("form", ["dict", "pairs", "triples", "frame", "positional"])
def test_labels_in_every_accepted_form(tmp_path, form):
    weights = None
    if form == "dict":
        labels = {1: "x", 2: ["x", "y"], 9: "z"}
    elif form == "pairs":
        labels = [(1, "x"), (2, "x"), (2, "y"), (9, "z")]
    elif form == "triples":
        labels = [(1, "x", 2.0), (2, "x", 1.0), (2, "y", 3.0), (9, "z", 1.0)]
        weights = [2.0, 1.0, 3.0]
    elif form == "frame":
        labels = pd.DataFrame({"label": ["x", "x", "y", "z"], "item": [1, 2, 2, 9]})
    else:
        labels = pd.DataFrame({"movie": [1, 2, 2, 9], "genre": ["x", "x", "y", "z"]})
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", ["u", "v"], [1, 2], [0, 10], labels=labels)
    assert list(store.labels) == ["x", "y"]
    m = store.item_labels
    want = np.array([[1, 0], [1, 1]], dtype=np.float32)
    if weights:
        want = np.array([[2, 0], [1, 3]], dtype=np.float32)
    np.testing.assert_array_equal(m.toarray(), want)
    assert store.ingest_report["label_rows_for_unknown_items"] == 1


def test_datetime_times_are_unix_seconds(tmp_path):
    seconds = np.array([0, 86399, 86400, 10**9, -86400 * 365], dtype=np.int64)
    base = driftrec.Store.from_arrays(tmp_path / "a.h5", [1, 2, 3, 4, 5], [1, 1, 2, 2, 3], seconds, slice="day")
    stamps = pd.to_datetime(seconds, unit="s")
    for name, times in [("datetime64", stamps.to_numpy()),
                        ("tz-aware", pd.Series(stamps).dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")),
                        ("whole floats", seconds.astype(np.float64))]:
        store = driftrec.Store.from_arrays(tmp_path / "b.h5", [1, 2, 3, 4, 5], [1, 1, 2, 2, 3], times,
                                           slice="day", force=True)
        np.testing.assert_array_equal(store.events.time, base.events.time, err_msg=name)
        np.testing.assert_array_equal(store.periods.begin, base.periods.begin, err_msg=name)
    # Sub-second times floor to the second, before 1970 too (as the CLI reads milliseconds).
    store = driftrec.Store.from_arrays(tmp_path / "c.h5", [1, 2], [1, 2], pd.to_datetime([-1500, 1500], unit="ms"))
    np.testing.assert_array_equal(np.sort(store.events.time), [-2, 1])


def test_skip_mode_counts_bad_rows(tmp_path):
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", ["a", "", "c"], [1, 2, 3], [0, 1, 2],
                                       [1.0, 2.0, np.nan], on_error="skip")
    assert store.n_events == 1
    skipped = store.ingest_report["skipped_event_lines"]
    assert skipped["bad user"] == {"count": 1, "first": "row 1"}
    assert skipped["bad value"] == {"count": 1, "first": "row 2"}


def test_existing_store_is_kept_unless_forced(tmp_path):
    path = tmp_path / "s.h5"
    driftrec.Store.from_arrays(path, [1], [1], [0])
    with pytest.raises(driftrec.InputError, match="already exists"):
        driftrec.Store.from_arrays(path, [1, 2], [1, 2], [0, 1])
    assert driftrec.Store(path).n_events == 1
    assert driftrec.Store.from_arrays(path, [1, 2], [1, 2], [0, 1], force=True).n_events == 2


def test_store_errors_name_the_problem(tmp_path):
    with pytest.raises(driftrec.InputError, match="nope.h5"):
        driftrec.Store(tmp_path / "nope.h5")
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", [1, 2], [1, 2], [0, 86400 * 40])
    assert store.n_slices == 2
    with pytest.raises(driftrec.InputError, match="slice 2 does not exist"):
        store.slice(2)
    with pytest.raises(driftrec.InputError, match="slice -3 does not exist"):
        store.slice(-3)
    with pytest.raises(driftrec.InputError, match="integer index"):
        store.slice(1.0)
    with pytest.raises(driftrec.InputError, match="df: no column 'rating'"):
        driftrec.Store.from_dataframe(tmp_path / "t.h5", pd.DataFrame({"user": [1], "item": [1], "time": [0]}),
                                      value="rating")
    with driftrec.Store(store.path) as s:
        assert s.results == []
    assert s.closed
    with pytest.raises(driftrec.InputError, match="closed"):
        s.events


def test_append_refuses_drops_or_clips_negative_values_as_asked_and_counts_them(tmp_path):
    day = 86400
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", [1, 2, 1], [10, 10, 11], [0, day, 2 * day],
                                       [1.0, 2.0, 1.0], slice="day")
    before = (tmp_path / "s.h5").read_bytes()
    new = ([1, 2, 2], [10, 11, 10], [3 * day, 3 * day + 1, 3 * day + 2], [-3.0, 1.0, 2.0])
    with pytest.raises(driftrec.InputError, match=r"value\[0\]: expected a value >= 0"):
        store.append(*new)
    assert (tmp_path / "s.h5").read_bytes() == before
    with pytest.raises(driftrec.InputError, match="--negative: expected refuse, drop or clip"):
        store.append(*new, negative="zero")
    other = tmp_path / "other.h5"
    other.write_bytes(before)
    with driftrec.Store(other) as dropped:
        summary = dropped.append(*new, negative="drop")
        assert summary["events_added"] == 2 and dropped.n_events == 5
        assert summary["negative_values"] == {"dropped": 1, "clipped": 0}
    summary = store.append(*new, negative="clip")
    assert summary["events_added"] == 3 and store.n_events == 6
    assert summary["negative_values"] == {"dropped": 0, "clipped": 1}
    assert sorted(store.events.value.tolist()) == [0.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    store.close()


def test_append_steps_a_trained_sequence_model_forward(tmp_path, rng):
    """Store.append steps a train result over the new month from its saved state, with the
    weights as trained: predict() reads the new prediction; retrain=True trains it again."""
    n = 900
    user = rng.integers(0, 40, n)
    item = rng.integers(0, 30, n)
    month = 30 * 86400
    start = np.datetime64("2020-01-01T00:00:00").astype(np.int64) // month * month  # `<N>s` periods start at 0
    time = np.sort(start + rng.integers(0, 7 * month, n))
    labels = {str(i): [f"g{i % 4}"] for i in range(30)}
    old = time < start + 6 * month
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", user[old], item[old], time[old], labels=labels,
                                       slice=f"{month}s")
    driftrec.train(store, epochs=2, hidden=4, factors=3, seed=1, threads=2, interests="sequence")
    before = driftrec.predict(store)
    copy = tmp_path / "retrain.h5"
    copy.write_bytes((tmp_path / "s.h5").read_bytes())

    summary = store.append(user[~old], item[~old], time[~old], threads=2)
    assert summary["dropped_results"] == [], summary["dropped_reasons"]
    [result] = summary["results"]
    assert result["kind"] == "sequence_model" and result["stepped_periods"] == 1
    assert "stepped forward one period" in result["note"]
    after = driftrec.predict(store)
    assert (before.periods, before.trained_periods) == (6, 6)
    assert (after.periods, after.trained_periods) == (7, 6)
    assert after.interests.shape == (store.n_users, store.n_labels)
    np.testing.assert_allclose(after.interests.sum(axis=1), 1, rtol=1e-5)
    assert not np.array_equal(after.interests[: before.interests.shape[0]], before.interests)
    np.testing.assert_array_equal(after.train_loss, before.train_loss)

    with driftrec.Store(copy) as other:
        other.append(user[~old], item[~old], time[~old], retrain=True, threads=2)
    again = driftrec.predict(copy)
    assert (again.periods, again.trained_periods) == (7, 7)


@pytest.mark.parametrize("cell, interests", [("gru", "best"), ("gru", "mixture"), ("attention", "mixture")])
def test_append_steps_mixture_and_attention_results(tmp_path, rng, cell, interests):
    """Store.append steps a result of any cell and interests forward: train's defaults (the
    mixture when it wins), the mixture forced, the attention cell with the mixture. Two
    months appended one at a time give, bit for bit, the prediction of both appended at once."""
    n = 1200
    user = rng.integers(0, 40, n)
    item = rng.integers(0, 30, n)
    month = 30 * 86400
    start = np.datetime64("2020-01-01T00:00:00").astype(np.int64) // month * month
    time = np.sort(start + rng.integers(0, 8 * month, n))
    labels = {str(i): [f"g{i % 4}"] for i in range(30)}
    old = time < start + 6 * month
    seventh = (time >= start + 6 * month) & (time < start + 7 * month)
    eighth = time >= start + 7 * month
    store = driftrec.Store.from_arrays(tmp_path / "s.h5", user[old], item[old], time[old], labels=labels,
                                       slice=f"{month}s")
    driftrec.train(store, epochs=2, hidden=4, factors=3, seed=1, threads=2, cell=cell, interests=interests)
    before = driftrec.predict(store)
    copy = tmp_path / "at-once.h5"
    copy.write_bytes((tmp_path / "s.h5").read_bytes())

    for part in (seventh, eighth):
        summary = store.append(user[part], item[part], time[part], threads=2)
        assert summary["dropped_results"] == [], summary["dropped_reasons"]
        [result] = summary["results"]
        assert result["kind"] == "sequence_model" and result["stepped_periods"] == 1
    after = driftrec.predict(store)
    assert (after.periods, after.trained_periods) == (8, 6)
    np.testing.assert_allclose(after.interests.sum(axis=1), 1, rtol=1e-5)
    assert not np.array_equal(after.interests[: before.interests.shape[0]], before.interests)

    with driftrec.Store(copy) as other:
        both = eighth | seventh
        summary = other.append(user[both], item[both], time[both], threads=2)
        assert summary["results"][0]["stepped_periods"] == 2
    at_once = driftrec.predict(copy)
    np.testing.assert_array_equal(at_once.interests, after.interests)
    np.testing.assert_array_equal(at_once.factors, after.factors)


def test_append_equals_ingesting_everything_at_once(tmp_path, rng):
    """Store.append of the later events gives the store from_arrays writes from all of them."""
    n = 600
    user = rng.integers(0, 40, n)
    item = rng.integers(0, 30, n)
    start = np.datetime64("2020-01-01T00:00:00").astype(np.int64)
    time = np.sort(start + rng.integers(0, 6 * 30 * 86400, n))
    value = rng.integers(1, 6, n).astype(np.float32)
    labels = {str(i): [f"g{i % 4}", f"h{i % 3}"] for i in range(30)}
    cut = np.searchsorted(time, time[int(0.8 * n)])
    full = driftrec.Store.from_arrays(tmp_path / "full.h5", user, item, time, value, labels=labels)
    part = driftrec.Store.from_arrays(tmp_path / "part.h5", user[:cut], item[:cut], time[:cut], value[:cut],
                                      labels=labels)
    before = (tmp_path / "part.h5").read_bytes()
    with pytest.raises(driftrec.InputError, match="allow-backfill"):
        part.append(user[:5], item[:5], np.full(5, start), value[:5])
    assert (tmp_path / "part.h5").read_bytes() == before
    summary = part.append(user[cut:], item[cut:], time[cut:], value[cut:], labels=labels)
    assert summary["events_added"] == n - cut
    assert part.n_events == n
    np.testing.assert_array_equal(part.users, full.users)
    np.testing.assert_array_equal(part.items, full.items)
    np.testing.assert_array_equal(part.labels, full.labels)
    assert part.n_slices == full.n_slices
    for k in range(full.n_slices):
        assert (part.slice(k) != full.slice(k)).nnz == 0
    assert (part.item_labels != full.item_labels).nnz == 0
