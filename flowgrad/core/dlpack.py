"""DLPack: handing a tensor's memory to PyTorch, JAX or NumPy and taking theirs, without a copy.

``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` read a flowgrad tensor's array in place, and
``fg.from_dlpack(x)`` wraps theirs; writes on one side are seen on the other. Gradients do not
cross: as PyTorch does, a tensor that requires grad is refused (``t.detach()`` first, which
shares the same memory), and the tensor made from another library's array is a plain leaf.
Every refusal is a :class:`~flowgrad.errors.DLPackError` (a ``FlowgradError`` and a
``BufferError``, as the array API standard and PyTorch raise).

>>> import numpy as np, flowgrad as fg
>>> a = np.arange(3.0)
>>> t = fg.from_dlpack(a)
>>> a[0] = 7.0
>>> t
tensor([7., 1., 2.], dtype=fg.float64)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DLPackError, DTypeError, given
from .tensor import Tensor

__all__ = ["from_dlpack"]

CPU = (1, 0)  # DLPack's kDLCPU, device number 0


def _check_copy(copy: Any, where: str) -> None:
    if copy is not None and not isinstance(copy, bool):
        raise DTypeError(f"{where}: copy must be True, False or None, got {given(copy)}")


def tensor_dlpack(
    self: Tensor,
    *,
    stream: Any = None,
    max_version: tuple[int, int] | None = None,
    dl_device: tuple[int, int] | None = None,
    copy: bool | None = None,
) -> Any:
    """``Tensor.__dlpack__``: a DLPack capsule of this tensor's array, for a consumer's
    ``from_dlpack`` (the array API standard's signature).

    ``stream`` must be None (the CPU has none); ``max_version`` (1, x) gets a versioned capsule,
    which can say read-only; ``dl_device`` must be None or the CPU, ``(1, 0)``; ``copy=True``
    exports a copy, otherwise the memory is shared.

    >>> import numpy as np, flowgrad as fg
    >>> t = fg.tensor([1.0, 2.0])
    >>> np.from_dlpack(t)[0] = 5.0
    >>> t.tolist()
    [5.0, 2.0]
    """
    where = "__dlpack__"
    _check_copy(copy, where)
    if self.requires_grad:
        raise DLPackError(
            f"{where}: cannot export a tensor that requires grad (gradients do not cross DLPack); "
            "use tensor.detach(), which shares the same memory"
        )
    if stream is not None:
        raise DLPackError(f"{where}: stream must be None for a CPU tensor, got {given(stream)}")
    if dl_device is not None and tuple(int(v) for v in dl_device) != CPU:
        raise DLPackError(
            f"{where}: flowgrad tensors live on the CPU, DLPack device {CPU}; cannot export to {tuple(dl_device)}"
        )
    arr = self._data
    if copy:
        arr = np.array(arr, copy=True)
    elif any(s < 0 for s in arr.strides):
        # DLPack allows them, but PyTorch 2.x aborts the whole process on such a capsule.
        raise DLPackError(
            f"{where}: this {self.dtype}{list(self.shape)} view has negative strides (a reversed slice), which "
            "some consumers cannot take; export tensor.clone() or pass copy=True"
        )
    try:
        if max_version is None:
            return arr.__dlpack__()
        try:
            return arr.__dlpack__(max_version=max_version)
        except TypeError:  # NumPy < 2.1 makes only the unversioned capsule, as consumers then accept
            return arr.__dlpack__()
    except (BufferError, TypeError) as e:
        hint = ""
        if not arr.flags.writeable:
            hint = "; a read-only tensor needs a consumer of DLPack 1.0 or later, else export tensor.clone()"
        raise DLPackError(f"{where}: cannot export this {self.dtype}{list(self.shape)} tensor: {e}{hint}") from e


def tensor_dlpack_device(self: Tensor) -> tuple:
    """``Tensor.__dlpack_device__``: the CPU, DLPack's device type 1, number 0.

    >>> import flowgrad as fg
    >>> tuple(int(v) for v in fg.ones(2).__dlpack_device__())
    (1, 0)
    """
    return self._data.__dlpack_device__()


def from_dlpack(obj: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """A tensor sharing memory with ``obj`` (a PyTorch or JAX array, an ndarray, anything with
    ``__dlpack__``) on the CPU; it does not require grad (gradients do not cross).

    ``device`` must be None or the CPU; ``copy=True`` copies instead of sharing. A read-only
    producer (a read-only ndarray) gives a read-only tensor. Refusals (a dtype NumPy has no match
    for, such as PyTorch's bfloat16; a tensor that requires grad; another device) raise
    :class:`~flowgrad.errors.DLPackError`.

    >>> import numpy as np, flowgrad as fg
    >>> fg.from_dlpack(fg.tensor([1, 2])).tolist()
    [1, 2]
    >>> a = np.zeros(2)
    >>> fg.from_dlpack(a, copy=True).add_(1.0).tolist(), a.tolist()
    ([1.0, 1.0], [0.0, 0.0])
    """
    where = "from_dlpack"
    if not hasattr(obj, "__dlpack__"):
        raise DTypeError(f"{where}: expected an object with __dlpack__ (a tensor or array), got {given(obj)}")
    _check_copy(copy, where)
    if device is not None and str(device) != "cpu":
        raise DLPackError(f"{where}: flowgrad tensors live on the CPU; device must be None or 'cpu', got {device!r}")
    what = type(obj).__name__ + (f" of {obj.dtype}" if hasattr(obj, "dtype") else "")
    try:
        if copy is None:
            arr = np.from_dlpack(obj)
        else:
            try:
                arr = np.from_dlpack(obj, copy=copy)
            except TypeError:  # NumPy < 2.1 takes no copy=; it shares, so copy afterwards
                arr = np.from_dlpack(obj)
                arr = np.array(arr, copy=True) if copy else arr
    except (BufferError, TypeError, RuntimeError, ValueError) as e:
        hint = ""
        if "dtype" in str(e).lower():
            hint = "; flowgrad's tensors hold NumPy arrays, which have no match for this dtype: convert it first"
        raise DLPackError(f"{where}: cannot take the memory of this {what}: {e}{hint}") from e
    return Tensor._wrap(arr)
