"""``Module``, the base of every layer, and the containers built on it.

A module owns parameters (``Parameter``), buffers (state that is saved but
not trained, such as batch-norm running statistics) and child modules, all
found by attribute assignment, as in PyTorch. ``Cell`` is MindSpore's name.

>>> import flowgrad as fg
>>> net = fg.nn.Sequential(fg.nn.Linear(2, 3), fg.nn.ReLU(), fg.nn.Linear(3, 1))
>>> [name for name, _ in net.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> net
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
  (2): Linear(in_features=3, out_features=1, bias=True)
)
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import given

from .parameter import Parameter
from .utils import zero_grads

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and networks: subclass it and write ``forward``.

    >>> import flowgrad as fg
    >>> class Affine(fg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = fg.nn.Parameter(fg.ones(2))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> Affine()(fg.tensor([1.0, 2.0]))
    tensor([1., 2.], grad_fn=<MulBackward>)
    """

    training: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        # The constructor's arguments, kept so fg.save(model) can store what built the model
        # (flowgrad/io/whole_module.py) instead of code.
        module = super().__new__(cls)
        object.__setattr__(module, "_init_args", (args, kwargs))
        return module

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration through attributes -------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        target = "_parameters" if isinstance(value, Parameter) else "_modules" if isinstance(value, Module) else None
        for store in ("_parameters", "_buffers", "_modules"):
            if store != target:  # replacing a child keeps its place, as in PyTorch (Sequential's order)
                self.__dict__[store].pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (None reserves the name, as ``bias=False`` layers do)."""
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add state that is saved in ``state_dict`` but not trained."""
        names = self.__dict__.setdefault("_buffer_names", set())
        names.add(name)
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        if module is None:
            self._modules[name] = None
        elif not isinstance(module, Module):  # setattr would keep it as a plain attribute: silently unused
            hint = ""
            if isinstance(module, type) and issubclass(module, Module):
                hint = f"; write {module.__name__}() (a layer object), not the class {module.__name__}"
            raise fg.DTypeError(
                f"{type(self).__name__}: {name!r} must be a Module (a layer), got {given(module)}{hint}"
            )
        else:
            setattr(self, name, module)

    register_module = add_module

    # ----- running ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if type(self).construct is not Module.construct:  # a MindSpore-style Cell
            return self.construct(*args, **kwargs)
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define it in your subclass")

    def construct(self, *args: Any, **kwargs: Any) -> Any:
        """MindSpore's name for ``forward``: define either one."""
        return self.forward(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- walking ------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path (``"encoder.layers.0"``); ``""`` is this module.

        >>> import flowgrad as fg
        >>> net = fg.nn.Sequential(fg.nn.Linear(2, 2), fg.nn.Sequential(fg.nn.ReLU()))
        >>> type(net.get_submodule("1.0")).__name__
        'ReLU'
        """
        module: Module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking for {target!r})")
            module = child
        return module

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[store].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, each parameter once, in registration order."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and its children, each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def trainable_params(self, recurse: bool = True) -> list[Parameter]:
        """MindSpore's name: the parameters that require grad, as a list."""
        return [p for p in self.parameters(recurse) if p.requires_grad]

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients --------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch norm uses batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter."""
        fg.compiler.replay_call(lambda: self._zero_grad(set_to_none))
        self._zero_grad(set_to_none)

    def _zero_grad(self, set_to_none: bool) -> None:
        zero_grads(self.parameters(), set_to_none)

    # ----- dtype / device ---------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast floating parameters and buffers to a dtype; accept the CPU device. Returns self."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        for a in args:
            if isinstance(a, (str, fg.device)) and str(a).split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
                device = a
            elif isinstance(a, fg.Tensor):
                dtype = a.dtype
            else:
                dtype = a
        if device is not None:
            fg.device(device)  # raises for devices flowgrad cannot use
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise fg.DTypeError(f"Module.to: expected a floating dtype, got {dt}")
            for t in list(self.parameters()) + [b for b in self.buffers() if isinstance(b, fg.Tensor)]:
                if t._data.dtype.kind == "f" and t._data.dtype != dt:
                    t._data = t._data.astype(dt)
                    if t.grad is not None:
                        t.grad = fg.tensor(t.grad._data, dtype=dt)
        return self

    def float(self) -> Module:
        return self.to(fg.float32)

    def double(self) -> Module:
        return self.to(fg.float64)

    def cpu(self) -> Module:
        return self

    # ----- state ----------------------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (tensors sharing the data)."""
        out: OrderedDict = OrderedDict()
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip(".")):
            skip = mod.__dict__.get("_non_persistent", set())
            for store in ("_parameters", "_buffers"):
                for name, value in mod.__dict__[store].items():
                    if value is None or (store == "_buffers" and name in skip):
                        continue
                    key = f"{mod_prefix}.{name}" if mod_prefix else name
                    out[key] = value if keep_vars or not isinstance(value, fg.Tensor) else value.detach()
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers (cast to their dtypes).

        With ``strict`` a missing or unexpected key is an error; a shape mismatch always is.
        Values may be flowgrad tensors, NumPy arrays or anything with ``__array__``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        copies = []  # (target, array): all checked before any is written, so a bad dict changes nothing
        for key, target in own.items():
            if key not in state_dict or not isinstance(target, fg.Tensor):
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, fg.Tensor) else np.asarray(value)
            if arr.shape != target.shape:
                problems.append(f"{key}: expected shape {target.shape}, got {arr.shape}")
            copies.append((target, arr))
        if strict and (missing or unexpected):
            if missing:
                problems.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected keys: {', '.join(unexpected)}")
        if problems:
            raise fg.ShapeError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        with fg.no_grad():
            for target, arr in copies:
                target.copy_(arr.astype(target.dtype, copy=False))
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -------------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        name = type(self).__name__
        if not self._modules:
            return f"{name}({extra})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


Cell = Module  # MindSpore's name


class Sequential(Module):
    """Modules applied one after another; indexable, with ``len`` and ``append``.

    >>> import flowgrad as fg
    >>> net = fg.nn.Sequential(fg.nn.Linear(4, 2), fg.nn.Sigmoid())
    >>> len(net), type(net[0]).__name__, net(fg.ones(3, 4)).shape
    (2, 'Linear', (3, 2))
    """

    def __init__(self, *modules: Any) -> None:  # modules, or one dict or list of them
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
                modules = tuple(modules[0])
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        for name, m in self._modules.items():
            try:
                x = m(x)
            except (fg.ShapeError, fg.DTypeError) as e:  # which layer: the op's own message cannot say
                raise type(e)(f"Sequential layer {name} ({type(m).__name__}): {e}") from e
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at ``index`` in place: ``net[-1] = fg.nn.Linear(512, 10)``."""
        names = list(self._modules)
        if not -len(names) <= index < len(names):
            raise IndexError(f"Sequential: index {index} is out of range for {len(names)} modules")
        self.add_module(names[index], module)

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


SequentialCell = Sequential  # MindSpore's name


class ModuleList(Module):
    """A list of modules whose parameters are registered."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        for m in modules or []:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Any) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[index]


CellList = ModuleList  # MindSpore's name


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        for name, m in dict(modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Any:
        return self._modules.keys()

    def values(self) -> Any:
        return self._modules.values()

    def items(self) -> Any:
        return self._modules.items()
