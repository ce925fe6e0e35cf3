"""``fg.save`` / ``fg.load`` and ``fg.save_checkpoint`` / ``fg.load_checkpoint``.

State of any shape goes into one safetensors file: every tensor or array, wherever it sits in
the state, becomes a named tensor; everything else (nested dicts, lists, tuples, numbers,
strings, None) is one JSON string in the header's ``__metadata__["flowgrad"]``, where each
tensor is a reference by name. SHA-256 sums of each tensor and of the header detect
corruption. Nothing is ever unpickled, and every write is atomic.

>>> import os, tempfile, numpy as np, flowgrad as fg
>>> with tempfile.TemporaryDirectory() as d:
...     fg.save({"w": fg.ones(2), "ids": np.arange(3), "lr": 0.1}, os.path.join(d, "s.safetensors"))
...     state = fg.load(os.path.join(d, "s.safetensors"))
>>> state
{'w': tensor([1., 1.]), 'ids': array([0, 1, 2]), 'lr': 0.1}
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import IO, Any

import numpy as np

import flowgrad as fg

from ..errors import ArgumentError, CheckpointError, CheckpointWriteError, DTypeError, given
from . import safetensors_format as st
from . import whole_module
from .atomic import atomic_write
from .state_tree import Encoder, decode, sha256

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint"]

META_KEY = "flowgrad"  # __metadata__ key of the JSON tree (with the per-tensor SHA-256 sums)
DIGEST_KEY = "flowgrad.sha256"  # __metadata__ key of the SHA-256 of the rest of the header
FORMAT_VERSION = 1
CHECKPOINT_FORMAT = "flowgrad.checkpoint"


def _header_digest(metadata: dict[str, str], arrays: dict[str, np.ndarray]) -> str:
    # Covers the whole header except the data offsets (whose layout the writer chooses and the
    # reader checks exactly): the JSON tree, the per-tensor sums, every name, dtype and shape.
    canonical = {
        "metadata": {k: v for k, v in metadata.items() if k != DIGEST_KEY},
        "tensors": {name: [st.dtype_name(a.dtype), list(a.shape)] for name, a in arrays.items()},
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# ----- public API ------------------------------------------------------------------------------
def _encoded(obj: Any, where: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and the metadata (the tree as JSON, checksums) that a file of ``obj`` holds."""
    encoder = Encoder(where)
    tree = encoder.encode(obj, ())
    arrays = encoder.arrays
    for module, node in encoder.modules:  # prove, before writing, that the file gives this model back
        try:
            diff = whole_module.differences(module, decode(node, arrays, {}, where))
        except CheckpointError as e:
            diff = str(e).removeprefix(f"{where}: ")
        if diff is not None:
            raise CheckpointError(
                f"{where}: cannot save the whole model: rebuilt from its class and constructor arguments, {diff}; "
                "save model.state_dict() instead and build the model in code before loading it"
            )
    try:
        meta = {"version": FORMAT_VERSION, "tree": tree, "sha256": {n: sha256(a) for n, a in arrays.items()}}
        metadata = {META_KEY: json.dumps(meta, separators=(",", ":"), ensure_ascii=True, allow_nan=False)}
    except ValueError as e:  # e.g. an int with more digits than Python will print
        raise CheckpointError(f"{where}: cannot save: {e}") from e
    metadata[DIGEST_KEY] = _header_digest(metadata, arrays)
    return arrays, metadata


def save(obj: Any, path: str | os.PathLike | IO[bytes], *, backend: str = "auto") -> None:
    """Save a state (a tensor, or dicts/lists/tuples of tensors, arrays and JSON data) to ``path``.

    The file is safetensors; non-tensor values live as JSON in its ``__metadata__``. The write
    to a path is atomic; a binary file object (``io.BytesIO``, an open file) is written as it is,
    from where it stands. ``backend``: ``'auto'`` (the ``safetensors`` package when installed),
    ``'safetensors'`` or ``'builtin'``; both write the same format.

    >>> import os, tempfile, flowgrad as fg
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "state.safetensors")
    ...     fg.save({"w": fg.ones(2, 3), "step": 7, "betas": (0.9, 0.999)}, path)
    ...     state = fg.load(path)
    >>> state["w"].shape, state["step"], state["betas"]
    ((2, 3), 7, (0.9, 0.999))
    """
    if backend not in ("auto", "safetensors", "builtin"):
        raise ArgumentError(f"fg.save: backend must be 'auto', 'safetensors' or 'builtin', got {backend!r}")
    if hasattr(path, "write"):  # a binary file object (BytesIO, an open file): the caller owns it
        arrays, metadata = _encoded(obj, str(getattr(path, "name", "<file object>")))
        st.write(path, arrays, metadata)  # type: ignore[arg-type]  # has .write: a binary file
        return
    where = _path(path, "fg.save")
    # Checked before anything is written: the OSError would name the temporary file, not this path.
    folder = os.path.dirname(os.path.abspath(where))
    if os.path.isdir(where):
        raise CheckpointWriteError(f"{where}: cannot save: it is a folder; give a file name")
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CheckpointWriteError(f"{where}: cannot save: {folder} {what}")
    if backend == "auto":
        try:
            import safetensors.numpy  # noqa: F401
        except ImportError:
            backend = "builtin"
        else:
            backend = "safetensors"
    arrays, metadata = _encoded(obj, where)

    def write(f: IO[bytes], temp: str) -> None:
        if backend == "builtin":
            st.write(f, arrays, metadata)
        else:
            st.write_with_package(temp, arrays, metadata)

    try:
        atomic_write(path, write)
    except CheckpointError:
        raise
    except Exception as e:
        # A full disk (ENOSPC, or EFBIG under `ulimit -f`), no permission, a read-only file
        # system: the old file is intact (atomic_write never touches it before the rename), and
        # the caller gets one clear error naming the path instead of an OSError about a
        # temporary file or the safetensors package's SafetensorError.
        if not isinstance(e, OSError) and type(e).__name__ != "SafetensorError":
            raise
        why = getattr(e, "strerror", None) or str(e)
        err = CheckpointWriteError(f"{where}: cannot save: {why}; the previous file, if any, is unchanged")
        err.errno = getattr(e, "errno", None)
        raise err from e


def load(
    path: str | os.PathLike | IO[bytes],
    *,
    verify: bool = True,
    map_location: Any = None,
    weights_only: Any = None,
) -> Any:
    """Load what :func:`save` wrote: the same structure, bit-exact.

    Tensors come back as ``fg.Tensor`` and NumPy arrays and scalars as NumPy ones, as saved
    (tuples stay tuples, int keys stay ints). A safetensors file from another tool gives
    ``{name: fg.Tensor}``. Missing, truncated, corrupted or pickle files raise
    ``fg.CheckpointError``. ``verify=False`` skips the SHA-256 check of the tensor data. A binary
    file object is read from where it stands. PyTorch's ``map_location`` is accepted for the CPU
    (tensors always load there; another device is refused) and ``weights_only`` is accepted and
    changes nothing: a file holds data and never code, so every load is weights-only.

    >>> import os, tempfile, numpy as np, flowgrad as fg
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "x.safetensors")
    ...     fg.save({0: np.float16(1.5), "mask": fg.tensor([True, False])}, path)
    ...     fg.load(path)
    {0: np.float16(1.5), 'mask': tensor([ True, False])}
    """
    _check_map_location(map_location)
    if hasattr(path, "read"):
        where = str(getattr(path, "name", "<file object>"))
        arrays, metadata = st.read(path)
    else:
        where = _path(path, "fg.load")
        arrays, metadata = st.read(where)
    if META_KEY not in metadata and DIGEST_KEY not in metadata:
        return {name: fg.from_numpy(arr) for name, arr in arrays.items()}  # a plain safetensors file
    if META_KEY not in metadata or DIGEST_KEY not in metadata:
        raise CheckpointError(f"{where}: flowgrad metadata is incomplete; the file is corrupted")
    if metadata[DIGEST_KEY] != _header_digest(metadata, arrays):
        raise CheckpointError(f"{where}: header checksum mismatch: the metadata, a name, dtype or shape is corrupted")
    meta = st.parse_json(metadata[META_KEY], where, "flowgrad metadata")
    if isinstance(meta, dict) and meta.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise CheckpointError(f"{where}: format version {meta['version']!r:.20}; this flowgrad reads {FORMAT_VERSION}")
    if not (isinstance(meta, dict) and set(meta) == {"version", "tree", "sha256"} and isinstance(meta["sha256"], dict)):
        raise CheckpointError(f"{where}: flowgrad metadata is malformed")
    if set(meta["sha256"]) != set(arrays):
        raise CheckpointError(f"{where}: the checksums do not list exactly the file's tensors")
    if verify:
        for name, arr in arrays.items():
            if meta["sha256"][name] != sha256(arr):
                raise CheckpointError(f"{where}: tensor {name!r}: SHA-256 mismatch, its data is corrupted")
    used: dict[tuple, Any] = {}  # (name, kind) -> the object made for it
    try:
        tree = decode(meta["tree"], arrays, used, where)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"{where}: flowgrad metadata is nested too deeply") from None
    except (fg.FlowgradError, TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        # A safety net: whatever a damaged tree trips over, the caller sees a CheckpointError.
        raise CheckpointError(f"{where}: flowgrad metadata: {e}") from e
    unused = set(arrays) - {name for name, _ in used}
    if unused:
        raise CheckpointError(f"{where}: tensors {sorted(unused)[:5]} are not referenced by the metadata")
    return tree


def save_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    epoch: Any = None,
    *,
    backend: str = "auto",
    **extra: Any,
) -> None:
    """Save a training checkpoint atomically: model and optimizer state, epoch, RNG state, extras.

    Extras are any data :func:`save` takes; an extra with a ``state_dict()`` method (a
    scheduler, another model) is saved as its state dict and restored by passing it to
    :func:`load_checkpoint` under the same name.

    >>> import os, tempfile, flowgrad as fg
    >>> net = fg.nn.Linear(2, 1); opt = fg.optim.Adam(net.parameters())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     fg.save_checkpoint(os.path.join(d, "ckpt.safetensors"), net, opt, epoch=3, best=0.25)
    ...     info = fg.load_checkpoint(os.path.join(d, "ckpt.safetensors"), net, opt)
    >>> info["epoch"], info["best"]
    (3, 0.25)
    """
    if "rng_state" in extra:
        raise ArgumentError("save_checkpoint: 'rng_state' is saved automatically; choose another name for the extra")
    _check_stateful("save_checkpoint", model=model, optimizer=optimizer)
    stateful = {k: v.state_dict() for k, v in extra.items() if callable(getattr(v, "state_dict", None))}
    state = {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "rng_state": fg.get_rng_state(),
        "model": None if model is None else model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "stateful": stateful,
        "extra": {k: v for k, v in extra.items() if k not in stateful},
    }
    save(state, path, backend=backend)


def load_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    *,
    restore_rng: bool = True,
    strict: bool = True,
    **stateful: Any,
) -> dict:
    """Restore a :func:`save_checkpoint` file into ``model``, ``optimizer`` and ``stateful`` objects.

    All or nothing: if any restore fails, everything is put back as it was and a
    ``fg.CheckpointError`` names the file. Returns ``{'epoch', 'rng_state', **extras}`` (stateful
    extras as their state dicts). With ``restore_rng`` the saved RNG state is restored too.

    >>> import os, tempfile, flowgrad as fg
    >>> with tempfile.TemporaryDirectory() as d:
    ...     fg.save_checkpoint(os.path.join(d, "c.safetensors"), epoch=1, note="warm-up")
    ...     info = fg.load_checkpoint(os.path.join(d, "c.safetensors"))
    >>> info["epoch"], info["note"]
    (1, 'warm-up')
    """
    where = _path(path, "fg.load_checkpoint")
    _check_stateful("load_checkpoint", model=model, optimizer=optimizer, **stateful)
    state = load(where)
    keys = {"format", "epoch", "rng_state", "model", "optimizer", "stateful", "extra"}
    if not (
        isinstance(state, dict)
        and state.get("format") == CHECKPOINT_FORMAT
        and set(state) == keys
        and isinstance(state["stateful"], dict)
        and isinstance(state["extra"], dict)
    ):
        raise CheckpointError(f"{where}: not a checkpoint written by fg.save_checkpoint (use fg.load for other states)")
    targets = {"model": (model, state["model"]), "optimizer": (optimizer, state["optimizer"])}
    targets.update({k: (v, state["stateful"].get(k)) for k, v in stateful.items()})
    for label, (obj, saved) in targets.items():
        if obj is not None and saved is None:
            raise CheckpointError(f"{where}: the checkpoint has no {label} state to restore")
    # Snapshot first, so a model that does not fit leaves nothing half-restored.
    undo = [(obj, _snapshot(obj)) for obj, saved in targets.values() if obj is not None]
    rng = fg.get_rng_state()
    label = "rng_state"
    try:
        for label, (obj, saved) in targets.items():
            if obj is None:
                continue
            if label == "model":
                obj.load_state_dict(saved, strict=strict)
            else:
                obj.load_state_dict(saved)
        label = "rng_state"
        if restore_rng:
            fg.set_rng_state(state["rng_state"])
    except Exception as e:
        for obj, snapshot in undo:
            obj.load_state_dict(snapshot)
        fg.set_rng_state(rng)
        raise CheckpointError(f"{where}: cannot restore {label}: {e}") from e
    return {"epoch": state["epoch"], "rng_state": state["rng_state"], **state["extra"], **state["stateful"]}


def _check_map_location(map_location: Any) -> None:
    """PyTorch's map_location: a device (name), a {from: to} dict or a function; flowgrad's
    tensors live on the CPU, so only the CPU can be asked for."""
    targets = list(map_location.values()) if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if target is not None and not callable(target):
            fg.dtypes.check_device(target)


def _path(path: Any, where: str) -> str:
    # os.fspath(5) is a bare TypeError that does not say which function wanted a path.
    if not isinstance(path, (str, os.PathLike)):
        raise DTypeError(f"{where}: path must be a str or os.PathLike, got {given(path)}")
    return os.fspath(path)


def _check_stateful(where: str, **objects: Any) -> None:
    # Checked first: a string for the model failed with an AttributeError on .state_dict().
    for name, obj in objects.items():
        if obj is not None and not (
            callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None))
        ):
            raise DTypeError(f"{where}: {name} must have state_dict() and load_state_dict(), got {given(obj)}")


def _snapshot(obj: Any) -> Any:
    state = obj.state_dict()
    if isinstance(obj, fg.nn.Module):  # a module's state dict shares its live arrays: copy them
        return {k: v.clone() if isinstance(v, fg.Tensor) else np.array(v, copy=True) for k, v in state.items()}
    return state
