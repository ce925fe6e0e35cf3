"""The timed cases as data: architecture, loss, optimizer, dtype, batches and initial weights.

The orchestrator builds each problem once and saves it to an ``.npz`` file; every contender's
process loads that same file, so all of them start from the same weights and see the same
batches. Weights are in PyTorch's layout: ``Linear`` weight (out, in), ``Conv2d`` weight
(out, in, kh, kw), each followed by its bias.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Problem:
    name: str
    title: str
    arch: str  # "mlp", "conv" (the digits net) or "lenet"
    loss: str  # "mse" or "ce" (softmax cross-entropy over integer labels)
    lr: float
    momentum: float = 0.0
    dtype: str = "float32"
    sizes: tuple = ()  # mlp widths, input first
    hidden: str | None = None  # activation after every layer but the last: sigmoid, relu, tanh
    output: str | None = None  # activation after the last layer (None: linear)
    params: list = field(default_factory=list)
    batches: list = field(default_factory=list)  # [(x, y), ...] cycled through

    @property
    def batch(self) -> int:
        return len(self.batches[0][1])

    def flops_per_step(self) -> float:
        """2*B*sum(in*out) for the forward pass of an MLP, twice that for the backward pass."""
        forward = 2 * self.batch * sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        return 3.0 * forward

    def config(self) -> dict:
        keys = ("name", "title", "arch", "loss", "lr", "momentum", "dtype", "sizes", "hidden", "output")
        return {k: getattr(self, k) for k in keys}

    def save(self, path: str) -> None:
        arrays = {f"param_{i}": p for i, p in enumerate(self.params)}
        for i, (x, y) in enumerate(self.batches):
            arrays[f"x_{i}"], arrays[f"y_{i}"] = x, y
        np.savez(path, config=np.array(json.dumps(self.config())), **arrays)

    @classmethod
    def load(cls, path: str) -> Problem:
        with np.load(path, allow_pickle=False) as f:
            config = json.loads(str(f["config"]))
            n_params = sum(k.startswith("param_") for k in f.files)
            n_batches = sum(k.startswith("x_") for k in f.files)
            params = [f[f"param_{i}"] for i in range(n_params)]
            batches = [(f[f"x_{i}"], f[f"y_{i}"]) for i in range(n_batches)]
        config["sizes"] = tuple(config["sizes"])
        return cls(**config, params=params, batches=batches)


def _uniform_init(rng: np.random.Generator, sizes: tuple, dtype: str, scale: float = 1.0) -> list:
    """PyTorch's Linear initialisation, U(+-1/sqrt(fan_in)), times ``scale``."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = scale / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return params


def _split(x: np.ndarray, y: np.ndarray, batch: int) -> list:
    return [(x[i : i + batch], y[i : i + batch]) for i in range(0, len(x) - batch + 1, batch)]


def tiny() -> Problem:
    # Seed 004: weight - 135 lb and height - 66 in for Alice, Bob, Charlie and Diana; every
    # weight and bias drawn from np.random.normal(), one sample per step.
    rng = np.random.default_rng(4)
    x = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)
    y = np.array([[1], [0], [0], [1]], dtype=np.float64)
    params = [rng.standard_normal(s) for s in ((2, 2), (2,), (1, 2), (1,))]
    return Problem(
        "tiny",
        "2-2-1 sigmoid, batch 1, MSE, SGD lr 0.1, float64 (seed 004)",
        "mlp",
        "mse",
        0.1,
        dtype="float64",
        sizes=(2, 2, 1),
        hidden="sigmoid",
        output="sigmoid",
        params=params,
        batches=_split(x, y, 1),
    )


def medium() -> Problem:
    # Seed 002 (MiniFlow, Boston housing): Linear(13, 10) -> Sigmoid -> Linear(10, 1), MSE,
    # batch 11, W ~ randn, b = 0; random standardised data of the housing set's shape.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((506, 13)).astype(np.float32)
    y = rng.standard_normal((506, 1)).astype(np.float32)
    params = [rng.standard_normal((10, 13)), np.zeros(10), rng.standard_normal((1, 10)), np.zeros(1)]
    return Problem(
        "medium",
        "13-10-1, sigmoid hidden layer, linear output, batch 11, MSE, SGD lr 0.01, float32 (seed 002)",
        "mlp",
        "mse",
        1e-2,
        sizes=(13, 10, 1),
        hidden="sigmoid",
        params=[p.astype(np.float32) for p in params],
        batches=_split(x, y, 11),
    )


def regression() -> Problem:
    # Seed 003 (MindSpore): y = 3x + 1 + noise, nn.Dense(1, 1), MSE, Momentum(0.005, 0.9), batch 16.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((96, 1)).astype(np.float32)
    y = (3 * x + 1 + 0.1 * rng.standard_normal((96, 1))).astype(np.float32)
    return Problem(
        "regression",
        "1-1 linear, batch 16, MSE, Momentum(lr 0.005, momentum 0.9), float32 (seed 003)",
        "mlp",
        "mse",
        0.005,
        momentum=0.9,
        sizes=(1, 1),
        params=_uniform_init(rng, (1, 1), "float32"),
        batches=_split(x, y, 16),
    )


def large() -> Problem:
    rng = np.random.default_rng(5)
    batch, sizes = 256, (784, 1024, 1024, 10)
    x = rng.standard_normal((4 * batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, 4 * batch).astype(np.int64)
    return Problem(
        "large",
        "784-1024-1024-10 ReLU, batch 256, softmax cross-entropy, SGD lr 0.01, float32",
        "mlp",
        "ce",
        1e-2,
        sizes=sizes,
        hidden="relu",
        params=_uniform_init(rng, sizes, "float32"),
        batches=_split(x, y, batch),
    )


def deep(depth: int = 100, width: int = 64, batch: int = 32) -> Problem:
    # Weights of variance 1/fan_in keep tanh activations and gradients of order one at any depth.
    rng = np.random.default_rng(6)
    sizes = (width,) * (depth + 1)
    x = rng.standard_normal((4 * batch, width)).astype(np.float32)
    y = (0.5 * rng.standard_normal((4 * batch, width))).astype(np.float32)
    return Problem(
        "deep",
        f"{depth} x ({width}-{width} Linear + tanh), batch {batch}, MSE, SGD lr 0.01, float32",
        "mlp",
        "mse",
        1e-2,
        sizes=sizes,
        hidden="tanh",
        output="tanh",
        params=_uniform_init(rng, sizes, "float32", np.sqrt(3)),
        batches=_split(x, y, batch),
    )


def conv() -> Problem:
    import flowgrad as fg  # only the orchestrator builds problems: the contenders load the .npz

    digits = fg.datasets.load_digits()
    x = (digits.images[:, None] / 16.0).astype(np.float32)  # (1797, 1, 8, 8) in [0, 1]
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(7)
    b1, b2 = 1 / np.sqrt(9), 1 / np.sqrt(8 * 4 * 4)
    params = [
        rng.uniform(-b1, b1, (8, 1, 3, 3)),
        rng.uniform(-b1, b1, 8),
        rng.uniform(-b2, b2, (10, 8 * 4 * 4)),
        rng.uniform(-b2, b2, 10),
    ]
    return Problem(
        "conv",
        "digits 8x8: Conv2d(1, 8, 3, padding=1) - ReLU - MaxPool2d(2) - Linear(128, 10), batch 64, "
        "cross-entropy, SGD lr 0.01, float32",
        "conv",
        "ce",
        1e-2,
        params=[p.astype(np.float32) for p in params],
        batches=_split(x, y, 64),
    )


def lenet() -> Problem:
    import flowgrad as fg

    digits = fg.datasets.load_digits()
    # The 8x8 digits scaled 3x to 24x24 and padded to MNIST's 28x28: real labels, LeNet's shapes.
    big = np.kron(digits.images / 16.0, np.ones((3, 3)))
    x = np.pad(big, ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)  # (1797, 1, 28, 28)
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(11)

    def layer(shape: tuple, fan_in: int) -> list:
        bound = 1 / np.sqrt(fan_in)
        return [rng.uniform(-bound, bound, shape), rng.uniform(-bound, bound, shape[0])]

    params = (
        layer((6, 1, 5, 5), 25)
        + layer((16, 6, 5, 5), 150)
        + layer((120, 256), 256)
        + layer((84, 120), 120)
        + layer((10, 84), 84)
    )
    return Problem(
        "lenet",
        "LeNet-5 on 28x28: Conv2d(1, 6, 5) - ReLU - MaxPool2d(2) - Conv2d(6, 16, 5) - ReLU - MaxPool2d(2) - "
        "Linear(256, 120) - ReLU - Linear(120, 84) - ReLU - Linear(84, 10), batch 64, cross-entropy, "
        "SGD lr 0.01, float32",
        "lenet",
        "ce",
        1e-2,
        params=[p.astype(np.float32) for p in params],
        batches=_split(x, y, 64),
    )


def lstm() -> Problem:
    # One LSTM layer (PyTorch's gate order i, f, g, o) over 32 steps, a Linear head on the last state.
    rng = np.random.default_rng(9)
    seq, batch, features, hidden = 32, 16, 32, 64
    x = rng.standard_normal((seq, 4 * batch, features)).astype(np.float32)
    y = rng.integers(0, 10, 4 * batch).astype(np.int64)
    bound = 1 / np.sqrt(hidden)
    shapes = [(4 * hidden, features), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,), (10, hidden), (10,)]
    params = [rng.uniform(-bound, bound, s).astype(np.float32) for s in shapes]
    batches = [(x[:, i : i + batch], y[i : i + batch]) for i in range(0, 4 * batch, batch)]
    return Problem(
        "lstm",
        "LSTM(32, 64), 1 layer, sequence 32 (time first), Linear(64, 10) on the last state, batch 16, "
        "cross-entropy, SGD lr 0.01, float32",
        "lstm",
        "ce",
        1e-2,
        params=params,
        batches=[(np.ascontiguousarray(a), b) for a, b in batches],
    )


TIMED = {
    "tiny": tiny,
    "medium": medium,
    "regression": regression,
    "large": large,
    "deep": deep,
    "conv": conv,
    "lenet": lenet,
    "lstm": lstm,
}
