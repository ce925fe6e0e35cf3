"""The op registry and the one path into an op.

A primitive is registered once with :func:`defop`: its NumPy forward and one
vector-Jacobian rule per input, side by side. Every tensor operation, whatever
API it came from, goes through :func:`apply`, which decides there and only
there whether to record a graph node.

Gradient rules have the signature ``rule(xp, g, ans, *inputs, **params)``.
``xp`` is a namespace with NumPy's function names: plain NumPy (plus the few
internal primitives) for first-order gradients, so they cost nothing extra,
and the differentiable ``flowgrad.numpy`` when ``create_graph=True``, so the
same rule builds a graph and higher derivatives come for free.

>>> import numpy as np
>>> from flowgrad.core.ops import REGISTRY
>>> op = REGISTRY["exp"]
>>> op.forward(np.array(0.0)), op.vjps[0](np, np.array(2.0), np.array(1.0), np.array(0.0))
(np.float64(1.0), np.float64(2.0))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..errors import AnomalyError, DTypeError, FlowgradError, ShapeError, user_location
from . import mode
from .tensor import Tensor

__all__ = [
    "Op", "BackwardNode", "defop", "apply", "accepts_out", "allow_complex", "REGISTRY", "NUMPY_XP", "TENSOR_XP",
]  # fmt: skip

REGISTRY: dict[str, "Op"] = {}
# Ops whose gradient rules hold for complex values in autograd's convention (the gradient of a
# real loss L with respect to z = x + iy is dL/dx - i dL/dy, so a holomorphic op's rule is the
# real formula g * f'(z) unchanged). Every other op refuses complex values that require grad:
# a rule written for real numbers would give silently wrong numbers on them (abs, maximum).
COMPLEX_OK: set[str] = set()
_EMPTY: dict[str, Any] = {}
_PY_SCALARS = (float, int, bool)
_ndarray = backend.ndarray
_asarray = backend.asarray


def _as_array_result(forward: Callable[..., Any], *args: Any, **kwargs: Any) -> np.ndarray:
    out = forward(*args, **kwargs)
    return out if type(out) is _ndarray else _asarray(out)


def _forward_of(op: "Op") -> Callable[..., Any]:
    """The op's forward as replayed: always an ndarray out, as apply gives."""
    fn = _FORWARDS.get(op)
    if fn is None:
        fn = _FORWARDS[op] = functools.partial(_as_array_result, op.forward)
    return fn


_FORWARDS: dict = {}


def accepts_out(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an op's forward as taking ``out=``: an array of its result's shape and dtype to fill.

    fg.compile's replay then writes the result into a buffer allocated once (see
    ``core/compiler.py``); the forward must give the same digits either way.
    """
    fn._accepts_out = True  # type: ignore[attr-defined]
    return fn


class Op:
    """One primitive: a name, a NumPy forward, and its gradient rules."""

    __slots__ = (
        "name", "forward", "vjps", "vjp_all", "explain", "backward_name", "differentiable",
        "vjp_in_place", "vjp_add_into",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: tuple[Callable[..., Any] | None, ...] = (),
        vjp_all: Callable[..., Any] | None = None,
        explain: Callable[..., str | None] | None = None,
        vjp_in_place: Callable[..., Any] | None = None,
        vjp_add_into: Callable[..., bool] | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.vjp_all = vjp_all
        self.explain = explain
        # Faster first-order forms of a one-input rule, used by the backward walk when it may
        # (see defop): they must give the very numbers vjps[0] gives.
        self.vjp_in_place = vjp_in_place
        self.vjp_add_into = vjp_add_into
        # Ops with no rules (comparisons, argmax) never record a node.
        self.differentiable = vjp_all is not None or any(v is not None for v in vjps)
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward"

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def allow_complex(*names: str) -> None:
    """Declare that ops' rules hold for complex values (autograd's convention); each must be
    checked against complex central differences in the tests (tests/test_complex_grad.py)."""
    for name in names:
        if name not in REGISTRY:
            raise FlowgradError(f"allow_complex: no op named {name!r}")
    COMPLEX_OK.update(names)


def _complex_refused(op: Op, out: np.ndarray, arrays: list, grad_positions: list) -> bool:
    if op.name in COMPLEX_OK:
        if out.dtype.kind == "c":
            mode.COMPLEX_TRACED = True
        return False
    if out.dtype.kind == "c":
        return True
    return mode.COMPLEX_TRACED and any(
        getattr(arrays[i], "dtype", None) is not None and arrays[i].dtype.kind == "c" for i in grad_positions
    )


def defop(
    name: str,
    forward: Callable[..., Any],
    *vjps: Callable[..., Any] | None,
    vjp_all: Callable[..., Any] | None = None,
    explain: Callable[..., str | None] | None = None,
    vjp_in_place: Callable[..., Any] | None = None,
    vjp_add_into: Callable[..., bool] | None = None,
) -> Op:
    """Register a primitive. ``vjps[i]`` is the rule for input ``i`` (None: no gradient).

    ``vjp_all(xp, g, ans, wanted, *inputs, **params)`` serves ops with any
    number of inputs (concatenate, stack, einsum) and returns one gradient per
    input (None where ``wanted[i]`` is false).

    Two optional first-order forms of a one-input op's rule save memory traffic in training
    steps; each must give exactly what ``vjps[0]`` gives (tests/test_inplace_grads.py):
    ``vjp_in_place(g, ans, *inputs, **params)`` may overwrite ``g``: the walk calls it only when
    it allocated ``g`` itself and nothing else holds it (ReLU's mask multiplies in place);
    ``vjp_add_into(buffer, g, ans, *inputs, **params)`` adds the input's gradient into the
    walk's own gradient buffer for that input and returns True, or returns False to decline
    (getitem adds a slice there, so T slices of one tensor cost O(T) in backward, not O(T^2)).

    >>> import numpy as np
    >>> from flowgrad.core.ops import REGISTRY
    >>> REGISTRY["relu"].vjp_in_place is not None, REGISTRY["getitem"].vjp_add_into is not None
    (True, True)
    """
    if name in REGISTRY:
        raise FlowgradError(f"defop: an op named {name!r} is already registered")
    op = Op(name, forward, tuple(vjps), vjp_all, explain, vjp_in_place, vjp_add_into)
    REGISTRY[name] = op
    return op


class BackwardNode:
    """What a recorded op keeps for backward: the op, its inputs and parameters."""

    __slots__ = ("op", "inputs", "input_arrays", "params", "grad_positions", "version", "where", "__weakref__")

    def __init__(self, op: Op, inputs: tuple, input_arrays: list, params: dict, grad_positions: list) -> None:
        self.op = op
        self.inputs: Any = inputs  # a tuple (a list for input_arrays); None once backward has freed them
        self.input_arrays: Any = input_arrays
        self.params = params
        self.grad_positions = grad_positions  # positions of the inputs that require grad
        self.version = mode.version_counter  # the in-place counter when recorded
        self.where: list[Any] | None = None  # traceback.FrameSummary, recorded under detect_anomaly

    def name(self) -> str:
        return self.op.backward_name

    @property
    def next_functions(self) -> tuple:
        """PyTorch's ``grad_fn.next_functions``: ``(function, 0)`` per tensor input, where the
        function is the input's ``grad_fn``, an ``AccumulateGrad`` for a leaf that requires grad,
        or None for a tensor that does not."""
        pairs = []
        for t in self.inputs or ():
            if isinstance(t, Tensor):
                fn = (t._node or AccumulateGrad(t)) if t.requires_grad else None
                pairs.append((fn, 0))
        return tuple(pairs)

    @property
    def next_tensors(self) -> tuple:
        """The tensor inputs of this op (for drawing and walking the graph)."""
        return tuple(t for t in (self.inputs or ()) if isinstance(t, Tensor))

    def __repr__(self) -> str:
        return f"<{self.op.backward_name}>"


class AccumulateGrad:
    """Where a leaf's gradient is stored, as PyTorch's ``next_functions`` shows it."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions: tuple = ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def apply(op: Op, args: tuple, params: dict = _EMPTY) -> "Tensor":
    """Run ``op`` on ``args`` (tensors or constants); record a node when needed."""
    arrays = []
    grad_positions = None  # positions of inputs that require grad, if any
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            arrays.append(a._data)
            if a.requires_grad:
                if grad_positions is None:
                    grad_positions = [i]
                else:
                    grad_positions.append(i)
        elif type(a) in _PY_SCALARS or not isinstance(a, np.generic):
            arrays.append(a)
        else:
            # A NumPy scalar beside tensors is weak, like a Python one: float32 stays float32.
            arrays.append(a.item())
    try:
        out = op.forward(*arrays, **params)
    except FlowgradError:
        raise
    except (ValueError, TypeError, IndexError) as exc:
        raise op_error(op, arrays, params, exc) from exc
    if type(out) is not _ndarray:
        out = _asarray(out)
        forward = _forward_of(op)  # replay must make the same conversion
    else:
        forward = op.forward
    state = mode.state
    if mode.TRACING and state.tracer is not None:
        state.tracer.record(forward, [a if isinstance(a, Tensor) else d for a, d in zip(args, arrays)], params, out)
    t = _new(Tensor)
    t._data = out
    t.grad = None
    if grad_positions is not None and state.grad_enabled and op.differentiable:
        if (out.dtype.kind == "c" or mode.COMPLEX_TRACED) and _complex_refused(op, out, arrays, grad_positions):
            raise DTypeError(
                f"{op.name}: this op's gradient is defined for real numbers only, and it was given or made a "
                "complex value that requires grad (complex gradients: the fft family, real, imag, conj, "
                "angle, abs and the holomorphic arithmetic in docs/guide.md)"
                f"\n  called at {user_location()}"
            )
        node = BackwardNode(op, args, arrays, params, grad_positions)
        t.requires_grad = True
        t._node = node
        if state.anomaly:
            import traceback  # here: anomaly mode is rare, and the module costs import time

            node.where = traceback.extract_stack()[:-1]
            check_finite(op, out, "forward", node)
    else:
        if (
            grad_positions is not None
            and mode.COMPLEX_TRACED
            and state.grad_enabled
            and out.dtype.kind in "fc"
            and _complex_refused(op, out, arrays, grad_positions)
        ):
            # No rule: a constant on real numbers (sign, round), but not on complex ones (sign z = z/|z|).
            raise DTypeError(
                f"{op.name}: has no gradient, which is right for real numbers only, and it was given a "
                f"complex value that requires grad\n  called at {user_location()}"
            )
        t.requires_grad = False
        t._node = None
        if state.anomaly:
            check_finite(op, out, "forward", None)
    if mode.RECORDING and state.recorder is not None:
        state.recorder.on_op(op.name, args, params, t)
    return t


def describe(a: Any) -> str:
    shape = getattr(a, "shape", None)
    if shape is None:
        return repr(a)
    return str(tuple(shape))


def op_error(op: Op, arrays: list, params: dict, exc: Exception) -> Exception:
    """Turn a NumPy failure into an error that names the op, the shapes and the caller."""
    detail = None
    if op.explain is not None:
        try:
            detail = op.explain(*arrays, **params)
        except Exception:  # the explanation must never hide the real error
            detail = None
    if detail is None and isinstance(exc, TypeError) and any(np.iscomplexobj(d) for d in arrays):
        detail = f"{op.name}: defined for real numbers only, got a complex value ({exc})"
    if detail is None and isinstance(exc, ValueError) and "broadcast" in str(exc):
        shapes = [describe(d) for d in arrays if hasattr(d, "shape")]
        detail = f"{op.name}: shapes {' and '.join(shapes)} do not broadcast together"
    if detail is None:
        all_shapes = ", ".join(describe(d) for d in arrays)
        dtypes = ", ".join(str(getattr(d, "dtype", type(d).__name__)) for d in arrays)
        detail = f"{op.name}: inputs of shapes {all_shapes} and dtypes {dtypes}: {exc}"
    msg = f"{detail}\n  called at {user_location()}"
    if isinstance(exc, TypeError):
        return DTypeError(msg)
    if isinstance(exc, IndexError):
        err = ShapeError(msg)
        return err
    return ShapeError(msg)


def check_finite(op: Op, value: Any, phase: str, node: BackwardNode | None) -> None:
    """Anomaly mode: raise if ``value`` holds NaN or inf."""
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return
    bad = "nan" if np.isnan(arr).any() else "inf"
    where = ""
    if node is not None and node.where:
        for frame in reversed(node.where):
            if "/flowgrad/" not in frame.filename.replace("\\", "/"):
                where = f" (called at {frame.filename}:{frame.lineno})"
                break
    elif phase == "forward":
        where = f" (called at {user_location()})"
    raise AnomalyError(f"{op.name} produced {bad} in its {phase} pass{where}")


class _Namespace:
    """NumPy's function names resolved against ``base``, with ``extras`` first."""

    def __init__(self, base: Any, extras: dict[str, Any]) -> None:
        self._base = base
        self.__dict__.update(extras)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._base, name)
        setattr(self, name, value)  # cache: the next lookup is a plain attribute
        return value


# Filled in by flowgrad.ops (internal primitives) and flowgrad.numpy (the base).
NUMPY_XP = _Namespace(np, {})
TENSOR_XP = _Namespace(None, {})


_new = object.__new__
