"""Safetensors files as bytes: taken apart, put back together, re-signed, and read independently.

The tools under the hostile checkpoint tests (tests/hostile/mutate_checkpoint.py): a mutator
splits a file into its JSON header and body, changes either, and joins them again; ``resign``
recomputes the checksums as docs/checkpoints.md specifies them; ``decode_plain`` is a reader
that shares no code with flowgrad's, the oracle for files without flowgrad metadata.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

# The __metadata__ keys docs/checkpoints.md describes, written here rather than imported, so the
# tests check the documented format and not whatever flowgrad happens to write.
META, DIGEST = "flowgrad", "flowgrad.sha256"


# ----- taking a file apart and putting it back together -----------------------------------------
def split(data: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def join(header: dict | str | bytes, body: bytes, pad: bool = True) -> bytes:
    raw = header if isinstance(header, bytes) else (header if isinstance(header, str) else dumps(header)).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + body


def raw_object(items: list[tuple[str, Any]]) -> str:
    """A JSON object written item by item: the same key may appear twice."""
    return "{" + ",".join(f"{dumps(k)}:{dumps(v)}" for k, v in items) + "}"


def tensor_names(header: dict) -> list[str]:
    return [k for k in header if k != "__metadata__"]


def resign(header: dict, body: bytes) -> dict:
    """Recompute every checksum (as docs/checkpoints.md specifies them) after a change."""
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        return header
    names = tensor_names(header)
    try:
        tree = json.loads(meta[META])
    except (KeyError, TypeError, ValueError):
        tree = None
    if isinstance(tree, dict) and isinstance(tree.get("sha256"), dict):
        for name in names:
            info = header[name]
            try:
                begin, end = info["data_offsets"]
                tree["sha256"][name] = hashlib.sha256(body[begin:end]).hexdigest()
            except (KeyError, TypeError, ValueError):
                pass
        meta[META] = dumps(tree)
    try:
        canonical = {
            "metadata": {k: v for k, v in meta.items() if k != DIGEST},
            "tensors": {n: [header[n]["dtype"], list(header[n]["shape"])] for n in names},
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (KeyError, TypeError, ValueError):
        return header
    meta[DIGEST] = hashlib.sha256(text.encode("ascii")).hexdigest()
    return header


# ----- an independent reader for plain files (the oracle of "plain" mutants) ------------------------
_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
           "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}  # fmt: skip


def decode_plain(data: bytes) -> dict[str, np.ndarray]:
    """What a well-formed plain safetensors file holds. Only called on files flowgrad loaded."""
    header, body = split(data)
    out = {}
    for name in tensor_names(header):
        info = header[name]
        begin, end = info["data_offsets"]
        arr = np.frombuffer(body[begin:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.astype(arr.dtype.newbyteorder("="))
    return out


def has_flowgrad_metadata(data: bytes) -> bool:
    try:
        header, _ = split(data)
        meta = header.get("__metadata__", {})
        return META in meta or DIGEST in meta
    except (ValueError, AttributeError, TypeError):
        return True
