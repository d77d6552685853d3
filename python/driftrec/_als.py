"""driftrec.ALS: implicit-feedback ALS (Hu, Koren & Volinsky 2008; conjugate-gradient row
solves after Takacs, Pilaszy & Tikk 2011), the engine's matrix_factorization/implicit_als,
shaped like implicit 0.7's AlternatingLeastSquares so analytics code can switch:

    model = driftrec.ALS(factors=64, regularization=0.01, alpha=1.0, iterations=15)
    model.fit(user_items)                       # users x items csr_matrix
    ids, scores = model.recommend(u, user_items[u], N=10)
    ids, scores = model.similar_items(i, N=10)  # the item itself first

Objective over all (u, i): sum c_ui (p_ui - x_u . y_i)^2 + regularization (|X|^2 + |Y|^2)
with c = 1 + alpha r for a stored r > 0 (p = 1), c = 1 and p = 0 otherwise.
Differences from implicit: the objective is exactly the one above (implicit's conventions
for alpha and confidence may differ, so equal parameters need not give equal factors), fit
always starts from factors seeded by random_state (no warm start), and a batch recommend
pads rows that have fewer than N candidates left with id -1 and score -inf (a single
user's result is cut to the valid entries instead).
"""

import numbers

import numpy as np

from . import _convert, _driftrec

InputError = _driftrec.InputError


def _seed(random_state):
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63, dtype=np.int64))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral) or random_state < 0:
        raise InputError(f"random_state: expected an integer >= 0, a numpy Generator or None, found {random_state!r}")
    return int(random_state) % 2**64


class ALS:
    """Implicit ALS; see the module docstring. threads: 0 for OpenMP's default.
    solver: "cg" (cg_steps conjugate-gradient steps per row and sweep) or "cholesky" (exact
    row solves). calculate_training_loss: record the objective after each sweep in
    loss_history (costs about half a sweep each)."""

    def __init__(self, factors=64, regularization=0.01, alpha=1.0, iterations=15, random_state=0, threads=0, *,
                 cg_steps=3, solver="cg", calculate_training_loss=False):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.threads = threads
        self.cg_steps = cg_steps
        self.solver = solver
        self.calculate_training_loss = calculate_training_loss
        self.user_factors = None
        self.item_factors = None
        self.loss_history = None

    def fit(self, user_items):
        """Fits to `user_items` (users x items, any scipy.sparse format or dense; values are
        the r above). Returns self."""
        indptr, indices, data, (users, items) = _convert.csr(user_items, "user_items")
        user, item, losses = _driftrec._als_fit(
            indptr, indices, data, users, items, int(self.factors), float(self.regularization), float(self.alpha),
            int(self.iterations), int(self.cg_steps), str(self.solver), _seed(self.random_state),
            _convert.thread_count(self.threads), bool(self.calculate_training_loss))
        self.user_factors, self.item_factors = user, item
        self.loss_history = losses if self.calculate_training_loss else None
        return self

    def _require_fit(self):
        if self.user_factors is None or self.item_factors is None:
            raise InputError("the model is not fitted: call fit(user_items) first")

    def _item_factors(self):
        return _convert.factors(self.item_factors, "item_factors")

    def recalculate_user(self, userid, user_items):
        """The factors of the users in `userid` solved exactly (Cholesky) against the fixed
        item factors, from their rows of `user_items` (one row per user asked for, as in
        implicit: pass user_items[userid]); the same objective as fit. A vector for one
        userid, a users x factors array for several."""
        self._require_fit()
        scalar = np.ndim(userid) == 0
        count = 1 if scalar else len(np.atleast_1d(userid))
        y = self._item_factors()
        indptr, indices, data, _ = self._user_rows(user_items, count, y.shape[0])
        x = _driftrec._als_recalculate_users(
            y, indptr, indices, data, count, float(self.regularization), float(self.alpha),
            _convert.thread_count(self.threads))
        return x[0] if scalar else x

    def partial_fit_users(self, userids, user_items):
        """Updates the factors of the users in `userids` (as implicit's partial_fit_users):
        each is solved exactly against the fixed item factors from its row of `user_items`
        (one row per userid: user_items[k] holds userids[k]'s items). Ids past the fitted
        users grow user_factors, rows of ids not given staying zero."""
        self.user_factors = self._partial_fit(userids, user_items, self.user_factors, self._item_factors(),
                                              "userids", "user_items")

    def partial_fit_items(self, itemids, item_users):
        """Updates the factors of the items in `itemids` (as implicit's partial_fit_items):
        each is solved exactly against the fixed user factors from its row of `item_users`
        (one row per itemid, columns = users). Ids past the fitted items grow item_factors."""
        users = _convert.factors(self.user_factors, "user_factors")
        self.item_factors = self._partial_fit(itemids, item_users, self.item_factors, users, "itemids", "item_users")

    def _partial_fit(self, ids, rows, factors, fixed, ids_name, rows_name):
        import scipy.sparse as sp

        self._require_fit()
        ids = np.atleast_1d(np.asarray(ids))
        if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0:
            raise InputError(f"{ids_name}: expected a non-empty list of ids >= 0, found {ids!r}")
        if len(np.unique(ids)) != len(ids):
            raise InputError(f"{ids_name}: an id appears twice")
        if not sp.issparse(rows) or rows.shape[0] != len(ids):
            raise InputError(f"{rows_name}: expected a scipy.sparse matrix with one row per id in {ids_name} "
                             f"({len(ids)})")
        indptr, indices, data, _ = _convert.csr(rows, rows_name, rows=len(ids), cols=fixed.shape[0])
        solved = _driftrec._als_recalculate_users(
            fixed, indptr, indices, data, len(ids), float(self.regularization), float(self.alpha),
            _convert.thread_count(self.threads))
        out = np.array(factors, dtype=np.float32, copy=True)
        if ids.max() >= out.shape[0]:
            out = np.concatenate([out, np.zeros((ids.max() + 1 - out.shape[0], out.shape[1]), np.float32)])
        out[ids] = solved
        return out

    def _user_rows(self, user_items, count, items):
        import scipy.sparse as sp

        if not sp.issparse(user_items):
            raise InputError("user_items: expected a scipy.sparse matrix with one row per user asked for")
        if user_items.shape[0] != count:
            raise InputError(
                f"user_items must contain 1 row for every user in userid ({count}), found {user_items.shape[0]}; "
                f"pass user_items[userid]")
        return _convert.csr(user_items, "user_items", rows=count, cols=items)

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True, filter_items=None,
                  recalculate_user=False, items=None):
        """The N items of highest x_u . y_i for each user in `userid` (ties toward the lower
        item id). user_items: the users' rows (user_items[userid]), needed to filter the
        items they already liked or to recalculate them. filter_items: item ids never
        returned; items: the only candidates (not both). Returns (ids, scores): 1-D for one
        userid, 2-D (users x N) for several."""
        self._require_fit()
        if items is not None and filter_items is not None:
            raise InputError("recommend: give either items or filter_items, not both")
        if isinstance(N, (bool, np.bool_)) or not isinstance(N, numbers.Integral) or N < 0:
            raise InputError(f"N: expected an integer >= 0, found {N!r}")
        y = self._item_factors()
        if recalculate_user:
            scalar = np.ndim(userid) == 0
            queries = np.atleast_2d(self.recalculate_user(userid, user_items))
        else:
            ids, scalar = _convert.index_ids(userid, "userid", self.user_factors.shape[0])
            queries = _convert.factors(self.user_factors, "user_factors", cols=y.shape[1])[ids]
        liked_indptr = liked_indices = None
        if filter_already_liked_items:
            liked_indptr, liked_indices, _, _ = self._user_rows(user_items, len(queries), y.shape[0])
        candidates = None if items is None else np.unique(_convert.index_ids(items, "items", y.shape[0])[0])
        blocked = None if filter_items is None else _convert.index_ids(filter_items, "filter_items", y.shape[0])[0]
        ids, scores, counts = _driftrec._als_recommend(
            np.ascontiguousarray(queries), y, liked_indptr, liked_indices, candidates, blocked, int(N),
            _convert.thread_count(self.threads))
        if scalar:
            return ids[0, : counts[0]], scores[0, : counts[0]]
        return ids, scores

    def similar_items(self, itemid, N=10):
        """The N items whose factors have the highest cosine with each item in `itemid`, the
        item itself first (as in implicit). 1-D results for one itemid, 2-D for several."""
        self._require_fit()
        if isinstance(N, (bool, np.bool_)) or not isinstance(N, numbers.Integral) or N < 0:
            raise InputError(f"N: expected an integer >= 0, found {N!r}")
        y = self._item_factors()
        ids, scalar = _convert.index_ids(itemid, "itemid", y.shape[0])
        out_ids, out_scores = _driftrec._als_similar_items(y, ids, int(N), _convert.thread_count(self.threads))
        return (out_ids[0], out_scores[0]) if scalar else (out_ids, out_scores)

    def __repr__(self):
        fitted = "not fitted" if self.user_factors is None else (
            f"{self.user_factors.shape[0]} users x {self.item_factors.shape[0]} items")
        return (f"driftrec.ALS(factors={self.factors}, regularization={self.regularization}, alpha={self.alpha}, "
                f"iterations={self.iterations}, random_state={self.random_state}) [{fitted}]")
