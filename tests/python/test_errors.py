"""The error classes: InputError is a ValueError, NumericalError an ArithmeticError, and the
messages are the engine's (the ones the CLI prints), naming the argument and what was
expected."""

import pickle

import pytest

import driftrec


def test_error_classes():
    assert issubclass(driftrec.InputError, ValueError)
    assert issubclass(driftrec.NumericalError, ArithmeticError)
    assert not issubclass(driftrec.NumericalError, ValueError)
    assert f"{driftrec.InputError.__module__}.{driftrec.InputError.__qualname__}" == "driftrec.InputError"
    error = driftrec.InputError("x")
    assert pickle.loads(pickle.dumps(error)).args == ("x",)


def test_engine_messages_come_through(tmp_path):
    with pytest.raises(driftrec.InputError, match=r"fortnight.*(day|week|month)"):
        driftrec.Store.from_arrays(tmp_path / "s.h5", [1], [1], [0], slice="fortnight")
    with pytest.raises(driftrec.InputError, match="aggregate"):
        driftrec.Store.from_arrays(tmp_path / "s.h5", [1], [1], [0], aggregate="mean")
    with pytest.raises(driftrec.InputError, match="expected 'fail' or 'skip', found 'ignore'"):
        driftrec.Store.from_arrays(tmp_path / "s.h5", [1], [1], [0], on_error="ignore")
    with pytest.raises(driftrec.InputError, match="does not exist"):
        driftrec.Store.from_arrays(tmp_path / "missing" / "s.h5", [1], [1], [0])
    with pytest.raises(driftrec.InputError, match="solver"):
        driftrec.ALS(solver="lu").fit([[1.0]])
    assert not list(tmp_path.iterdir())
