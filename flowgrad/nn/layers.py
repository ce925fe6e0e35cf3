"""Layers: linear, convolution, pooling, normalization, embedding, dropout, activations.

Layers with parameters cast floating inputs to their parameter dtype, so a
float64 NumPy batch works with a float32 network without float64 compute.

>>> import flowgrad as fg
>>> layer = fg.nn.Linear(3, 2)
>>> layer.weight.shape, layer(fg.ones(4, 3)).shape
((2, 3), (4, 2))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, check_number, given

from . import functional as F
from . import init
from .embedding import Embedding  # noqa: F401  (moved; still importable from here)
from .module import Module
from .parameter import Parameter


def _param(*shape: int, dtype: Any = None) -> Parameter:
    return Parameter(fg.empty(*shape, dtype=dtype))


class Linear(Module):
    """``y = x @ W.T + b`` with W of shape (out, in) and PyTorch's initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        # Checked: int() took "3" and 2.5, and -1 failed inside NumPy with a bare ValueError.
        where = type(self).__name__
        self.in_features = check_int(in_features, where, "in_features")
        self.out_features = check_int(out_features, where, "out_features")
        self.weight = _param(self.out_features, self.in_features, dtype=dtype)
        self.bias = _param(self.out_features, dtype=dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # U(-1/sqrt(in), 1/sqrt(in))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> fg.Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


_ACTIVATIONS = {
    "relu": fg.relu,
    "sigmoid": fg.sigmoid,
    "tanh": fg.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "softmax": lambda x: fg.softmax(x, -1),
    "leaky_relu": fg.leaky_relu,
    "softplus": fg.softplus,
}


class Dense(Linear):
    """MindSpore's ``nn.Dense(in_channels, out_channels, has_bias=True, activation=None)``.

    The same layer as ``Linear``; ``activation`` is a name ('relu', 'sigmoid',
    'tanh', ...), a module or a function applied after it.
    """

    def __init__(
        self, in_channels: int, out_channels: int, has_bias: bool = True, activation: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(in_channels, out_channels, bias=has_bias, dtype=dtype)
        if isinstance(activation, str):
            if activation.lower() not in _ACTIVATIONS:
                raise ArgumentError(f"Dense: unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)}")
            self.activation_name: str | None = activation.lower()
            self.activation = _ACTIVATIONS[self.activation_name]
        elif activation is not None and not callable(activation):  # was "'int' object is not callable" later
            raise fg.DTypeError(f"Dense: activation must be a name, a module or a function, got {given(activation)}")
        else:
            self.activation_name = None if activation is None else type(activation).__name__
            self.activation = activation

    def forward(self, x: Any) -> fg.Tensor:
        out = super().forward(x)
        return out if self.activation is None else self.activation(out)

    def extra_repr(self) -> str:
        act = f", activation={self.activation_name}" if self.activation is not None else ""
        return (
            f"in_channels={self.in_features}, out_channels={self.out_features}, has_bias={self.bias is not None}{act}"
        )


class Identity(Module):
    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> fg.Tensor:
        return fg.flatten(F.as_input(x), self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero elements with probability ``p`` in training mode; identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= check_number(p, "Dropout", "p") <= 1:
            raise ArgumentError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Any) -> fg.Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _activation(name: str, fn: Any, doc: str) -> type:
    cls = type(name, (Module,), {"forward": lambda self, x: fn(F.as_input(x)), "__doc__": doc})
    return cls


ReLU = _activation("ReLU", fg.relu, "max(x, 0).")
Sigmoid = _activation("Sigmoid", fg.sigmoid, "1 / (1 + exp(-x)), without overflow.")
Tanh = _activation("Tanh", fg.tanh, "Hyperbolic tangent.")
SiLU = _activation("SiLU", F.silu, "x * sigmoid(x).")


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_number(negative_slope, "LeakyReLU", "negative_slope")

    def forward(self, x: Any) -> fg.Tensor:
        return fg.leaky_relu(F.as_input(x), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):  # checked here, not first at forward
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> fg.Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = (
            check_number(beta, "Softplus", "beta"),
            check_number(threshold, "Softplus", "threshold"),
        )

    def forward(self, x: Any) -> fg.Tensor:
        return fg.softplus(F.as_input(x), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else check_int(dim, type(self).__name__, "dim", minimum=None)

    def forward(self, x: Any) -> fg.Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x: Any) -> fg.Tensor:
        x = F.as_input(x)
        return fg.log_softmax(x, F._softmax_dim(x.ndim) if self.dim is None else self.dim)


class _BatchNorm(Module):
    _dims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        num_features = check_int(num_features, type(self).__name__, "num_features")  # -1 was NumPy's bare error
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(fg.ones(num_features))
            self.bias = Parameter(fg.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", fg.zeros(num_features))
            self.register_buffer("running_var", fg.ones(num_features))
            self.register_buffer("num_batches_tracked", fg.tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    def forward(self, x: Any) -> fg.Tensor:
        x = F.as_input(x, self.weight)
        if x.ndim not in self._dims:
            raise fg.ShapeError(f"{type(self).__name__}: expected an input with {self._dims} dims, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise fg.ShapeError(f"{type(self).__name__}({self.num_features}): input has {x.shape[1]} channels")
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with fg.no_grad():
                self.num_batches_tracked += 1
        return F.batch_norm(
            x,
            self.running_mean if self.track_running_stats else None,
            self.running_var if self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch,
            self.momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs."""

    _dims = (4,)


class LayerNorm(Module):
    def __init__(
        self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True
    ) -> None:
        super().__init__()
        shape = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        self.normalized_shape = tuple(check_int(s, "LayerNorm", "normalized_shape") for s in shape)
        self.eps = eps
        if elementwise_affine:
            self.weight = Parameter(fg.ones(*self.normalized_shape))
            if bias:
                self.bias = Parameter(fg.zeros(*self.normalized_shape))
            else:  # PyTorch's bias=False (Transformer layers with bias=False): a scale only
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> fg.Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


def _pair(v: Any, where: str = "Conv2d", name: str = "kernel_size") -> tuple:
    # Checked: int() took "a" with a bare ValueError, and a kernel or stride of 0 divided by zero.
    minimum = 0 if name == "padding" else 1
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return check_int(v[0], where, name, minimum), check_int(v[1], where, name, minimum)
    if isinstance(v, (tuple, list)):
        raise fg.ShapeError(f"{where}: {name} must be an int or a pair, got {v!r}")
    return check_int(v, where, name, minimum), check_int(v, where, name, minimum)


class Conv2d(Module):
    """2-D convolution with stride, padding, dilation and groups (PyTorch's init)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        in_channels, out_channels = (
            check_int(in_channels, "Conv2d", "in_channels"),
            check_int(out_channels, "Conv2d", "out_channels"),
        )
        groups = check_int(groups, "Conv2d", "groups", minimum=1)  # 0 would divide by zero below
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(
                f"Conv2d: channels ({in_channels}, {out_channels}) must be divisible by groups={groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride, "Conv2d", "stride")
        self.padding, self.dilation = _pair(padding, "Conv2d", "padding"), _pair(dilation, "Conv2d", "dilation")
        self.weight = _param(out_channels, in_channels // groups, *self.kernel_size)
        self.bias = _param(out_channels) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (in_channels // groups) * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> fg.Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1) -> None:
        super().__init__()
        for name, value in (
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
        ):
            if value is not None:  # checked here, not first at forward
                _pair(value, "MaxPool2d", name)
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation

    def forward(self, x: Any) -> fg.Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        for name, value in (("kernel_size", kernel_size), ("stride", stride), ("padding", padding)):
            if value is not None:  # checked here, not first at forward
                _pair(value, "AvgPool2d", name)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, x: Any) -> fg.Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
