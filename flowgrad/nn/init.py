"""Weight initialisers, in place, as ``torch.nn.init``; all follow ``fg.manual_seed``.

>>> import flowgrad as fg
>>> w = fg.empty(3, 5)
>>> _ = fg.manual_seed(0); _ = fg.nn.init.xavier_uniform_(w)
>>> bool((w.abs() <= (6 / 8) ** 0.5).all())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import given

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]


def calculate_gain(nonlinearity: str, param: Any = None) -> float:
    """The recommended gain for an activation (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise fg.ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor: fg.Tensor) -> tuple[int, int]:
    """Fans of a weight: (in, out) times the receptive field for convolutions."""
    if not isinstance(tensor, fg.Tensor):  # otherwise an AttributeError on .ndim
        raise fg.DTypeError(f"nn.init: expected a weight tensor, got {given(tensor)}")
    if tensor.ndim < 2:
        raise fg.ShapeError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _check_tensor(tensor: Any, where: str) -> None:
    if not isinstance(tensor, fg.Tensor):  # otherwise an AttributeError on .shape
        raise fg.DTypeError(f"{where}: expected a tensor to fill, got {given(tensor)}")


def _fill(tensor: fg.Tensor, values: np.ndarray) -> fg.Tensor:
    with fg.no_grad():
        tensor.copy_(values.astype(tensor.dtype, copy=False))
    return tensor


def uniform_(tensor: fg.Tensor, a: float = 0.0, b: float = 1.0) -> fg.Tensor:
    """Fill with samples from U(a, b)."""
    _check_tensor(tensor, "uniform_")
    return _fill(tensor, fg.default_generator().uniform(a, b, tensor.shape))


def normal_(tensor: fg.Tensor, mean: float = 0.0, std: float = 1.0) -> fg.Tensor:
    """Fill with samples from N(mean, std**2)."""
    _check_tensor(tensor, "normal_")
    return _fill(tensor, fg.default_generator().normal(mean, std, tensor.shape))


def constant_(tensor: fg.Tensor, val: float) -> fg.Tensor:
    """Fill with ``val``."""
    _check_tensor(tensor, "constant_")
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: fg.Tensor) -> fg.Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: fg.Tensor) -> fg.Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: fg.Tensor, gain: float = 1.0) -> fg.Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor: fg.Tensor, gain: float = 1.0) -> fg.Tensor:
    """Glorot normal: std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: fg.Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise fg.ArgumentError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: fg.Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> fg.Tensor:
    """He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: fg.Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> fg.Tensor:
    """He normal: N(0, (gain / sqrt(fan))**2)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
