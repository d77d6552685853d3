"""The numbers the report shows, computed from a driftrec store and an evaluate JSON
without any plotting, so that tests can compare them with the store independently.

Everything here reads through the driftrec module (Store, load_propagation, predict,
recommend); nothing is estimated or sampled: counts are exact, shares are event-weighted."""

import math
from dataclasses import dataclass, field

import numpy as np

from .. import _driftrec
from .._jobs import predict, recommend
from .._propagate import load_propagation, propagate
from .._store import Store

InputError = _driftrec.InputError

LOWER_IS_BETTER = ("cross_entropy", "kl")


def period_dates(store):
    """Each period's start as YYYY-MM-DD (UTC) and as numpy datetime64[s]."""
    begin = np.asarray(store.periods.begin, dtype="int64").astype("datetime64[s]")
    return [str(d)[:10] for d in begin.astype("datetime64[D]")], begin


@dataclass
class Glance:
    n_users: int
    n_items: int
    n_labels: int
    n_events: int
    n_slices: int
    slicing: str
    first_event: str
    last_event: str
    results: list
    dates: list                # period start, YYYY-MM-DD
    events: np.ndarray         # events per period
    active_users: np.ndarray   # users with an event in the period
    active_items: np.ndarray   # items with an event in the period
    user_degree: np.ndarray    # distinct items per user over the whole log
    item_degree: np.ndarray    # distinct users per item over the whole log


def glance(store):
    events = store.events
    dates, _ = period_dates(store)
    begin, end = store.periods.begin, store.periods.end
    per_period = (np.searchsorted(events.time, end, side="left") -
                  np.searchsorted(events.time, begin, side="left")).astype(np.int64)
    active_users, active_items = [], []
    for k in range(store.n_slices):
        s = store.slice(k)
        active_users.append(int(np.count_nonzero(np.diff(s.indptr))))
        active_items.append(int(np.unique(s.indices).size))
    pairs = np.unique(events.user.astype(np.int64) * store.n_items + events.item.astype(np.int64))
    user_degree = np.bincount(pairs // store.n_items, minlength=store.n_users)
    item_degree = np.bincount(pairs % store.n_items, minlength=store.n_items)
    t = events.time
    fmt = lambda x: str(np.datetime64(int(x), "s")) + "Z"
    return Glance(
        store.n_users, store.n_items, store.n_labels, store.n_events, store.n_slices, store.slicing,
        fmt(t[0]) if len(t) else "", fmt(t[-1]) if len(t) else "", list(store.results), dates, per_period,
        np.array(active_users, np.int64), np.array(active_items, np.int64), user_degree, item_degree)


@dataclass
class Trends:
    labels: list
    shares: np.ndarray     # periods x labels, each row summing to 1 (0 for a period without labelled events)
    window: int            # periods in the first and last windows compared
    first: np.ndarray      # each label's share over the first `window` periods
    last: np.ndarray       # and over the last `window`
    risers: list           # label indices, biggest rise first
    fallers: list          # biggest fall first


def label_mass(store):
    """periods x labels: each event spreads 1 over its item's labels (by weight);
    events of unlabelled items count nowhere."""
    events = store.events
    labels = store.item_labels.tocsr()
    rows = np.asarray(labels.sum(axis=1)).ravel()
    norm = labels.multiply(1.0 / np.where(rows > 0, rows, 1.0)[:, None]).tocsr()
    period = np.searchsorted(store.periods.begin, events.time, side="right") - 1
    mass = np.zeros((store.n_slices, store.n_labels))
    one_hot = _sparse_rows(period, events.item, store.n_slices, store.n_items)
    mass += (one_hot @ norm).toarray()
    return mass


def _sparse_rows(rows, cols, n_rows, n_cols):
    import scipy.sparse as sp

    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))


def trends(store, top=3):
    mass = label_mass(store)
    totals = mass.sum(axis=1, keepdims=True)
    shares = np.divide(mass, totals, out=np.zeros_like(mass), where=totals > 0)
    window = max(1, store.n_slices // 4)
    first = mass[:window].sum(axis=0)
    last = mass[-window:].sum(axis=0)
    first = first / first.sum() if first.sum() > 0 else first
    last = last / last.sum() if last.sum() > 0 else last
    change = last - first
    order = np.argsort(change, kind="stable")
    risers = [int(k) for k in order[::-1][:top] if change[k] > 0]
    fallers = [int(k) for k in order[:top] if change[k] < 0]
    return Trends(list(store.labels), shares, window, first, last, risers, fallers)


@dataclass
class Interests:
    name: str                  # the label result's name
    first_period: int          # interests[k] is period first_period + k
    interests: list            # users x labels per period from first_period
    recomputed: bool           # periods before the saved ones were computed again with the saved options
    iterations: np.ndarray     # per period (saved)
    residual: np.ndarray
    converged: np.ndarray
    options: dict


def interests(store):
    """The saved label propagation result ("label" first, else the first result of that
    kind), or None. When it kept only the last periods, every period is computed again in
    memory with its options (the same code, so the kept periods agree to float rounding)."""
    names = list(store.results)
    saved = None
    for name in (["label"] if "label" in names else []) + [n for n in names if n != "label"]:
        try:
            saved = load_propagation(store, name)
            break
        except InputError:
            continue
    if saved is None:
        return None
    o = saved.options
    recomputed = saved.first_period > 0
    periods = saved.interests
    if recomputed:
        periods = propagate(store, alpha=o["alpha"], gamma=o["gamma"], mu=o["mu"], tolerance=o["tolerance"],
                            max_iterations=o["max_iterations"]).interests
    return Interests(name, 0 if recomputed else saved.first_period, periods, recomputed, saved.iterations,
                     saved.residual, saved.converged, o)


def choose_users(store, glance_, interests_, wanted):
    """The requested user ids, or the most active user and the most changeable one (largest
    mean total-variation distance between consecutive periods' interests, over users with
    interests in at least 6 periods). Returns [(user id, why)]."""
    if wanted:
        for u in wanted:
            store.user_index(u)  # InputError naming the id
        return [(str(u), "requested") for u in wanted]
    chosen = []
    degree = np.bincount(store.events.user, minlength=store.n_users)
    active = int(np.argmax(degree))
    chosen.append((str(store.users[active]), f"most active ({int(degree[active])} events)"))
    if interests_ is not None and len(interests_.interests) > 1:
        f = np.stack(interests_.interests)  # periods x users x labels
        present = f.sum(axis=2) > 0
        both = present[1:] & present[:-1]
        tv = 0.5 * np.abs(np.diff(f, axis=0)).sum(axis=2) * both
        counts = both.sum(axis=0)
        mean_tv = np.divide(tv.sum(axis=0), counts, out=np.zeros(f.shape[1]), where=counts >= 5)
        mean_tv[active] = -1
        changeable = int(np.argmax(mean_tv))
        if mean_tv[changeable] > 0:
            chosen.append((str(store.users[changeable]),
                           f"most changeable (mean change {mean_tv[changeable]:.3f} of its interests per period)"))
    return chosen


@dataclass
class UserView:
    user: str
    why: str
    history: np.ndarray = None   # periods x labels, from the user's first period with interests
    first_period: int = 0        # history[0] is this period
    prediction: object = None    # driftrec.Prediction or None
    prediction_missing: str = ""
    items: list = field(default_factory=list)  # recommend's "items"
    items_source: str = ""
    items_missing: str = ""


def user_view(store, user, why, interests_, sequence_name, als_name, top_items=10, max_periods=48):
    v = UserView(user, why)
    if interests_ is not None:
        u = store.user_index(user)
        rows = np.stack([f[u] for f in interests_.interests])
        nonzero = np.flatnonzero(rows.sum(axis=1) > 0)
        start = int(nonzero[0]) if nonzero.size else 0
        start = max(start, len(rows) - max_periods)
        v.history = rows[start:]
        v.first_period = interests_.first_period + start
    if sequence_name:
        v.prediction = predict(store, user, model=sequence_name, top=store.n_labels)
        v.items = recommend(store, user, model=sequence_name, k=top_items)["items"]
        v.items_source = f"the sequence model's hybrid ranking (/results/{sequence_name})"
    else:
        v.prediction_missing = "run `driftrec train STORE` to see predictions for the next period"
        if als_name:
            v.items = recommend(store, user, result=als_name, k=top_items)["items"]
            v.items_source = f"temporal ALS factors (/results/{als_name})"
        else:
            v.items_missing = "run `driftrec factorize STORE` or `driftrec train STORE` to see recommended items"
    return v


def result_names(store):
    """(sequence model result, ALS result): the first of each kind found, or None. Kinds are
    told apart by what reads them (the store's result groups carry a `kind`)."""
    sequence = als = None
    for name in store.results:
        if sequence is None:
            try:
                _driftrec._sequence_result(store.path, name)
                sequence = name
                continue
            except InputError:
                pass
        if als is None and name == "als":
            als = name
    return sequence, als


def sequence_losses(store, name):
    raw = _driftrec._sequence_result(store.path, name)
    return np.asarray(raw["train_loss"]), np.asarray(raw["validation_loss"]), int(raw["best_epoch"])


@dataclass
class MetricRows:
    task: str
    metric: str
    models: list
    value: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    users: np.ndarray
    best: int          # index into models
    lower_is_better: bool


def evaluation(report):
    """The evaluate JSON's results grouped per (task, metric), models in the JSON's order,
    with the best row (lowest for cross_entropy and kl, highest otherwise)."""
    if "results" not in report or not isinstance(report["results"], list):
        raise InputError("--evaluation: expected the JSON of `driftrec evaluate --json`, with a \"results\" list")
    groups = {}
    for r in report["results"]:
        try:
            key = (str(r["task"]), str(r["metric"]))
            row = (str(r["model"]), float(r["value"]), float(r["ci95"][0]), float(r["ci95"][1]), int(r["users"]))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise InputError(f"--evaluation: a result row lacks model, task, metric, value, ci95 or users ({e})")
        groups.setdefault(key, []).append(row)
    out = []
    for (task, metric), rows in groups.items():
        value = np.array([r[1] for r in rows])
        lower = metric.split("@")[0] in LOWER_IS_BETTER
        finite = np.where(np.isfinite(value), value, math.inf if lower else -math.inf)
        best = int(np.argmin(finite) if lower else np.argmax(finite))
        out.append(MetricRows(task, metric, [r[0] for r in rows], value, np.array([r[2] for r in rows]),
                              np.array([r[3] for r in rows]), np.array([r[4] for r in rows]), best, lower))
    return out
