"""The store-level jobs of the driftrec CLI as Python calls: train, predict, evaluate,
factorize, propagate_store, recommend, similar_items, generate (and Store.reslice). Each
runs the same C++ pipeline function as `driftrec <job>` (the GIL released while it runs),
with keyword arguments named as the CLI's options (--learning-rate -> learning_rate) and
the same defaults, read from the C++ requests; each returns what `driftrec <job> --json`
prints, as a dict (predict: arrays).

Jobs that write a store (train, factorize, propagate_store, reslice) replace the file
atomically; a Store passed in is reopened afterwards so that it sees the new result.
HDF5 is used by one thread at a time: while a job runs, Store reads on other threads wait
for it (pure Python and numpy work goes on).

train, evaluate, factorize and propagate_store take device="cpu" (the default), "cuda" or
"auto", as --device: where label propagation and ALS run. "cuda" raises InputError when
this build has no CUDA or the machine no GPU (the message says which); "auto" uses CUDA
exactly when it can run."""

import json
import os
from collections import namedtuple

import numpy as np

from . import _convert, _driftrec
from ._store import Store

InputError = _driftrec.InputError

_DEFAULTS = _driftrec._job_defaults()


_EMPTY = ("", ())  # an empty default (e.g. predict's model name, evaluate's models) shows as None


def _d(job, option):
    """The default of one option; an empty one (none given) shows as None."""
    value = _DEFAULTS[job][option]
    return None if value in _EMPTY else value


def _options(job, given):
    """The keyword arguments of `job` out of a function's locals(), None back to ""."""
    out = {}
    for option, default in _DEFAULTS[job].items():
        value = given[option]
        if value is None and default in _EMPTY:
            value = default
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        out[option] = value
    if "threads" in out:
        out["threads"] = _convert.thread_count(out["threads"])
    return out


def _store_path(store):
    if isinstance(store, Store):
        if store.closed:
            raise InputError(f"store: {store.path} is closed")
        return store.path
    if isinstance(store, (str, os.PathLike)):
        return os.fspath(store)
    raise InputError(f"store: expected a driftrec.Store or a path, found {type(store).__name__}")


def _id(value, name):
    """A user or item id as the store holds it (ints as their decimal text)."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name}: expected a str or int id, found {value!r}")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str):
        return str(value)
    raise InputError(f"{name}: expected a str or int id, found {type(value).__name__} {value!r}")


def _written(store, text):
    """The job's JSON report; a Store object is reopened on the rewritten file."""
    if isinstance(store, Store):
        store._reopen()
    return json.loads(text)


def train(store, *, name=_d("train", "name"), cell=_d("train", "cell"), hidden=_d("train", "hidden"),
          epochs=_d("train", "epochs"), learning_rate=_d("train", "learning_rate"), bptt=_d("train", "bptt"),
          batch_users=_d("train", "batch_users"), factor_weight=_d("train", "factor_weight"),
          patience=_d("train", "patience"), factors=_d("train", "factors"), window=_d("train", "window"),
          seed=_d("train", "seed"), threads=_d("train", "threads"),
          device=_d("train", "device"), interests=_d("train", "interests"), items=_d("train", "items")):
    """`driftrec train`: fits the sequence model (GRU, LSTM or attention cell) that predicts
    each user's next-period interests and factor on every period of `store` (a Store or a
    path; needs item labels and at least 4 periods) and saves it, with every user's
    prediction for the period after the last, under /results/<name>. interests: "best" (the
    default: the cell's own head or the interest mixture, whichever is better on the last
    period), "sequence" or "mixture"; Store.append steps every cell and interests choice forward. items: what
    recommend(model=name) and export(model=name) rank by, "best" (the default: the hybrid or the learned item ranker,
    whichever has the higher recall@20 on the last period), "hybrid" or "ranker". Returns the summary of `driftrec train
    --json` (epochs run, best epoch, validation loss, the hybrid's interest weight...)."""
    path = _store_path(store)
    return _written(store, _driftrec._train(path, _options("train", locals())))


Prediction = namedtuple("Prediction", ["user", "model", "labels", "probabilities", "new"])
Prediction.__doc__ = """One user's predicted interests for the period after the store's last,
in ranked order (by probability, a label the user never had multiplied by the result's
new_label_boost: the interest mixture's label ranking): label names (str array),
probabilities (float32) and whether the user never had an item of the label (bool array)."""

SequencePrediction = namedtuple(
    "SequencePrediction",
    ["users", "labels", "interests", "factors", "item_factors", "interest_weight", "best_epoch", "window",
     "periods", "train_loss", "validation_loss", "trained_periods", "new_label_boost"])
SequencePrediction.__doc__ = """Everything a train result predicts for the period after the
store's last: interests (users x labels, float32, rows summing to 1), factors (users x f, the
predicted user factors), item_factors (items x f, the last period's), with the users' and
labels' ids, the hybrid's interest_weight, best_epoch, window, periods (the store's when
the prediction was made: when trained, or the periods Store.append stepped the model forward
to), the train and validation loss per epoch, trained_periods (the store's when trained) and
new_label_boost (predict ranks a label the user never had by its probability times it: the
interest mixture's label ranking; 1 for a cell's own head)."""


def predict(store, user=None, *, model=_d("predict", "model"), top=_d("predict", "top")):
    """`driftrec predict`: the `top` first labels of `user` (an id as in the log; by
    probability, a label the user never had times the result's new_label_boost)
    for the period after the store's last, from the train result `model`, as a
    Prediction. Without a user: the whole users x labels matrix and the rest of the result,
    as a SequencePrediction."""
    path = _store_path(store)
    options = _options("predict", locals())
    if user is None:
        if not isinstance(options["model"], str):
            raise InputError(f"model: expected a str, found {options['model']!r}")
        raw = _driftrec._sequence_result(path, options["model"])
        with Store(path) as s:
            users, labels = s.users, s.labels
        return SequencePrediction(users=users, labels=labels, **raw)
    r = json.loads(_driftrec._predict(path, _id(user, "user"), options))
    rows = r["labels"]
    return Prediction(
        user=r["user"], model=r["model"], labels=np.array([x["label"] for x in rows], dtype=str),
        probabilities=np.array([x["probability"] for x in rows], dtype=np.float32),
        new=np.array([x["new"] for x in rows], dtype=bool))


def evaluate(store, *, test_periods=_d("evaluate", "test_periods"), k=_d("evaluate", "k"),
             seed=_d("evaluate", "seed"), truth=_d("evaluate", "truth"),
             tune_budget=_d("evaluate", "tune_budget"), train_users=_d("evaluate", "train_users"),
             models=_d("evaluate", "models"), threads=_d("evaluate", "threads"), device=_d("evaluate", "device")):
    """`driftrec evaluate`: the temporal evaluation of every baseline and model (each fitted
    only on the events before a test period) on the last `test_periods` periods, item
    metrics at the cut-offs `k` (an int or a sequence), 95% bootstrap intervals. truth: the
    truth.csv of `driftrec generate`, to also score the interest models against the planted
    interests.
    tune_budget: seconds to spend first choosing the sequence models' hidden size, window
    and learning rate on the validation period (0, the default: their defaults); the
    report's "tuning" says what was chosen and how long it took.
    train_users: the sequence rows (GRU, LSTM, attention, and the hybrid and mixture on the
    GRU) train and early-stop on at most this many users drawn with `seed`, then predict for
    every user; 0 (the default): every user. Stores with at most this many users are
    unaffected; above it the interest metrics move beyond their 95% intervals
    (docs/evaluation.md: the measured tolerance). The report's "train_users" records it.
    models: evaluate only these rows, a list of names (e.g. ["recent_popularity", "ranker"])
    or one name; None (the default): every row. The periods are split as for every row.
    Returns the report `driftrec evaluate --json FILE` writes; its "table" is not in it
    (the CLI prints that). Raises InputError naming the option for a bad value."""
    path = _store_path(store)
    if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
        k = (int(k),)
    elif isinstance(k, np.ndarray):
        k = k.tolist()
    elif isinstance(k, (list, tuple)):
        k = list(k)
    if isinstance(models, str):
        models = [models]
    elif isinstance(models, np.ndarray):
        models = models.tolist()
    return json.loads(_driftrec._evaluate(path, _options("evaluate", locals())))


def factorize(store, *, name=_d("factorize", "name"), factors=_d("factorize", "factors"),
              regularization=_d("factorize", "regularization"), alpha=_d("factorize", "alpha"),
              iterations=_d("factorize", "iterations"), cg_steps=_d("factorize", "cg_steps"),
              solver=_d("factorize", "solver"), eta=_d("factorize", "eta"), gamma=_d("factorize", "gamma"),
              keep_users=_d("factorize", "keep_users"), keep_items=_d("factorize", "keep_items"),
              seed=_d("factorize", "seed"), verbose=_d("factorize", "verbose"), threads=_d("factorize", "threads"),
              device=_d("factorize", "device")):
    """`driftrec factorize`: temporal implicit ALS over the store's periods (drift penalty
    eta, history decay gamma), the factors kept (keep_users, keep_items: "all" or "last:N")
    saved under /results/<name>. verbose: compute the objective after every sweep (costs one
    extra pass), as --verbose, which prints it; here nothing is printed and the summary's
    "final_loss" is the last sweep's (None without it; default False). Returns the summary
    of `driftrec factorize --json`."""
    path = _store_path(store)
    return _written(store, _driftrec._factorize(path, _options("factorize", locals())))


def propagate_store(store, *, method=_d("propagate", "method"), name=_d("propagate", "name"),
                    alpha=_d("propagate", "alpha"), gamma=_d("propagate", "gamma"), mu=_d("propagate", "mu"),
                    tolerance=_d("propagate", "tolerance"), max_iterations=_d("propagate", "max_iterations"),
                    low_memory=_d("propagate", "low_memory"), reorder=_d("propagate", "reorder"),
                    keep=_d("propagate", "keep"), beta=_d("propagate", "beta"),
                    neighbours=_d("propagate", "neighbours"), top=_d("propagate", "top"),
                    restart=_d("propagate", "restart"), threads=_d("propagate", "threads"),
                    device=_d("propagate", "device")):
    """`driftrec propagate`: method "label" (temporal label propagation), "p3alpha",
    "rp3beta" or "ppr" (random walks on the last period's decayed history) over the store,
    saved under /results/<name> (default: the method's name). alpha None: the method's
    default (0.85 for label, 1 for the walks).
    low_memory (label): True keeps W without its transpose (about half the graph's memory,
    one pass per iteration, 1.2-1.5x slower, same results), as --low-memory; False keeps W^T
    and runs two half-steps per iteration, as --no-low-memory; None (the default, neither
    flag): W^T unless W and W^T would not fit in the memory available, then W alone.
    reorder (label): relabel each period's graph by degree (faster gathers on large graphs):
    "auto" (the default; from 2^21 stored entries), "on" or "off"; results equal up to float
    rounding.
    Returns the summary of `driftrec propagate --json`. (driftrec.propagate returns label
    propagation's interests in memory instead.)"""
    path = _store_path(store)
    return _written(store, _driftrec._propagate_job(path, _options("propagate", locals())))


def recommend(store, user, *, k=_d("recommend", "k"), result=_d("recommend", "result"),
              period=_d("recommend", "period"), model=_d("recommend", "model"),
              filter_items=_d("recommend", "filter_items"), include_seen=_d("recommend", "include_seen"),
              threads=_d("recommend", "threads")):
    """`driftrec recommend`: the k best items for `user` by the factors of the factorize
    result `result` (period None: the latest with both factors), or by the sequence model
    `model` (a train result; the item model it chose) for the period after the last, or by
    the learned item ranker with model="ranker" (fitted on threads threads when asked). filter_items: a file of item ids
    never to recommend. Returns `driftrec recommend --json`'s dict: "items" lists item,
    title, score and labels, best first."""
    path = _store_path(store)
    options = _options("recommend", locals())
    return json.loads(_driftrec._recommend(path, _id(user, "user"), options))


def similar_items(store, item, *, k=_d("similar_items", "k"), result=_d("similar_items", "result"),
                  period=_d("similar_items", "period")):
    """`driftrec similar-items`: the k items whose factors (of the factorize result
    `result`) have the highest cosine with `item`'s. Returns `driftrec similar-items
    --json`'s dict: "items" lists item, title, cosine and labels, best first."""
    path = _store_path(store)
    options = _options("similar_items", locals())
    return json.loads(_driftrec._similar_items(path, _id(item, "item"), options))


def export(store, out, *, what=_d("export", "what"), model=_d("export", "model"), k=_d("export", "k"),
           users=_d("export", "users"), format=_d("export", "format"), include_seen=_d("export", "include_seen"),
           filter_items=_d("export", "filter_items"), full=_d("export", "full"), force=_d("export", "force"),
           chunk=_d("export", "chunk"), threads=_d("export", "threads")):
    """`driftrec export`: every user's top-k recommendations (what="recommendations", by the
    result `model`: factorize, train (the item model train chose, ranked as recommend ranks
    it) or propagate, or "ranker"; the returned "ranked_by" says which), predicted interests ("interests", a train
    result; full=True for every label) or every item's similar items ("similar-items") in
    one CSV or HDF5 file at `out`, written a chunk of users at a time and renamed into place.
    users: "all" or a file of user ids. Returns `driftrec export --json`'s dict. Read the
    file back with to_dataframe(out)."""
    path = _store_path(store)
    options = _options("export", locals())
    return json.loads(_driftrec._export(path, os.fspath(out), options))


def to_dataframe(path):
    """An export file as a pandas DataFrame with the CSV's columns (one row per user and
    rank), from CSV or HDF5 (HDF5 needs h5py). Write Parquet with .to_parquet(...) where
    pyarrow is installed."""
    import pandas as pd

    path = os.fspath(path)
    with open(path, "rb") as f:
        is_hdf5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
    if not is_hdf5:
        return pd.read_csv(path, dtype={"user": str, "item": str, "similar_item": str, "label": str},
                           keep_default_na=False)
    import h5py

    with h5py.File(path, "r") as f:
        what = f.attrs["what"]
        what = what.decode() if isinstance(what, bytes) else str(what)
        text = lambda name: f[name][:].astype(str)
        if what == "interests":
            names = text("label_names")
            p = f["probability"][:]
            new = f["new"][:].astype(bool)
            rows, width = p.shape
            labels = f["labels"][:] if "labels" in f else np.tile(np.arange(width), (rows, 1))
            frame = {"user": np.repeat(text("user_ids"), width)}
            if "labels" in f:
                frame["rank"] = np.tile(np.arange(1, width + 1), rows)
            frame.update({"label": names[labels.ravel()], "probability": p.ravel(), "new": new.ravel()})
            return pd.DataFrame(frame)
        items = f["items"][:]
        scores = f["scores"][:]
        rows, width = items.shape
        keep = items.ravel() >= 0
        ids = text("item_ids")
        titles = text("item_titles") if "item_titles" in f else np.full(len(ids), "")
        first = "item" if what == "similar-items" else "user"
        row_ids = text("row_ids" if what == "similar-items" else "user_ids")
        frame = {first: np.repeat(row_ids, width)[keep], "rank": np.tile(np.arange(1, width + 1), rows)[keep],
                 ("similar_item" if what == "similar-items" else "item"): ids[items.ravel()[keep]],
                 "title": titles[items.ravel()[keep]],
                 ("cosine" if what == "similar-items" else "score"): scores.ravel()[keep]}
        if "period" in f:
            frame["period"] = np.repeat(f["period"][:], width)[keep]
        return pd.DataFrame(frame)


def generate(out, *, users=_d("generate", "users"), items=_d("generate", "items"), labels=_d("generate", "labels"),
             periods=_d("generate", "periods"), period_seconds=_d("generate", "period_seconds"),
             start=_d("generate", "start"), events_per_period=_d("generate", "events_per_period"),
             events=_d("generate", "events"), activity_sigma=_d("generate", "activity_sigma"),
             popularity_exponent=_d("generate", "popularity_exponent"),
             labels_per_item=_d("generate", "labels_per_item"),
             labelled_fraction=_d("generate", "labelled_fraction"), drift=_d("generate", "drift"),
             jump=_d("generate", "jump"), user_labels=_d("generate", "user_labels"), seed=_d("generate", "seed"),
             force=_d("generate", "force"), threads=_d("generate", "threads")):
    """`driftrec generate`: a synthetic log with planted interest drift written under the
    folder `out` (events.csv, labels.csv, truth.csv, meta.json). events: a total number of
    events instead of events_per_period. force: replace those files if `out` holds them
    already (without it an InputError names the existing file and nothing is written). Returns `driftrec generate --json`'s dict
    (meta.json plus the run's timings)."""
    if not isinstance(out, (str, os.PathLike)):
        raise InputError(f"out: expected a folder path, found {type(out).__name__}")
    options = _options("generate", locals())
    return json.loads(_driftrec._generate(os.fspath(out), options))


def reslice(store, slice, *, aggregate=_d("reslice", "aggregate"), threads=_d("reslice", "threads")):
    """`driftrec reslice`: the store's slices rebuilt from its events with the slicing
    `slice` (day|week|month|quarter|year|<N>s|quantiles:<N>); results under /results are
    dropped. threads: the chunk compression's (0: OpenMP's default). Returns `driftrec
    reslice --json`'s dict."""
    path = _store_path(store)
    if not isinstance(slice, str):
        raise InputError(f"slice: expected a str such as 'quarter', found {slice!r}")
    return _written(store, _driftrec._reslice(path, slice, _options("reslice", locals())))


__all__ = ["Prediction", "SequencePrediction", "evaluate", "factorize", "generate", "predict", "propagate_store",
           "recommend", "reslice", "similar_items", "train"]
