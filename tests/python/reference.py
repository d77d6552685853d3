"""Plain numpy references the tests compare the engine against: each written from the
documented equations, in float64, with no shortcut the engine takes."""

import numpy as np
import scipy.sparse as sp


def row_normalised(f):
    """Rows divided by their sum; rows summing to zero (or less) stay as they are."""
    s = f.sum(axis=1, keepdims=True)
    return np.where(s > 0, f / np.where(s > 0, s, 1), f)


def temporal_propagation(slices, item_labels, alpha, gamma, mu, tolerance, max_iterations):
    """Temporal label propagation as propagation/temporal_propagation.hpp and
    label_propagation.hpp state it: G_t = gamma G_(t-1) + W_t; S = D_U^-1/2 G_t D_I^-1/2;
    from F_U = Y_U = mu F_U(t-1) (raw), F_I = Y_I (row-normalised labels), iterate
    F_U <- alpha S F_I + (1 - alpha) Y_U, then F_I <- alpha S^T F_U + (1 - alpha) Y_I, until
    the max-abs change of both is <= tolerance. Returns per period (interests, F_I,
    iterations, residual, converged)."""
    y_i = row_normalised(np.asarray(item_labels.todense(), dtype=np.float64))
    g = None
    f_u_prev = None
    out = []
    for w in slices:
        w = np.asarray(w.todense(), dtype=np.float64)
        g = w if g is None else gamma * g + w
        du, di = g.sum(axis=1), g.sum(axis=0)
        iu = np.where(du > 0, 1 / np.sqrt(np.where(du > 0, du, 1)), 0)
        ii = np.where(di > 0, 1 / np.sqrt(np.where(di > 0, di, 1)), 0)
        s = iu[:, None] * g * ii[None, :]
        y_u = np.zeros((g.shape[0], y_i.shape[1])) if f_u_prev is None else mu * f_u_prev
        f_u, f_i = y_u.copy(), y_i.copy()
        converged, iterations, residual = False, 0, 0.0
        for iterations in range(1, max_iterations + 1):
            new_u = alpha * s @ f_i + (1 - alpha) * y_u
            new_i = alpha * s.T @ new_u + (1 - alpha) * y_i
            residual = max(np.abs(new_u - f_u).max(initial=0), np.abs(new_i - f_i).max(initial=0))
            f_u, f_i = new_u, new_i
            if residual <= tolerance:
                converged = True
                break
        out.append((row_normalised(f_u), f_i, iterations, residual, converged))
        f_u_prev = f_u
    return out


def propagation_fixed_point(w, item_labels, alpha, user_prior=None):
    """The fixed point F = (1 - alpha)(I - alpha S_sym)^-1 Y of one period, solved
    directly (label_propagation.hpp): returns (F_U, F_I)."""
    w = np.asarray(w.todense(), dtype=np.float64)
    y_i = row_normalised(np.asarray(item_labels.todense(), dtype=np.float64))
    users, items = w.shape
    y_u = np.zeros((users, y_i.shape[1])) if user_prior is None else user_prior
    du, di = w.sum(axis=1), w.sum(axis=0)
    iu = np.where(du > 0, 1 / np.sqrt(np.where(du > 0, du, 1)), 0)
    ii = np.where(di > 0, 1 / np.sqrt(np.where(di > 0, di, 1)), 0)
    s = iu[:, None] * w * ii[None, :]
    s_sym = np.block([[np.zeros((users, users)), s], [s.T, np.zeros((items, items))]])
    f = (1 - alpha) * np.linalg.solve(np.eye(users + items) - alpha * s_sym, np.vstack([y_u, y_i]))
    return f[:users], f[users:]


def _row_system(r_row, fixed, regularization, alpha):
    """A, b of one row's normal equations (implicit_als.hpp):
    (Y^T Y + Y^T (C_u - I) Y + lambda I) x = Y^T C_u p_u, c = 1 + alpha r for r > 0."""
    f = fixed.shape[1]
    a = fixed.T @ fixed + regularization * np.eye(f)
    b = np.zeros(f)
    cols, vals = r_row.indices, r_row.data
    keep = vals > 0
    cols, vals = cols[keep], vals[keep]
    yc = fixed[cols]
    c = 1 + alpha * vals
    a += (yc * (c - 1)[:, None]).T @ yc
    b += (yc * c[:, None]).sum(axis=0)
    return a, b


def als_exact_half_sweep(ratings, fixed, regularization, alpha):
    """Every row of the solved side solved exactly against the fixed side."""
    ratings = sp.csr_matrix(ratings)
    fixed = np.asarray(fixed, dtype=np.float64)
    out = np.zeros((ratings.shape[0], fixed.shape[1]))
    for r in range(ratings.shape[0]):
        a, b = _row_system(ratings[r], fixed, regularization, alpha)
        out[r] = np.linalg.solve(a, b)
    return out


def als_cg_half_sweep(ratings, fixed, solved, regularization, alpha, steps):
    """`steps` conjugate-gradient steps per row from the current `solved` rows (Takacs,
    Pilaszy & Tikk 2011), stopping early when r . r < 1e-20 or p . Ap <= 0."""
    ratings = sp.csr_matrix(ratings)
    fixed = np.asarray(fixed, dtype=np.float64)
    out = np.array(solved, dtype=np.float64)
    for row in range(ratings.shape[0]):
        a, b = _row_system(ratings[row], fixed, regularization, alpha)
        x = out[row]
        r = b - a @ x
        p = r.copy()
        rs_old = r @ r
        for _ in range(steps):
            if rs_old < 1e-20:
                break
            ap = a @ p
            p_ap = p @ ap
            if p_ap <= 0:
                break
            step = rs_old / p_ap
            x = x + step * p
            r = r - step * ap
            rs_new = r @ r
            p = r + (rs_new / rs_old) * p
            rs_old = rs_new
        out[row] = x
    return out


def als_loss(user_items, x, y, regularization, alpha):
    """The objective over all pairs: sum c (p - x.y)^2 + lambda (|X|^2 + |Y|^2)."""
    r = np.asarray(sp.csr_matrix(user_items).todense(), dtype=np.float64)
    positive = r > 0
    c = np.where(positive, 1 + alpha * r, 1.0)
    p = positive.astype(np.float64)
    s = np.asarray(x, np.float64) @ np.asarray(y, np.float64).T
    return float((c * (p - s) ** 2).sum() + regularization * ((x.astype(np.float64) ** 2).sum() + (y.astype(np.float64) ** 2).sum()))


def top_n(scores, candidates, n):
    """The n best candidates by score, ties toward the lower id."""
    candidates = np.asarray(candidates)
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:n]]
