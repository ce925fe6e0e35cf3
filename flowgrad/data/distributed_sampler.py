"""``DistributedSampler``: each rank's share of a data set, PyTorch's partition rules.

>>> import flowgrad as fg
>>> [list(fg.data.DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
[[0, 2, 4], [1, 3, 0]]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence, Sized

import numpy as np

from flowgrad.errors import DataError, given

from .sampler import Sampler

__all__ = ["DistributedSampler", "partition"]


def partition(order: Sequence[int], num_replicas: int, rank: int, drop_last: bool = False) -> list[int]:
    """Rank ``rank``'s indices out of ``order`` (all ranks' indices in one sequence).

    Every rank gets the same number: without ``drop_last`` the order is padded by repeating its
    first indices (as many times as needed), with ``drop_last`` its tail is cut; then rank r takes
    positions r, r + num_replicas, r + 2 * num_replicas, ... - the rules of PyTorch's sampler.

    >>> from flowgrad.data.distributed_sampler import partition
    >>> partition([5, 6, 7], num_replicas=2, rank=1), partition([5, 6, 7], 2, 1, drop_last=True)
    ([6, 5], [6])
    """
    n = len(order)
    per_rank = _per_rank(n, num_replicas, drop_last)
    total = per_rank * num_replicas
    indices = list(order)
    if total > n:  # pad: the first indices again, whole copies when the data set is tiny
        missing = total - n
        indices += (indices * math.ceil(missing / n))[:missing] if n else []
    else:
        indices = indices[:total]
    return indices[rank:total:num_replicas]


def _per_rank(n: int, num_replicas: int, drop_last: bool) -> int:
    if drop_last and n % num_replicas:
        return max(0, math.ceil((n - num_replicas) / num_replicas))  # the largest share all ranks can get
    return math.ceil(n / num_replicas)


class DistributedSampler(Sampler):
    """Rank ``rank``'s share of ``dataset``'s indices, for ``DataLoader(sampler=...)``.

    ``num_replicas`` and ``rank`` default to ``flowgrad.distributed``'s world size and rank (an
    initialized process group is then needed). Each epoch's order is a permutation drawn from a
    NumPy generator seeded with ``seed + epoch`` (call ``set_epoch`` at the start of every epoch, or
    every epoch repeats the same order), identical on all ranks, so the shares are disjoint and
    together cover the data set. The padding, dropping and interleaving are PyTorch's; the
    permutation itself is flowgrad's, not the one ``torch.randperm`` would draw for the same seed.

    >>> import flowgrad as fg
    >>> s = fg.data.DistributedSampler(range(10), num_replicas=4, rank=3, shuffle=False, drop_last=True)
    >>> list(s), len(s)
    ([3, 7], 2)
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from flowgrad import distributed

            if num_replicas is None:
                num_replicas = distributed.get_world_size()  # a clear error without a process group
            if rank is None:
                rank = distributed.get_rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise DataError(f"DistributedSampler: num_replicas must be a positive integer, got {given(num_replicas)}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise DataError(
                f"DistributedSampler: rank must be an integer from 0 to {num_replicas - 1} "
                f"(num_replicas={num_replicas}), got {given(rank)}"
            )
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool):
                raise DataError(f"DistributedSampler: {name} must be True or False, got {given(flag)}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise DataError(f"DistributedSampler: seed must be a non-negative integer, got {given(seed)}")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        """How many indices each rank gets per epoch."""
        return _per_rank(len(self.dataset), self.num_replicas, self.drop_last)

    @property
    def total_size(self) -> int:
        return self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order is drawn (every rank must set the same epoch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise DataError(f"DistributedSampler.set_epoch: epoch must be a non-negative integer, got {given(epoch)}")
        self.epoch = int(epoch)

    def order(self) -> list[int]:
        """All ranks' indices for this epoch, before padding and interleaving."""
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        return np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(partition(self.order(), self.num_replicas, self.rank, self.drop_last))

    def __len__(self) -> int:
        return self.num_samples
