"""autograd's ``misc``: ``flatten`` and ``flatten_func`` for nested parameters, ``optimizers``
(``sgd``, ``adam``, ``rmsprop`` with autograd's signatures), ``fixed_points.fixed_point`` and
``const_graph`` (trace once, replay after).

>>> import numpy as np
>>> from flowgrad.misc import flatten
>>> flat, unflatten = flatten({"b": np.zeros(2), "W": np.ones((1, 2))})
>>> flat, unflatten(flat)["W"].shape
(array([1., 1., 0., 0.]), (1, 2))
"""

from .flatten import flatten, flatten_func
from .tracers import const_graph

__all__ = ["flatten", "flatten_func", "const_graph", "optimizers", "fixed_points", "tracers"]


def __getattr__(name: str) -> object:
    import importlib

    if name in ("optimizers", "fixed_points", "tracers"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'flowgrad.misc' has no attribute {name!r}")
