"""One declaration per public function: the names it takes in each of flowgrad's namespaces.

A public function (most often the wrapper that applies one primitive) is declared once, beside
its definition, with the names it has in

- ``numpy``: ``flowgrad.numpy.<name>``, which is NumPy's own function of that name on plain
  data and this function when an argument is a tensor (so it takes NumPy's signature);
- ``method``: ``Tensor.<name>`` (the function's first argument is the tensor);
- ``top``: ``flowgrad.<name>``, the PyTorch-style function.

``flowgrad.numpy``, ``flowgrad/__init__.py`` and ``core/methods.py`` are generated from
:data:`EXPORTS`, as HIPS autograd generates its namespace from NumPy's (``wrap_namespace``):
adding an op is its ``defop``, its ``export`` and a row in the test table.

>>> from flowgrad.core.exports import EXPORTS
>>> exp = next(e for e in EXPORTS if e.top == ("exp",))
>>> exp.numpy, exp.method
(('exp',), ('exp',))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

F = TypeVar("F")  # any callable; unbounded, so a loop over mixed functions type-checks


class Export(NamedTuple):
    """Where one public function appears."""

    fn: Any  # a callable
    numpy: tuple[str, ...]
    method: tuple[str, ...]
    top: tuple[str, ...]


EXPORTS: list[Export] = []


def _names(spec: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(spec.split()) if isinstance(spec, str) else tuple(spec)


def export(
    numpy: str | tuple[str, ...] = (), method: str | tuple[str, ...] = (), top: str | tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Declare ``fn``'s public names (space-separated strings or tuples); returns ``fn`` unchanged.

    >>> @export(numpy="exp2", method="exp2", top="exp2")
    ... def exp2(x): ...
    >>> _ = EXPORTS.pop()  # (a doctest: take it back out)
    """

    def declare(fn: F) -> F:
        EXPORTS.append(Export(fn, _names(numpy), _names(method), _names(top)))
        return fn

    return declare


# Functions gradient rules call as ``xp.<name>`` that NumPy lacks: name -> (on arrays, on tensors).
XP_HELPERS: dict[str, tuple[Any, Any]] = {}


def xp_helper(name: str, on_arrays: Callable[..., Any], on_tensors: Callable[..., Any] | None = None) -> None:
    """Declare ``xp.<name>`` for gradient rules, once: ``on_arrays`` in first-order passes
    (``xp`` is NumPy), ``on_tensors`` when ``create_graph=True`` (``xp`` is ``flowgrad.numpy``,
    which then has it under that name). Without ``on_tensors``, NumPy's own function of that
    name serves tensors (``sum``: a faster array path for the same digits).
    """
    from .ops import NUMPY_XP, TENSOR_XP

    XP_HELPERS[name] = (on_arrays, on_tensors)
    setattr(NUMPY_XP, name, on_arrays)
    if on_tensors is not None:  # also when declared after flowgrad.numpy was made (flowgrad.scipy)
        setattr(TENSOR_XP, name, on_tensors)


def exported(kind: str) -> dict[str, Callable[..., Any]]:
    """``{name: function}`` of every declaration for ``kind`` ('numpy', 'method' or 'top').

    A name declared twice is a mistake (the second would silently win), so it raises.
    """
    table: dict[str, Callable[..., Any]] = {}
    for entry in EXPORTS:
        for name in getattr(entry, kind):
            if name in table and table[name] is not entry.fn:
                raise RuntimeError(f"flowgrad: {kind} name {name!r} is declared twice")
            table[name] = entry.fn
    return table
