"""flowgrad: a NumPy-native deep-learning framework.

One set of primitives, four ways to use them: functional gradients
(``fg.grad``), eager tensors (``.backward()``), define-then-run graphs
(``flowgrad.flow``) and high-level training.

>>> import flowgrad as fg
>>> w = fg.tensor([1.0, -2.0], requires_grad=True)
>>> loss = (w ** 2).sum()
>>> loss.backward()
>>> w.grad
tensor([ 2., -4.])
"""

from __future__ import annotations

__version__ = "0.1.0"

import builtins as _builtins  # fg.int, fg.float, fg.bool are dtypes here, as in PyTorch
from typing import Any as _Any

from . import core as _core  # noqa: F401  (registers the Tensor class first)
from . import ops as _ops  # noqa: F401  (registers every primitive)
from .core import methods as _methods  # noqa: F401  (binds operators and methods)
from . import numpy  # noqa: F401  (the differentiable NumPy namespace)
from . import autograd  # noqa: F401
from .core.factories import (
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    get_rng_state,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    seed,
    set_rng_state,
    zeros,
    zeros_like,
)
from .core import compiler
from .core.sampling import Generator, normal, rand_like, randint_like, randn_like
from .core.legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .core.compiler import compile
from .core.functional import elementwise_grad, grad, hessian, hvp, jacobian, value_and_grad, vjp
from .core.transforms import (
    checkpoint,
    deriv,
    grad_and_aux,
    grad_named,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    vector_jacobian_product,
)
from .core.mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .core.ops import REGISTRY as op_registry  # noqa: N811
from .core.dlpack import from_dlpack
from .core.tensor import Tensor, from_numpy, is_tensor, tensor
from .dtypes import (
    bool,
    device,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .errors import (
    AnomalyError,
    ArgumentError,
    CheckpointError,
    DataError,
    DivergedError,
    DLPackError,
    DTypeError,
    FlowgradError,
    InPlaceError,
    NoDerivativeError,
    ShapeError,
)
from .ops.reduce import squared_error

# The op functions, PyTorch-style (fg.exp, fg.sum(x, dim=1), fg.cat): every function declared
# with a top-level name beside its primitive (core/exports.py).
from .core.exports import exported as _exported

globals().update(_exported("top"))
# PyTorch's keyword names and out= (core/torch_signatures.py: one table of signatures).
from .core.torch_signatures import adapted as _adapted

globals().update(_adapted(_exported("top")))


def set_default_device(name: _Any) -> None:
    """PyTorch's ``set_default_device``: "cpu" (or None) is accepted, as flowgrad computes on the
    CPU; another device raises the same clear error as ``fg.device``."""
    if name is not None:
        from .dtypes import check_device

        check_device(name)


def numel(input: Tensor) -> _builtins.int:  # noqa: A002
    """Number of elements of a tensor."""
    if not isinstance(input, Tensor):  # otherwise an AttributeError on .data
        raise DTypeError(f"numel: expected a tensor, got {type(input).__name__}")
    return input._data.size


def __getattr__(name: str) -> _Any:
    # Layers above the core load on first use, keeping `import flowgrad` light.
    import importlib

    if name in ("callbacks", "metrics"):  # Keras's paths: modules of their own (flowgrad/callbacks.py)
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in ("Model",):
        from . import train

        value = getattr(train, name)
        globals()[name] = value
        return value
    if name in ("set_num_threads", "get_num_threads"):
        from . import threads

        value = getattr(threads, name)
        globals()[name] = value
        return value
    if name == "utils":  # flowgrad.utils.data, as torch.utils.data
        module = importlib.import_module(".utils", __name__)
        globals()[name] = module
        return module
    if name in ("tuple", "list", "dict", "isinstance", "type"):
        from . import builtins as autograd_builtins  # autograd's names, at autograd's place

        value = getattr(autograd_builtins, name)
        globals()[name] = value
        return value
    if name in ("save", "load", "save_checkpoint", "load_checkpoint"):
        from . import io

        value = getattr(io, name)
        globals()[name] = value
        return value
    if name in (
        "nn",
        "optim",
        "func",
        "testing",
        "train",
        "plot",
        "io",
        "data",
        "flow",
        "viz",
        "datasets",
        "extend",
        "misc",
        "builtins",
        "test_util",
        "scipy",
        "cuda",
        "distributed",  # over MPI; mpi4py itself is imported only by init_process_group
        "onnx",  # the optional extra [onnx]
    ):
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'flowgrad' has no attribute {name!r}")
