"""L-BFGS: limited-memory quasi-Newton steps, driven by a closure (PyTorch's ``LBFGS``).

The math works on one flat vector: the parameters, their gradient and every curvature pair
are concatenated into 1-D arrays of the parameters' common dtype, then written back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, DTypeError, check_number

from .line_search import strong_wolfe
from .optimizer import Optimizer


class FlatParams:
    """The parameters of one group seen as a single 1-D vector (for closure-driven optimizers).

    >>> import flowgrad as fg
    >>> a, b = fg.tensor([1.0, 2.0], requires_grad=True), fg.tensor([[3.0]], requires_grad=True)
    >>> flat = FlatParams([a, b])
    >>> flat.get().tolist(), flat.numel
    ([1.0, 2.0, 3.0], 3)
    """

    def __init__(self, params: Sequence[fg.Tensor]) -> None:
        self.params = list(params)
        self.numel = sum(p.numel() for p in self.params)
        self.dtype = np.result_type(*[p.dtype for p in self.params])

    def get(self) -> np.ndarray:
        """A copy of the parameters as one vector."""
        return np.concatenate([p._data.reshape(-1) for p in self.params]).astype(self.dtype, copy=False)

    def grad(self) -> np.ndarray:
        """The gradients as one vector (zeros for a parameter without ``.grad``)."""
        parts = [
            np.zeros(p.numel(), dtype=self.dtype) if p.grad is None else p.grad._data.reshape(-1) for p in self.params
        ]
        return np.concatenate(parts).astype(self.dtype, copy=False)

    def set(self, flat: np.ndarray) -> None:
        """Write a vector back into the parameters, in place."""
        offset = 0
        with fg.no_grad():
            for p in self.params:
                n = p.numel()
                p.copy_(flat[offset : offset + n].reshape(p.shape))
                offset += n

    def evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float, np.ndarray]:
        """Run the closure with gradients on: ``(what it returned, its float, the flat gradient)``."""
        with fg.enable_grad():
            out = closure()
        return out, float(out), self.grad()

    def directional(self, closure: Callable[[], Any], x: np.ndarray, d: np.ndarray) -> Callable:
        """``evaluate(t)`` for line searches: loss and gradient at ``x + t d``; leaves the parameters at ``x``."""

        def evaluate(t: float) -> tuple[float, np.ndarray]:
            self.set(x + t * d)
            _, loss, g = self.evaluate(closure)
            self.set(x)
            return loss, g

        return evaluate


def _check_closure_args(name: str, lr: float, max_iter: int, tolerance_grad: float, tolerance_change: float) -> None:
    """The argument checks LBFGS and ConjugateGradient share."""
    check_number(lr, name, "lr")  # a string failed on `>=` with a bare TypeError
    if not lr >= 0:
        raise ArgumentError(f"{name}: invalid learning rate: {lr} (must be >= 0)")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ArgumentError(f"{name}: max_iter must be a positive integer, got {max_iter!r}")
    if not (tolerance_grad >= 0 and tolerance_change >= 0):
        raise ArgumentError(f"{name}: tolerances must be >= 0, got {tolerance_grad} and {tolerance_change}")


class FlatClosureOptimizer(Optimizer):
    """What LBFGS and ConjugateGradient share: one parameter group, flattened into one vector,
    and a ``step(closure)`` that needs the closure and cannot be compiled."""

    _state_shaped_like_params = False  # flat vectors and histories, in the first parameter's state

    def __init__(self, params: Any, defaults: dict) -> None:
        super().__init__(params, defaults)
        self._flat = FlatParams(self.param_groups[0]["params"])

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:  # the flat vector is built once, over the one group
            raise ArgumentError(f"{type(self).__name__} doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _start_step(self, closure: Callable[[], Any] | None) -> tuple[dict, Callable[[], Any]]:
        """Check the closure and that no fg.compile is tracing; return the one group and the closure."""
        if closure is None:
            raise DTypeError(
                f"{type(self).__name__}.step needs a closure that re-evaluates the model and returns the loss"
            )
        self._refuse_compile("line searches")
        return self.param_groups[0], closure


class LBFGS(FlatClosureOptimizer):
    """L-BFGS (Nocedal & Wright, algorithm 7.5) with PyTorch's arguments, state and numbers.

    ``step(closure)`` runs up to ``max_iter`` iterations; ``closure`` must zero the gradients,
    compute the loss, call ``backward()`` and return the loss. Each iteration:

    1. a direction from the two-loop recursion (algorithm 7.4) over the last ``history_size``
       curvature pairs ``s = t d``, ``y = g_new - g_old``, keeping a pair only when
       ``y.s > 1e-10`` (so the inverse-Hessian estimate stays positive definite), scaled by
       ``H_diag = y.s / y.y``; steepest descent on the very first iteration;
    2. a step ``t``: ``min(1, 1/|g|_1) * lr`` on the very first iteration (the gradient's size
       says nothing yet about curvature), ``lr`` afterwards; with
       ``line_search_fn="strong_wolfe"`` that is the first trial of a strong-Wolfe search
       (``c1=1e-4, c2=0.9``, at most 25 evaluations and never more than what is left of
       ``max_eval``, as in PyTorch 2.13), else the step taken as it is.

    A pitfall inherited from PyTorch: with ``max_iter=1`` the default ``max_eval`` is 1, so the
    strong-Wolfe search gets no evaluation beyond its first trial; it takes that trial if it
    lowers the loss and ``t = 0`` otherwise, and from ``t = 0`` it never recovers. Pass a larger
    ``max_eval`` (or a larger ``max_iter``) with a line search.

    It stops when ``max|g| <= tolerance_grad``, when the directional derivative, the step
    ``max|t d|`` or the change of loss falls below ``tolerance_change``, after ``max_iter``
    iterations or ``max_eval`` closure calls (default ``max_iter * 5 // 4``). The state
    (``d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, n_iter,
    func_evals``) lives in ``state[first parameter]`` and carries over between calls, as in
    PyTorch. Returns the loss of the first closure call. One parameter group only.

    Differences from PyTorch: a bad ``line_search_fn`` is an error at construction rather than
    at the first ``step``; complex and sparse tensors do not exist in flowgrad.

    >>> import flowgrad as fg
    >>> w = fg.tensor([1.5, -0.5], dtype=fg.float64, requires_grad=True)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - fg.tensor([3.0, 1.0], dtype=fg.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> [round(v, 6) for v in w.tolist()]
    [3.0, 1.0]
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        _check_closure_args("LBFGS", lr, max_iter, tolerance_grad, tolerance_change)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if not (isinstance(max_eval, int) and max_eval >= 1):
            raise ArgumentError(f"LBFGS: max_eval must be a positive integer, got {max_eval!r}")
        if not (isinstance(history_size, int) and history_size >= 1):
            raise ArgumentError(f"LBFGS: history_size must be a positive integer, got {history_size!r}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first closure call."""
        group, closure = self._start_step(closure)
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]
        flat = self._flat

        state = self.state[flat.params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss, flat_grad = flat.evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only if it says the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)  # the initial inverse Hessian gamma I (N&W 7.20)
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, h_diag)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # The first step is scaled by the gradient: there is no curvature yet to trust.
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr

            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not (enough of) a descent direction
                break

            ls_func_evals, opt_cond = 0, False
            if line_search_fn is not None:
                x = flat.get()
                # The search may spend only what is left of max_eval, as torch.optim.LBFGS (2.13) does.
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    flat.directional(closure, x, d),
                    d,
                    t,
                    loss,
                    flat_grad,
                    gtd,
                    tolerance_change=tolerance_change,
                    max_ls=max_eval - current_evals,
                )
                flat.set(x + t * d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                flat.set(flat.get() + t * d)
                if n_iter != max_iter:
                    # Re-evaluate only if another iteration will use it; the next step() call
                    # evaluates the closure anyway.
                    _, loss, flat_grad = flat.evaluate(closure)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval:
                break
            if opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=h_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss,
        )
        return orig_loss


def _two_loop(flat_grad: np.ndarray, old_dirs: list, old_stps: list, ro: list, h_diag: Any) -> np.ndarray:
    """``-H g`` with the L-BFGS inverse-Hessian estimate H (N&W algorithm 7.4).

    ``old_dirs`` are the gradient changes y, ``old_stps`` the steps s, ``ro`` 1 / y.s.
    """
    q = -flat_grad
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = old_stps[i].dot(q) * ro[i]
        q -= alphas[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        beta = old_dirs[i].dot(r) * ro[i]
        r += (alphas[i] - beta) * old_stps[i]
    return r
