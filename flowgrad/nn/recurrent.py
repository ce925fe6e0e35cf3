"""Multi-layer recurrent layers - ``RNN``, ``LSTM``, ``GRU`` - with PyTorch's semantics.

Same arguments (``num_layers``, ``bias``, ``batch_first``, ``dropout`` between layers,
``bidirectional``, LSTM's ``proj_size``), the same parameter names and shapes
(``weight_ih_l0``, ``weight_hh_l1_reverse``, ``bias_ih_l0``, ``weight_hr_l0``, ...), the same
gate orders and the same initialisation, so ``state_dict``s move between torch and flowgrad
either way. Built from flowgrad ops (the input projection of a whole sequence is one matrix
product; the recurrence is a loop over time), so every gradient comes from the core's rules.

>>> import flowgrad as fg
>>> lstm = fg.nn.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
>>> out, (h_n, c_n) = lstm(fg.randn(4, 7, 3))      # a batch of 4 sequences of 7 steps
>>> out.shape, h_n.shape, c_n.shape
((4, 7, 5), (2, 4, 5), (2, 4, 5))
"""

from __future__ import annotations

import warnings
from typing import Any

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, check_number, given

from . import functional as F
from .cells import (
    GATES,
    as_state,
    check_sizes,
    gru_step,
    lstm_step,
    new_param,
    nonlinearity_fn,
    reset_uniform,
    rnn_step,
)
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (``mode`` picks the recurrence)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        where = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        self.input_size, self.hidden_size = check_sizes(where, input_size, hidden_size)
        self.num_layers = check_int(num_layers, where, "num_layers", minimum=1)
        self.dropout = check_number(dropout, where, "dropout")
        if not 0 <= self.dropout <= 1:
            raise ArgumentError(f"{where}: dropout must be in [0, 1], got {dropout}")
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"{where}: dropout={dropout} acts only between stacked layers, and num_layers=1 has none, "
                "so it does nothing",
                UserWarning,
                stacklevel=3,
            )
        self.proj_size = check_int(proj_size, where, "proj_size")
        if self.proj_size and mode != "LSTM":
            raise ArgumentError(f"{where}: proj_size is an LSTM option, got proj_size={proj_size}")
        if self.proj_size >= self.hidden_size:
            raise ArgumentError(
                f"{where}: proj_size must be smaller than hidden_size ({self.hidden_size}), got {self.proj_size}"
            )
        self.mode, self.bias = mode, bool(bias)
        self.batch_first, self.bidirectional = bool(batch_first), bool(bidirectional)
        self._act = nonlinearity_fn(where, "relu" if mode == "RNN_RELU" else "tanh")
        gates = GATES[mode] * self.hidden_size
        out_size = self.proj_size or self.hidden_size  # the size of h (what the next layer sees)
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: list[tuple[str, tuple[int, ...]]] = [
                    ("weight_ih", (gates, layer_in)),
                    ("weight_hh", (gates, out_size)),
                ]
                if self.bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for name, shape in shapes:  # PyTorch's registration order, so parameters() lines up
                    setattr(self, name + suffix, new_param(shape, dtype, device))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op, for PyTorch programs that call it (it packs cuDNN weights there)."""

    @property
    def all_weights(self) -> list[list[fg.Tensor]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        params = [self._parameters[name] for name in self._flat_weights_names]
        return [params[i : i + per] for i in range(0, len(params), per)]

    def _weights(self, layer: int, direction: int) -> tuple[Any, ...]:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        p = self._parameters
        return (
            p[f"weight_ih{suffix}"],
            p[f"weight_hh{suffix}"],
            p.get(f"bias_ih{suffix}"),
            p.get(f"bias_hh{suffix}"),
            p.get(f"weight_hr{suffix}"),
        )

    # ----- checking the input and the initial states ------------------------------------------------
    def _where(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _sequence(self, input: Any) -> tuple[fg.Tensor, bool]:  # noqa: A002
        """The input as (time, batch, features) and whether it came without a batch dim."""
        where = self._where()
        x = F.as_input(input, self.weight_ih_l0)
        if x.dtype.kind != "f":
            raise fg.DTypeError(f"{where}: expected a floating input, got dtype {x.dtype}")
        if x.ndim not in (2, 3):
            raise fg.ShapeError(
                f"{where}: expected a 3-D input ({'batch, seq' if self.batch_first else 'seq, batch'}, features) "
                f"or a 2-D one (seq, features), got shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise fg.ShapeError(
                f"{where}: input has {x.shape[-1]} features, expected input_size={self.input_size} "
                f"(input shape {tuple(x.shape)})"
            )
        shape, unbatched = tuple(x.shape), x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise fg.ShapeError(f"{where}: the sequence is empty (input shape {shape}); need >= 1 step")
        return x, unbatched

    def _states(self, hx: Any, batch: int, unbatched: bool) -> tuple[fg.Tensor, fg.Tensor | None]:
        """h0 (and c0 for an LSTM) as (layers * directions, batch, size), zeros when hx is None."""
        where, lstm = self._where(), self.mode == "LSTM"
        stack = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [("h0" if lstm else "hx", self.proj_size or self.hidden_size)] + (
            [("c0", self.hidden_size)] if lstm else []
        )
        if hx is None:
            zeros = [fg.zeros(stack, batch, size, dtype=self.weight_ih_l0.dtype) for _, size in sizes]
            return zeros[0], (zeros[1] if lstm else None)
        if lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise fg.DTypeError(f"{where}: hx must be a pair (h0, c0) or None, got {given(hx)}")
        values = list(hx) if lstm else [hx]
        states = []
        for (name, size), value in zip(sizes, values):
            expected = (stack, size) if unbatched else (stack, batch, size)
            if unbatched and isinstance(value, fg.Tensor) and value.ndim != 2:
                name += " (the input has no batch dim, so neither has the state)"
            state = as_state(where, name, value, self.weight_ih_l0, expected)
            states.append(state.unsqueeze(1) if unbatched else state)
        return states[0], (states[1] if lstm else None)

    # ----- running ----------------------------------------------------------------------------------------
    def _direction(
        self, x: fg.Tensor, layer: int, direction: int, h: fg.Tensor, c: fg.Tensor | None
    ) -> tuple[fg.Tensor, fg.Tensor, fg.Tensor | None]:
        """One layer in one direction over the whole sequence: (outputs, last h, last c)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        gi = fg.linear(x, w_ih, b_ih)  # the input's share of every step at once: one matrix product
        steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
        outputs: list[Any] = [None] * x.shape[0]
        for t in steps:
            if self.mode == "LSTM":
                assert c is not None
                h, c = lstm_step(gi[t], h, c, w_hh, b_hh, w_hr)
            elif self.mode == "GRU":
                h = gru_step(gi[t], h, w_hh, b_hh)
            else:
                h = rnn_step(gi[t], h, w_hh, b_hh, self._act)
            outputs[t] = h  # the reverse direction's output at t is its state after reading t..end
        return fg.stack(outputs, 0), h, c

    def forward(self, input: Any, hx: Any = None) -> tuple[fg.Tensor, Any]:  # noqa: A002  (PyTorch's name)
        x, unbatched = self._sequence(input)
        h0, c0 = self._states(hx, x.shape[1], unbatched)
        directions = 2 if self.bidirectional else 1
        h_n: list[fg.Tensor] = []
        c_n: list[fg.Tensor] = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = self._direction(x, layer, direction, h0[k], None if c0 is None else c0[k])
                outs.append(out)
                h_n.append(h)
                if c is not None:
                    c_n.append(c)
            x = outs[0] if directions == 1 else fg.cat(outs, -1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)  # between layers only, as PyTorch
        h_last = fg.stack(h_n, 0)
        c_last = fg.stack(c_n, 0) if c_n else None
        if unbatched:
            x, h_last = x.squeeze(1), h_last.squeeze(1)
            c_last = None if c_last is None else c_last.squeeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (h_last if c_last is None else (h_last, c_last))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (``nonlinearity='relu'`` too).

    ``forward(input, hx=None)`` returns ``(output, h_n)``: output (seq, batch, D * hidden)
    (batch first with ``batch_first=True``), h_n (num_layers * D, batch, hidden), D = 2 when
    bidirectional. A 2-D input (seq, features) is one unbatched sequence.

    >>> import flowgrad as fg
    >>> rnn = fg.nn.RNN(3, 4, num_layers=2, bidirectional=True)
    >>> out, h_n = rnn(fg.randn(6, 2, 3))
    >>> out.shape, h_n.shape, rnn.weight_hh_l1_reverse.shape
    ((6, 2, 8), (4, 2, 4), (4, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        nonlinearity_fn("RNN", nonlinearity)  # checked before any parameter is drawn
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o as PyTorch); ``proj_size > 0`` projects h to that size.

    ``forward(input, hx=None)`` with ``hx = (h0, c0)`` returns ``(output, (h_n, c_n))``.

    >>> import flowgrad as fg
    >>> lstm = fg.nn.LSTM(3, 6, proj_size=2)
    >>> out, (h_n, c_n) = lstm(fg.randn(5, 3))      # one unbatched sequence of 5 steps
    >>> out.shape, h_n.shape, c_n.shape, lstm.weight_hr_l0.shape
    ((5, 2), (1, 2), (1, 6), (2, 6))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
            device, dtype,
        )  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n as PyTorch: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``).

    >>> import flowgrad as fg
    >>> gru = fg.nn.GRU(3, 4, batch_first=True)
    >>> out, h_n = gru(fg.randn(2, 5, 3), fg.zeros(1, 2, 4))
    >>> out.shape, h_n.shape
    ((2, 5, 4), (1, 2, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
