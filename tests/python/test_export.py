"""driftrec.export and ALS.recommend in bulk: the export file against a numpy brute force
(every user's exact top k by x_u . y_i over the items they never had, with quiet users
scored from their last active period's factors), the same bytes as the CLI's, HDF5 read
with h5py and through to_dataframe, Parquet where pyarrow is installed, bad arguments
refused with nothing written, and a train result exported in recommend's order by the item
model train chose (ranker or hybrid)."""
import shutil
import subprocess

import numpy as np
import pytest

import driftrec
from conftest import CLI


@pytest.fixture(scope="module")
def factorized(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("export")
    meta = driftrec.generate(root / "synth", users=200, items=120, labels=6, periods=6, seed=3)
    store = root / "store.h5"
    subprocess.run([str(CLI), "ingest", str(root / "synth" / "events.csv"), "--labels",
                    str(root / "synth" / "labels.csv"), "--slice", f"{meta['period_seconds']}s", "-o", str(store)],
                   check=True, capture_output=True)
    driftrec.factorize(store, factors=8, iterations=3, eta=1, keep_items="all")
    return store




def test_export_matches_numpy_brute_force_and_cli(factorized, tmp_path):
    h5py = pytest.importorskip("h5py")
    out = tmp_path / "recs.h5"
    report = driftrec.export(factorized, out, k=10, format="hdf5", threads=2)
    assert report["rows"] == 200 and report["kind"] == "temporal_als"
    with h5py.File(out, "r") as f:
        got_items, got_scores, got_period = f["items"][:], f["scores"][:], f["period"][:]
        user_ids = f["user_ids"][:].astype(str)
    with h5py.File(factorized, "r") as f:
        g = f["results/als"]
        last = report["period"]
        y = g["item_factors"][f"{last:04d}"][:]
        xs = {int(p): g["user_factors"][p][:] for p in g["user_factors"]}
    # Seen items and last active periods from the CSV the CLI exports with include_seen off:
    # the brute force needs the user's items; take them from the store's slices.
    store = driftrec.Store(factorized)
    seen = [set() for _ in range(store.n_users)]
    active = np.full(store.n_users, -1)
    for p in range(last + 1):
        m = store.slice(p).tocsr()
        for u in range(store.n_users):
            row = m.indices[m.indptr[u]:m.indptr[u + 1]]
            if len(row):
                seen[u].update(row.tolist())
                active[u] = p
    store.close()
    quiet = 0
    for u in range(len(user_ids)):
        p = active[u] if 0 <= active[u] < last else last
        quiet += p != last
        assert got_period[u] == p
        scores = xs[p][u].astype(np.float64) @ y.T.astype(np.float64)
        order = [i for i in np.lexsort((np.arange(len(scores)), -scores)) if i not in seen[u]][:10]
        np.testing.assert_allclose(got_scores[u], scores[order], rtol=1e-4, atol=1e-5)
        gaps = np.abs(np.diff(scores[order]))
        for j, i in enumerate(order):  # the item itself where its score is not tied
            if (j == 0 or gaps[j - 1] > 1e-5) and (j == len(order) - 1 or gaps[j] > 1e-5):
                assert got_items[u, j] == i
    assert quiet == report["quiet_users"] > 0

    cli_out = tmp_path / "cli.h5"
    subprocess.run([str(CLI), "export", str(factorized), "--k", "10", "--format", "hdf5", "--out", str(cli_out),
                    "--threads", "1"], check=True, capture_output=True)
    assert cli_out.read_bytes() == out.read_bytes()


def test_to_dataframe_reads_csv_and_hdf5_alike(factorized, tmp_path):
    pytest.importorskip("h5py")
    driftrec.export(factorized, tmp_path / "r.csv", k=5)
    driftrec.export(factorized, tmp_path / "r.h5", k=5, format="hdf5")
    a = driftrec.to_dataframe(tmp_path / "r.csv")
    b = driftrec.to_dataframe(tmp_path / "r.h5")
    assert list(a.columns) == ["user", "rank", "item", "title", "score", "period"]
    assert list(b.columns) == list(a.columns)
    assert (a["user"].to_numpy() == b["user"].to_numpy()).all()
    assert (a["item"].to_numpy() == b["item"].to_numpy()).all()
    np.testing.assert_allclose(a["score"].to_numpy(), b["score"].to_numpy(), rtol=1e-6)
    sim = driftrec.to_dataframe(driftrec.export(factorized, tmp_path / "s.h5", what="similar-items", k=3,
                                                format="hdf5")["out"])
    assert list(sim.columns) == ["item", "rank", "similar_item", "title", "cosine"] and len(sim) == 120 * 3


def test_parquet_through_pandas_where_pyarrow_is_installed(factorized, tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    driftrec.export(factorized, tmp_path / "r.csv", k=3)
    frame = driftrec.to_dataframe(tmp_path / "r.csv")
    frame.to_parquet(tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.equals(frame)


@pytest.mark.parametrize("options", [dict(k=0), dict(what="everything"), dict(format="xml"),
                                     dict(users="missing.txt"), dict(model="nothing"), dict(full=True)])
def test_bad_arguments_raise_input_error_and_write_nothing(factorized, tmp_path, options):
    with pytest.raises(driftrec.InputError):
        driftrec.export(factorized, tmp_path / "x.csv", **options)
    assert list(tmp_path.iterdir()) == []


def test_als_recommend_in_bulk_equals_one_user_at_a_time(rng):
    import scipy.sparse as sp

    users, items = 300, 90
    m = sp.random(users, items, density=0.1, random_state=np.random.RandomState(1), format="csr")
    m.data[:] = 1
    model = driftrec.ALS(factors=8, iterations=3, random_state=2).fit(m)
    ids = np.arange(users)
    bulk_ids, bulk_scores = model.recommend(ids, m[ids], N=12)
    assert bulk_ids.shape == (users, 12) and bulk_scores.shape == (users, 12)
    full = model.user_factors.astype(np.float64) @ model.item_factors.T.astype(np.float64)
    for u in rng.choice(users, 25, replace=False):
        one_ids, one_scores = model.recommend(u, m[u], N=12)
        np.testing.assert_array_equal(bulk_ids[u], one_ids)
        np.testing.assert_array_equal(bulk_scores[u], one_scores)
        liked = set(m[u].indices)
        assert not liked & set(one_ids)
        np.testing.assert_allclose(one_scores, full[u, one_ids], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("items", ["ranker", "hybrid"])
def test_export_of_a_train_result_ranks_as_recommend_by_the_item_model_train_chose(factorized, tmp_path, items):
    store = tmp_path / "store.h5"
    shutil.copy(factorized, store)
    summary = driftrec.train(store, name="seq", items=items, interests="sequence", epochs=2, hidden=6, seed=1,
                             threads=2)
    assert summary["items"] == items
    out = tmp_path / "recs.csv"
    report = driftrec.export(store, out, model="seq", k=6, threads=2)
    assert report["kind"] == "sequence_model" and report["ranked_by"] == items
    frame = driftrec.to_dataframe(out)
    for user in frame["user"].drop_duplicates().tolist()[::70]:
        want = driftrec.recommend(store, user, k=6, model="seq", threads=2)
        assert want["ranked_by"] == items
        assert ("ranker" in want) == (items == "ranker")
        got = frame[frame["user"] == user].sort_values("rank")
        assert got["item"].tolist() == [r["item"] for r in want["items"]]
        assert np.allclose(got["score"].to_numpy(), [r["score"] for r in want["items"]], rtol=1e-6)
