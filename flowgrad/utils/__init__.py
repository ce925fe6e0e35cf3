"""``flowgrad.utils.data``: PyTorch's ``torch.utils.data`` path for flowgrad's data module
(``Dataset``, ``DataLoader``, ``TensorDataset``, ...), so ``from torch.utils.data import
DataLoader`` ports by changing ``torch`` to ``flowgrad``.

>>> from flowgrad.utils.data import DataLoader, TensorDataset
"""

import sys as _sys

from .. import data  # noqa: F401  (flowgrad.utils.data is flowgrad.data)

_sys.modules[__name__ + ".data"] = data
