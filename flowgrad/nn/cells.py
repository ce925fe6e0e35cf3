"""Recurrent cells - one time step - with PyTorch's names, shapes, gate orders and initialisation.

``RNNCell``, ``LSTMCell`` (gates i, f, g, o) and ``GRUCell`` (gates r, z, n) hold
``weight_ih`` (gates * hidden, input), ``weight_hh`` (gates * hidden, hidden), ``bias_ih`` and
``bias_hh``, all drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch does, so a torch
cell's ``state_dict`` loads into the flowgrad one and back. The step functions here are shared
with the full-sequence layers in ``recurrent.py``.

>>> import flowgrad as fg
>>> cell = fg.nn.GRUCell(3, 5)
>>> h = None
>>> for x in fg.randn(4, 2, 3):       # four steps of a batch of two
...     h = cell(x, h)
>>> h.shape
(2, 5)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, given

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
ACTIVATIONS: dict[str, Callable[[fg.Tensor], fg.Tensor]] = {"tanh": fg.tanh, "relu": fg.relu}


# ----- one step of each recurrence (gi = x @ W_ih.T + b_ih, computed by the caller) ---------------
def rnn_step(gi: fg.Tensor, h: fg.Tensor, w_hh: fg.Tensor, b_hh: fg.Tensor | None, act: Callable) -> fg.Tensor:
    """``h' = act(gi + h @ W_hh.T + b_hh)``."""
    return act(gi + fg.linear(h, w_hh, b_hh))


def lstm_step(
    gi: fg.Tensor,
    h: fg.Tensor,
    c: fg.Tensor,
    w_hh: fg.Tensor,
    b_hh: fg.Tensor | None,
    w_hr: fg.Tensor | None = None,
) -> tuple[fg.Tensor, fg.Tensor]:
    """PyTorch's LSTM step: gates i, f, g, o in that order; ``h' = W_hr (o * tanh(c'))`` with a projection."""
    i, f, g, o = (gi + fg.linear(h, w_hh, b_hh)).chunk(4, -1)
    c_new = fg.sigmoid(f) * c + fg.sigmoid(i) * fg.tanh(g)
    h_new = fg.sigmoid(o) * fg.tanh(c_new)
    if w_hr is not None:
        h_new = fg.linear(h_new, w_hr, None)
    return h_new, c_new


def gru_step(gi: fg.Tensor, h: fg.Tensor, w_hh: fg.Tensor, b_hh: fg.Tensor | None) -> fg.Tensor:
    """PyTorch's GRU step: gates r, z, n; the reset gate multiplies ``h @ W_hn.T + b_hn``."""
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = fg.linear(h, w_hh, b_hh).chunk(3, -1)
    r = fg.sigmoid(i_r + h_r)
    z = fg.sigmoid(i_z + h_z)
    n = fg.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


# ----- helpers shared with recurrent.py --------------------------------------------------------------
def check_sizes(where: str, input_size: Any, hidden_size: Any) -> tuple[int, int]:
    input_size = check_int(input_size, where, "input_size")
    hidden_size = check_int(hidden_size, where, "hidden_size", minimum=1)  # 0 divides by zero in the init
    return input_size, hidden_size


def nonlinearity_fn(where: str, nonlinearity: Any) -> Callable[[fg.Tensor], fg.Tensor]:
    if nonlinearity not in ACTIVATIONS:
        raise ArgumentError(f"{where}: nonlinearity must be 'tanh' or 'relu', got {given(nonlinearity)}")
    return ACTIVATIONS[nonlinearity]


def new_param(shape: tuple[int, ...], dtype: Any, device: Any) -> Parameter:
    if device is not None:
        fg.device(device)  # raises for a device flowgrad cannot use
    return Parameter(fg.empty(*shape, dtype=dtype))


def reset_uniform(module: Module, hidden_size: int) -> None:
    """Every parameter from U(-1/sqrt(hidden), 1/sqrt(hidden)), PyTorch's recurrent initialisation."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def as_state(where: str, name: str, value: Any, like: fg.Tensor, expected: tuple[int, ...]) -> fg.Tensor:
    """A hidden or cell state given by the caller, cast to the layer's dtype and shape-checked."""
    if value is None or isinstance(value, (tuple, list)):
        raise fg.DTypeError(f"{where}: {name} must be a tensor, got {given(value)}")
    value = F.as_input(value, like)
    if tuple(value.shape) != expected:
        raise fg.ShapeError(f"{where}: expected {name} of shape {expected}, got {tuple(value.shape)}")
    return value


# ----- the cells ------------------------------------------------------------------------------------------
class _CellBase(Module):
    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        self.input_size, self.hidden_size = check_sizes(where, input_size, hidden_size)
        self.bias = bool(bias)
        gates = GATES[self._mode] * self.hidden_size
        self.weight_ih = new_param((gates, self.input_size), dtype, device)
        self.weight_hh = new_param((gates, self.hidden_size), dtype, device)
        if self.bias:
            self.bias_ih = new_param((gates,), dtype, device)
            self.bias_hh = new_param((gates,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_uniform(self, self.hidden_size)

    def _input(self, x: Any) -> tuple[fg.Tensor, bool]:
        """The input as (batch, input_size) and whether it came without a batch dim."""
        where = type(self).__name__
        x = F.as_input(x, self.weight_ih)
        if x.ndim not in (1, 2):
            raise fg.ShapeError(f"{where}: expected an input of 1 or 2 dims, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise fg.ShapeError(
                f"{where}({self.input_size}, {self.hidden_size}): input has {x.shape[-1]} features, "
                f"expected {self.input_size} (input shape {tuple(x.shape)})"
            )
        unbatched = x.ndim == 1
        return (x.unsqueeze(0) if unbatched else x), unbatched

    def _state(self, value: Any, name: str, batch: int, unbatched: bool) -> fg.Tensor:
        if value is None:
            return fg.zeros(batch, self.hidden_size, dtype=self.weight_ih.dtype)
        expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        state = as_state(type(self).__name__, name, value, self.weight_ih, expected)
        return state.unsqueeze(0) if unbatched else state

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self._mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(_CellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    >>> import flowgrad as fg
    >>> cell = fg.nn.RNNCell(4, 3, nonlinearity="relu")
    >>> cell(fg.ones(2, 4)).shape, cell(fg.ones(4)).shape     # batched and unbatched
    ((2, 3), (3,))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        act = nonlinearity_fn("RNNCell", nonlinearity)  # checked before any parameter is drawn
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self._act, self.nonlinearity = act, nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input: Any, hx: Any = None) -> fg.Tensor:  # noqa: A002  (PyTorch's name)
        x, unbatched = self._input(input)
        h = self._state(hx, "hx", x.shape[0], unbatched)
        gi = fg.linear(x, self.weight_ih, self.bias_ih)
        h = rnn_step(gi, h, self.weight_hh, self.bias_hh, self._act)
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """One LSTM step; ``forward(input, (h, c))`` returns ``(h', c')`` (zeros when hx is None).

    >>> import flowgrad as fg
    >>> cell = fg.nn.LSTMCell(4, 3)
    >>> h, c = cell(fg.ones(2, 4))
    >>> h.shape, c.shape, cell.weight_ih.shape
    ((2, 3), (2, 3), (12, 4))
    """

    _mode = "LSTM"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[fg.Tensor, fg.Tensor]:  # noqa: A002
        x, unbatched = self._input(input)
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise fg.DTypeError(f"LSTMCell: hx must be a pair (h, c) or None, got {given(hx)}")
        h0, c0 = (None, None) if hx is None else hx
        h = self._state(h0, "h", x.shape[0], unbatched)
        c = self._state(c0, "c", x.shape[0], unbatched)
        gi = fg.linear(x, self.weight_ih, self.bias_ih)
        h, c = lstm_step(gi, h, c, self.weight_hh, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n as PyTorch): ``h' = (1 - z) * n + z * h``.

    >>> import flowgrad as fg
    >>> cell = fg.nn.GRUCell(4, 3, bias=False)
    >>> cell(fg.ones(2, 4), fg.zeros(2, 3)).shape, [n for n, _ in cell.named_parameters()]
    ((2, 3), ['weight_ih', 'weight_hh'])
    """

    _mode = "GRU"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Any, hx: Any = None) -> fg.Tensor:  # noqa: A002
        x, unbatched = self._input(input)
        h = self._state(hx, "hx", x.shape[0], unbatched)
        gi = fg.linear(x, self.weight_ih, self.bias_ih)
        h = gru_step(gi, h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h
