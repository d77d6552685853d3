"""driftrec.Store: a driftrec HDF5 store (the one `driftrec ingest` writes) opened for
reading, and written from numpy arrays or a pandas DataFrame with the same checks, id
mapping, sorting and slicing as the CLI's ingest."""

import json
import os
from collections import namedtuple
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from . import _convert, _driftrec

InputError = _driftrec.InputError

Events = namedtuple("Events", ["user", "item", "time", "value"])
Events.__doc__ = """The store's event log, sorted by (time, user, item): user and item
indices (int32), Unix seconds (int64) and values (float32; 1 where the input had none)."""

Periods = namedtuple("Periods", ["begin", "end"])
Periods.__doc__ = """The slices' periods [begin, end) in Unix seconds (int64 arrays)."""


def _label_columns(labels):
    """(item ids, label ids, weights or None) from labels= (see Store.from_arrays)."""
    if hasattr(labels, "columns") and hasattr(labels, "iloc"):  # a DataFrame
        names = list(labels.columns)
        if "item" in names and "label" in names:
            item, label = labels["item"], labels["label"]
            weight = labels["weight"] if "weight" in names else None
        elif len(names) in (2, 3):
            item, label = labels.iloc[:, 0], labels.iloc[:, 1]
            weight = labels.iloc[:, 2] if len(names) == 3 else None
        else:
            raise InputError(
                f"labels: expected a DataFrame with columns item, label[, weight] (or just 2 or 3 "
                f"columns in that order), found columns {names}")
    elif isinstance(labels, dict):
        item, label = [], []
        for key, value in labels.items():
            for one in [value] if isinstance(value, (str, int, np.integer)) else value:
                item.append(key)
                label.append(one)
        weight = None
    else:
        try:
            rows = [tuple(row) for row in labels]
        except TypeError:
            raise InputError(
                "labels: expected a DataFrame, a dict item -> label(s), or (item, label[, weight]) "
                f"pairs, found {type(labels).__name__}") from None
        widths = {len(row) for row in rows}
        if not widths <= {2} and not widths <= {3}:
            raise InputError("labels: expected (item, label) or (item, label, weight) pairs, all of one width")
        item = [row[0] for row in rows]
        label = [row[1] for row in rows]
        weight = [row[2] for row in rows] if widths == {3} else None
    item = _convert.ids(item, "labels item")
    label = _convert.ids(label, "labels label")
    weight = None if weight is None else _convert.floats(weight, "labels weight")
    return item, label, weight


def _columns(user, item, time, value, labels):
    """The event and label columns of from_arrays and append, converted and checked:
    (user, item, time, value, label_item, label, weight)."""
    events = (_convert.ids(user, "user"), _convert.ids(item, "item"), _convert.times(time, "time"),
              # float64 so that the engine tells 1e40 (beyond float32) from infinity
              None if value is None else _convert.floats(value, "value", dtype=np.float64))
    return events + ((None, None, None) if labels is None else tuple(_label_columns(labels)))


class Store:
    """A driftrec store opened for reading.

    Ids are the store's strings (numpy str arrays, index = the dense id used everywhere
    else); slices and item labels come back as scipy.sparse.csr_matrix.
    """

    def __init__(self, path):
        self._core = _driftrec._Store(os.fspath(path))
        self.ingest_report = None  # set by from_arrays / from_dataframe

    # ---- writing ----

    @classmethod
    def from_arrays(cls, path, user, item, time, value=None, *, labels=None, slice="month",
                    aggregate="auto", force=False, on_error="fail", negative="refuse", threads=0):
        """Writes a store at `path` from one event per row and returns it opened.

        user, item: ids, integers or strings (integers are stored as their decimal text, as
            the CLI reads them from a file). time: Unix seconds or datetime64 (pandas times,
            tz-aware ones converted to UTC). value: optional numbers (aggregate "auto" sums
            them per slice; without values it counts events).
        labels: item labels, as a DataFrame with columns item, label[, weight], a dict item ->
            label or list of labels, or (item, label[, weight]) pairs; labels of items without
            events are ignored.
        slice: day | week | month | quarter | year | <N>s | quantiles:<N>.
        force: overwrite an existing file. on_error: "fail" (default) or "skip" bad rows
            (counted in the returned store's ingest_report). negative: what a negative value
            means, as `driftrec ingest --negative`: "refuse" (default: InputError), "drop" the
            event or "clip" it to 0 (counted in ingest_report["negative_values"]). Values are
            checked by the same function as a file's. threads: 0 for OpenMP's default; the
            store is the same for any count.
        Raises InputError naming the column and row of the first bad value.
        """
        report = _driftrec._ingest_columns(
            os.fspath(path), *_columns(user, item, time, value, labels), str(slice),
            str(aggregate), bool(force), str(on_error), str(negative), _convert.thread_count(threads))
        store = cls(path)
        store.ingest_report = json.loads(report)
        return store

    @classmethod
    def from_dataframe(cls, path, df, user="user", item="item", time="time", value=None, labels=None,
                       slice="month", aggregate="auto", force=False, on_error="fail", negative="refuse", threads=0):
        """Store.from_arrays with the columns of `df` named by user, item, time and value
        (None: no value column); the other arguments as there."""
        missing = [c for c in (user, item, time, value) if c is not None and c not in df.columns]
        if missing:
            raise InputError(f"df: no column {missing[0]!r}; its columns are {list(df.columns)}")
        return cls.from_arrays(
            path, df[user], df[item], df[time], None if value is None else df[value], labels=labels,
            slice=slice, aggregate=aggregate, force=force, on_error=on_error, negative=negative, threads=threads)

    def append(self, user, item, time, value=None, *, labels=None, allow_backfill=False, retrain=False,
               als_sweeps=3, on_error="fail", negative="refuse", threads=0):
        """`driftrec update` from columns: appends events (and labels of new items) to this
        store and carries its label propagation and temporal ALS results forward, steps its
        sequence models (any cell, with or without the interest mixture) forward over the new
        periods from their saved state with the weights as trained (retrain: train them again
        instead; driftrec.predict(store) then reads the new prediction), then reopens the store
        on the new file. Columns as in from_arrays; known ids keep their
        indices, new users and items are appended. Events before the store's last period
        raise InputError unless allow_backfill; so do a bad row (on_error="fail"), a batch
        sharing no user and no item with the store, and a store sliced by quantiles. negative:
        what a negative value means, as in from_arrays and `driftrec update --negative`:
        "refuse" (default: InputError), "drop" the event or "clip" it to 0 (counted in the
        returned "negative_values"). The file is replaced atomically: on any error it is left
        as it was. Returns `driftrec update --json`'s dict."""
        summary = _driftrec._update_columns(
            self.path, *_columns(user, item, time, value, labels), bool(allow_backfill), bool(retrain), int(als_sweeps),
            str(on_error), str(negative), _convert.thread_count(threads))
        self._reopen()
        return json.loads(summary)

    # ---- reading ----

    path = property(lambda self: self._core.path)
    slicing = property(lambda self: self._core.slicing, doc="The slicing spec, e.g. 'month'.")
    aggregate = property(lambda self: self._core.aggregate, doc="'sum' or 'count'.")
    created_by = property(lambda self: self._core.created_by)
    n_users = property(lambda self: self._core.n_users)
    n_items = property(lambda self: self._core.n_items)
    n_labels = property(lambda self: self._core.n_labels)
    n_events = property(lambda self: self._core.n_events)
    n_slices = property(lambda self: self._core.n_slices)

    @cached_property
    def users(self):
        return np.array(self._core.users(), dtype=str)

    @cached_property
    def items(self):
        return np.array(self._core.items(), dtype=str)

    @cached_property
    def labels(self):
        return np.array(self._core.labels(), dtype=str)

    @cached_property
    def _user_index(self):
        return {u: k for k, u in enumerate(self._core.users())}

    @cached_property
    def _item_index(self):
        return {i: k for k, i in enumerate(self._core.items())}

    def user_index(self, user_id):
        """The dense index of a user id (int or str, as given to ingest)."""
        return self._lookup(self._user_index, user_id, "user")

    def item_index(self, item_id):
        """The dense index of an item id (int or str, as given to ingest)."""
        return self._lookup(self._item_index, item_id, "item")

    def _lookup(self, index, key, what):
        if isinstance(key, (bool, np.bool_)):
            raise InputError(f"{what} id: expected a str or int, found {key!r}")
        text = str(int(key)) if isinstance(key, (int, np.integer)) else key
        try:
            return index[text]
        except (KeyError, TypeError):
            raise InputError(f"{self.path}: no {what} with id {key!r}") from None

    @property
    def events(self):
        """The event log (Events: user, item, time, value numpy arrays)."""
        return Events(**self._core.events())

    @cached_property
    def periods(self):
        return Periods(*self._core.periods())

    def slice(self, k):
        """Slice k (negative counts from the end) as a users x items csr_matrix."""
        n = self.n_slices
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise InputError(f"slice: expected an integer index, found {k!r}")
        if not -n <= k < n:
            raise InputError(f"{self.path}: slice {k} does not exist; the store has {n} slices")
        indptr, indices, data = self._core.slice(int(k) % n)
        return sp.csr_matrix((data, indices, indptr), shape=(self.n_users, self.n_items))

    def slices(self):
        """Every slice, in period order."""
        return [self.slice(k) for k in range(self.n_slices)]

    @property
    def item_labels(self):
        """The items x labels csr_matrix (weights as ingested)."""
        indptr, indices, data = self._core.item_labels()
        return sp.csr_matrix((data, indices, indptr), shape=(self.n_items, self.n_labels))

    @property
    def results(self):
        """Names of the results saved in the store (driftrec propagate / factorize ...)."""
        return self._core.results()

    def reslice(self, slice, **options):
        """`driftrec reslice` on this store (driftrec.reslice: options aggregate, "keep"
        by default, and threads): its slices rebuilt from its events with the slicing `slice`; results
        computed on the old slices are dropped. The store is reopened on the new file.
        Returns `driftrec reslice --json`'s dict."""
        from ._jobs import reslice

        return reslice(self, slice, **options)

    def _reopen(self):
        """Opens the file at this path again (after a job replaced it) and forgets what was
        read from the old one."""
        self._core.close()
        self._core = _driftrec._Store(self.path)
        for cached in ("users", "items", "labels", "_user_index", "_item_index", "periods"):
            self.__dict__.pop(cached, None)

    def close(self):
        self._core.close()

    @property
    def closed(self):
        return self._core.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self.closed:
            return f"<driftrec.Store {self.path!r} (closed)>"
        return (f"<driftrec.Store {self.path!r}: {self.n_users} users, {self.n_items} items, "
                f"{self.n_labels} labels, {self.n_events} events, {self.n_slices} slices ({self.slicing})>")
