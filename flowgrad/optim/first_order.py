"""First-order optimizers: SGD (momentum, Nesterov), MindSpore's Momentum, Adam, AdamW,
RMSprop, Adagrad - PyTorch's algorithms, argument names and defaults.

State arrays live in ``optimizer.state[param]`` as NumPy arrays; updates are
written in place with ``out=``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError, DTypeError, check_number, given
from .optimizer import _BLOCK, Optimizer, params_with_grad, required, subtract_scaled


def _check(name: str, **values: float) -> None:
    for key, v in values.items():
        # A number first: "0.1" or None failed on `<` with a bare TypeError, and NaN passed.
        if not check_number(v, name, key) >= 0:
            raise ArgumentError(f"{name}: {key} must be >= 0, got {v}")


def _grad(p: Any, group: dict, key: str | None = "weight_decay") -> np.ndarray:
    """The step's gradient: negated to maximize, plus weight decay from ``group[key]`` (None: none)."""
    g = p.grad._data
    if group.get("maximize"):
        g = -g
    wd = group.get(key, 0) if key else 0
    return g + wd * p._data if wd else g


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum and weight decay.

    >>> import flowgrad as fg
    >>> w = fg.tensor([1.0], requires_grad=True)
    >>> opt = fg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 4)
    0.46
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError("SGD: Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _inline_update(self, name: str, buf: Callable[[Any], str]) -> tuple[list[str], dict[str, Any]] | None:
        """Plain SGD's update (``p -= lr * grad`` per parameter) as lines of fg.compile's generated
        step, with the names they call; ``name`` is this optimizer's name there, ``buf(array)``
        binds a buffer like ``array`` and returns its name.

        The learning rate and the flags are read from the groups on every call, so a scheduler's
        changes take effect; a group with momentum, weight decay or maximize, a learning rate that
        is not a Python float (NumPy scalars promote differently), or parameter lists of other
        lengths than traced run the optimizer's own update instead. None for a subclass that
        changes the update.
        """
        if type(self)._update is not SGD._update:
            return None
        groups = self.param_groups
        test = [f"len(_gs) == {len(groups)}"]
        for i, group in enumerate(groups):
            g = f"_gs[{i}]"
            test.append(f"not ({g}['momentum'] or {g}['weight_decay'] or {g}['maximize'])")
            test.append(f"type({g}['lr']) is float and len({g}['params']) == {len(group['params'])}")
        lines = [f"_gs = {name}.param_groups", f"if {' and '.join(test)}:"]
        for i, group in enumerate(groups):
            lines += [f"    _g = _gs[{i}]", "    _lr = _g['lr']", "    _ps = _g['params']"]
            for j, p in enumerate(group["params"]):
                lines += [f"    _p = _ps[{j}]", "    _q = _p.grad", "    if _q is not None:"]
                if p._data.size > _BLOCK:  # block by block through a small buffer, as _update does
                    lines.append("        subtract_scaled(_p._data, _lr, _q._data)")
                else:
                    b = buf(p._data)
                    lines.append(f"        _d = _p._data; multiply(_q._data, _lr, {b}); subtract(_d, {b}, _d)")
        names = {"subtract_scaled": subtract_scaled, "multiply": np.multiply, "subtract": np.subtract}
        return [*lines, "else:", f"    {name}._update_all()"], names

    def _update(self, group: dict) -> None:
        lr, momentum, dampening, nesterov = group["lr"], group["momentum"], group["dampening"], group["nesterov"]
        if not (momentum or group["weight_decay"] or group["maximize"]):  # plain SGD: the small-model hot path
            for p in group["params"]:
                if p.grad is not None:
                    subtract_scaled(p._data, lr, p.grad._data)
            return
        for p in params_with_grad(group):
            d_p = _grad(p, group)
            if momentum:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(d_p, dtype=p.dtype, copy=True)
                else:
                    buf *= momentum
                    if dampening:
                        buf += (1 - dampening) * d_p
                    else:
                        buf += d_p  # 1.0 * d_p is d_p: skip a full-size temporary
                d_p = d_p + momentum * buf if nesterov else buf
            subtract_scaled(p._data, lr, d_p)


class Momentum(SGD):
    """MindSpore's ``nn.Momentum(params, learning_rate, momentum, weight_decay=0.0, use_nesterov=False)``.

    The same update as ``SGD`` with momentum (``accum = momentum * accum + grad;
    w -= lr * accum``). ``lr=`` is accepted for ``learning_rate``.
    """

    def __init__(
        self,
        params: Any,
        learning_rate: float = required,  # type: ignore[assignment]
        momentum: float = required,  # type: ignore[assignment]
        weight_decay: float = 0.0,
        use_nesterov: bool = False,
        lr: float | None = None,
    ) -> None:
        if lr is not None:
            learning_rate = lr
        if learning_rate is required or momentum is required:
            raise DTypeError("Momentum: learning_rate and momentum are required")
        super().__init__(params, lr=learning_rate, momentum=momentum, weight_decay=weight_decay, nesterov=use_nesterov)


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias correction and optional AMSGrad."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        _check(type(self).__name__, lr=lr, eps=eps, weight_decay=weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:  # checked: betas[1] would be a bare IndexError
            raise DTypeError(f"{type(self).__name__}: betas must be a pair of numbers, got {given(betas)}")
        if not all(0 <= check_number(b, type(self).__name__, "betas") < 1 for b in betas):
            raise ArgumentError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    _decoupled = False

    def _update(self, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p in params_with_grad(group):
            if self._decoupled:
                p._data *= 1 - lr * group["weight_decay"]
                g = _grad(p, group, None)  # the decay was applied to the weights above
            else:
                g = _grad(p, group)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p._data)
                state["exp_avg_sq"] = np.zeros_like(p._data)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(p._data)
            state["step"] += 1
            step = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * (g * g)
            bias1 = 1 - beta1**step
            bias2_sqrt = math.sqrt(1 - beta2**step)
            if group["amsgrad"]:
                np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                denom = np.sqrt(state["max_exp_avg_sq"]) / bias2_sqrt + eps
            else:
                denom = np.sqrt(v) / bias2_sqrt + eps
            p._data -= (lr / bias1) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2), as PyTorch's AdamW."""

    _decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton), with optional momentum and centering."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        _check("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        for p in params_with_grad(group):
            g = _grad(p, group)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p._data)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(p._data)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p._data)
            state["step"] += 1
            sq = state["square_avg"]
            sq *= alpha
            sq += (1 - alpha) * (g * g)
            if group["centered"]:
                ga = state["grad_avg"]
                ga += (1 - alpha) * (g - ga)
                avg = np.sqrt(sq - ga * ga) + eps
            else:
                avg = np.sqrt(sq) + eps
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += g / avg
                p._data -= lr * buf
            else:
                p._data -= lr * (g / avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-element steps shrinking with the sum of squared gradients."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        _check("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = 0
                self.state[p]["sum"] = np.full_like(p._data, group["initial_accumulator_value"])

    def _update(self, group: dict) -> None:
        for p in params_with_grad(group):
            g = _grad(p, group)
            state = self.state[p]
            state["step"] += 1
            clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            state["sum"] += g * g
            p._data -= clr * (g / (np.sqrt(state["sum"]) + group["eps"]))
