"""Gradient recording modes: ``no_grad``, ``enable_grad``, ``detect_anomaly``.

The flags are thread-local, as in PyTorch: ``no_grad`` in one thread does not
change another. Each is a context manager and a decorator.

>>> import flowgrad as fg
>>> w = fg.ones(2, requires_grad=True)
>>> with fg.no_grad():
...     (w * 2).requires_grad
False
>>> fg.is_grad_enabled()
True
"""

from __future__ import annotations

import functools
from _thread import _local as _thread_local  # threading.local, without importing threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _ModeState(_thread_local):
    # Class attributes are the defaults each new thread starts with.
    grad_enabled = True
    anomaly = False
    tracer: Any = None  # fg.compile's tracer recording on this thread (see core/ops.py)
    # How many functional transforms (grad, jacobian, vjp, ...) are evaluating their function on
    # this thread. Inside one, every inner transform keeps its results in the graph, so an
    # outer transform sees how they depend on what it differentiates (closures included).
    transform_depth = 0
    recorder: Any = None  # fg.viz.record's recorder on this thread (see flowgrad/viz/recorder.py)


state = _ModeState()

# A version counter for in-place changes: a node remembers its value when recorded, a tensor its
# value when last changed in place (PyTorch's ``_version``). A tensor changed after a node saved it would give a wrong gradient,
# so backward refuses it. Here, with the tracer state, so that tensors, in-place methods, ops and
# the engine all read them without importing each other.
version_counter = 0

# fg.compile's tracers (see core/compiler.py) are per thread: ``state.tracer`` is the one
# recording on this thread. TRACING counts the threads tracing now, so that while none is (the
# usual case) an op pays one read for the check.
TRACING = 0
# Set once a complex value that requires grad exists (a transform's complex argument, or a
# complex result of an op that allows them): from then on apply checks every input's dtype.
COMPLEX_TRACED = False

# Likewise RECORDING counts the threads inside ``fg.viz.record()`` now: while none is, an op and a
# backward pass pay one read each for the check, and nothing is recorded.
RECORDING = 0


def next_version() -> int:
    """Advance the in-place version counter and return its new value (PyTorch's ``_version``)."""
    global version_counter
    version_counter += 1
    return version_counter


def note_value_read(what: str) -> None:
    """A tensor's value was read into Python (``.item()``, ``bool()``): fg.compile's tracer warns
    (the value is fixed in the compiled step), an observer (fg.autograd.graph.observe) is told."""
    if TRACING and state.tracer is not None:
        state.tracer.warn(what)
    if RECORDING and state.recorder is not None:
        state.recorder.on_read(what)


def note_inplace(what: str, target: Any) -> None:
    """An array is about to be changed in place outside an op (``x += y``, an optimizer step): an
    observer (fg.autograd.graph.observe) is told."""
    if RECORDING and state.recorder is not None:
        state.recorder.on_inplace(what, target)


def current_tracer() -> Any:
    """The fg.compile tracer recording on this thread, else None."""
    return state.tracer if TRACING else None


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are being recorded.

    >>> import flowgrad as fg
    >>> fg.is_grad_enabled()
    True
    """
    return state.grad_enabled


class _GradMode:
    """Shared body of the grad-mode context managers (also usable as decorators)."""

    enabled = True

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        mode = type(self)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - PyTorch's spelling
    """Run without recording a graph (evaluation, in-place parameter updates).

    >>> import flowgrad as fg
    >>> w = fg.ones(2, requires_grad=True)
    >>> (w * 2).sum().backward()
    >>> with fg.no_grad():
    ...     w -= 0.1 * w.grad
    >>> w
    tensor([0.8, 0.8], requires_grad=True)
    """

    enabled = False


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's spelling
    """PyTorch's ``inference_mode``: here ``no_grad`` (flowgrad has no cheaper mode to offer);
    ``inference_mode(False)`` changes nothing. A context manager and a decorator, bare or called.

    >>> import flowgrad as fg
    >>> with fg.inference_mode():
    ...     fg.is_grad_enabled()
    False
    """

    def __init__(self, mode: Any = True) -> None:
        if callable(mode):  # @fg.inference_mode without parentheses
            self._fn = mode
            mode = True
        self._mode = bool(mode)

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        if self._mode:
            state.grad_enabled = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = getattr(self, "_fn", None)
        if fn is not None:  # the bare decorator's function, called
            with inference_mode(True):
                return fn(*args, **kwargs)
        (target,) = args
        mode = self._mode

        @functools.wraps(target)
        def wrapper(*a: Any, **k: Any) -> Any:
            with inference_mode(mode):
                return target(*a, **k)

        return wrapper


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block.

    >>> import flowgrad as fg
    >>> with fg.no_grad():
    ...     with fg.enable_grad():
    ...         fg.is_grad_enabled()
    True
    """

    enabled = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """Set recording on or off, as a call or as a context manager.

    >>> import flowgrad as fg
    >>> with fg.set_grad_enabled(False):
    ...     fg.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass  # already switched in __init__, so the plain call form works too


class detect_anomaly:  # noqa: N801
    """Raise at the first op whose forward or backward produced NaN or inf.

    Off by default because it checks every result; the error names the op and
    the line of your code that called it.

    >>> import flowgrad as fg
    >>> x = fg.tensor([-1.0], requires_grad=True)
    >>> with fg.detect_anomaly():
    ...     try:
    ...         fg.log(x)
    ...     except fg.AnomalyError as e:
    ...         print(str(e).split(" (")[0])
    log produced nan in its forward pass
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self._prev = state.anomaly
        state.anomaly = self.mode
        # NumPy's own warnings would come first; the anomaly error says more.
        self._errstate = np.errstate(invalid="ignore", over="ignore", divide="ignore")
        if self.mode:
            self._errstate.__enter__()

    def __exit__(self, *exc: Any) -> None:
        state.anomaly = self._prev
        if self.mode:
            self._errstate.__exit__(*exc)


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for this thread."""
    state.anomaly = bool(mode)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return state.anomaly
