"""The pieces random programs are made of (see programs.py): dtypes and limits, the two sides
(flowgrad and PyTorch), values, constants, steps, and the registry of specs that ``@spec`` fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import flowgrad as fg
import flowgrad.nn.functional as FNN

if TYPE_CHECKING:
    from .programs import Program


@dataclass(frozen=True)
class Dtype:
    name: str
    np: Any
    rtol: float
    atol: float
    margin: float  # how far (relative) a value must stay from a kink or a tie


DTYPES = {
    "float64": Dtype("float64", np.float64, 1e-9, 1e-12, 1e-6),
    "float32": Dtype("float32", np.float32, 1e-4, 1e-5, 2e-3),
}
LIMIT = 1e3  # a step whose values exceed this in magnitude is rejected
CAP = 300  # a step whose outputs hold more elements than this is rejected
MAX_STEPS = 30


class Disagreement(AssertionError):  # noqa: N818 - it is an assertion, not an error
    """flowgrad and PyTorch disagree (on the quantity ``key``; see ``Program.reference``)."""

    def __init__(self, msg: str, key: tuple | None = None) -> None:
        super().__init__(msg)
        self.key = key


class Side:
    """One framework: ``M`` its top-level module, ``F`` its functional layers, ``T`` True for torch."""

    def __init__(self, is_torch: bool) -> None:
        self.T = is_torch
        self.M = torch if is_torch else fg
        self.F = torch.nn.functional if is_torch else FNN
        self.f32 = torch.float32 if is_torch else fg.float32
        self.f64 = torch.float64 if is_torch else fg.float64
        self.i64 = torch.int64 if is_torch else fg.int64

    def c(self, arr: Any) -> Any:
        """A constant tensor holding exactly ``arr`` (dtype kept)."""
        arr = np.array(arr)
        return torch.from_numpy(arr) if self.T else fg.from_numpy(arr)

    def __repr__(self) -> str:
        return "torch" if self.T else "flowgrad"


class Wide(Side):
    """A framework in float64 on the program's own (rounded) inputs: the float32 referee."""

    def c(self, arr: Any) -> Any:
        arr = np.array(arr)
        return super().c(arr.astype(np.float64) if arr.dtype.kind == "f" else arr)

    def __repr__(self) -> str:
        return f"{super().__repr__()} float64"


FG, TORCH = Side(False), Side(True)
WIDE = {"flowgrad": Wide(False), "torch": Wide(True)}


class Val:
    """A value of the program: its flowgrad tensor ``f`` and its torch twin ``t``."""

    __slots__ = ("f", "t", "name")

    def __init__(self, f: Any, t: Any, name: str) -> None:
        self.f, self.t, self.name = f, t, name

    @property
    def shape(self) -> tuple:
        return tuple(self.f.shape)

    @property
    def data(self) -> np.ndarray:
        return self.f.numpy()

    @property
    def ndim(self) -> int:
        return len(self.f.shape)

    @property
    def size(self) -> int:
        return int(self.f.data.size)


class Const:
    """A constant (no gradient): the same array on both sides, made a tensor by each."""

    __slots__ = ("arr",)

    def __init__(self, arr: Any) -> None:
        self.arr = np.asarray(arr)

    @property
    def shape(self) -> tuple:
        return self.arr.shape


@dataclass
class Step:
    fn: Callable[..., Any]  # fn(S, *args) -> an output or a tuple/list of outputs
    args: tuple
    label: str
    check: Callable[[list], bool] | None = None  # on flowgrad's output arrays: False rejects the step
    twice: bool = True  # False: this step (not the whole spec) keeps its program off second derivatives


@dataclass(frozen=True)
class Spec:
    name: str
    gen: Callable[["Program", Val], Step | None]
    twice: bool = True  # second derivatives are compared for programs made only of such steps
    weight: float = 1.0


SPECS: list[Spec] = []


def spec(name: str, twice: bool = True, weight: float = 1.0) -> Callable:
    def deco(gen: Callable) -> Callable:
        assert all(s.name != name for s in SPECS), name
        SPECS.append(Spec(name, gen, twice, weight))
        return gen

    return deco


def _resolve(a: Any, S: Side, ref: dict | None = None) -> Any:
    if isinstance(a, Val):
        if ref is not None:
            return ref[id(a)]
        return a.t if S.T else a.f
    if isinstance(a, Const):
        if ref is not None and a.arr.dtype.kind == "f":  # the float64 reference: constants too
            return S.c(a.arr.astype(np.float64))
        return S.c(a.arr)
    if isinstance(a, list):
        return [_resolve(x, S, ref) for x in a]
    return a


def _widened(x: Any) -> Any:
    """A float16/float32 result of a step (one that casts to the program's dtype) in float64, so
    the float64 reference stays float64 from end to end."""
    if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype != torch.float64:
        return x.double()
    if isinstance(x, fg.Tensor) and x.data.dtype.kind == "f" and x.data.dtype != np.float64:
        return x.double()
    return x


def _flat(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        if x._is_zerotensor():  # torch's ZeroTensor: .numpy() refuses it, and a view of one segfaults
            return np.zeros(tuple(x.shape), dtype=str(x.dtype).removeprefix("torch."))
        return x.detach().numpy()
    if isinstance(x, fg.Tensor):
        return x.numpy()
    return np.asarray(x)


def _absmax(x: Any) -> float:
    """The largest magnitude in a value, a constant or an array (0 when empty)."""
    a = x.arr if isinstance(x, Const) else _np(x.f if isinstance(x, Val) else x)
    return float(np.abs(a).max(initial=0.0)) if a.dtype.kind == "f" else 0.0
