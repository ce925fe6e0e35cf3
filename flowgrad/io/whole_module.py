"""Whole ``nn.Module`` objects in a file, without code: ``fg.save(model, path)``, ``fg.load(path)``.

A module is stored as what made it: the import path of its class, the arguments its
constructor was called with (recorded by ``Module.__new__``), its plain attributes (numbers,
strings, flags such as ``training``), its children the same way and its ``state_dict()``.
Loading looks the class up among the modules the program has already imported (nothing is
imported or called because a file says so), checks that it is an ``nn.Module`` subclass, calls
the constructor and loads the state. Functions and other objects have no such description:
a module built with one, or changed after construction in a way its arguments do not capture,
is refused when saving, with the advice to save ``state_dict()``. ``fg.save`` proves this before
writing: it rebuilds the model from the description in memory and compares it with the original.

>>> import io, flowgrad as fg
>>> net = fg.nn.Sequential(fg.nn.Linear(2, 3), fg.nn.ReLU(), fg.nn.Linear(3, 1))
>>> f = io.BytesIO(); fg.save(net, f); _ = f.seek(0)
>>> back = fg.load(f)
>>> type(back).__name__, bool((back(fg.ones(1, 2)) == net(fg.ones(1, 2))).all())
('Sequential', True)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import flowgrad as fg

from ..errors import CheckpointError

# Module attributes that are the module's machinery, not its data.
_MACHINERY = {"_parameters", "_buffers", "_modules", "_buffer_names", "_non_persistent", "_init_args"}
KEYS = ("class", "args", "kwargs", "attrs", "children", "frozen", "state", "tied")  # of a saved module
_ADVICE = "save model.state_dict() instead and build the model in code before loading it"


def is_data(value: Any, depth: int = 0) -> bool:
    """True for what JSON holds as it is: numbers, strings, None and lists, tuples, dicts of them."""
    if depth > 20:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True  # inf and nan are stored tagged
    if isinstance(value, (list, tuple)):
        return all(is_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_data(v, depth + 1) for k, v in value.items())
    return False


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def describe(module: Any, top: bool) -> dict:
    """The description of ``module`` that :func:`rebuild` turns back into it (real objects inside)."""
    args, kwargs = module.__dict__.get("_init_args", ((), {}))
    attrs = {k: v for k, v in module.__dict__.items() if k not in _MACHINERY and is_data(v)}
    return {
        "class": class_path(type(module)),
        "args": list(args),
        "kwargs": dict(kwargs),
        "attrs": attrs,
        "children": {name: None if c is None else c for name, c in module._modules.items()},
        "frozen": [name for name, p in module._parameters.items() if p is not None and not p.requires_grad],
        "state": module.state_dict(keep_vars=True) if top else None,
        "tied": _tied(module) if top else [],
    }


def _tied(module: Any) -> list:
    """``[alias, first]`` for each state entry that is the same tensor as an earlier one (tied weights)."""
    first: dict[int, str] = {}
    pairs = []
    for key, value in module.state_dict(keep_vars=True).items():
        if id(value) in first:
            pairs.append([key, first[id(value)]])
        else:
            first[id(value)] = key
    return pairs


def saved_node(node: dict, decode: Callable[[Any], Any], where: str, tag: str, depth: int = 0) -> dict:
    """A saved module's description with its data decoded and its children as descriptions."""
    if depth > 200:
        raise CheckpointError(f"{where}: flowgrad metadata: saved modules nested more than 200 levels deep")
    out = {k: decode(node[k]) for k in KEYS if k != "children"}
    children = node["children"]
    if not isinstance(children, dict) or not all(
        c is None or isinstance(c, dict) and c.get(tag) == "module" and set(c) == {tag, *KEYS}
        for c in children.values()
    ):
        raise CheckpointError(f"{where}: flowgrad metadata: malformed children of a saved module")
    out["children"] = {
        k: None if c is None else saved_node(c, decode, where, tag, depth + 1) for k, c in children.items()
    }
    shapes = {"class": str, "args": list, "kwargs": dict, "attrs": dict, "frozen": list, "tied": list}
    if not all(isinstance(out[k], t) for k, t in shapes.items()) or not isinstance(out["state"], (dict, type(None))):
        raise CheckpointError(f"{where}: flowgrad metadata: a malformed saved module")
    if not all(isinstance(k, str) for k in [*out["kwargs"], *out["attrs"], *out["frozen"]]) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in out["tied"]
    ):
        raise CheckpointError(f"{where}: flowgrad metadata: a malformed saved module")
    return out


def find_class(path: Any, where: str) -> type:
    """The ``nn.Module`` subclass named ``module:qualname``, among the modules already imported."""
    if not (isinstance(path, str) and path.count(":") == 1):
        raise CheckpointError(f"{where}: a saved module has a malformed class name {path!r:.80}")
    module_name, qualname = path.split(":")
    owner = sys.modules.get(module_name)
    if owner is None:
        raise CheckpointError(
            f"{where}: the saved model is a {qualname} from module {module_name!r}, which this program has not "
            f"imported; import it (or define the class) before fg.load, as torch.load needs it too"
        )
    obj: Any = owner
    for part in qualname.split("."):
        if part == "<locals>":
            raise CheckpointError(f"{where}: class {qualname} was defined inside a function; it cannot be found again")
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and issubclass(obj, fg.nn.Module)):
        raise CheckpointError(f"{where}: {path!r:.80} is not an nn.Module subclass; a file names no other code")
    return obj


def rebuild(node: dict, where: str, existing: Any = None) -> Any:
    """Make the module ``node`` describes (with its arguments decoded), reusing ``existing``
    (the child its parent's constructor made) when it is the same class built the same way."""
    cls = find_class(node["class"], where)
    args, kwargs = node["args"], node["kwargs"]
    if not (
        existing is not None and type(existing) is cls and _same(existing.__dict__.get("_init_args"), (args, kwargs))
    ):
        rng = fg.get_rng_state()  # constructing draws initial weights: loading must not move the stream
        try:
            existing = cls(*args, **kwargs)
        except Exception as e:
            raise CheckpointError(
                f"{where}: rebuilding {cls.__qualname__}(...) from its saved arguments failed: {e}"
            ) from e
        finally:
            fg.set_rng_state(rng)
    module = existing
    made = module._modules
    for name in [n for n in made if n not in node["children"]]:
        del made[name]  # removed after construction
    for name, child in node["children"].items():
        made[name] = None if child is None else rebuild(child, where, made.get(name))
    for name, value in node["attrs"].items():
        object.__setattr__(module, name, value)
    for name in node["frozen"]:
        param = module._parameters.get(name)
        if param is not None:
            param.requires_grad_(False)
    if node["state"] is not None:
        _load_state(module, node["state"], node["tied"], where)
    return module


def _load_state(module: Any, state: dict, tied: list, where: str) -> None:
    own = module.state_dict(keep_vars=True)
    for alias, first in tied:  # tie again what was one tensor, before loading values into it
        owner_path, _, name = alias.rpartition(".")
        owner = module.get_submodule(owner_path) if owner_path else module
        store = "_parameters" if name in owner._parameters else "_buffers"
        if first not in own or name not in getattr(owner, store):
            raise CheckpointError(f"{where}: the saved model ties {alias} to {first}, which the rebuilt one lacks")
        getattr(owner, store)[name] = own[first]
    own = module.state_dict(keep_vars=True)
    for key, value in state.items():  # a model moved to another dtype after construction stays there
        target = own.get(key)
        if isinstance(target, fg.Tensor) and isinstance(value, fg.Tensor) and target.dtype != value.dtype:
            target.data = value.detach().numpy().copy()
    try:
        module.load_state_dict(state, strict=True)
    except fg.FlowgradError as e:
        raise CheckpointError(
            f"{where}: the rebuilt {type(module).__qualname__} does not fit the saved state: {e}"
        ) from e


def _same(a: Any, b: Any) -> bool:
    """Structural equality of constructor arguments (tensors by value, modules by class)."""
    if isinstance(a, fg.nn.Module) or isinstance(b, fg.nn.Module):
        return type(a) is type(b)
    if isinstance(a, (fg.Tensor, np.ndarray)) or isinstance(b, (fg.Tensor, np.ndarray)):
        arr_a, arr_b = np.asarray(_array(a)), np.asarray(_array(b))
        return (
            arr_a.dtype == arr_b.dtype and arr_a.shape == arr_b.shape and np.array_equal(arr_a, arr_b, equal_nan=True)
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _array(x: Any) -> Any:
    return x.detach().numpy() if isinstance(x, fg.Tensor) else x


def check_arguments(module: Any, where: str) -> None:
    """Refuse, before anything is written, a module whose arguments name code or unknown objects."""
    for path, sub in module.named_modules():
        args, kwargs = sub.__dict__.get("_init_args", ((), {}))
        for label, value in [*((f"argument {i}", v) for i, v in enumerate(args)), *kwargs.items()]:
            bad = _unstorable(value)
            if bad is not None:
                at = f"{path} ({type(sub).__name__})" if path else type(sub).__name__
                raise CheckpointError(
                    f"{where}: cannot save the whole model: {at} was built with {label} = {bad}, which a file "
                    f"cannot hold without naming code; {_ADVICE}"
                )
        if "<locals>" in type(sub).__qualname__:
            raise CheckpointError(
                f"{where}: cannot save the whole model: class {type(sub).__qualname__} is defined inside a function "
                f"and could not be found when loading; define it at module level or {_ADVICE}"
            )


def _unstorable(value: Any, depth: int = 0) -> str | None:
    if depth > 20:
        return "a structure nested too deeply"
    if is_data(value) or isinstance(value, (fg.Tensor, np.ndarray, np.generic, fg.nn.Module)):
        return None
    if isinstance(value, (list, tuple)):
        return next((b for b in (_unstorable(v, depth + 1) for v in value) if b is not None), None)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return next((b for b in (_unstorable(v, depth + 1) for v in value.values()) if b is not None), None)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return None
    kind = "a function" if callable(value) else f"a {type(value).__name__}"
    return f"{kind} ({value!r:.60})"


def differences(original: Any, rebuilt: Any) -> str | None:
    """The first way ``rebuilt`` differs from ``original`` that a user would notice, or None."""
    mine, theirs = dict(original.named_modules()), dict(rebuilt.named_modules())
    if list(mine) != list(theirs):
        return f"submodules {list(mine)[:8]} became {list(theirs)[:8]}"
    for path, sub in mine.items():
        other = theirs[path]
        at = f"{path} ({type(sub).__name__})" if path else type(sub).__name__
        if type(sub) is not type(other):
            return f"{at} is a {type(sub).__name__}, rebuilt as a {type(other).__name__}"
        for name, value in sub.__dict__.items():
            if name in _MACHINERY or is_data(value):
                continue  # data attributes are stored and restored
            if name not in other.__dict__ or not _alike(value, other.__dict__[name]):
                return (
                    f"{at}: attribute {name!r} holds {_kind(value)}, not what the constructor makes "
                    "(was it changed after construction?)"
                )
    a, b = original.state_dict(keep_vars=True), rebuilt.state_dict(keep_vars=True)
    if list(a) != list(b):
        return f"the state keys {list(a)[:6]} became {list(b)[:6]}"
    if _tied(original) != _tied(rebuilt):
        return f"the tied weights {_tied(original)[:4]} became {_tied(rebuilt)[:4]}"
    for key, value in a.items():
        other = b[key]
        if not isinstance(value, fg.Tensor):
            continue
        if not isinstance(other, fg.Tensor) or (value.shape, value.dtype) != (other.shape, other.dtype):
            return f"{key} is {_describe_tensor(value)}, rebuilt as {_describe_tensor(other)}"
        if value.requires_grad != other.requires_grad:
            return f"{key}.requires_grad is {value.requires_grad}, rebuilt as {other.requires_grad}"
        if not np.array_equal(value.detach().numpy(), other.detach().numpy(), equal_nan=True):
            return f"{key} holds other values after rebuilding"
    return None


def _describe_tensor(t: Any) -> str:
    return f"{t.dtype}{list(t.shape)}" if isinstance(t, fg.Tensor) else type(t).__name__


def _kind(value: Any) -> str:
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    return type(value).__qualname__


def _alike(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether a non-data attribute of the rebuilt module is what the original holds: the same
    function (the same code over alike closures), the same class of module or object."""
    if a is b:
        return True
    if depth > 5 or type(a) is not type(b):
        return False
    if hasattr(a, "__func__"):  # bound methods: the same function, bound to alike objects
        return a.__func__ is b.__func__
    code = getattr(a, "__code__", None)
    if code is not None:  # fg.tanh and fg.sigmoid share code and differ in what they close over
        cells_a, cells_b = a.__closure__ or (), b.__closure__ or ()
        return code is b.__code__ and all(
            _same_cell(x.cell_contents, y.cell_contents, depth) for x, y in zip(cells_a, cells_b)
        )
    if is_data(a):
        return bool(a == b)
    return not callable(a)  # another object of the same class: its constructor made it


def _same_cell(a: Any, b: Any, depth: int) -> bool:
    # What a function closes over: the same object, alike functions, the module itself, equal data.
    if a is b or (isinstance(a, fg.nn.Module) and type(a) is type(b)):
        return True
    if callable(a) and hasattr(a, "__code__"):
        return _alike(a, b, depth + 1)
    return is_data(a) and type(a) is type(b) and bool(a == b)
