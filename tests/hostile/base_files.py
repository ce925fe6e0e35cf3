"""The valid files every hostile checkpoint starts from: states of every kind flowgrad saves (nested
containers, odd floats, shared tensors, whole models), a checkpoint with an optimizer, and a plain
safetensors file with no flowgrad metadata."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg


@dataclass(frozen=True)
class Base:
    name: str
    data: bytes
    state: Any  # what fg.load gives for the untouched file
    plain: bool  # no flowgrad metadata


def _states() -> dict[str, Any]:
    fg.manual_seed(0)
    rng = np.random.default_rng(0)
    net = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.BatchNorm1d(4), fg.nn.Linear(4, 2))
    shared = fg.randn(2, 2)
    return {
        "nested": {
            "epoch": 7,
            "lr": 1e-3,
            "odd": [float("nan"), float("-inf"), -0.0, 2**70],
            "flags": [True, None, "grüße ✓", "$fg"],
            "betas": (0.9, (0.999, [1, 2])),
            "by_int": {0: {"step": 3, "exp_avg": np.linspace(0, 1, 5)}, -1: None},
            "by_other": {1.5: "f", ("a", 1): "t"},
            "grad": fg.tensor([1.0, 2.0], requires_grad=True),
            "shared": [shared, shared],
            "ints": rng.integers(-100, 100, size=(3, 4)).astype(np.int16),
            "mask": np.array([True, False, True]),
            "bytes": rng.integers(0, 256, size=7).astype(np.uint8),
            "half": np.float16(-0.5),
            "empty": np.zeros((0, 3), np.float32),
        },
        "state_dict": net.state_dict(),
        "tensor": fg.randn(3, 5),
    }


def _plain() -> bytes:
    from flowgrad.io import safetensors_format

    buf = io.BytesIO()
    arrays = {
        "embed.weight": np.arange(12, dtype=np.float32).reshape(3, 4),
        "head.bias": np.array([0.5, -1.5]),
        "ids": np.arange(5, dtype=np.int64),
        "flag": np.array(True),
    }
    safetensors_format.write(buf, arrays, {"format": "np"})
    return buf.getvalue()


@cache
def bases() -> tuple[Base, ...]:
    out = []
    with tempfile.TemporaryDirectory() as d:
        for name, state in _states().items():
            path = Path(d) / f"{name}.safetensors"
            fg.save(state, path, backend="builtin")
            data = path.read_bytes()
            out.append(Base(name, data, fg.load(path), plain=False))
        path = Path(d) / "plain.safetensors"
        path.write_bytes(_plain())
        out.append(Base("plain", path.read_bytes(), fg.load(path), plain=True))
    return tuple(out)


def checkpoint_base() -> tuple[bytes, Any, Any]:
    """A save_checkpoint file, with the model and optimizer it holds (for load_checkpoint)."""
    net, opt = make_training(0)
    for _ in range(2):
        x = fg.randn(8, 3)
        loss = ((net(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ckpt.safetensors"
        fg.save_checkpoint(path, net, opt, epoch=3, backend="builtin", best=0.25, notes=["warm-up"])
        return path.read_bytes(), net, opt


def make_training(seed: int) -> tuple[Any, Any]:
    fg.manual_seed(seed)
    net = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.ReLU(), fg.nn.Linear(4, 1))
    return net, fg.optim.Adam(net.parameters(), lr=1e-2)
