"""``flowgrad.flow``: MiniFlow's define-then-run graphs, running on flowgrad's ops.

Build a graph of nodes, sort it from a feed dict, run it forward and
backward, update the weights: a MiniFlow program runs with only its import
line changed. The built-in nodes compute with the same primitives and the
same backward engine as eager tensors; hand-written ``Node`` subclasses with
NumPy ``forward()``/``backward()`` run beside them. Traces and DOT pictures
show what happened inside.

>>> import numpy as np
>>> from flowgrad.flow import Input, Linear, MSE, Sigmoid, forward_and_backward, topological_sort
>>> X, y, W, b = Input("X"), Input("y"), Input("W"), Input("b")
>>> cost = MSE(y, Sigmoid(Linear(X, W, b)))
>>> graph = topological_sort({X: np.array([[-1., -2.], [-1, -2]]), y: np.array([1, 2]),
...                           W: np.array([[2.], [3.]]), b: np.array([-3.])})
>>> forward_and_backward(graph)
>>> print(cost.value)
2.4999498960133932
>>> b.gradients[b]
array([-5.01028709e-05])
"""

from .base import GraphError, Input, Node, OpNode, reset_default_names
from .dot import render, to_dot
from .nodes import MSE, Add, Linear, MatMul, Mul, ReLU, Sigmoid, SoftmaxCrossEntropy, Sum, Tanh
from .run import forward_and_backward, forward_pass, sgd_update, topological_sort
from .trace import Trace, trace

__all__ = [
    "Node",
    "Input",
    "OpNode",
    "Add",
    "Mul",
    "Linear",
    "MatMul",
    "Sigmoid",
    "ReLU",
    "Tanh",
    "MSE",
    "SoftmaxCrossEntropy",
    "Sum",
    "topological_sort",
    "forward_pass",
    "forward_and_backward",
    "sgd_update",
    "Trace",
    "trace",
    "to_dot",
    "render",
    "GraphError",
    "reset_default_names",
]
