"""``fg.autograd``: PyTorch's ``torch.autograd`` names.

>>> import flowgrad as fg
>>> x = fg.tensor(2.0, requires_grad=True)
>>> fg.autograd.grad(x ** 3, x)
(tensor(12.),)
"""

from .core.engine import backward as _backward
from .core.engine import grad
from .core.mode import detect_anomaly, enable_grad, no_grad, set_detect_anomaly, set_grad_enabled

__all__ = ["grad", "backward", "no_grad", "enable_grad", "set_grad_enabled", "detect_anomaly", "set_detect_anomaly"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):  # noqa: ANN001, ANN201
    """Accumulate gradients of ``tensors`` into leaves' ``.grad`` (``torch.autograd.backward``)."""
    from .core.tensor import Tensor

    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    gs = [grad_tensors] * len(ts) if grad_tensors is None or isinstance(grad_tensors, Tensor) else list(grad_tensors)
    for t, g in zip(ts, gs):
        _backward(t, g, True if retain_graph is None else retain_graph, create_graph, inputs)
