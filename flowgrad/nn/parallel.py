"""``fg.nn.parallel``: data-parallel training across processes (``DistributedDataParallel``).

Each process (rank) holds a full copy of the model and trains on its own share of every batch;
after each backward pass the gradients are averaged across ranks, so every rank takes the same
optimizer step and the copies stay identical. Communication is MPI (``flowgrad.distributed``).

>>> import flowgrad as fg
>>> fg.nn.parallel.DistributedDataParallel.__name__
'DistributedDataParallel'
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from flowgrad import Tensor, is_grad_enabled
from flowgrad.autograd import queue_callback

from ..errors import ArgumentError, DTypeError, given
from .module import Module

__all__ = ["DistributedDataParallel"]


class _Averaging:
    """The callback queued for one backward. DDP keeps only a weak reference to it: when a backward
    fails, the engine drops its callbacks, and the dead reference tells the next forward to start over."""

    __slots__ = ("__weakref__", "ddp")

    def __init__(self, ddp: DistributedDataParallel) -> None:
        self.ddp = ddp

    def __call__(self) -> None:
        self.ddp._average_gradients()


class _Bucket:
    """Gradients of one dtype, flattened into one buffer that is averaged in one MPI call."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.sizes = [p._data.size for p in params]
        self.flat = np.empty(sum(self.sizes), dtype=params[0]._data.dtype)


class DistributedDataParallel(Module):
    """Train ``module`` on every rank with gradients averaged across ranks (PyTorch's DDP).

    At construction rank 0's parameters and buffers are copied to every rank. A forward pass in
    training mode (with grad enabled, outside ``no_sync()``) arranges for the next ``backward()``
    to end by averaging every parameter's ``.grad`` across ranks: the gradients are flattened into
    buckets of about ``bucket_cap_mb`` megabytes (in reverse order of registration, roughly the
    order backward produces them), and each bucket is one non-blocking MPI allreduce (a sum, then
    one division by the world size, the same on every rank, so every rank ends with bit-identical
    gradients). A bucket starts as soon as backward has accumulated all its gradients, while the
    rest of the backward pass goes on (buckets start in order on every rank, since the ranks'
    collective calls pair up by order); the averages are written back when backward ends.

    Inside ``with ddp.no_sync():`` gradients accumulate locally; the first backward after it
    averages the accumulated sums. A parameter whose gradient is None on some ranks counts as
    zeros there; one that has no gradient on any rank stays None. With ``broadcast_buffers`` rank
    0's buffers (BatchNorm's running statistics) are copied to every rank at each forward, as in
    PyTorch. ``state_dict()`` is the wrapped module's, without PyTorch's ``module.`` prefix, and
    ``load_state_dict`` accepts both forms.

    >>> import flowgrad as fg, flowgrad.distributed as dist  # doctest: +SKIP
    >>> dist.init_process_group("mpi")  # doctest: +SKIP
    >>> ddp = fg.nn.parallel.DistributedDataParallel(fg.nn.Linear(3, 1))  # doctest: +SKIP
    >>> ddp(fg.ones(4, 3)).sum().backward()  # ddp.module.weight.grad: averaged over ranks  # doctest: +SKIP
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float = 25.0,
        find_unused_parameters: bool = False,
        **kwargs: Any,
    ) -> None:
        from .. import distributed as dist

        super().__init__()
        if not isinstance(module, Module):
            raise DTypeError(f"DistributedDataParallel: module must be a flowgrad Module, got {given(module)}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ArgumentError(
                "DistributedDataParallel: flowgrad computes on the CPU; leave device_ids and output_device out, "
                f"got device_ids={device_ids!r}, output_device={output_device!r}"
            )
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ArgumentError(
                f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {given(bucket_cap_mb)}"
            )
        self._dist = dist
        self._world = dist.get_world_size()  # raises a clear error when no process group is initialized
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.require_backward_grad_sync = True
        self._queued = False
        self._callback: Any = lambda: None  # a weak reference to the queued _Averaging
        self._check_same_model_everywhere()
        for tensor in self._state_tensors():  # every rank starts from rank 0's weights
            dist.broadcast(tensor, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = _make_buckets(list(reversed(params)), int(bucket_cap_mb * 1024 * 1024))
        # Per backward: which parameters' gradients are final, how many buckets were started (in
        # order: the ranks' collective calls pair up by order) and their pending allreduces.
        self._bucket_of = {id(p): b for b, bucket in enumerate(self._buckets) for p in bucket.params}
        self._ready: list[set] = [set() for _ in self._buckets]
        self._started = 0
        self._works: list[Any] = []
        self._started_during_backward = 0  # buckets whose allreduce began before backward ended (tests)
        self._hooks = [p.register_post_accumulate_grad_hook(self._gradient_ready) for p in params]
        self._mask = np.zeros(len(params), dtype=np.uint8)

    def _state_tensors(self) -> list[Tensor]:
        state = self.module.state_dict(keep_vars=True)
        return [t for t in state.values() if isinstance(t, Tensor)]

    def _check_same_model_everywhere(self) -> None:
        # The ranks' collective calls pair up by order: a model that differs between ranks would
        # average unrelated numbers, or hang. One fingerprint of names, shapes and dtypes per rank.
        text = ";".join(
            f"{k}:{tuple(t.shape)}:{t.dtype}"
            for k, t in self.module.state_dict(keep_vars=True).items()
            if isinstance(t, Tensor)
        )
        digest = np.frombuffer(hashlib.sha256(text.encode()).digest()[:8], dtype=np.int64).copy()
        mine = Tensor._wrap(digest)
        everyone = [Tensor._wrap(np.zeros(1, np.int64)) for _ in range(self._world)]
        self._dist.all_gather(everyone, mine)
        different = [r for r, t in enumerate(everyone) if t._data[0] != digest[0]]
        if different:
            raise ArgumentError(
                f"DistributedDataParallel: the model on rank(s) {different} has other parameter names, shapes "
                "or dtypes than on this rank; build the same model on every rank"
            )

    # ----- running ----------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.training and self.broadcast_buffers:
            for buf in self.module.buffers():
                if isinstance(buf, Tensor):
                    self._dist.broadcast(buf, src=0)
        if self._queued and self._callback() is None:
            self._start_over()  # the backward it was queued for failed: no averaging ran
        if self.training and self.require_backward_grad_sync and is_grad_enabled() and not self._queued:
            self._queued = True
            callback = _Averaging(self)
            self._callback = weakref.ref(callback)
            queue_callback(callback)
        return self.module(*args, **kwargs)

    def _remove_hooks(self) -> None:
        """Stop listening to the parameters' gradients (a DDP made for one ``fit`` and then dropped)."""
        for handle in self._hooks:
            handle.remove()
        self._hooks = []

    def _start_over(self) -> None:
        # Buckets started by the failed pass may still be in flight: they keep their buffers, and the
        # next pass fills new ones (the ranks' next collective calls must not reuse memory MPI holds).
        for bucket in self._buckets[: self._started]:
            bucket.flat = np.empty_like(bucket.flat)
        self._queued = False
        self._ready = [set() for _ in self._buckets]
        self._started, self._works = 0, []

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally: backward passes inside do not average across ranks."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _gradient_ready(self, p: Tensor) -> None:
        """A parameter's gradient is final for this backward: start every bucket now complete, in order."""
        if not self._queued:  # no averaging asked for this backward (no_sync, eval, no forward)
            return
        self._ready[self._bucket_of[id(p)]].add(id(p))
        while self._started < len(self._buckets) and len(self._ready[self._started]) == len(
            self._buckets[self._started].params
        ):
            self._start_bucket(self._started)
            self._started_during_backward += 1

    def _start_bucket(self, b: int) -> None:
        bucket = self._buckets[b]
        offset = 0
        for p, n in zip(bucket.params, bucket.sizes):
            view = bucket.flat[offset : offset + n]
            if p.grad is None:  # no gradient on this rank: zeros in the sum
                view[...] = 0
            else:
                view[...] = p.grad._data.reshape(-1)
            offset += n
        dist = self._dist
        self._works.append(dist.all_reduce(Tensor._wrap(bucket.flat), op=dist.ReduceOp.AVG, async_op=True))
        self._started += 1

    def _average_gradients(self) -> None:
        """When backward has ended: start the buckets still waiting (parameters this rank did not
        use), then write every average back."""
        self._queued = False
        dist = self._dist
        while self._started < len(self._buckets):
            self._start_bucket(self._started)
        # Which parameters have a gradient on some rank: one with none anywhere stays None.
        index = 0
        for bucket in self._buckets:
            for p in bucket.params:
                self._mask[index] = p.grad is not None
                index += 1
        mask = Tensor._wrap(self._mask)
        dist.all_reduce(mask, op=dist.ReduceOp.MAX)
        index = 0
        for bucket, work in zip(self._buckets, self._works):
            work.wait()
            offset = 0
            for p, n in zip(bucket.params, bucket.sizes):
                if self._mask[index]:
                    averaged = bucket.flat[offset : offset + n].reshape(p._data.shape)
                    if p.grad is None:
                        p.grad = Tensor._wrap(averaged.copy())
                    else:
                        p.grad._data[...] = averaged
                        p.grad._mark_changed()
                offset += n
                index += 1
        self._ready = [set() for _ in self._buckets]
        self._started, self._works = 0, []

    # ----- state ---------------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """The wrapped module's state (PyTorch's DDP would prefix every key with ``module.``)."""
        return self.module.state_dict(prefix=prefix, keep_vars=keep_vars)

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> Any:
        """Load into the wrapped module; keys saved from PyTorch's DDP (``module.`` prefix) are accepted."""
        keys = list(state_dict)
        if keys and all(k.startswith("module.") for k in keys):
            state_dict = OrderedDict((k[len("module.") :], v) for k, v in state_dict.items())
        return self.module.load_state_dict(state_dict, strict=strict)

    def extra_repr(self) -> str:
        return f"world_size={self._world}, buckets={len(self._buckets)}"


def _make_buckets(params: list[Tensor], cap_bytes: int) -> list[_Bucket]:
    # In reverse order of registration, as PyTorch: roughly the order backward produces them.
    buckets: list[_Bucket] = []
    current: list[Tensor] = []
    size = 0
    for p in params:
        nbytes = p._data.nbytes
        if current and (p._data.dtype != current[0]._data.dtype or size + nbytes > cap_bytes):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets
