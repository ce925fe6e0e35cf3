"""A state tree (dicts, lists, tuples, numbers, strings, tensors, arrays, whole models) as JSON plus
named arrays, and back: the codec inside flowgrad's checkpoint files (see ``flowgrad.io.checkpoint``).

Each tensor or array becomes a reference ``{"$fg": "tensor", "name": ...}`` to a named array; what
JSON has no word for (tuples, non-string keys, NaN and infinities) gets a tagged object. Decoding
checks every entry, so a crafted file is refused with the place it went wrong.

>>> import numpy as np
>>> encoder = Encoder("example")
>>> tree = encoder.encode({"w": np.arange(2.0), "t": (1, float("nan"))}, ())
>>> decoded = decode(tree, encoder.arrays, {}, "example")
>>> decoded["w"], decoded["t"][0]
(array([0., 1.]), 1)
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

import flowgrad as fg

from ..errors import CheckpointError
from . import safetensors_format as st
from . import whole_module

__all__ = ["Encoder", "decode", "sha256", "TAG"]

TAG = "$fg"  # marks a JSON object that stands for something JSON has no word for
_MAX_DEPTH = 200  # deeper trees are refused rather than overflowing the interpreter's stack
_SCALARS = (type(None), bool, int, str)
_KEYS = (*_SCALARS, float, np.generic)  # what a dict key may be (tuples of these too)


class Encoder:
    """Turns a state tree into JSON-ready data, collecting its arrays in ``arrays`` by name."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id of a saved array or tensor -> its name: shared ones stay shared
        self.keep: list = []  # keeps every object whose id is in `names` alive while encoding
        self.open: set[int] = set()  # containers being encoded: meeting one again is a cycle
        self.modules: list[tuple[Any, dict]] = []  # (module, its encoded node), checked after encoding

    def fail(self, path: tuple, why: str) -> CheckpointError:
        at = ".".join(map(str, path)) or "the top level"
        return CheckpointError(f"{self.where}: cannot save {at}: {why}")

    def encode(self, obj: Any, path: tuple) -> Any:
        if isinstance(obj, (fg.Tensor, np.ndarray, np.generic)):  # first: np.float64 is a float too
            return self.array(obj, path)
        if isinstance(obj, _SCALARS):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {TAG: "float", "value": repr(obj)}
        if id(obj) in self.open:
            raise self.fail(path, "the state contains itself (a cycle)")
        if isinstance(obj, fg.nn.Module):
            whole_module.check_arguments(obj, self.where)
            node = self.module(obj, path, top=True)
            self.modules.append((obj, node))
            return node
        if len(path) > _MAX_DEPTH:
            raise self.fail(path, f"nested more than {_MAX_DEPTH} levels deep")
        self.open.add(id(obj))
        try:
            if isinstance(obj, list):
                return [self.encode(v, (*path, i)) for i, v in enumerate(obj)]
            if isinstance(obj, tuple):
                return {TAG: "tuple", "items": [self.encode(v, (*path, i)) for i, v in enumerate(obj)]}
            if isinstance(obj, dict):
                if all(isinstance(k, str) for k in obj) and TAG not in obj:
                    return {k: self.encode(v, (*path, k)) for k, v in obj.items()}
                # Keys that JSON cannot hold (optimizer state is keyed by int) keep their type.
                return {
                    TAG: "dict",
                    "items": [[self.key(k, path), self.encode(v, (*path, k))] for k, v in obj.items()],
                }
        finally:
            self.open.discard(id(obj))
        raise self.fail(path, f"{type(obj).__name__} is not a tensor, array, number, string, None, list, tuple or dict")

    def module(self, obj: Any, path: tuple, top: bool) -> dict:
        if len(path) > _MAX_DEPTH:
            raise self.fail(path, f"nested more than {_MAX_DEPTH} levels deep")
        self.open.add(id(obj))
        try:
            node = whole_module.describe(obj, top)
            out = {TAG: "module", **{k: self.encode(v, (*path, k)) for k, v in node.items() if k != "children"}}
            out["children"] = {
                name: None if child is None else self.module(child, (*path, name), top=False)
                for name, child in node["children"].items()
            }
            return out
        finally:
            self.open.discard(id(obj))

    def key(self, k: Any, path: tuple) -> Any:
        if isinstance(k, _KEYS):
            return self.encode(k, path)
        if isinstance(k, tuple) and all(isinstance(v, _KEYS) for v in k):
            return self.encode(k, path)
        raise self.fail(path, f"dict key {k!r:.60} of type {type(k).__name__} cannot be stored")

    def array(self, obj: Any, path: tuple) -> dict:
        kind = "tensor" if isinstance(obj, fg.Tensor) else "ndarray" if isinstance(obj, np.ndarray) else "scalar"
        ref: dict[str, Any] = {TAG: kind}
        if kind == "tensor" and obj.requires_grad:
            ref["requires_grad"] = True
        if id(obj) in self.names:
            ref["name"] = self.names[id(obj)]
            return ref
        arr = np.asarray(obj._data if kind == "tensor" else obj)
        if st.dtype_name(arr.dtype) is None:
            raise self.fail(path, f"dtype {arr.dtype} cannot be stored (flowgrad stores {' '.join(st.DTYPES)})")
        name = ".".join(map(str, path)) or "tensor"  # model.state_dict() keys stay the tensor names
        if name in self.arrays or name == "__metadata__":
            name = next(f"{name}~{i}" for i in range(1, len(self.arrays) + 2) if f"{name}~{i}" not in self.arrays)
        self.arrays[name] = st.as_little_endian(arr)
        self.names[id(obj)] = ref["name"] = name
        self.keep.append(obj)
        return ref


def decode(node: Any, arrays: dict[str, np.ndarray], used: dict[tuple, Any], where: str, depth: int = 0) -> Any:
    bad = f"{where}: flowgrad metadata"
    if depth > _MAX_DEPTH + 2:
        raise CheckpointError(f"{bad} is nested more than {_MAX_DEPTH} levels deep")
    if isinstance(node, (*_SCALARS, float)):
        return node
    if isinstance(node, list):
        return [decode(v, arrays, used, where, depth + 1) for v in node]
    if not isinstance(node, dict):  # JSON has nothing else, but stay defensive
        raise CheckpointError(f"{bad}: unexpected {type(node).__name__}")
    if TAG not in node:
        return {k: decode(v, arrays, used, where, depth + 1) for k, v in node.items()}
    tag = node[TAG]
    if tag == "tuple" and set(node) == {TAG, "items"} and isinstance(node["items"], list):
        return tuple(decode(v, arrays, used, where, depth + 1) for v in node["items"])
    if tag == "float" and set(node) == {TAG, "value"} and node["value"] in ("nan", "inf", "-inf"):
        return float(node["value"])
    if tag == "dict" and set(node) == {TAG, "items"} and isinstance(node["items"], list):
        out = {}
        for item in node["items"]:
            if not (isinstance(item, list) and len(item) == 2):
                raise CheckpointError(f"{bad}: a dict item is not a [key, value] pair")
            k = decode(item[0], arrays, used, where, depth + 1)
            if not (isinstance(k, _KEYS) or isinstance(k, tuple) and all(isinstance(v, _KEYS) for v in k)) or k in out:
                raise CheckpointError(f"{bad}: dict key {k!r:.60} is not a valid, unique key")
            out[k] = decode(item[1], arrays, used, where, depth + 1)
        return out
    if tag in ("tensor", "ndarray", "scalar") and set(node) <= {TAG, "name", "requires_grad"}:
        name, requires_grad = node.get("name"), node.get("requires_grad", False)
        if not isinstance(name, str) or name not in arrays:
            raise CheckpointError(f"{bad}: reference to a missing tensor {name!r:.60}")
        if requires_grad is not False and (requires_grad is not True or tag != "tensor"):
            raise CheckpointError(f"{bad}: malformed requires_grad for tensor {name!r:.60}")
        if (name, tag) not in used:  # the same name twice is one shared object, as it was saved
            arr = arrays[name]
            value = fg.from_numpy(arr) if tag == "tensor" else arr if tag == "ndarray" else arr[()]
            used[name, tag] = value
        value = used[name, tag]
        if requires_grad and not value.requires_grad:
            value.requires_grad_(True)
        return value
    if tag == "module" and set(node) == {TAG, *whole_module.KEYS}:
        saved = whole_module.saved_node(node, lambda v: decode(v, arrays, used, where, depth + 1), where, TAG)
        return whole_module.rebuild(saved, where)
    raise CheckpointError(f"{bad}: unknown or malformed entry {node!r:.100}")


def sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(st.as_little_endian(arr).reshape(-1).view(np.uint8).data).hexdigest()
