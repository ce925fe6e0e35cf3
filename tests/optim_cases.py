"""Problems shared by the optimizer tests: float64 data, and losses written once with the
method names flowgrad and PyTorch share, so the same function runs on either library."""

from __future__ import annotations

import numpy as np

import flowgrad as fg


def logistic_problem(seed: int = 0) -> tuple[list, list]:
    """(data, initial parameters) of an L2-regularised logistic regression, 40 samples, 3 features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    s = np.sign(X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.5 * rng.normal(size=40))  # labels -1/+1
    return [X, s], [np.zeros(3), np.zeros(())]


def logistic_loss(X, s, w, b):
    margin = s * (X @ w + b)
    return (-margin).exp().log1p().mean() + 5e-3 * (w * w).sum()


def mlp_problem(seed: int = 4, hidden: int = 3, n: int = 50) -> tuple[list, list]:
    """(data, initial parameters) of a 2-3-1 tanh network fitting a noisy teacher network.

    Fewer weights than samples and a little weight decay (in :func:`mlp_loss`) give isolated,
    well-conditioned minima: rounding differences between two libraries stay at rounding
    level over hundreds of quasi-Newton iterations instead of being amplified along flat
    valleys, which is what a 1e-6 agreement test needs.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.tanh(X @ rng.normal(size=(2, hidden))) @ rng.normal(size=(hidden, 1)) + 0.1 * rng.normal(size=(n, 1))
    init = [rng.normal(size=(2, hidden)) * 0.5, np.zeros(hidden), rng.normal(size=(hidden, 1)) * 0.5, np.zeros(1)]
    return [X, y], init


def mlp_loss(X, y, W1, b1, W2, b2):
    h = (X @ W1 + b1).tanh()
    return ((h @ W2 + b2 - y) ** 2).mean() + 1e-2 * ((W1 * W1).sum() + (W2 * W2).sum())


PROBLEMS = {"logistic": (logistic_problem, logistic_loss), "mlp": (mlp_problem, mlp_loss)}


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def fg_leaves(arrays: list) -> list:
    return [fg.tensor(a.copy(), requires_grad=True) for a in arrays]


def make_closure(opt, loss_fn, data, params):
    """The closure closure-driven optimizers need: zero, forward, backward, return the loss."""

    def closure():
        opt.zero_grad()
        loss = loss_fn(*data, *params)
        loss.backward()
        return loss

    return closure


def flat(params) -> np.ndarray:
    """All parameters of either library as one float64 vector."""
    return np.concatenate([np.asarray(p.detach().numpy()).ravel() for p in params])


def rel_diff(ours, theirs) -> float:
    """max|a - b| / max|b| over all parameters (a norm-wise relative difference)."""
    a, b = flat(ours), flat(theirs)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
