"""One builder for the PyTorch-style contenders: flowgrad's ``fg.nn``/``fg.optim`` and PyTorch's
``torch.nn``/``torch.optim`` take the same names and arguments, so the same code builds both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _lstm_network(nn: Any) -> Any:
    class LastState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(32, 64)
            self.head = nn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(x)
            return self.head(out[-1])

    return LastState()


def build_network(nn: Any, problem: Any) -> Any:
    """The problem's network from ``nn`` (``flowgrad.nn`` or ``torch.nn``), in its dtype."""
    if problem.arch == "lstm":
        return _lstm_network(nn).float()
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    if problem.arch == "conv":
        layers = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)]
    elif problem.arch == "lenet":
        layers = [
            nn.Conv2d(1, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        ]
    else:
        layers = []
        n = len(problem.sizes) - 1
        for i, (d_in, d_out) in enumerate(zip(problem.sizes[:-1], problem.sizes[1:])):
            layers.append(nn.Linear(d_in, d_out))
            act = problem.hidden if i < n - 1 else problem.output
            if act:
                layers.append(acts[act]())
    net = nn.Sequential(*layers)
    return net.double() if problem.dtype == "float64" else net.float()


def load_weights(net: Any, problem: Any, to_tensor: Callable) -> None:
    """Copy the problem's initial weights in (parameters come in the same order as its list)."""
    names = list(net.state_dict())
    assert len(names) == len(problem.params), (names, len(problem.params))
    net.load_state_dict({k: to_tensor(v) for k, v in zip(names, problem.params)})


def training_step(net: Any, loss_fn: Any, optimizer: Any) -> Callable:
    """The step every PyTorch user writes: zero the gradients, forward, backward, update."""

    def step(x: Any, y: Any) -> Any:
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def build_step(nn: Any, optim: Any, problem: Any, to_tensor: Callable) -> Callable:
    net = build_network(nn, problem)
    load_weights(net, problem, to_tensor)
    loss_fn = nn.MSELoss() if problem.loss == "mse" else nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=problem.lr, momentum=problem.momentum)
    return training_step(net, loss_fn, optimizer)
