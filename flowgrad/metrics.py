"""``flowgrad.metrics``: Keras's path for flowgrad.train.metrics, so ``from flowgrad.metrics import ...``
works as ``from keras.metrics import ...`` does: the same classes and functions.

>>> import flowgrad.metrics, flowgrad.train.metrics
>>> flowgrad.metrics.__all__ == flowgrad.train.metrics.__all__
True
"""

from .train import metrics as _source

__all__ = list(_source.__all__)
globals().update({name: getattr(_source, name) for name in __all__})
