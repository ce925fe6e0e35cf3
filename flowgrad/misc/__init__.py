"""autograd's ``misc``: ``flatten`` and ``flatten_func`` for nested parameters, ``optimizers``
(``sgd``, ``adam``, ``rmsprop`` with autograd's signatures) and ``fixed_points.fixed_point``.

>>> import numpy as np
>>> from flowgrad.misc import flatten
>>> flat, unflatten = flatten({"b": np.zeros(2), "W": np.ones((1, 2))})
>>> flat, unflatten(flat)["W"].shape
(array([1., 1., 0., 0.]), (1, 2))
"""

from .flatten import flatten, flatten_func

__all__ = ["flatten", "flatten_func", "optimizers", "fixed_points"]


def __getattr__(name: str) -> object:
    import importlib

    if name in ("optimizers", "fixed_points"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'flowgrad.misc' has no attribute {name!r}")
