"""``Model.fit`` on N processes: started by ``mpiexec -n N``, after ``fg.distributed.init_process_group()``.

Each global batch (``batch_size`` samples, drawn in the order one process would draw them) is cut
into N contiguous parts, one per rank. Every rank runs its part forward and backward through
``DistributedDataParallel`` (buckets of gradients averaged while backward runs), its loss scaled by
its part's share of the batch times N, so the average is the share-weighted sum: every rank
applies the gradient of the mean loss over the whole global batch, the same update one process
makes on the full batch, up to the order of the additions. A parameter without a gradient on any
rank keeps None, as in one process. The reported loss and metrics are those
of the whole global batch (metrics from every rank's outputs, gathered). Validation data is
evaluated whole on every rank. Files and the progress bar belong to rank 0: the other ranks run
every callback except ``ProgressBar``, ``CSVLogger`` and ``ModelCheckpoint``, so decisions taken
from the logs (early stopping, learning-rate schedules) are the same everywhere.

At the start, rank 0's parameters, buffers and random stream are sent to every rank. BatchNorm
layers use each rank's part of the batch for their statistics (as PyTorch's DistributedDataParallel
without SyncBatchNorm), and their running statistics are sent from rank 0 after every step.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError

from .batches import ArrayBatches, as_array
from .callbacks import CSVLogger, ModelCheckpoint, ProgressBar

__all__ = ["process_group", "ShardedBatches", "rank_callbacks", "start", "train_epoch"]

# Callbacks that write files or to the terminal: rank 0's alone.
RANK_ZERO_ONLY = (ProgressBar, CSVLogger, ModelCheckpoint)


def process_group() -> tuple[int, int] | None:
    """(rank, world size) when a process group of more than one process is initialised, else None.

    >>> process_group() is None   # a plain process
    True
    """
    dist = sys.modules.get("flowgrad.distributed")
    if dist is None or not dist.is_initialized():
        return None
    size = dist.get_world_size()
    return (dist.get_rank(), size) if size > 1 else None


class ShardedBatches:
    """This rank's part of each global batch: ``(x_part, y_part, global_batch_size)``.

    The order is drawn from flowgrad's generator exactly as one process draws it (every rank holds
    the same stream: :func:`start` sends rank 0's), then each global batch is cut into ``world``
    contiguous parts.
    """

    def __init__(self, x: Any, y: Any, batch_size: int, shuffle: bool, rank: int, world: int) -> None:
        self.inner = ArrayBatches([as_array(x), as_array(y)], batch_size, shuffle, "fit")
        if self.inner.batch_size % world:
            raise ArgumentError(
                f"fit: batch_size {batch_size} is the global batch, cut into one part per process; with "
                f"{world} processes it must be a multiple of {world} (the same global batch as one process "
                f"would use: for example batch_size={world * max(1, round(batch_size / world))})"
            )
        self.rank, self.world = rank, world
        self.ddp: Any = None  # made at the first step, for this fit only

    def wrap(self, network: Any) -> Any:
        """The network in ``DistributedDataParallel``, made once per fit; its gradient hooks leave the
        parameters with this object (when ``fit`` returns)."""
        if self.ddp is None or self.ddp.module is not network:
            # Buffers are sent from rank 0 after each step (below), not before each forward.
            self.ddp = fg.nn.parallel.DistributedDataParallel(network, broadcast_buffers=False)
            weakref.finalize(self, self.ddp._remove_hooks)
        return self.ddp

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self) -> Iterator[tuple]:
        inner = self.inner
        order = fg.default_generator().permutation(inner.n) if inner.shuffle else np.arange(inner.n)
        for start in range(0, inner.n, inner.batch_size):
            batch = order[start : start + inner.batch_size]
            m = len(batch)
            mine = batch[self.rank * m // self.world : (self.rank + 1) * m // self.world]
            yield (*(fg.from_numpy(a[mine]) for a in inner.arrays), m)


def rank_callbacks(callbacks: list, rank: int) -> list:
    """The callbacks this rank runs: all of them on rank 0, elsewhere those that write nothing (not
    ``ProgressBar``, ``CSVLogger``, ``ModelCheckpoint`` nor a callback with ``rank_zero_only = True``)."""
    if rank == 0:
        return list(callbacks)
    return [c for c in callbacks if not isinstance(c, RANK_ZERO_ONLY) and not getattr(c, "rank_zero_only", False)]


def start(model: Any) -> None:
    """Send rank 0's parameters, buffers and random stream to every rank."""
    dist = fg.distributed
    for t in _state_tensors(model.network):
        dist.broadcast(t, src=0)
    state = fg.from_numpy(_rng_words())
    dist.broadcast(state, src=0)
    _set_rng_words(state.numpy())


def _state_tensors(network: Any) -> list:
    params = list(network.parameters())
    buffers = [b for b in getattr(network, "buffers", lambda: [])() if isinstance(b, fg.Tensor)]
    return params + buffers


def _rng_words() -> np.ndarray:
    state = fg.get_rng_state()["state"]
    inc = state["inc"]
    value = state["state"]
    words = [(value >> (64 * i)) & (2**64 - 1) for i in range(2)] + [(inc >> (64 * i)) & (2**64 - 1) for i in range(2)]
    extra = fg.get_rng_state()
    return np.array([*words, extra.get("has_uint32", 0), extra.get("uinteger", 0)], dtype=np.uint64)


def _set_rng_words(words: np.ndarray) -> None:
    state = fg.get_rng_state()
    w = [int(v) for v in words]
    state["state"] = {"state": w[0] | (w[1] << 64), "inc": w[2] | (w[3] << 64)}
    state["has_uint32"], state["uinteger"] = w[4], w[5]
    fg.set_rng_state(state)


def _all_sum(values: list[float]) -> list[float]:
    t = fg.tensor(values, dtype=fg.float64)
    fg.distributed.all_reduce(t)
    return t.tolist()


def _gather(arrays: list[np.ndarray]) -> np.ndarray | None:
    """Every rank's arrays, concatenated in rank order (the global epoch's outputs or targets)."""
    dist = fg.distributed
    world = dist.get_world_size()
    mine = np.concatenate(arrays) if arrays else np.zeros((0,))
    lengths = [fg.zeros(1, dtype=fg.int64) for _ in range(world)]
    dist.all_gather(lengths, fg.tensor([len(mine)], dtype=fg.int64))
    longest = max(int(t.item()) for t in lengths)
    padded = np.zeros((longest, *mine.shape[1:]), dtype=mine.dtype)
    padded[: len(mine)] = mine
    parts = [fg.zeros(*padded.shape, dtype=padded.dtype) for _ in range(world)]
    dist.all_gather(parts, fg.from_numpy(padded))
    return np.concatenate([p.numpy()[: int(n.item())] for p, n in zip(parts, lengths)])


def train_epoch(model: Any, data: ShardedBatches, epoch: int, cbs: Any) -> dict:
    """One epoch of ``fit`` on this rank (see the module's docstring); returns the global logs."""
    model.network.train()
    total, seen = 0.0, 0
    outs, targets = [], []
    buffers = [b for b in getattr(model.network, "buffers", lambda: [])() if isinstance(b, fg.Tensor)]
    ddp = data.wrap(model.network)
    for step, (xb, yb, m) in enumerate(data):
        cbs.on_batch_begin(step, {})
        n = len(xb)
        found: dict = {}

        def closure(xb: Any = xb, yb: Any = yb, n: int = n, m: int = m, found: dict = found) -> fg.Tensor:
            model.optimizer.zero_grad()
            local = 0.0
            if n:
                out = ddp(xb)
                loss = model._loss(out, yb)
                # DDP averages over ranks: scaled by share x N, the average is the share-weighted sum
                # (x 1.0, exactly, when the parts are equal)
                (loss * (n * data.world / m)).backward()
                local = float(loss.item())
                found.setdefault("out", out.detach())
            else:  # no rows here (a last batch smaller than N): zeros join the others' averaging
                ddp._average_gradients()
            (global_loss,) = _all_sum([local * n / m])
            return fg.tensor(global_loss, dtype=fg.float64)

        loss = float(model.optimizer.step(closure).item())
        for b in buffers:  # BatchNorm's running statistics: rank 0's, everywhere
            fg.distributed.broadcast(b, src=0)
        if not math.isfinite(loss) and model._stops_on_non_finite(cbs, epoch, step, loss, m):
            break
        total, seen = total + loss * m, seen + m
        if model.metrics and "out" in found:
            outs.append(found["out"].numpy())
            targets.append(as_array(yb))
        cbs.on_batch_end(step, {"loss": loss, "size": m})
        if model.stop_training:
            break
    logs = {"loss": total / max(seen, 1)}
    if model.metrics:  # every rank gathers (a collective call), then the one-process rule applies
        logs.update(model._metric_values([_gather(outs)], [_gather(targets)]))
    return logs
