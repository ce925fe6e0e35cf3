"""``fg.func.functional_call``: run a module with parameters given as a dict.

This makes a network a pure function of its parameters, so ``fg.grad`` and
``fg.hessian`` work over them in the JAX / autograd style.

>>> import numpy as np, flowgrad as fg
>>> net = fg.nn.Linear(2, 1)
>>> params = {k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}
>>> x = np.ones((3, 2))
>>> def loss(p):
...     return fg.func.functional_call(net, p, (x,)).pow(2).mean()
>>> g = fg.grad(loss)(params)
>>> sorted(g), g["weight"].shape
(['bias', 'weight'], (1, 2))
"""

from __future__ import annotations

from typing import Any

import flowgrad as fg

__all__ = ["functional_call"]


def _owner(module: Any, name: str) -> tuple[Any, str]:
    *path, leaf = name.split(".")
    for part in path:
        module = module._modules[part] if part in module._modules else getattr(module, part)
    return module, leaf


def functional_call(module: Any, params: dict, args: Any = (), kwargs: dict | None = None) -> Any:
    """Call ``module(*args, **kwargs)`` with its parameters/buffers replaced by ``params``.

    Values may be tensors (for example those ``fg.grad`` is differentiating) or
    arrays. The module's own parameters are put back afterwards.
    """
    if not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for name, value in params.items():
            owner, leaf = _owner(module, name)
            store = owner._parameters if leaf in owner._parameters else owner._buffers
            if leaf not in store:
                raise KeyError(f"functional_call: {type(module).__name__} has no parameter or buffer {name!r}")
            saved.append((store, leaf, store[leaf]))
            store[leaf] = (
                value if isinstance(value, fg.Tensor) else fg.tensor(value, dtype=getattr(value, "dtype", None))
            )
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(saved):
            store[leaf] = old
