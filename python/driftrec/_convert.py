"""Turns what analytics code hands us (numpy arrays of any dtype and layout, pandas
Series and DataFrames, lists, scipy.sparse matrices) into the exact arrays the extension
takes: C-contiguous, of one dtype, checked. Whatever cannot be converted without guessing
raises InputError naming the argument and, where it applies, the row.

Conversions made: any integer dtype to int64/int32 ids, float64 and other real dtypes to
float32 values, Fortran-order and strided arrays to contiguous copies, datetime64 (and
tz-aware pandas times) to Unix seconds, sparse matrices of any format to canonical CSR
(sorted, duplicates summed; the caller's matrix is never modified). Refused: float ids,
non-integral or non-finite times, booleans as ids, arrays of the wrong dimension, ids out
of range. Read-only arrays are fine: nothing here writes to its input.
"""

import numbers

import numpy as np

from . import _driftrec

InputError = _driftrec.InputError

_INT32_MAX = np.iinfo(np.int32).max
_INT64_MAX = np.iinfo(np.int64).max


def _one_dim(values, name):
    """values as a 1-D numpy array (pandas objects through to_numpy)."""
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    if isinstance(values, (list, tuple)):
        arr = np.asarray(values)
        # numpy would turn ["a", 1] into ["a", "1"] and [1.5, "b"] into strings silently:
        # mixed lists are checked element by element instead.
        if arr.dtype.kind in "UO":
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got {arr.ndim}-D with shape {arr.shape}")
    return arr


def ids(values, name):
    """An id column: an int64 array (integers; the store holds their decimal text) or a
    list of str."""
    arr = _one_dim(values, name)
    kind = arr.dtype.kind
    if arr.size == 0:  # np.asarray([]) is float64: an empty column has no dtype to check
        return np.zeros(0, dtype=np.int64)
    if kind in "iu":
        if kind == "u" and arr.max() > _INT64_MAX:
            raise InputError(f"{name}: id {arr.max()} does not fit in 64 bits")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if kind == "U":
        return arr.tolist()
    if kind == "O":
        out = arr.tolist()
        for k, v in enumerate(out):
            if type(v) is str:
                continue
            if isinstance(v, str):
                out[k] = str.__str__(v)
            elif isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
                out[k] = str(int(v))
            else:
                raise InputError(f"{name}[{k}]: expected a str or int id, found {type(v).__name__} {v!r}")
        return out
    if kind == "f":
        raise InputError(
            f"{name}: ids must be integers or strings, found {arr.dtype}; convert whole numbers "
            f"with .astype('int64') (NaN ids are missing values: drop those rows)")
    raise InputError(f"{name}: ids must be integers or strings, found dtype {arr.dtype}")


def _tz_naive_utc(values):
    """A tz-aware pandas Series or DatetimeIndex as naive UTC times; anything else as is."""
    if getattr(getattr(values, "dtype", None), "tz", None) is None:
        return values
    if hasattr(values, "dt"):
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.tz_convert("UTC").tz_localize(None)


def times(values, name="time"):
    """Unix seconds as int64: from integers, whole floats, or datetime64 / pandas times
    (floored to the second)."""
    arr = _one_dim(_tz_naive_utc(values), name)
    kind = arr.dtype.kind
    if kind == "M":
        nat = np.isnat(arr)
        if nat.any():
            raise InputError(f"{name}[{int(np.argmax(nat))}]: expected a time, found NaT")
        return np.ascontiguousarray(arr.astype("datetime64[s]").astype(np.int64))
    if kind in "iu":
        if kind == "u" and arr.size and arr.max() > _INT64_MAX:
            raise InputError(f"{name}: {arr.max()} does not fit in 64 bits")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (np.abs(arr) > 2.0**62)
        if bad.any():
            k = int(np.argmax(bad))
            raise InputError(f"{name}[{k}]: expected whole Unix seconds, found {arr[k]!r}")
        return np.ascontiguousarray(arr.astype(np.int64))
    raise InputError(
        f"{name}: expected Unix seconds (integers) or datetime64, found dtype {arr.dtype}; "
        f"parse text times with pandas.to_datetime first")


def floats(values, name, length=None, dtype=np.float32):
    """A float32 (or `dtype`) column (from any real dtype; non-finite values are left for the
    engine to report with their row)."""
    arr = _one_dim(values, name)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            for k, v in enumerate(arr):
                if not isinstance(v, numbers.Real):
                    raise InputError(f"{name}[{k}]: expected a number, found {v!r}") from None
            raise
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name}: expected numbers, found dtype {arr.dtype}")
    if length is not None and len(arr) != length:
        raise InputError(f"{name}: expected {length} entries, found {len(arr)}")
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(arr, dtype=dtype)


def index_ids(values, name, bound):
    """Row or column indices (userid, itemid, items=...) as contiguous int32, each in
    [0, bound); returns (array, was_scalar)."""
    scalar = np.ndim(values) == 0
    arr = np.asarray(values)
    if arr.ndim > 1:
        raise InputError(f"{name}: expected an id or a 1-D array of ids, got shape {arr.shape}")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int32), scalar
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name}: expected integer ids, found dtype {arr.dtype}")
    low, high = arr.min(), arr.max()
    if low < 0 or high >= bound:
        bad = low if low < 0 else high
        raise InputError(f"{name}: id {bad} is outside [0, {bound})")
    return np.ascontiguousarray(arr, dtype=np.int32), scalar


def csr(matrix, name, rows=None, cols=None):
    """(indptr int64, indices int32, data float32, (rows, cols)) of a canonical CSR copy or
    view of `matrix` (any scipy.sparse matrix or array, or a dense 2-D array)."""
    import scipy.sparse as sp

    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix)
    else:
        dense = np.asarray(matrix)
        if dense.ndim != 2:
            raise InputError(f"{name}: expected a 2-D matrix (scipy.sparse or numpy), got shape {dense.shape}")
        if dense.dtype.kind not in "biuf":
            raise InputError(f"{name}: expected numbers, found dtype {dense.dtype}")
        m = sp.csr_matrix(dense)
    if m.ndim != 2:
        raise InputError(f"{name}: expected a 2-D matrix, got shape {m.shape}")
    if m.dtype.kind not in "biuf":
        raise InputError(f"{name}: expected real values, found dtype {m.dtype}")
    if max(m.shape) > _INT32_MAX:
        raise InputError(f"{name}: shape {m.shape} has a side longer than 2^31 - 1")
    if rows is not None and m.shape[0] != rows:
        raise InputError(f"{name}: expected {rows} rows, found {m.shape[0]}")
    if cols is not None and m.shape[1] != cols:
        raise InputError(f"{name}: expected {cols} columns, found {m.shape[1]}")
    if not m.has_canonical_format:
        m = m.copy()  # csr_matrix(x) shares x's arrays: never sort the caller's in place
        m.sum_duplicates()
    indptr = np.ascontiguousarray(m.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(m.indices, dtype=np.int32)
    data = np.ascontiguousarray(m.data, dtype=np.float32)
    return indptr, indices, data, m.shape


def factors(values, name, cols=None):
    """A 2-D float32 C-contiguous factor matrix."""
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name}: expected numbers, found dtype {arr.dtype}")
    if cols is not None and arr.shape[1] != cols:
        raise InputError(f"{name}: expected {cols} columns, found {arr.shape[1]}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def thread_count(threads):
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, numbers.Integral) or threads < 0:
        raise InputError(f"threads: expected an integer >= 0 (0: OpenMP's default), found {threads!r}")
    return int(threads)
