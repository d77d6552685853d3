"""Temporal label propagation (the engine's propagation/temporal_propagation.hpp): item
labels spread over the user x item graph of every period, on the decayed history
G_t = gamma G_(t-1) + W_t, with mu times the previous period's scores as each user's prior:

    F_U <- alpha S F_I + (1 - alpha) mu F_U(t-1),   F_I <- alpha S^T F_U + (1 - alpha) Y_I

with S = D_U^-1/2 G_t D_I^-1/2 and Y_I the row-normalised item labels. Each period's
interests are F_U(t) row-normalised (a user with no labelled neighbourhood keeps a zero
row)."""

import os

import numpy as np

from . import _convert, _driftrec
from ._store import Periods, Store

InputError = _driftrec.InputError

# The engine's default (LabelPropagationOptions::low_memory), as driftrec.propagate_store shows it.
_LOW_MEMORY = _driftrec._job_defaults()["propagate"]["low_memory"]


def _low_memory(value):
    """low_memory as the engine takes it: None (automatic), True or False."""
    if value is not None and not isinstance(value, bool):
        raise InputError(f"low_memory: expected True or False, found {type(value).__name__} {value!r}")
    return value


class Propagation:
    """The result of propagate: per kept period, the users x labels interests (float32,
    rows summing to 1 or all zero) and optionally the items x labels soft labels F_I;
    per period (all of them), iterations, residual and converged."""

    def __init__(self, raw, first_period, periods=None, labels=None, users=None):
        self.interests = raw["interests"]
        self.item_labels = raw["item_labels"]
        self.iterations = raw["iterations"]
        self.residual = raw["residual"]
        self.converged = raw["converged"].astype(bool)
        self.first_period = first_period  # interests[k] is period first_period + k
        self.periods = periods  # Periods of the store, or None for matrices given directly
        self.labels = labels
        self.users = users

    def __len__(self):
        return len(self.interests)

    @property
    def all_converged(self):
        return bool(self.converged.all())

    def user_history(self, user):
        """One user's interests in every kept period: a periods x labels array."""
        n = self.interests[0].shape[0] if self.interests else 0
        if isinstance(user, (bool, np.bool_)) or not isinstance(user, (int, np.integer)) or not 0 <= user < n:
            raise InputError(f"user: expected an index in [0, {n}), found {user!r}")
        return np.stack([f[user] for f in self.interests]) if self.interests else np.zeros((0, 0), np.float32)

    def __repr__(self):
        return (f"<driftrec.Propagation: {len(self.iterations)} periods ({len(self)} kept), "
                f"{int(self.converged.sum())} converged, at most {int(self.iterations.max(initial=0))} iterations>")


def _first_kept(keep, periods):
    if keep == "all" or keep is None:
        return 0
    if isinstance(keep, str) and keep.startswith("last:"):
        keep = keep[5:]
        try:
            keep = int(keep)
        except ValueError:
            raise InputError(f"keep: expected 'all', 'last:N' or an integer N, found 'last:{keep}'") from None
    if isinstance(keep, (bool, np.bool_)) or not isinstance(keep, (int, np.integer)) or keep < 1:
        raise InputError(f"keep: expected 'all', 'last:N' or an integer N >= 1, found {keep!r}")
    return max(0, periods - int(keep))


def propagate(store, alpha=0.85, gamma=0.5, mu=0.5, tolerance=1e-6, max_iterations=100, threads=0, *,
              keep="all", keep_item_labels=False, reorder="auto", low_memory=_LOW_MEMORY):
    """Temporal label propagation over the slices of `store` (a Store or a path) with its
    item labels. keep: "all", "last:N" or N, the periods whose interests are returned
    (iterations, residual and converged cover every period). keep_item_labels: also return
    F_I per kept period (items x labels; memory). reorder: degree order "auto", "on" or
    "off" (results equal up to float rounding). low_memory: True keeps W without its
    transpose (about half the graph's memory, one pass per iteration, 1.2-1.5x slower, same
    results), False keeps W^T, None (the default) W^T unless W and W^T would not fit in the
    memory available, then W alone; as driftrec.propagate_store's.
    threads: 0 for OpenMP's default. Returns a Propagation."""
    opened = not isinstance(store, Store)
    s = Store(store) if opened else store
    try:
        first = _first_kept(keep, s.n_slices)
        raw = _driftrec._propagate_store(
            s._core, float(alpha), float(gamma), float(mu), float(tolerance), int(max_iterations),
            _convert.thread_count(threads), str(reorder), _low_memory(low_memory), first, bool(keep_item_labels))
        return Propagation(raw, first, periods=s.periods, labels=s.labels, users=s.users)
    finally:
        if opened:
            s.close()


def propagate_slices(slices, item_labels, alpha=0.85, gamma=0.5, mu=0.5, tolerance=1e-6, max_iterations=100,
                     threads=0, *, keep="all", keep_item_labels=False, reorder="auto", low_memory=_LOW_MEMORY):
    """propagate on matrices given directly: `slices`, a list of users x items sparse
    matrices (one per period, non-negative weights), and `item_labels`, items x labels."""
    if isinstance(slices, (str, os.PathLike)) or not hasattr(slices, "__len__"):
        raise InputError("slices: expected a list of users x items matrices")
    if len(slices) == 0:
        raise InputError("slices: expected at least one users x items matrix")
    first_matrix = _convert.csr(slices[0], "slices[0]")
    users, items = first_matrix[3]
    triples = [first_matrix[:3]]
    for t in range(1, len(slices)):
        triples.append(_convert.csr(slices[t], f"slices[{t}]", rows=users, cols=items)[:3])
    indptr, indices, data, (_, labels) = _convert.csr(item_labels, "item_labels", rows=items)
    first = _first_kept(keep, len(slices))
    raw = _driftrec._propagate_matrices(
        triples, users, items, indptr, indices, data, labels, float(alpha), float(gamma), float(mu),
        float(tolerance), int(max_iterations), _convert.thread_count(threads), str(reorder),
        _low_memory(low_memory), first, bool(keep_item_labels))
    return Propagation(raw, first)


__all__ = ["Propagation", "load_propagation", "propagate", "propagate_slices", "Periods"]


def load_propagation(store, name="label"):
    """The label propagation result `name` saved in `store` by `driftrec propagate` (or
    driftrec.propagate_store), read without recomputing: a Propagation whose interests
    cover the kept periods (interests[k] is period first_period + k) and whose iterations,
    residual and converged cover every period; the run's options are in `.options`
    (alpha, gamma, mu, tolerance, max_iterations, keep)."""
    opened = not isinstance(store, Store)
    s = Store(store) if opened else store
    try:
        raw = _driftrec._label_result(s._core, str(name))
        result = Propagation(raw, int(raw["first_kept"]), s.periods, s.labels, s.users)
    finally:
        if opened:
            s.close()
    result.options = {key: raw[key] for key in ("alpha", "gamma", "mu", "tolerance", "max_iterations", "keep")}
    return result
