"""Nonlinear conjugate gradient (Fletcher-Reeves, Polak-Ribiere+, Hestenes-Stiefel), closure-driven."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError
from .lbfgs import FlatClosureOptimizer, _check_closure_args
from .line_search import backtracking_armijo, exact_quadratic, strong_wolfe

_METHODS = ("PR+", "FR", "HS")
_LINE_SEARCHES = ("strong_wolfe", "armijo", "exact_quadratic", None)


class ConjugateGradient(FlatClosureOptimizer):
    """Nonlinear conjugate gradient on the flattened parameters (Nocedal & Wright, section 5.2).

    Each iteration moves along ``d = -g + beta d_prev`` with a *scalar* ``beta`` from inner
    products of the flattened gradients: ``method`` is ``"FR"`` (Fletcher-Reeves), ``"PR+"``
    (Polak-Ribiere clipped at 0, the default) or ``"HS"`` (Hestenes-Stiefel). It restarts with
    steepest descent every ``restart`` iterations (default: the number of elements) and whenever
    ``d`` is not a descent direction. ``line_search`` is ``"strong_wolfe"`` (default, ``c2=0.1``),
    ``"armijo"``, ``"exact_quadratic"`` or ``None`` (the fixed step ``lr``). ``step(closure)``
    runs up to ``max_iter`` iterations, stops early as L-BFGS does, and returns the first loss;
    the state carries over between calls. One parameter group only. docs/optim.md gives the
    rules in full: the first trial step, the stopping tests and the state's keys.

    >>> import numpy as np
    >>> import flowgrad as fg
    >>> A = fg.tensor(np.array([[3.0, 1.0], [1.0, 2.0]]))
    >>> b = fg.tensor(np.array([1.0, -1.0]))
    >>> x = fg.tensor(np.zeros(2), requires_grad=True)
    >>> opt = ConjugateGradient([x], line_search="exact_quadratic", max_iter=2)
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = 0.5 * (x * (A @ x)).sum() - (b * x).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> np.allclose(x.numpy(), np.linalg.solve(A.numpy(), b.numpy()))
    True
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        method: str = "PR+",
        line_search: str | None = "strong_wolfe",
        restart: int | None = None,
        max_iter: int = 1,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        c1: float = 1e-4,
        c2: float = 0.1,
    ) -> None:
        _check_closure_args("ConjugateGradient", lr, max_iter, tolerance_grad, tolerance_change)
        if method not in _METHODS:
            raise ArgumentError(f"ConjugateGradient: method must be one of {_METHODS}, got {method!r}")
        if line_search not in _LINE_SEARCHES:
            raise ArgumentError(f"ConjugateGradient: line_search must be one of {_LINE_SEARCHES}, got {line_search!r}")
        if restart is not None and not (isinstance(restart, int) and restart >= 1):
            raise ArgumentError(f"ConjugateGradient: restart must be a positive integer or None, got {restart!r}")
        if not 0 < c1 < c2 < 1:
            raise ArgumentError(f"ConjugateGradient: need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
        defaults = dict(
            lr=lr,
            method=method,
            line_search=line_search,
            restart=restart,
            max_iter=max_iter,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            c1=c1,
            c2=c2,
        )
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` CG iterations; returns the loss of the first closure call."""
        group, closure = self._start_step(closure)
        flat = self._flat
        restart = group["restart"] or flat.numel
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[flat.params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        state.setdefault("restarts", 0)

        orig_loss, loss, g = flat.evaluate(closure)
        state["func_evals"] += 1
        if np.abs(g).max() <= tolerance_grad:
            return orig_loss

        max_iter = group["max_iter"]
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            d_prev, g_prev = state.get("d"), state.get("prev_flat_grad")
            if d_prev is None or state["since_restart"] >= restart:
                d = self._restart(state, g)
            else:
                d = -g + _beta(group["method"], g, g_prev, d_prev) * d_prev
                if g.dot(d) >= 0:  # uphill or flat: the conjugacy is lost, start over
                    d = self._restart(state, g)
            state["since_restart"] += 1
            gtd = g.dot(d)
            t = self._trial_step(state, group, g, gtd)
            state.update(d=d, t=t, prev_flat_grad=g, prev_gtd=gtd, prev_loss=loss)
            if gtd > -tolerance_change:  # no descent left to find along d
                break

            prev_loss, evals = loss, 0
            x = flat.get()
            search = group["line_search"]
            if search is None:
                flat.set(x + t * d)
                if n_iter != max_iter:  # else the next step() call evaluates it anyway
                    _, loss, g = flat.evaluate(closure)
                    evals = 1
            else:
                evaluate = flat.directional(closure, x, d)
                if search == "armijo":
                    loss, g, t, evals = backtracking_armijo(evaluate, d, t, loss, g, gtd, c1=group["c1"])
                else:
                    find = strong_wolfe if search == "strong_wolfe" else exact_quadratic
                    loss, g, t, evals = find(
                        evaluate, d, t, loss, g, gtd, group["c1"], group["c2"], tolerance_change=tolerance_change
                    )
                flat.set(x + t * d)
            state["t"] = t
            state["func_evals"] += evals

            if n_iter == max_iter or np.abs(g).max() <= tolerance_grad:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        return orig_loss

    @staticmethod
    def _restart(state: dict, g: np.ndarray) -> np.ndarray:
        state["since_restart"] = 0
        state["restarts"] += 1
        return -g

    @staticmethod
    def _trial_step(state: dict, group: dict, g: np.ndarray, gtd: float) -> float:
        lr = group["lr"]
        if group["line_search"] is None:
            return lr
        if state["n_iter"] == 1 or not state["t"] > 0:  # nothing (useful) to scale from yet
            return min(1.0, 1.0 / np.abs(g).sum()) * lr
        # N&W (3.60): the same first-order decrease t <g, d> as the last accepted step.
        return state["t"] * state["prev_gtd"] / gtd


def _beta(method: str, g: np.ndarray, g_prev: np.ndarray, d_prev: np.ndarray) -> float:
    """The scalar beta of FR, PR+ or HS from inner products of flat vectors (0 where undefined)."""
    if method == "FR":
        num, den = g.dot(g), g_prev.dot(g_prev)
    else:
        y = g - g_prev
        num = g.dot(y)
        den = g_prev.dot(g_prev) if method == "PR+" else d_prev.dot(y)
    if den == 0:  # no change of gradient to build on: steepest descent
        return 0.0
    beta = num / den
    return max(0.0, beta) if method == "PR+" else beta
