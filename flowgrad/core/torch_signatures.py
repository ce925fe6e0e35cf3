"""PyTorch's signatures for flowgrad's top-level functions: keyword names and ``out=``, from one table.

flowgrad's functions name their arguments NumPy's way (``exp(x)``, ``add(a, b)``); PyTorch
programs call ``torch.add(input=x, other=y, alpha=2, out=buf)``. :data:`SIGNATURES` holds
PyTorch's signature of each function once, as text, and :func:`adapt` wraps the function so that
both calls work: the positional names map, in order, onto the function's own positional
arguments, the keyword-only ones pass through by name, and three are PyTorch's own:

- ``out=``: the result is written into the given tensor (resized if its shape differs, as
  PyTorch does, with a warning when it was not empty) and returned. As in PyTorch it refuses a
  computation that records gradients: ``out=`` writes outside autograd.
- ``alpha=`` of ``add``/``sub`` scales ``other``; ``rounding_mode=`` of ``div`` is ``"trunc"``
  or ``"floor"``.

A call without keywords goes straight to the function (one check, no binding).

>>> import flowgrad as fg
>>> buf = fg.empty(2)
>>> fg.add(input=fg.tensor([1.0, 2.0]), other=fg.ones(2), alpha=10, out=buf) is buf, buf
(True, tensor([11., 12.]))
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError, DTypeError, FlowgradError, given
from . import mode

UNARY = (
    "abs absolute acosh arccos arccosh arcsin arcsinh arctan arctanh asinh atanh ceil cos cosh deg2rad erf exp "
    "exp2 expm1 floor log log10 log1p log2 neg negative rad2deg reciprocal sigmoid sign sin sinc sinh sqrt "
    "square tan tanh isnan isfinite relu"
)
BINARY = "maximum minimum fmax fmin arctan2 atan2 hypot mul multiply logaddexp2 kron"

SIGNATURES: dict[str, str] = {
    **{name: "input, *, out=None" for name in UNARY.split()},
    **{name: "input, other, *, out=None" for name in BINARY.split()},
    "add": "input, other, *, alpha=1, out=None",
    "sub": "input, other, *, alpha=1, out=None",
    "subtract": "input, other, *, alpha=1, out=None",
    "div": "input, other, *, rounding_mode=None, out=None",
    "divide": "input, other, *, rounding_mode=None, out=None",
    "pow": "input, exponent, *, out=None",
    "power": "input, exponent, *, out=None",
    "matmul": "input, other, *, out=None",
    "mm": "input, mat2, *, out=None",
    "dot": "input, tensor, *, out=None",
    "outer": "input, vec2, *, out=None",
    "round": "input, *, decimals=0, out=None",
    "clamp": "input, min=None, max=None, *, out=None",
    "clip": "input, min=None, max=None, *, out=None",
    "where": "condition, input, other, *, out=None",
    "cat": "tensors, dim=0, *, out=None",
    "concatenate": "tensors, dim=0, *, out=None",
    "stack": "tensors, dim=0, *, out=None",
    "sum": "input, dim=None, keepdim=False, *, dtype=None, out=None",
    "mean": "input, dim=None, keepdim=False, *, dtype=None, out=None",
    "prod": "input, dim=None, keepdim=False, *, dtype=None, out=None",
    "amax": "input, dim=(), keepdim=False, *, out=None",
    "amin": "input, dim=(), keepdim=False, *, out=None",
    "logsumexp": "input, dim, keepdim=False, *, out=None",
    "argmax": "input, dim=None, keepdim=False",
    "argmin": "input, dim=None, keepdim=False",
    "softmax": "input, dim, dtype=None",
    "log_softmax": "input, dim, dtype=None",
    "leaky_relu": "input, negative_slope=0.01",
    "tril": "input, diagonal=0, *, out=None",
    "triu": "input, diagonal=0, *, out=None",
}


def parse(text: str) -> inspect.Signature:
    """``"input, other, *, alpha=1, out=None"`` as an ``inspect.Signature`` (plus ``**extra``,
    so the function's own keywords, such as NumPy's ``axis=``, still pass through)."""
    params: list[inspect.Parameter] = []
    kind: inspect._ParameterKind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    for part in (p.strip() for p in text.split(",")):
        if part == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        name, _, default = part.partition("=")
        value = inspect.Parameter.empty if not default else _literal(default)
        params.append(inspect.Parameter(name, kind, default=value))
    params.append(inspect.Parameter("extra", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def _literal(text: str) -> Any:
    """A default of the table: None, True, False, (), an int or a float."""
    named = {"None": None, "True": True, "False": False, "()": ()}
    if text in named:
        return named[text]
    return float(text) if any(c in text for c in ".e") else int(text)


def adapt(name: str, fn: Callable[..., Any], text: str, method: bool = False) -> Callable[..., Any]:
    """``fn`` taking PyTorch's keyword names and ``out=`` as :data:`SIGNATURES` gives them.

    ``method``: ``fn`` is a Tensor method; PyTorch's methods take no ``out=``, so it is left to
    ``fn`` (NumPy's ``np.sum(t)`` calls ``t.sum(..., out=None)``, which the method answers).
    """
    if method:
        text = text.replace(", out=None", "").replace(", *)", ")").removesuffix(", *")
    sig = parse(text)
    own = inspect.signature(fn).parameters
    open_keywords = any(p.kind is p.VAR_KEYWORD for p in own.values())
    positional = [p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    required = sum(1 for n in positional if sig.parameters[n].default is inspect.Parameter.empty)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            return fn(*args)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"{name}: {e}; PyTorch's signature is {name}({text})") from None
        values = bound.arguments
        extra = dict(values.pop("extra", {}))
        out = values.pop("out", None)
        alpha = values.pop("alpha", 1)
        rounding = values.pop("rounding_mode", None)
        # Positional arguments in order up to the last one given; keyword-only ones by name.
        given_pos = [n for n in positional if n in values]
        last = max((positional.index(n) for n in given_pos), default=-1)
        call_args = []
        for n in positional[: last + 1]:
            call_args.append(values[n] if n in values else sig.parameters[n].default)
        for n, v in values.items():
            if n not in positional:
                extra[n] = v
        unknown = [k for k in extra if not open_keywords and k not in own]
        if unknown:
            raise ArgumentError(f"{name}: unexpected keyword {unknown[0]!r}; PyTorch's signature is {name}({text})")
        if len(call_args) < required:
            missing = positional[len(call_args) : required]
            raise ArgumentError(f"{name}: missing {', '.join(missing)}; PyTorch's signature is {name}({text})")
        if alpha != 1:
            call_args[1] = call_args[1] * alpha
        result = fn(*call_args, **extra)
        if rounding is not None:
            result = _rounded(name, result, rounding, call_args[:2])
        return result if out is None else write_out(name, result, out)

    call.__torch_signature__ = text  # type: ignore[attr-defined]
    return call


def _rounded(name: str, quotient: Any, mode_name: str, operands: list) -> Any:
    # Rounded quotients are piecewise constant: their gradient is zero, as in PyTorch.
    if mode_name == "floor":
        rounded = quotient.floor()
    elif mode_name == "trunc":
        rounded = quotient.sign() * quotient.abs().floor()
    else:
        raise ArgumentError(f"{name}: rounding_mode must be None, 'trunc' or 'floor', got {mode_name!r}")
    kinds = [np.asarray(getattr(o, "_data", o)).dtype for o in operands]
    if all(k.kind in "iub" for k in kinds):  # integers divided with rounding stay integers, as in PyTorch
        return rounded.to(np.result_type(*kinds))
    return rounded


def write_out(name: str, result: Any, out: Any) -> Any:
    """Write ``result`` into ``out`` as PyTorch's ``out=`` does, and return ``out``."""
    from .tensor import Tensor

    if not isinstance(out, Tensor):
        raise DTypeError(f"{name}: out= must be a tensor, got {given(out)}")
    if not isinstance(result, Tensor):
        raise ArgumentError(f"{name}: out= takes one tensor, and this call gives {given(result)}")
    if mode.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise FlowgradError(
            f"{name}: out= does not support automatic differentiation, and an argument (or out) requires grad; "
            "call it without out=, or inside fg.no_grad()"
        )
    if not np.can_cast(result.dtype, out.dtype, "same_kind"):
        raise DTypeError(f"{name}: the result's dtype {result.dtype} cannot be written into out of dtype {out.dtype}")
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(
                f"{name}: out= had shape {out.shape} and was resized to {result.shape}, as PyTorch does; "
                "pass an empty tensor or one of the right shape",
                UserWarning,
                stacklevel=3,
            )
        out.data = result.detach().numpy().astype(out.dtype)
    else:
        out.copy_(result.detach())
    return out


def adapted(table: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The functions of ``table`` that have a PyTorch signature, wrapped by :func:`adapt`."""
    return {name: adapt(name, fn, SIGNATURES[name]) for name, fn in table.items() if name in SIGNATURES}
