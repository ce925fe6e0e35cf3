"""``Tensor``: an ndarray, the gradient it collects, and the node that made it.

A tensor is a thin holder: ``._data`` is a NumPy array (``.numpy()`` outside the
core; ``.data`` is a tensor sharing it, as in PyTorch), ``.grad`` a tensor or
None, ``.requires_grad`` a flag and ``grad_fn`` the recorded node (None for
leaves). Arithmetic and the other operations are bound in
``flowgrad.core.methods`` and all go through ``flowgrad.core.ops.apply``.

>>> import flowgrad as fg
>>> x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from ..backend import is_array
from ..errors import DTypeError, FlowgradError, ShapeError
from . import mode
from .conversions import ConversionMethods
from .convert import check_fits, from_python, lost_gradient_message
from .hooks import HookMethods
from .inplace import InPlaceMethods

if TYPE_CHECKING:
    from .ops import BackwardNode

__all__ = ["Tensor", "tensor", "from_numpy", "as_array", "is_tensor"]

_PY_SCALARS = (builtins.bool, builtins.int, builtins.float)


def as_array(data: Any, dtype: Any = None, copy: builtins.bool = False) -> np.ndarray:
    """Convert ``data`` to an ndarray with PyTorch's dtype rules.

    Without ``dtype``, Python floats (and lists of them) get the default floating dtype,
    Python ints int64, bools bool; NumPy arrays and scalars keep their dtype. With ``dtype``,
    Python numbers are converted to it directly, never through the default dtype:
    ``as_array(0.1, fg.float64)`` is the double nearest 0.1, as in PyTorch.
    """
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        arr = data._data
    elif is_array(data) or isinstance(data, np.generic):
        arr = np.asarray(data)
    else:
        arr = from_python(data, want)
        copy = False  # already a new array
    if arr.dtype == object or arr.dtype.kind in "USVMm":
        raise DTypeError(
            f"tensor: expected numbers (a scalar, a nested list of numbers or an array), "
            f"got {type(data).__name__} holding {arr.dtype}"
        )
    if want is not None and arr.dtype != want:
        if want.kind in "iu" and arr.dtype.kind == "f" and arr.size:
            check_fits(arr, want)  # PyTorch would give INT_MIN for NaN: a silently wrong number
        return dtypes.cast(arr, want)
    return arr.copy() if copy else arr


def _check_requires_grad(dtype: np.dtype, where: str) -> None:
    if dtype.kind == "c":
        raise DTypeError(
            f"{where}: a {dtype} tensor cannot require grad: PyTorch-style autograd is for real numbers only "
            "(complex gradients, in autograd's convention: fg.grad and fg.vjp)"
        )
    if dtype.kind != "f":
        raise DTypeError(
            f"{where}: only floating-point tensors can require gradients, got dtype {dtype}; "
            "make it float first (for example dtype=fg.float32)"
        )


class _Size(builtins.int):
    """``t.size`` is NumPy's element count and, called, PyTorch's ``t.size()``."""

    shape: tuple

    def __new__(cls, shape: tuple) -> "_Size":
        n = 1
        for s in shape:
            n *= s
        obj = builtins.int.__new__(cls, n)
        obj.shape = shape
        return obj

    def __call__(self, dim: builtins.int | None = None) -> Any:
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):  # not a bare IndexError
            raise ShapeError(f"size: dim {dim} is out of range for shape {self.shape}")
        return self.shape[dim]


class Tensor(InPlaceMethods, HookMethods, ConversionMethods):
    """An n-dimensional array that can record the operations made with it.

    >>> import flowgrad as fg
    >>> t = fg.Tensor([[1.0, 2.0]])
    >>> t.shape, t.dtype, t.requires_grad
    ((1, 2), dtype('float32'), False)
    """

    # Hot attributes live in slots; rare ones (set by retain_grad, in-place
    # ops, names) fall back to a lazily created __dict__ with class defaults.
    __slots__ = ("_data", "grad", "requires_grad", "_node", "__dict__", "__weakref__")
    _version = 0
    _retains_grad = False
    # Makes NumPy defer to Tensor in mixed expressions (ndarray + Tensor).
    __array_priority__ = 1000

    _data: np.ndarray
    grad: Tensor | None
    requires_grad: builtins.bool
    _node: BackwardNode | None

    if TYPE_CHECKING:
        # The operators and the NumPy/PyTorch-named methods (sum, reshape, exp, T, ...) are bound
        # to the primitives in core/methods.py when flowgrad is imported; this tells type checkers.
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __iadd__(self, other: Any) -> Tensor: ...
        def __isub__(self, other: Any) -> Tensor: ...
        def __imul__(self, other: Any) -> Tensor: ...
        def __itruediv__(self, other: Any) -> Tensor: ...
        def __eq__(self, other: Any) -> Any: ...  # a Tensor, as in PyTorch (object's is bool)
        def __ne__(self, other: Any) -> Any: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __getattr__(self, name: str) -> Any: ...

    def __init__(
        self,
        *args: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
    ) -> None:
        """PyTorch's legacy constructor, for programs that use it.

        ``Tensor(data)`` copies a nested list or an array as the default float dtype (ints
        too: ``fg.Tensor([1, 2])`` is float32), ``Tensor(2, 3)`` is an uninitialised tensor of
        that shape, ``Tensor()`` an empty one, and ``Tensor(t)`` shares ``t``'s data.
        ``fg.tensor`` infers the dtype from the data and is the constructor to prefer.
        """
        dtypes.check_device(device)
        want = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        if not args:
            arr = np.empty(0, want)
        elif len(args) == 1 and isinstance(args[0], Tensor) and dtype is None:
            arr = args[0]._data
        elif len(args) == 1 and not _is_py_int(args[0]):
            if isinstance(args[0], _PY_SCALARS):
                raise DTypeError(
                    f"Tensor: a number is data only inside a sequence, got {args[0]!r}; use fg.tensor({args[0]!r}) "
                    f"for a 0-d tensor or fg.Tensor([{args[0]!r}])"
                )
            arr = as_array(args[0], want, copy=True)
        else:
            if not builtins.all(_is_py_int(a) and a >= 0 for a in args):
                raise ShapeError(
                    f"Tensor: expected data, or sizes as non-negative ints such as Tensor(2, 3), got {args!r}"
                )
            arr = np.empty(args, want)
        if requires_grad:
            _check_requires_grad(arr.dtype, "Tensor")
        self._data = arr
        self.grad = None
        self.requires_grad = builtins.bool(requires_grad)
        self._node = None

    # ----- construction helpers -------------------------------------------------
    @classmethod
    def _wrap(cls, arr: np.ndarray, requires_grad: builtins.bool = False) -> "Tensor":
        t = object.__new__(cls)
        t._data = arr
        t.grad = None
        t.requires_grad = requires_grad
        t._node = None
        return t

    # ----- array-like attributes ------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """This tensor's values as a tensor outside autograd, sharing memory, as in PyTorch.

        ``.data`` never requires grad, and in-place changes through it are not seen by
        autograd (no version bump): the old way to update weights by hand.

        >>> import flowgrad as fg
        >>> w = fg.tensor([1.0, 2.0], requires_grad=True)
        >>> w.data.requires_grad, w.data.mul_(10) is not None, w
        (False, True, tensor([10., 20.], requires_grad=True))
        """
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        # PyTorch lets `param.data = other` swap the values (even the shape) of a leaf in place.
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if self.requires_grad:
            _check_requires_grad(arr.dtype, "data")
        self._data = arr

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> builtins.int:
        return self._data.ndim

    @property
    def size(self) -> _Size:
        return _Size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> dtypes.device:
        return dtypes.CPU

    @property
    def is_leaf(self) -> builtins.bool:
        return self._node is None

    @property
    def grad_fn(self) -> "BackwardNode | None":
        return self._node

    @property
    def itemsize(self) -> builtins.int:
        return self._data.itemsize

    @property
    def nbytes(self) -> builtins.int:
        return self._data.nbytes

    def numel(self) -> builtins.int:
        return self._data.size

    def dim(self) -> builtins.int:
        return self._data.ndim

    def __len__(self) -> builtins.int:
        if self._data.ndim == 0:
            raise DTypeError("len() of a 0-d tensor")  # a TypeError, as Python's protocol wants
        return len(self._data)

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise DTypeError("iteration over a 0-d tensor")
        for i in range(len(self._data)):
            yield self[i]

    # ----- conversion -------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        if mode.TRACING or mode.RECORDING:
            mode.note_value_read(".numpy()")
        return self._data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(
                f"item: only one-element tensors can be converted to a Python number, got shape {self._data.shape}"
            )
        if mode.TRACING or mode.RECORDING:
            mode.note_value_read(".item()")
        return self._data.item()

    def tolist(self) -> Any:
        if mode.TRACING or mode.RECORDING:
            mode.note_value_read(".tolist()")
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # NumPy (np.linalg, np.asarray, ...) would drop the gradient silently; a cast to integers
        # or booleans (np.int64(t), indexes) has none to drop: it is piecewise constant.
        if self.requires_grad and (dtype is None or np.dtype(dtype).kind not in "iub"):
            raise DTypeError(lost_gradient_message())
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise DTypeError(
                f"only integer tensors of one element can be used as an index, got {self._data.dtype}{self.shape}"
            )
        return builtins.int(self.item())

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise ShapeError(  # a ValueError, as NumPy's
                f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        if mode.TRACING or mode.RECORDING:
            mode.note_value_read("bool()")
        return builtins.bool(self._data)

    __hash__ = object.__hash__  # identity, in C: tensors are dict keys in the engine

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._wrap(self._data)

    def detach_(self) -> "Tensor":
        self._node = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: builtins.bool = True) -> "Tensor":
        if requires_grad:
            _check_requires_grad(self._data.dtype, "requires_grad_")
        if not requires_grad and self._node is not None:
            raise FlowgradError("requires_grad_(False): only leaf tensors can stop requiring grad; use .detach()")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise FlowgradError("retain_grad: this tensor does not require grad")
        self._retains_grad = True

    # ----- autodiff -----------------------------------------------------------------
    def backward(
        self,
        gradient: Any = None,
        retain_graph: builtins.bool | None = None,
        create_graph: builtins.bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        >>> import flowgrad as fg
        >>> w = fg.tensor([2.0], requires_grad=True)
        >>> (w ** 3).sum().backward()
        >>> w.grad
        tensor([12.])
        """
        from .engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    # ----- printing -------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(", floatmode="maxprec_equal", precision=4)
        extras = []
        d = self._data.dtype
        if d != dtypes.get_default_dtype() and d not in (np.int64, np.bool_):
            extras.append(f"dtype=fg.{d}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.op.backward_name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        tail = "".join(", " + e for e in extras)
        return f"tensor({body}{tail})"

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(repr(self), spec) if spec else repr(self)


def _is_py_int(x: Any) -> builtins.bool:
    return isinstance(x, (builtins.int, np.integer)) and not isinstance(x, (builtins.bool, np.bool_))


def tensor(
    data: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: builtins.bool = False,
) -> Tensor:
    """Make a tensor from a number, a nested list or an array (copying the data).

    >>> import flowgrad as fg
    >>> fg.tensor([[1, 2], [3, 4]], dtype=fg.float64, requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], dtype=fg.float64, requires_grad=True)
    """
    dtypes.check_device(device)
    arr = as_array(data, dtype, copy=True)
    if requires_grad:
        _check_requires_grad(arr.dtype, "tensor")
    return Tensor._wrap(arr, builtins.bool(requires_grad))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (its dtype kept).

    >>> import numpy as np, flowgrad as fg
    >>> a = np.zeros(2); t = fg.from_numpy(a); a[0] = 5; t
    tensor([5., 0.], dtype=fg.float64)
    """
    if not is_array(array):
        raise DTypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def is_tensor(obj: Any) -> builtins.bool:
    """True for flowgrad tensors."""
    return isinstance(obj, Tensor)
