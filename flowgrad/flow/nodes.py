"""flowgrad's built-in graph nodes: MiniFlow's names over flowgrad's ops.

Each node is an ``OpNode`` whose ``compute`` is the eager expression in its
docstring, so a node's value and gradients are exactly those of the same
expression on tensors.

>>> from flowgrad.flow import Add, Input, Mul, forward_pass, topological_sort
>>> x, y, z = Input("x"), Input("y"), Input("z")
>>> f, g = Add(x, y, z), Mul(x, y, z)
>>> graph = topological_sort({x: 4, y: 5, z: 10})
>>> print(forward_pass(f, graph), forward_pass(g, graph))
19 200
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import flowgrad as fg

from .base import Node, OpNode

__all__ = ["Add", "Mul", "Linear", "MatMul", "Sigmoid", "ReLU", "Tanh", "MSE", "SoftmaxCrossEntropy", "Sum"]


class Add(OpNode):
    """``x1 + x2 + ...`` (left to right, broadcasting as NumPy does).

    >>> from flowgrad.flow import Add, Input, forward_pass, topological_sort
    >>> x, y = Input("x"), Input("y")
    >>> forward_pass(Add(x, y), topological_sort({x: 1.5, y: 2}))
    np.float64(3.5)
    """

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        if not inputs:
            raise fg.DTypeError("Add needs at least one input node, got none")  # a TypeError, as a missing argument
        OpNode.__init__(self, inputs, name)

    def compute(self, *xs: fg.Tensor) -> fg.Tensor:
        total = xs[0] if len(xs) > 1 else xs[0] + 0  # a new value, never an input's own array
        for x in xs[1:]:
            total = total + x
        return total


class Mul(OpNode):
    """``x1 * x2 * ...`` elementwise (left to right, broadcasting as NumPy does).

    >>> from flowgrad.flow import Input, Mul, forward_pass, topological_sort
    >>> x, y = Input("x"), Input("y")
    >>> forward_pass(Mul(x, y), topological_sort({x: 4, y: 5}))
    np.int64(20)
    """

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        if not inputs:
            raise fg.DTypeError("Mul needs at least one input node, got none")
        OpNode.__init__(self, inputs, name)

    def compute(self, *xs: fg.Tensor) -> fg.Tensor:
        product = xs[0] if len(xs) > 1 else xs[0] * 1
        for x in xs[1:]:
            product = product * x
        return product


def _check_matmul(node: OpNode, a: np.ndarray, b: np.ndarray) -> None:
    """Name the node, both inputs and both shapes when the inner dimensions differ."""
    if a.ndim == 0 or b.ndim == 0:
        return  # let the op say why scalars do not multiply as matrices
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        first, second = node.inbound_nodes[0], node.inbound_nodes[1]
        raise fg.ShapeError(
            f"{node.name}: {first.name} {a.shape} @ {second.name} {b.shape}: "
            f"inner dimensions {a.shape[-1]} and {inner_b} differ"
        )


class Linear(OpNode):
    """A linear transform, ``fg.matmul(X, W) + b``: ``X`` (n, in), ``W`` (in, out), ``b`` (out,).

    >>> import numpy as np
    >>> from flowgrad.flow import Input, Linear, forward_pass, topological_sort
    >>> X, W, b = Input("X"), Input("W"), Input("b")
    >>> f = Linear(X, W, b)
    >>> feed = {X: np.array([[1., 2.], [3., 4.]]), W: np.array([[5., 6.], [7., 8.]]), b: np.array([-1., -1])}
    >>> forward_pass(f, topological_sort(feed))
    array([[18., 21.],
           [42., 49.]])
    """

    def __init__(self, X: Node, W: Node, b: Node, name: str | None = None) -> None:  # noqa: N803
        OpNode.__init__(self, [X, W, b], name)

    def check(self, X: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:  # noqa: N803
        _check_matmul(self, X, W)

    def compute(self, X: fg.Tensor, W: fg.Tensor, b: fg.Tensor) -> fg.Tensor:  # noqa: N803
        return fg.matmul(X, W) + b


class MatMul(OpNode):
    """A matrix product, ``fg.matmul(a, b)``.

    >>> import numpy as np
    >>> from flowgrad.flow import Input, MatMul, forward_pass, topological_sort
    >>> a, b = Input("a"), Input("b")
    >>> forward_pass(MatMul(a, b), topological_sort({a: np.eye(2), b: np.ones((2, 3))})).shape
    (2, 3)
    """

    def __init__(self, a: Node, b: Node, name: str | None = None) -> None:
        OpNode.__init__(self, [a, b], name)

    def check(self, a: np.ndarray, b: np.ndarray) -> None:
        _check_matmul(self, a, b)

    def compute(self, a: fg.Tensor, b: fg.Tensor) -> fg.Tensor:
        return fg.matmul(a, b)


class _Elementwise(OpNode):
    """A node applying one elementwise function (the class attribute ``function``) to its input."""

    function: Callable[[fg.Tensor], fg.Tensor]

    def __init__(self, node: Node, name: str | None = None) -> None:
        OpNode.__init__(self, [node], name)

    def compute(self, x: fg.Tensor) -> fg.Tensor:
        return type(self).function(x)


class Sigmoid(_Elementwise):
    """The logistic function, ``fg.sigmoid(x)`` = 1 / (1 + exp(-x)).

    >>> from flowgrad.flow import Input, Sigmoid, forward_pass, topological_sort
    >>> x = Input("x")
    >>> forward_pass(Sigmoid(x), topological_sort({x: 0.0}))
    np.float64(0.5)
    """

    function = staticmethod(fg.sigmoid)


class ReLU(_Elementwise):
    """``fg.relu(x)`` = max(x, 0); its gradient at 0 is 0, as in PyTorch.

    >>> import numpy as np
    >>> from flowgrad.flow import Input, ReLU, forward_pass, topological_sort
    >>> x = Input("x")
    >>> forward_pass(ReLU(x), topological_sort({x: np.array([-1.0, 2.0])}))
    array([0., 2.])
    """

    function = staticmethod(fg.relu)


class Tanh(_Elementwise):
    """``fg.tanh(x)``.

    >>> from flowgrad.flow import Input, Tanh, forward_pass, topological_sort
    >>> x = Input("x")
    >>> forward_pass(Tanh(x), topological_sort({x: 0.0}))
    np.float64(0.0)
    """

    function = staticmethod(fg.tanh)


class MSE(OpNode):
    """The mean squared error, ``fg.mean(fg.square(y.reshape(-1, 1) - a.reshape(-1, 1)))``.

    Both are reshaped to a column first, as MiniFlow does, so labels of shape
    (n,) and predictions of shape (n, 1) subtract elementwise instead of
    broadcasting to (n, n).

    >>> import numpy as np
    >>> from flowgrad.flow import MSE, Input, forward_pass, topological_sort
    >>> y, a = Input("y"), Input("a")
    >>> cost = MSE(y, a)
    >>> print(forward_pass(cost, topological_sort({y: np.array([1, 2, 3]), a: np.array([4.5, 5, 10])})))
    23.416666666666668
    """

    def __init__(self, y: Node, a: Node, name: str | None = None) -> None:
        OpNode.__init__(self, [y, a], name)

    def check(self, y: np.ndarray, a: np.ndarray) -> None:
        if y.size != a.size:
            raise fg.ShapeError(
                f"{self.name}: {self.inbound_nodes[0].name} {y.shape} and {self.inbound_nodes[1].name} "
                f"{a.shape} hold {y.size} and {a.size} values; they must hold one value per example each"
            )

    def compute(self, y: fg.Tensor, a: fg.Tensor) -> fg.Tensor:
        return fg.mean(fg.square(y.reshape(-1, 1) - a.reshape(-1, 1)))


class SoftmaxCrossEntropy(OpNode):
    """Softmax over the last axis, then the mean negative log-likelihood of integer labels.

    ``-fg.mean(fg.log_softmax(logits, dim=-1)[np.arange(n), labels])`` for
    ``logits`` of shape (n, classes) and ``labels`` of shape (n,) holding
    class indices. The labels get a zero gradient.

    >>> import numpy as np
    >>> from flowgrad.flow import Input, SoftmaxCrossEntropy, forward_pass, topological_sort
    >>> logits, labels = Input("logits"), Input("labels")
    >>> cost = SoftmaxCrossEntropy(logits, labels)
    >>> value = forward_pass(cost, topological_sort({logits: np.zeros((2, 4)), labels: np.array([0, 3])}))
    >>> bool(np.isclose(value, np.log(4)))
    True
    """

    differentiable = (True, False)

    def __init__(self, logits: Node, labels: Node, name: str | None = None) -> None:
        OpNode.__init__(self, [logits, labels], name)

    def check(self, logits: np.ndarray, labels: np.ndarray) -> None:
        logits_node, labels_node = self.inbound_nodes
        if labels.dtype.kind not in "iu":
            raise fg.DTypeError(
                f"{self.name}: labels {labels_node.name} must be integer class indices, got dtype {labels.dtype} "
                "(for one-hot rows use labels.argmax(axis=1))"
            )
        if logits.ndim != 2 or labels.shape != logits.shape[:1]:
            raise fg.ShapeError(
                f"{self.name}: logits {logits_node.name} {logits.shape} need shape (n, classes) and "
                f"labels {labels_node.name} {labels.shape} shape (n,)"
            )
        classes = logits.shape[1]
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise fg.ShapeError(
                f"{self.name}: labels {labels_node.name} must lie in [0, {classes}), "
                f"got values from {labels.min()} to {labels.max()}"
            )

    def compute(self, logits: fg.Tensor, labels: fg.Tensor) -> fg.Tensor:
        rows = np.arange(logits.shape[0])
        return -fg.mean(fg.log_softmax(logits, dim=-1)[rows, labels.numpy()])


class Sum(OpNode):
    """``fg.sum(x, axis=axis)``: all elements by default, which makes a cost of any node.

    >>> import numpy as np
    >>> from flowgrad.flow import Input, Sum, forward_pass, topological_sort
    >>> x = Input("x")
    >>> forward_pass(Sum(x), topological_sort({x: np.array([[1.0, 2.0], [3.0, 4.0]])}))
    np.float64(10.0)
    """

    def __init__(self, node: Node, axis: int | tuple[int, ...] | None = None, name: str | None = None) -> None:
        OpNode.__init__(self, [node], name)
        self.axis = axis

    def compute(self, x: fg.Tensor) -> fg.Tensor:
        return fg.sum(x, axis=self.axis)
