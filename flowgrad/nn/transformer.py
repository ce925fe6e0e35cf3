"""Transformer layers with PyTorch's names, so a torch state_dict loads as it is (and back).

``TransformerEncoderLayer``, ``TransformerEncoder``, ``TransformerDecoderLayer``,
``TransformerDecoder`` and ``Transformer``: post-norm by default, pre-norm with
``norm_first=True``. Masks follow ``MultiheadAttention``: a boolean mask is True where attention
is NOT allowed, a float mask is added to the scores.

>>> import flowgrad as fg
>>> layer = fg.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
>>> encoder = fg.nn.TransformerEncoder(layer, num_layers=2)
>>> encoder(fg.ones(3, 5, 8)).shape
(3, 5, 8)
>>> [k for k in encoder.state_dict() if k.startswith("layers.1.self_attn")]
['layers.1.self_attn.in_proj_weight', 'layers.1.self_attn.in_proj_bias', 'layers.1.self_attn.out_proj.weight', 'layers.1.self_attn.out_proj.bias']
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, given

from . import functional as F
from . import init
from .attention import MultiheadAttention
from .functional_attention import causal_mask
from .layers import Dropout, LayerNorm, Linear
from .module import Module, ModuleList


def _activation(activation: Any, where: str) -> Callable[[Any], fg.Tensor]:
    if isinstance(activation, str):
        named = {"relu": F.relu, "gelu": F.gelu}
        if activation not in named:
            raise ArgumentError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
        return named[activation]
    if not callable(activation):
        raise fg.DTypeError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {given(activation)}")
    return activation


def _check_layer(layer: Any, cls: type, where: str) -> None:
    if not isinstance(layer, Module):
        raise fg.DTypeError(f"{where}: expected a {cls.__name__} (a Module) to copy, got {given(layer)}")


class _AttentionBlockLayer(Module):
    """What the encoder and decoder layers share: the feed-forward block, its norms and dropouts.

    ``_build`` registers submodules in PyTorch's order (attention first, then ``linear1``,
    ``dropout``, ``linear2``, ``norm1..n``, ``dropout1..n``) so state_dict keys line up with torch's.
    """

    def _build(
        self,
        attention_names: tuple[str, ...],
        d_model: int,
        nhead: int,
        dim_feedforward: int,
        dropout: float,
        activation: Any,
        layer_norm_eps: float,
        batch_first: bool,
        norm_first: bool,
        bias: bool,
        device: Any,
        dtype: Any,
    ) -> None:
        where = type(self).__name__
        d_model = check_int(d_model, where, "d_model", minimum=1)
        dim_feedforward = check_int(dim_feedforward, where, "dim_feedforward", minimum=1)
        for name in attention_names:
            attention = MultiheadAttention(
                d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, device=device, dtype=dtype
            )
            setattr(self, name, attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        blocks = len(attention_names) + 1  # one norm and one dropout per residual block
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation, where)
        self.batch_first = bool(batch_first)
        if dtype is not None:
            self.to(dtype)

    def _feedforward(self, x: fg.Tensor) -> fg.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _sa_block(self, x: fg.Tensor, mask: Any, padding: Any, is_causal: bool) -> fg.Tensor:
        out = self.self_attn(
            x, x, x, attn_mask=mask, key_padding_mask=padding, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout1(out)


class TransformerEncoderLayer(_AttentionBlockLayer):
    """Self-attention then a feed-forward block, each with dropout, a residual and a LayerNorm.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``. Submodules
    (``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``,
    ``dropout2``) are named as in PyTorch.

    >>> import flowgrad as fg
    >>> layer = fg.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, activation="gelu", norm_first=True)
    >>> layer(fg.ones(5, 4)).shape              # unbatched (L, E)
    (5, 4)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self._build(
            ("self_attn",),
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
            device,
            dtype,
        )

    def forward(
        self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None, is_causal: bool = False
    ) -> fg.Tensor:
        x = F.as_input(src, self.linear1.weight)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _ff_block(self, x: fg.Tensor) -> fg.Tensor:
        return self.dropout2(self._feedforward(x))


class TransformerDecoderLayer(_AttentionBlockLayer):
    """Self-attention, attention over the encoder's output (``memory``), then a feed-forward block.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``. Submodules are
    PyTorch's: ``self_attn``, ``multihead_attn``, ``linear1``, ``linear2``, ``norm1..3``,
    ``dropout``, ``dropout1..3``.

    >>> import flowgrad as fg
    >>> layer = fg.nn.TransformerDecoderLayer(4, 2, dim_feedforward=8)
    >>> layer(fg.ones(3, 2, 4), fg.ones(5, 2, 4)).shape
    (3, 2, 4)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self._build(
            ("self_attn", "multihead_attn"),
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
            device,
            dtype,
        )

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> fg.Tensor:
        x = F.as_input(tgt, self.linear1.weight)
        mem = F.as_input(memory, self.linear1.weight)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), mem, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, mem, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _mha_block(self, x: fg.Tensor, mem: fg.Tensor, mask: Any, padding: Any, is_causal: bool) -> fg.Tensor:
        out = self.multihead_attn(
            x, mem, mem, attn_mask=mask, key_padding_mask=padding, need_weights=False, is_causal=is_causal
        )[0]
        return self.dropout2(out)

    def _ff_block(self, x: fg.Tensor) -> fg.Tensor:
        return self.dropout3(self._feedforward(x))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...), then ``norm``.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``. ``enable_nested_tensor``
    and ``mask_check`` are accepted for PyTorch's signature; flowgrad has no nested tensors, so
    padded positions keep their computed values (PyTorch's nested-tensor fast path, used only in
    inference, returns zeros there).

    >>> import flowgrad as fg
    >>> layer = fg.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
    >>> enc = fg.nn.TransformerEncoder(layer, 3, norm=fg.nn.LayerNorm(4))
    >>> len(enc.layers), enc.layers[0] is layer
    (3, False)
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        where = type(self).__name__
        _check_layer(encoder_layer, TransformerEncoderLayer, where)
        self.num_layers = check_int(num_layers, where, "num_layers")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(self.num_layers)])
        self.norm = norm
        if norm is None:
            self.add_module("norm", None)
        self.enable_nested_tensor = bool(enable_nested_tensor)
        self.mask_check = bool(mask_check)

    def forward(
        self, src: Any, mask: Any = None, src_key_padding_mask: Any = None, is_causal: bool | None = None
    ) -> Any:
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` (``layers.0``, ...), then ``norm``.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.

    >>> import flowgrad as fg
    >>> dec = fg.nn.TransformerDecoder(fg.nn.TransformerDecoderLayer(4, 2, dim_feedforward=8), 2)
    >>> mask = fg.nn.Transformer.generate_square_subsequent_mask(3)
    >>> dec(fg.ones(3, 1, 4), fg.ones(6, 1, 4), tgt_mask=mask).shape
    (3, 1, 4)
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        where = type(self).__name__
        _check_layer(decoder_layer, TransformerDecoderLayer, where)
        self.num_layers = check_int(num_layers, where, "num_layers")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(self.num_layers)])
        self.norm = norm
        if norm is None:
            self.add_module("norm", None)

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Any:
        out = tgt
        for layer in self.layers:
            out = layer(
                out,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """An encoder-decoder Transformer: PyTorch's ``nn.Transformer``, its defaults and its names.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None,
    tgt_is_causal=None, memory_is_causal=False)``. Every parameter with more than one dimension is
    re-initialised Xavier-uniform, as PyTorch does.

    >>> import flowgrad as fg
    >>> model = fg.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                           dim_feedforward=16, batch_first=True)
    >>> src, tgt = fg.ones(2, 7, 8), fg.ones(2, 4, 8)
    >>> model(src, tgt, tgt_mask=model.generate_square_subsequent_mask(4)).shape
    (2, 4, 8)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        kw = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            device=device,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            dlayer = TransformerDecoderLayer(d_model, nhead, **kw)
            self.decoder = TransformerDecoder(dlayer, num_decoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias))
        if dtype is not None:
            self.to(dtype)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = bool(batch_first)

    def forward(
        self,
        src: Any,
        tgt: Any,
        src_mask: Any = None,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        src_key_padding_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Any:
        src, tgt = F.as_input(src), F.as_input(tgt)
        where = type(self).__name__
        if src.ndim != tgt.ndim:
            raise fg.ShapeError(
                f"{where}: src and tgt must both be batched or both unbatched, got {src.shape}, {tgt.shape}"
            )
        axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[axis] != tgt.shape[axis]:
            raise fg.ShapeError(
                f"{where}: src and tgt must have the same batch size on axis {axis} "
                f"(batch_first={self.batch_first}), got shapes {src.shape} and {tgt.shape}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise fg.ShapeError(
                f"{where}: src and tgt must have d_model={self.d_model} features, got shapes {src.shape} and {tgt.shape}"
            )
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> fg.Tensor:
        """A (sz, sz) float mask: 0 where position i may attend to j (j <= i), -inf above the diagonal.

        >>> import flowgrad as fg
        >>> fg.nn.Transformer.generate_square_subsequent_mask(3)
        tensor([[  0., -inf, -inf],
                [  0.,   0., -inf],
                [  0.,   0.,   0.]])
        """
        if device is not None:
            fg.device(device)
        return causal_mask(check_int(sz, "generate_square_subsequent_mask", "sz"), dtype)
