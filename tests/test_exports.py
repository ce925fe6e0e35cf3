"""One declaration per public function (core/exports.py) drives flowgrad.numpy, the tensor
methods and flowgrad's top-level functions."""

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as fnp
from flowgrad.core import exports
from flowgrad.core.exports import EXPORTS, exported


@pytest.mark.parametrize("kind", ["numpy", "method", "top"])
def test_every_declared_name_is_bound(kind):
    for name, fn in exported(kind).items():
        if kind == "numpy":  # "linalg.det" is flowgrad.numpy.linalg.det, and so on
            bound, theirs = fnp, onp
            for part in name.split("."):
                bound, theirs = getattr(bound, part), getattr(theirs, part)
            assert bound.__wrapped__ is theirs  # NumPy's own function on plain data
        elif kind == "method":
            bound = getattr(fg.Tensor, name)
            assert bound is fn or (bound.__wrapped__ is fn and hasattr(bound, "__torch_signature__")), name
        else:  # as declared, or wrapped once to take PyTorch's keywords and out= (core/torch_signatures.py)
            bound = getattr(fg, name)
            assert bound is fn or (bound.__wrapped__ is fn and hasattr(bound, "__torch_signature__")), name


def test_numpy_names_are_numpys_and_plain_data_gets_numpys_answer():
    x = onp.array([[0.5, -1.0], [2.0, 3.0]])
    for name in exported("numpy"):
        module = onp
        *path, last = name.split(".")
        for part in path:
            module = getattr(module, part)
        assert hasattr(module, last), name
    assert type(fnp.exp(x)) is onp.ndarray and onp.array_equal(fnp.exp(x), onp.exp(x))
    t = fnp.exp(fg.tensor(x))
    assert isinstance(t, fg.Tensor)


def test_a_name_declared_twice_is_refused():
    exports.export(top="exp")(lambda x: x)
    try:
        with pytest.raises(RuntimeError, match="declared twice"):
            exported("top")
    finally:
        EXPORTS.pop()
