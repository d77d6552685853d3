"""driftrec: temporal recommendation over time-sliced interaction stores.

    import driftrec
    store = driftrec.Store.from_dataframe("ml.h5", ratings, user="userId", item="movieId",
                                          time="timestamp", value="rating", labels=genres)
    interests = driftrec.propagate(store)          # per period, users x labels
    model = driftrec.ALS(factors=64).fit(store.slice(-1))
    ids, scores = model.recommend(0, store.slice(-1)[0])

Errors: InputError (a ValueError) for bad input or options, its message naming the
argument, column or row; NumericalError (an ArithmeticError) for a numerical failure that a
parameter change fixes (the message names it); RuntimeError for anything else.
"""

from ._driftrec import InputError, NumericalError
from ._als import ALS
from ._propagate import Propagation, propagate, propagate_slices
from ._store import Events, Periods, Store

__version__ = "0.1.0"

# Tracebacks and pickles name them where users import them from.
InputError.__module__ = NumericalError.__module__ = "driftrec"

__all__ = [
    "ALS",
    "Events",
    "InputError",
    "NumericalError",
    "Periods",
    "Propagation",
    "Store",
    "propagate",
    "propagate_slices",
]
