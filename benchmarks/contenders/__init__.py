"""The contenders: one module each, all with ``setup(problem, threads) -> Setup``.

``Setup.step(x, y)`` runs one training step (forward, backward, update) on one batch and
returns the loss in the contender's own type; ``Setup.batches`` are the problem's batches
converted once, before timing, to what ``step`` takes.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Setup:
    step: Callable
    batches: list
    versions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Contender:
    name: str
    label: str
    module: str
    package: str  # what must be installed


CONTENDERS = {
    c.name: c
    for c in (
        Contender("numpy", "hand NumPy", "numpy_hand", "numpy"),
        Contender("flowgrad", "flowgrad eager", "flowgrad_eager", "flowgrad"),
        Contender("flowgrad-compiled", "flowgrad compiled", "flowgrad_compiled", "flowgrad"),
        Contender("torch", "PyTorch eager", "torch_eager", "torch"),
        Contender("jax", "JAX jit", "jax_jit", "jax"),
        Contender("autograd", "HIPS autograd", "hips_autograd", "autograd"),
    )
}


def unavailable(name: str) -> str | None:
    """Why a contender cannot run here, or None when it can (checked without importing it)."""
    contender = CONTENDERS[name]
    if importlib.util.find_spec(contender.package) is None:
        return f"{contender.package} is not installed"
    if name == "flowgrad-compiled":
        import flowgrad as fg

        if not hasattr(fg, "compile"):
            return "fg.compile does not exist yet"
    return None


def load(name: str):
    return importlib.import_module(f"{__name__}.{CONTENDERS[name].module}")
