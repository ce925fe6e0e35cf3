"""The array library under flowgrad, and its random streams: the one place that names them.

flowgrad computes with NumPy. Code that needs to know what an array is (``is_array``), make one
(``asarray``), pick the array namespace of its inputs (``xp_of``) or draw random numbers (``rng``,
``Generator``, ``default_rng``) asks here, so another array library (CuPy, say) is a change to this
module and not to every file. Forward functions call ``np.*`` directly: NumPy hands such calls to
an array library that implements NumPy's protocols (``__array_ufunc__``, ``__array_function__``).

>>> import numpy as np
>>> from flowgrad import backend
>>> backend.is_array(np.zeros(2)), backend.is_array([0.0, 0.0]), backend.xp_of(np.zeros(2)) is np
(True, False, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import check_device, device
from .errors import DTypeError, check_int

__all__ = ["xp", "ndarray", "is_array", "asarray", "xp_of", "Generator", "rng", "default_rng", "manual_seed"]

xp = np
ndarray = np.ndarray


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array of the backend (a NumPy ndarray, subclasses included).

    >>> is_array(np.float64(1.0)), is_array(np.ones(1))
    (False, True)
    """
    return isinstance(x, ndarray)


def asarray(x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` as a backend array (no copy when it already is one of ``dtype``).

    >>> asarray([1, 2], dtype=np.float32).dtype
    dtype('float32')
    """
    return np.asarray(x, dtype=dtype)


def xp_of(*arrays: Any) -> Any:
    """The array namespace for computing on ``arrays`` (NumPy's module).

    >>> xp_of(np.ones(2), 3.0) is np
    True
    """
    return xp


# ----- random streams --------------------------------------------------------------------------------
# Created on first use: importing numpy.random costs ~15 ms, half of what flowgrad's import may add.
_default: np.random.Generator | None = None


def default_rng() -> np.random.Generator:
    """The NumPy Generator behind flowgrad's random numbers (``fg.default_generator()``).

    >>> default_rng() is default_rng()
    True
    """
    global _default
    if _default is None:
        _default = np.random.default_rng()
    return _default


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the default stream from ``seed``; returns its NumPy Generator.

    >>> float(manual_seed(3).random()) == float(np.random.default_rng(3).random())
    True
    """
    global _default
    _default = np.random.default_rng(check_int(seed, "manual_seed", "seed"))  # validated: NumPy's errors are bare
    return _default


def _fresh_seed() -> int:
    """A seed from the operating system's entropy, as PyTorch seeds a new generator."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


class Generator:
    """PyTorch's ``torch.Generator``: a random stream to pass as ``generator=``.

    >>> import flowgrad as fg
    >>> g = fg.Generator().manual_seed(7)
    >>> g.initial_seed()
    7
    """

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device)
        self.device = _cpu()
        self._seed = _fresh_seed()
        self._numpy = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator, as PyTorch's does."""
        self._seed = check_int(seed, "Generator.manual_seed", "seed")
        self._numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Restart from a fresh random seed, and return it."""
        self._seed = _fresh_seed()
        self._numpy = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state as plain data (not PyTorch's byte tensor)."""
        return dict(self._numpy.bit_generator.state)

    def set_state(self, state: dict) -> Generator:
        """Put back a state from :meth:`get_state`; returns the generator."""
        self._numpy.bit_generator.state = state
        return self


def _cpu() -> Any:
    return device("cpu")


def rng(generator: Any = None) -> np.random.Generator:
    """The NumPy Generator behind a ``generator=`` argument: None means flowgrad's default stream.

    >>> g = Generator().manual_seed(0)
    >>> rng(g) is rng(g), rng(None) is default_rng()
    (True, True)
    """
    if generator is None:
        return default_rng()
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise DTypeError(f"generator: expected a flowgrad.Generator or a NumPy Generator, got {type(generator).__name__}")
