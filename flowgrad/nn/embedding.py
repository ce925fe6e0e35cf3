"""``Embedding``: a lookup table of vectors, with PyTorch's arguments and ``from_pretrained``.

>>> import flowgrad as fg
>>> emb = fg.nn.Embedding(10, 3, padding_idx=0)
>>> emb(fg.tensor([[0, 2], [4, 0]])).shape, emb.weight[0].tolist()
((2, 2, 3), [0.0, 0.0, 0.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, check_int, check_number, given

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


def _padding_index(padding_idx: Any, rows: int) -> int | None:
    """``padding_idx`` made non-negative (PyTorch stores it so), or None."""
    if padding_idx is None:
        return None
    padding_idx = check_int(padding_idx, "Embedding", "padding_idx", None)
    if not -rows <= padding_idx < rows:
        raise ArgumentError(f"Embedding: padding_idx must be in [-{rows}, {rows}), got {padding_idx}")
    return padding_idx % rows


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1).

    ``padding_idx``: that row starts at zero and gets no gradient (lookups of it still return
    its value). ``max_norm``: rows looked up are rescaled in place to at most that norm, as
    PyTorch. ``sparse=True`` is accepted and gives the same (dense) gradient;
    ``scale_grad_by_freq=True`` is refused.

    >>> import flowgrad as fg
    >>> emb = fg.nn.Embedding(5, 2, padding_idx=4)
    >>> emb(fg.tensor([4, 1, 4])).sum().backward()
    >>> emb.weight.grad[4].tolist(), emb.weight.grad[1].tolist()
    ([0.0, 0.0], [1.0, 1.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        num_embeddings = check_int(num_embeddings, "Embedding", "num_embeddings")
        embedding_dim = check_int(embedding_dim, "Embedding", "embedding_dim")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm = None if max_norm is None else check_number(max_norm, "Embedding", "max_norm")
        self.norm_type = check_number(norm_type, "Embedding", "norm_type")
        if scale_grad_by_freq:  # refused rather than ignored: it would change the gradient
            raise ArgumentError("Embedding: scale_grad_by_freq=True is not supported")
        self.scale_grad_by_freq, self.sparse = False, bool(sparse)
        if device is not None:
            fg.device(device)  # raises for a device flowgrad cannot use
        if _weight is None:
            self.weight = Parameter(fg.empty(num_embeddings, embedding_dim, dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            weight = _weight if isinstance(_weight, fg.Tensor) else fg.tensor(np.asarray(_weight))
            if tuple(weight.shape) != (num_embeddings, embedding_dim):
                raise fg.ShapeError(
                    f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), got {tuple(weight.shape)}"
                )
            self.weight = Parameter(weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with fg.no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding ``embeddings`` (rows, dim) as its weight; frozen unless ``freeze=False``.

        The padding row keeps its given value (it only stops getting gradients), as PyTorch.

        >>> import flowgrad as fg
        >>> emb = fg.nn.Embedding.from_pretrained(fg.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(fg.tensor([1])).tolist(), emb.weight.requires_grad
        ([[3.0, 4.0]], False)
        """
        weight = embeddings if isinstance(embeddings, fg.Tensor) else fg.tensor(np.asarray(embeddings))
        if weight.ndim != 2:
            raise fg.ShapeError(
                f"Embedding.from_pretrained: embeddings must be 2-D (rows, dim), got shape {tuple(weight.shape)}"
            )
        if weight.dtype.kind != "f":
            raise fg.DTypeError(f"Embedding.from_pretrained: embeddings must be floating, got {given(weight)}")
        rows, dim = weight.shape
        return cls(
            rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=weight, _freeze=freeze
        )

    def forward(self, indices: Any) -> fg.Tensor:
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type, False, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.sparse:
            s += ", sparse=True"
        return s
