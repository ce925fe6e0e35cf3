"""``flowgrad.callbacks``: Keras's path for flowgrad.train.callbacks, so ``from flowgrad.callbacks import ...``
works as ``from keras.callbacks import ...`` does: the same classes and functions.

>>> import flowgrad.callbacks, flowgrad.train.callbacks
>>> flowgrad.callbacks.__all__ == flowgrad.train.callbacks.__all__
True
"""

from .train import callbacks as _source

__all__ = list(_source.__all__)
globals().update({name: getattr(_source, name) for name in __all__})
