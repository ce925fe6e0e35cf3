"""``flowgrad.optim``: optimizers with PyTorch's names and numbers (and MindSpore's Momentum).

>>> import flowgrad as fg
>>> net = fg.nn.Linear(2, 1)
>>> opt = fg.optim.Adam(net.parameters(), lr=1e-3)
>>> len(opt.param_groups[0]["params"])
2
"""

from .first_order import SGD, Adagrad, Adam, AdamW, Momentum, RMSprop
from .optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "AdamW", "RMSprop", "Adagrad"]

# Closure-driven (second-order and conjugate-gradient) optimizers and learning-rate schedules.
from . import lr_scheduler  # noqa: E402
from .conjugate_gradient import ConjugateGradient  # noqa: E402
from .lbfgs import LBFGS  # noqa: E402

__all__ += ["LBFGS", "ConjugateGradient", "lr_scheduler"]
