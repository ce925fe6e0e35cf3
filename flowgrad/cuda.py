"""``torch.cuda`` as a machine without a GPU answers it: flowgrad computes with NumPy on the CPU.

Programs that ask (``if torch.cuda.is_available(): ...``) take their CPU path; seeding the GPU
is accepted and does nothing, as in PyTorch on such a machine. Moving a tensor there
(``.cuda()``, ``device="cuda"``) raises flowgrad's clear error.

>>> import flowgrad as fg
>>> fg.cuda.is_available(), fg.cuda.device_count()
(False, 0)
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "synchronize", "empty_cache"]


def is_available() -> bool:
    """False: flowgrad has no GPU backend."""
    return False


def device_count() -> int:
    """0 GPUs."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted, as PyTorch accepts it without a GPU; it does not seed the CPU stream
    (``fg.manual_seed`` does)."""


def manual_seed_all(seed: int) -> None:
    """Accepted (see :func:`manual_seed`)."""


def synchronize() -> None:
    """Nothing to wait for."""


def empty_cache() -> None:
    """No GPU memory to release."""
