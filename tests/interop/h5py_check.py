"""Interop: a store written by driftrec, read back with h5py (Debian's python3-h5py).

Ingests the bundled MovieLens data, then checks with h5py + numpy alone that the ids,
titles (when the store has /items/title), labels, events and every slice agree with what `driftrec info --json` reports and with
slices recomputed here from the stored events. Usage: h5py_check.py DRIFTREC DATA_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def text(x):
    """Fixed-length HDF5 strings come back from h5py as bytes."""
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def main():
    driftrec, data = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "ml.h5")
        subprocess.run([driftrec, "ingest", os.path.join(data, "ratings.csv"), "--labels",
                        os.path.join(data, "movies.csv"), "--slice", "quarter", "-o", store],
                       check=True, stdout=subprocess.DEVNULL)
        info = json.loads(subprocess.run([driftrec, "info", store, "--json"], check=True,
                                         capture_output=True, text=True).stdout)
        with h5py.File(store, "r") as f:
            assert text(f.attrs["format"]) == "driftrec", f.attrs["format"]
            assert int(f.attrs["version"]) == 1
            assert text(f.attrs["slicing"]) == "quarter"
            users = [text(s) for s in f["users/id"][:]]
            items = [text(s) for s in f["items/id"][:]]
            labels = [text(s) for s in f["labels/name"][:]]
            assert len(users) == info["users"] == 610, len(users)
            assert len(items) == info["items"] == 9724, len(items)
            assert len(labels) == info["labels"] == 19, labels
            assert "(no genres listed)" not in labels
            # Ids in order of first appearance in ratings.csv (sorted by user there).
            assert users[:3] == ["1", "2", "3"], users[:3]
            assert items[:3] == ["1", "3", "6"], items[:3]

            u = f["events/user"][:]
            i = f["events/item"][:]
            t = f["events/time"][:]
            v = f["events/value"][:]
            assert len(t) == info["events"] == 100836
            order = np.lexsort((i, u, t))
            assert np.array_equal(order, np.arange(len(t))), "events not sorted by (time, user, item)"

            # Cross-check a few known rows against the CSV itself.
            first = {}
            with open(os.path.join(data, "ratings.csv")) as ratings:
                next(ratings)
                for line in ratings:
                    a, b, r, ts = line.rstrip("\n").split(",")
                    first.setdefault((a, b, int(ts)), float(r))
            stored = {(users[a], items[b], int(c)): float(d) for a, b, c, d in zip(u, i, t, v)}
            assert stored == first, "events differ from ratings.csv"

            # Item labels: Toy Story (movieId 1) is Adventure|Animation|Children|Comedy|Fantasy.
            indptr, indices = f["item_labels/indptr"][:], f["item_labels/indices"][:]
            toy = items.index("1")
            got = sorted(labels[j] for j in indices[indptr[toy]:indptr[toy + 1]])
            assert got == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"], got

            # Titles, when present: one per item, fixed-length UTF-8, equal to movies.csv's
            # (the csv module handles the quoted commas, as driftrec's reader must).
            checked_titles = "items/title" in f
            assert checked_titles == info["titles"], (checked_titles, info["titles"])
            if checked_titles:
                dset = f["items/title"]
                assert dset.shape == f["items/id"].shape, (dset.shape, f["items/id"].shape)
                assert dset.dtype.kind == "S", dset.dtype  # fixed-length, like /items/id
                assert h5py.check_string_dtype(dset.dtype).encoding == "utf-8"
                titles = [text(s) for s in dset[:]]
                with open(os.path.join(data, "movies.csv"), newline="", encoding="utf-8") as fh:
                    expect = {row["movieId"]: row["title"].strip() for row in csv.DictReader(fh)}
                assert titles == [expect.get(item, "") for item in items], "titles differ from movies.csv"
                assert titles[items.index("11")] == "American President, The (1995)"
                assert sum(1 for t in titles if t) == info["titled_items"]

            begin, end = f["slices/begin"][:], f["slices/end"][:]
            assert len(begin) == len(info["slices"])
            for k in range(len(begin)):
                g = f["slices/%04d" % k]
                ip, ix, dv = g["indptr"][:], g["indices"][:], g["data"][:]
                assert len(ip) == len(users) + 1
                sel = (t >= begin[k]) & (t < end[k])
                assert int(sel.sum()) == info["slices"][k]["events"]
                expect = {}
                for a, b, d in zip(u[sel], i[sel], v[sel]):
                    expect[(int(a), int(b))] = expect.get((int(a), int(b)), 0.0) + float(d)
                got = {}
                for row in range(len(users)):
                    for p in range(ip[row], ip[row + 1]):
                        got[(row, int(ix[p]))] = float(dv[p])
                assert got.keys() == expect.keys(), "slice %d pattern differs" % k
                assert all(abs(got[key] - expect[key]) < 1e-4 for key in got), "slice %d values" % k
    print("h5py interop: ids, %slabels, events and %d slices agree"
          % ("titles, " if checked_titles else "", len(begin)))


if __name__ == "__main__":
    main()
