"""Learning-rate schedulers with PyTorch's names, arguments, defaults and numbers.

A scheduler rewrites ``group["lr"]`` of every parameter group of an optimizer (anything with
``param_groups``, so a ``torch.optim`` optimizer works too). As in PyTorch, constructing one
already takes the first step (``last_epoch`` becomes 0), and ``step()`` is called once per
epoch (or batch) *after* ``optimizer.step()``. Schedules that PyTorch computes recursively from
the current ``lr`` (``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` ...) are computed the
same way here, so the sequences agree to the last bit rather than only to rounding.

>>> import flowgrad as fg
>>> w = fg.tensor([1.0], requires_grad=True)
>>> opt = fg.optim.SGD([w], lr=0.1)
>>> sched = fg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step(); lrs.append(sched.get_last_lr()[0]); sched.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ArgumentError, DTypeError, check_int, check_number, given

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
]


def _check_optimizer(optimizer: Any, where: str = "scheduler") -> None:
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise DTypeError(f"{where}: {given(optimizer)} is not an Optimizer (it has no param_groups)")


def _per_group(name: str, optimizer: Any, value: Any) -> list:
    """One value per parameter group: a list of that length, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ArgumentError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``last_epoch``, ``base_lrs``, state dicts.

    Subclasses implement ``get_lr()``: the learning rates for epoch ``last_epoch``, given the
    current ``group["lr"]`` values (``_is_initial`` is true during the step made by the
    constructor). ``last_epoch=-1`` starts fresh and records ``initial_lr`` in every group;
    a larger value resumes and needs ``initial_lr`` there already.

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> class Halving(LRScheduler):
    ...     def get_lr(self):
    ...         return [base * 0.5 ** self.last_epoch for base in self.base_lrs]
    >>> sched = Halving(opt)
    >>> sched.step(); sched.step()
    >>> sched.last_epoch, sched.get_last_lr(), opt.param_groups[0]["lr"]
    (2, [0.25], 0.25)
    """

    _is_initial = False

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, type(self).__name__)
        check_int(last_epoch, type(self).__name__, "last_epoch", minimum=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a scheduler "
                        f"with last_epoch={last_epoch}: load the optimizer's state dict first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last :meth:`step` set, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the new learning rates into the optimizer.

        ``epoch`` (deprecated in PyTorch, kept for compatibility) jumps to that epoch, using
        the closed form where the schedule has one.
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` is deprecated, as in PyTorch; call step() without it",
                UserWarning,
                stacklevel=2,
            )
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (PyTorch's layout): save it next to the optimizer's."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        if not isinstance(state_dict, dict):  # dict.update gave a bare ValueError or TypeError
            raise DTypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict from state_dict(), got {given(state_dict)}"
            )
        self.__dict__.update(state_dict)

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=3, gamma=0.1)
    >>> for _ in range(3):
    ...     sched.step()
    >>> sched.get_last_lr()
    [0.1]
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        # Checked here: step_size 0 divided by zero at a later step, and "a" failed there too.
        self.step_size = check_int(step_size, "StepLR", "step_size", minimum=1)
        self.gamma = check_number(gamma, "StepLR", "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch (repeats multiply again).

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = [sched.get_last_lr()[0]] + [(sched.step(), sched.get_last_lr()[0])[1] for _ in range(3)]
    >>> lrs
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Any, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1) -> None:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise DTypeError(f"MultiStepLR: milestones must be a list of epochs, got {given(milestones)}")
        self.milestones = Counter(check_int(m, "MultiStepLR", "milestones") for m in milestones)
        self.gamma = check_number(gamma, "MultiStepLR", "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_number(gamma, "ExponentialLR", "gamma")  # "a" failed first at a later step
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:  # resuming must not advance one epoch ahead of itself
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base lr to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    The target is ``eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2``; like PyTorch
    it is reached by a recursion on the current ``lr``, so another scheduler or the user may
    change ``lr`` in between. Past ``T_max`` it climbs back up, a cosine of period ``2 T_max``.

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=2)
    >>> sched.step(); round(sched.get_last_lr()[0], 12)
    0.5
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self.T_max = check_int(T_max, "CosineAnnealingLR", "T_max", minimum=1)  # 0 divided by zero later
        self.eta_min = check_number(eta_min, "CosineAnnealingLR", "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and epoch > 0:  # resumed: no previous lr to recurse from
            return [eta_min + (base - eta_min) * (1 + math.cos(epoch * math.pi / t_max)) / 2 for base in self.base_lrs]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:  # leaving the minimum: the ratio below would be 0/0
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                for base, lr in zip(self.base_lrs, self._current())
            ]
        ratio = (1 + math.cos(math.pi * epoch / t_max)) / (1 + math.cos(math.pi * (epoch - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]

    def _get_closed_form_lr(self) -> list[float]:
        c = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * c / 2 for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``, with one function, or one per parameter group.

    ``state_dict()`` keeps the attributes of callable *objects* given as ``lr_lambda``; plain
    functions and lambdas cannot be saved and are stored as ``None``.

    >>> import flowgrad as fg
    >>> opt = fg.optim.SGD([fg.tensor([1.0], requires_grad=True)], lr=0.5)
    >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 1 / (epoch + 1))
    >>> sched.step(); sched.get_last_lr()
    [0.25]
    """

    def __init__(
        self, optimizer: Any, lr_lambda: Callable[[int], float] | list[Callable[[int], float]], last_epoch: int = -1
    ) -> None:
        _check_optimizer(optimizer, type(self).__name__)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ArgumentError(
                    f"LambdaLR: expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:  # checked here, not as "'int' object is not callable" at the first step
            if not callable(fn):
                raise DTypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {given(fn)}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                fn.__dict__.update(attrs)


# One-cycle and metric-driven schedules live apart; imported last because they subclass LRScheduler.
from .one_cycle import OneCycleLR  # noqa: E402
from .plateau import ReduceLROnPlateau  # noqa: E402
