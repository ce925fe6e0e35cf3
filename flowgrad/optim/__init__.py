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
