"""``Optimizer``: parameter groups, per-parameter state, state dicts - PyTorch's contract.

Subclasses implement ``_update(group)`` (or ``step`` itself for closure-driven
methods such as L-BFGS); updates work on the parameters' ndarrays in place.

>>> import flowgrad as fg
>>> w = fg.tensor([1.0, 2.0], requires_grad=True)
>>> opt = fg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); opt.zero_grad()
>>> w
tensor([0.8, 1.6], requires_grad=True)
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, DTypeError, given
from flowgrad.nn.utils import zero_grads


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: ``Optimizer(params, defaults)`` with params tensors or dicts of groups."""

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, fg.Tensor):
            raise DTypeError(f"{type(self).__name__}: params must be an iterable of tensors or dicts, got one tensor")
        is_module = isinstance(params, fg.nn.Module)  # a Sequential is iterable too: of layers
        if is_module or not isinstance(params, Iterable) or isinstance(params, (str, bytes, dict)):
            hint = "; pass model.parameters()" if callable(getattr(params, "parameters", None)) else ""
            raise DTypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or dicts, got {given(params)}{hint}"
            )
        groups = list(params)
        if not groups:
            raise ArgumentError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise DTypeError(
                f"{type(self).__name__}: a parameter group must be a dict with 'params', got {given(param_group)}"
            )
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, fg.Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, fg.Tensor):
                raise DTypeError(f"{type(self).__name__}: expected tensors to optimize, got {type(p).__name__}")
            if not p.is_leaf:
                raise ArgumentError(f"{type(self).__name__}: can't optimize a non-leaf tensor")
        for key, value in self.defaults.items():
            if value is required and key not in group:
                raise ArgumentError(
                    f"{type(self).__name__}: parameter group didn't specify a value of required '{key}'"
                )
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ArgumentError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (to None, or to zeros)."""
        fg.compiler.replay_call(functools.partial(self._zero_grad, set_to_none))  # fg.compile inlines it
        self._zero_grad(set_to_none)

    def _zero_grad(self, set_to_none: bool) -> None:
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update. ``closure`` re-evaluates the loss (with gradients) and returns it."""
        loss = None
        if closure is not None and not callable(closure):  # otherwise "'str' object is not callable" mid-step
            raise DTypeError(
                f"{type(self).__name__}.step: closure must be a function returning the loss, got {given(closure)}"
            )
        if closure is not None:
            self._refuse_compile("a closure")
            with fg.enable_grad():
                loss = closure()
        fg.compiler.replay_call(self._update_all)  # fg.compile replays the update as a whole
        self._update_all()
        return loss

    def _update_all(self) -> None:
        with fg.no_grad():
            for group in self.param_groups:
                self._update(group)

    def _refuse_compile(self, what: str) -> None:
        if fg.compiler.is_tracing():
            raise fg.FlowgradError(
                f"fg.compile: {type(self).__name__}.step with {what} evaluates the loss a data-dependent "
                "number of times, so it cannot be traced; call the step eagerly"
            )

    def _update(self, group: dict) -> None:
        raise NotImplementedError

    # ----- state dicts (PyTorch's layout: parameters by index) ---------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict`."""
        if not (isinstance(state_dict, dict) and isinstance(state_dict.get("param_groups"), list)):
            raise DTypeError(
                f"{type(self).__name__}.load_state_dict: expected a dict from state_dict(), got {given(state_dict)}"
            )
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ArgumentError(
                f"{type(self).__name__}.load_state_dict: {len(groups)} parameter groups saved, "
                f"{len(self.param_groups)} here"
            )
        params = [p for g in self.param_groups for p in g["params"]]
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if not (isinstance(saved, dict) and isinstance(saved.get("params"), list)):
                raise DTypeError(f"{type(self).__name__}.load_state_dict: param_groups[{i}] is not a group dict")
            if len(saved["params"]) != len(group["params"]):
                raise ArgumentError(
                    f"{type(self).__name__}.load_state_dict: a group has {len(saved['params'])} parameters "
                    f"saved and {len(group['params'])} here"
                )
        # Everything is checked before anything is changed: state that does not fit the parameters
        # (Adam's state of another model) would otherwise load and fail later, inside a step, as a
        # bare NumPy broadcast error.
        state = state_dict.get("state")
        if not isinstance(state, dict):
            raise DTypeError(f"{type(self).__name__}.load_state_dict: 'state' must be a dict, got {given(state)}")
        restored = {}
        for key, value in state.items():
            if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < len(params):
                raise ArgumentError(
                    f"{type(self).__name__}.load_state_dict: state for parameter {key!r:.40}, but there are "
                    f"{len(params)} parameters (indices 0 to {len(params) - 1})"
                )
            if not isinstance(value, dict):
                raise DTypeError(
                    f"{type(self).__name__}.load_state_dict: state[{key}] must be a dict, got {given(value)}"
                )
            p = params[key]
            for name, v in value.items():
                self._check_state_value(f"state[{key}][{name!r}]", v, p)
            restored[p] = {k: _restore_value(v, p) for k, v in value.items()}
        self.state = defaultdict(dict)
        self.state.update(restored)
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)

    # Whether each array in a parameter's state has that parameter's shape (False for optimizers
    # such as L-BFGS that keep flat vectors and histories in the first parameter's state).
    _state_shaped_like_params = True

    def _check_state_value(self, where: str, value: Any, p: fg.Tensor) -> None:
        """Refuse a saved state array that cannot belong to parameter ``p``."""
        if not isinstance(value, (fg.Tensor, np.ndarray, np.generic)):
            return
        arr = np.asarray(value.detach()) if isinstance(value, fg.Tensor) else np.asarray(value)
        name = type(self).__name__
        if arr.dtype.kind not in "biuf":
            raise DTypeError(f"{name}.load_state_dict: {where} has dtype {arr.dtype}; expected numbers")
        if not self._state_shaped_like_params:
            return
        if arr.ndim and arr.dtype.kind != "f" and p.dtype.kind == "f":  # a float parameter's running average
            raise DTypeError(f"{name}.load_state_dict: {where} has dtype {arr.dtype}; expected {p.dtype}")
        if arr.dtype.kind == "f" and arr.shape != tuple(p.shape):
            raise fg.ShapeError(
                f"{name}.load_state_dict: {where} has shape {arr.shape} but the parameter has shape "
                f"{tuple(p.shape)}: the state was saved for another model"
            )
        if arr.dtype.kind != "f" and arr.ndim:
            raise fg.ShapeError(f"{name}.load_state_dict: {where} is an array of shape {arr.shape}; expected a count")

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def _copy_value(v: Any) -> Any:
    if isinstance(v, fg.Tensor):
        return fg.tensor(v._data)  # a copy
    if isinstance(v, np.ndarray):
        return v.copy()
    return copy.deepcopy(v)


def _restore_value(v: Any, p: fg.Tensor) -> Any:
    if isinstance(v, fg.Tensor):
        arr = v._data
    elif isinstance(v, np.ndarray):
        arr = v
    else:
        return copy.deepcopy(v)
    arr = np.array(arr, copy=True)
    if arr.shape == p.shape and arr.dtype.kind == "f":
        arr = arr.astype(p.dtype)
    return arr


_BLOCK = 1 << 16  # elements per block of subtract_scaled: the temporary stays in the cache


def subtract_scaled(target: np.ndarray, scale: float, d: np.ndarray) -> None:
    """``target -= scale * d`` in place, with the same digits, without a full-size temporary.

    Large parameters are updated block by block through one small buffer: NumPy's
    ``target -= scale * d`` would allocate (and page-fault in) a temporary as large as the
    parameter on every step.
    """
    n = target.size
    same_layout = d.shape == target.shape and d.dtype == target.dtype
    if n <= _BLOCK or not (same_layout and target.flags.c_contiguous and d.flags.c_contiguous):
        target -= scale * d
        return
    flat_t, flat_d = target.reshape(-1), d.reshape(-1)
    buf = np.empty(_BLOCK, dtype=np.result_type(d, scale))
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        part = buf[: j - i]
        np.multiply(flat_d[i:j], scale, out=part)
        np.subtract(flat_t[i:j], part, out=flat_t[i:j])


def params_with_grad(group: dict) -> Iterable[fg.Tensor]:
    """The parameters of a group that received a gradient."""
    for p in group["params"]:
        if p.grad is not None:
            yield p
