"""driftrec: temporal recommendation over time-sliced interaction stores.

    import driftrec
    store = driftrec.Store.from_dataframe("ml.h5", ratings, user="userId", item="movieId",
                                          time="timestamp", value="rating", labels=genres)
    interests = driftrec.propagate(store)          # per period, users x labels
    driftrec.train(store, epochs=20)               # the jobs of the CLI, same options
    driftrec.predict(store, "414")                 # a user's next-period interests
    report = driftrec.evaluate(store, test_periods=2)
    model = driftrec.ALS(factors=64).fit(store.slice(-1))
    ids, scores = model.recommend(0, store.slice(-1)[0])
    driftrec.export(store, "recs.csv", model="als", k=50)   # every user's top 50

Errors: InputError (a ValueError) for bad input or options, its message naming the
argument, column or row; NumericalError (an ArithmeticError) for a numerical failure that a
parameter change fixes (the message names it); RuntimeError for anything else.
"""

# Before the extension compiled for the build's instruction set (x86-64-v3 by default) is
# loaded: on a CPU without it, an ImportError that says what is missing and how to rebuild,
# rather than a process that exits (python/cpu_check_module.cpp).
from ._cpu_check import message as _cpu_check_message

if _cpu_check_message():
    raise ImportError(_cpu_check_message().strip())
del _cpu_check_message

from ._driftrec import InputError, NumericalError, __version__
from ._als import ALS
from ._jobs import (Prediction, SequencePrediction, evaluate, export, factorize, generate, predict, propagate_store,
                    recommend, reslice, similar_items, to_dataframe, train)
from ._propagate import Propagation, load_propagation, propagate, propagate_slices
from ._store import Events, Periods, Store

# Tracebacks and pickles name them where users import them from.
InputError.__module__ = NumericalError.__module__ = "driftrec"

__all__ = [
    "ALS",
    "Events",
    "InputError",
    "NumericalError",
    "Periods",
    "Prediction",
    "Propagation",
    "SequencePrediction",
    "Store",
    "evaluate",
    "export",
    "factorize",
    "generate",
    "load_propagation",
    "predict",
    "propagate",
    "propagate_slices",
    "propagate_store",
    "recommend",
    "reslice",
    "similar_items",
    "to_dataframe",
    "train",
]
