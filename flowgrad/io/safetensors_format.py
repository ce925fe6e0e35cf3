"""The safetensors file format, read and written without the ``safetensors`` package.

A file is 8 bytes (little-endian unsigned header length N), N bytes of UTF-8 JSON header,
then one buffer of raw little-endian tensor data. The header maps each tensor name to
``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`` (offsets into the
buffer) and may hold ``"__metadata__"``, a ``{str: str}`` dict. The tensors cover the buffer
exactly: no holes, no overlaps, nothing after the last one.

The reader trusts nothing in the file: every length, offset, dtype and shape is checked
against the file's real size before anything is allocated, and every problem is a
:class:`flowgrad.CheckpointError` that names the file.

>>> import io, numpy as np
>>> from flowgrad.io import safetensors_format as st
>>> buf = io.BytesIO()
>>> st.write(buf, {"w": np.arange(3, dtype=np.int16)}, {"note": "hi"})
>>> buf.getvalue()[8:60]
b'{"__metadata__":{"note":"hi"},"w":{"dtype":"I16","sh'
"""

from __future__ import annotations

import io
import json
import math
import os
import pickletools
import stat
import struct
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from ..errors import CheckpointError

__all__ = ["DTYPES", "dtype_name", "as_little_endian", "write", "write_with_package", "read"]

# The dtypes flowgrad reads and writes, by safetensors name. Always little-endian on disk.
DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"),
    "U16": np.dtype("<u2"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in DTYPES.items()}
_MAX_NDIM = 64  # NumPy's limit: a deeper shape in a header is corruption, not a tensor
_SNIFF_BYTES = 1 << 16
_OPCODE_SAMPLE = 1 << 12  # parsing opcodes is slow Python: 64 KiB of them took ~0.2 s, 4 KiB tell as surely


def dtype_name(dtype: np.dtype) -> str | None:
    """The safetensors name of a NumPy dtype (``'F32'``), or None if the format has none.

    >>> import numpy as np
    >>> dtype_name(np.dtype(np.float32)), dtype_name(np.dtype(bool)), dtype_name(np.dtype(complex))
    ('F32', 'BOOL', None)
    """
    return _NAMES.get((dtype.kind, dtype.itemsize))


def as_little_endian(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a C-contiguous little-endian array (no copy when it already is one).

    The ``safetensors`` package writes the raw memory of what it is given, so a transposed
    (non-contiguous) array would silently be saved with its elements in the wrong order.

    >>> import numpy as np
    >>> a = as_little_endian(np.arange(6, dtype=">i4").reshape(2, 3).T)
    >>> a.dtype.str, a.flags.c_contiguous, a.tolist()
    ('<i4', True, [[0, 3], [1, 4], [2, 5]])
    """
    # np.asarray, not np.ascontiguousarray: the latter turns 0-d arrays into 1-d ones.
    return np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")


def _layout(tensors: dict[str, np.ndarray]) -> list[str]:
    # safetensors' own order: widest dtype first, then by name. Every tensor then starts at a
    # multiple of its item size, and both writers lay out the same tensors the same way.
    return sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))


def write(f: IO[bytes], tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (C-contiguous little-endian arrays) and ``metadata`` to ``f``."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    order = _layout(tensors)
    for name in order:
        arr = tensors[name]
        header[name] = {
            "dtype": dtype_name(arr.dtype),
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + arr.nbytes],
        }
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)  # pad with spaces so the data starts 8-byte aligned
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for name in order:
        arr = tensors[name]
        if arr.size:
            f.write(arr.reshape(-1).view(np.uint8).data)


def write_with_package(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None) -> None:
    """Write the same file with the ``safetensors`` package (an ImportError if it is missing).

    >>> import os, tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     write_with_package(os.path.join(d, "a.safetensors"), {"x": np.ones(2)}, {"k": "v"})
    """
    from safetensors.numpy import save_file

    save_file(tensors, path, metadata=metadata or None)


# ----- reading --------------------------------------------------------------------------------
def _sniff(prefix: bytes, size: int) -> str | None:
    """Name what a file that is not safetensors looks like, when it is something well known."""
    if prefix.startswith(b"PK\x03\x04"):
        return "a zip archive, as torch.save writes (it holds a pickle)"
    if len(prefix) >= 2 and prefix[0] == 0x80 and 2 <= prefix[1] <= 5:
        return f"a Python pickle (protocol {prefix[1]})"
    if prefix.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file"
    # Protocol 0/1 pickles have no magic number: parse (never run) their opcodes instead.
    count = 0
    try:
        sample = prefix[:_OPCODE_SAMPLE]
        for opcode, _, _ in pickletools.genops(io.BytesIO(sample)):
            count += 1
            if opcode.name == "STOP":
                return "a Python pickle" if count >= 2 else None
    except Exception:  # noqa: BLE001 - any parse failure just means "not a pickle"
        # Running out of bytes after many good opcodes is a pickle longer than the sample.
        if count >= 8 and len(sample) < size:
            return "a Python pickle"
    return None


def _pickle_refusal(where: str, what: str) -> CheckpointError:
    return CheckpointError(
        f"{where}: this looks like {what}, not a safetensors file. flowgrad never unpickles: loading "
        "a pickle can run any code the file's author wrote. Convert it once, where you trust it "
        "(e.g. torch.load, then fg.save of the arrays)."
    )


def _unique_keys(where: str) -> Callable[[list[tuple[str, Any]]], dict]:
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise CheckpointError(f"{where}: header: duplicate name {key!r}; the file is corrupted")
            out[key] = value
        return out

    return hook


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(text: str) -> None:
    raise ValueError(f"{text} is not valid JSON")


# Bounds checked before JSON is parsed: Python objects cost many times their text (5 million
# "[]," in 15 MB of metadata took 776 MB and 9-20 s to parse), so text that would cost more than
# its size justifies is refused by a pre-scan that runs at C speed and allocates little.
MAX_JSON_CHARS = 64 << 20  # a header or flowgrad metadata longer than this is refused
MAX_JSON_DEPTH = 256  # nesting depth (flowgrad's trees stop at 200 levels)
_FREE_CONTAINERS = 4096  # containers allowed in any text...
_CHARS_PER_CONTAINER = 8  # ...plus one per this many characters (a list or dict costs ~64+ bytes)
_SCAN_BLOCK = 1 << 18  # bytes scanned at once: the scan's own memory stays a few MiB


def _structure(text: str) -> tuple[int, int]:
    """(lists and objects, deepest nesting) of JSON text, outside its strings, without parsing.

    Vectorised over blocks of bytes: a quote preceded by an odd run of backslashes is escaped;
    brackets count only outside strings. Malformed JSON gives some figures; the parser then
    refuses it anyway.
    """
    data = text.encode("utf-8", "surrogatepass")
    containers = depth = deepest = 0
    in_string, carried = False, 0  # open string, and the backslashes ending the previous block
    for start in range(0, len(data), _SCAN_BLOCK):
        a = np.frombuffer(data, np.uint8, count=min(_SCAN_BLOCK, len(data) - start), offset=start)
        quotes = a == ord('"')
        slashes = np.flatnonzero(a == ord("\\"))
        if len(slashes) or carried:
            escaped = np.zeros(len(a) + 1, bool)  # one extra: a run may end the block
            if carried and not (len(slashes) and slashes[0] == 0):
                escaped[0] = carried % 2 == 1  # the previous block ended in backslashes
            if len(slashes):
                breaks = np.flatnonzero(np.diff(slashes) != 1)
                starts = slashes[np.r_[0, breaks + 1]]
                ends = slashes[np.r_[breaks, len(slashes) - 1]] + 1
                lengths = ends - starts + np.where(starts == 0, carried, 0)
                escaped[ends[lengths % 2 == 1]] = True
                carried = int(lengths[-1]) if ends[-1] == len(a) else 0
            else:
                carried = 0
            quotes &= ~escaped[: len(a)]
        parity = (np.cumsum(quotes, dtype=np.int32) + in_string) % 2 == 1  # True inside a string
        outside = ~parity
        opens = ((a == ord("[")) | (a == ord("{"))) & outside
        closes = ((a == ord("]")) | (a == ord("}"))) & outside
        containers += int(np.count_nonzero(opens))
        if containers:
            levels = depth + np.cumsum(opens.astype(np.int32) - closes, dtype=np.int32)
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        in_string = bool(parity[-1])
    return containers, deepest


def _prescan(text: str, where: str, what: str) -> None:
    """Refuse JSON whose size, container count or nesting depth is out of bounds, unparsed."""
    if len(text) > MAX_JSON_CHARS:
        raise CheckpointError(f"{where}: {what} is {len(text)} characters long; the limit is {MAX_JSON_CHARS}")
    if "[" not in text and "{" not in text:
        return
    containers, depth = _structure(text)
    allowed = _FREE_CONTAINERS + len(text) // _CHARS_PER_CONTAINER
    if containers > allowed:
        raise CheckpointError(
            f"{where}: {what} holds {containers} lists and objects in {len(text)} characters "
            f"(at most {allowed}: one per {_CHARS_PER_CONTAINER} characters); refused, as it would take "
            "far more memory than its size"
        )
    if depth > MAX_JSON_DEPTH:
        raise CheckpointError(f"{where}: {what} is nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")


def parse_json(text: str, where: str, what: str) -> Any:
    """Strict JSON: no duplicate keys, no NaN/Infinity, no overflowing floats, bounded depth.

    Size, nesting depth and the number of lists and objects are checked before parsing (see
    ``MAX_JSON_CHARS``, ``MAX_JSON_DEPTH``), so hostile JSON cannot take more memory or time
    than a small multiple of its size.

    >>> parse_json('{"a": [1, 2.5]}', "f.safetensors", "header")
    {'a': [1, 2.5]}
    >>> parse_json('{"a": 1, "a": 2}', "f.safetensors", "header")
    Traceback (most recent call last):
    flowgrad.errors.CheckpointError: f.safetensors: header: duplicate name 'a'; the file is corrupted
    """
    _prescan(text, where, what)
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys(where), parse_constant=_reject_constant, parse_float=_finite_float
        )
    except (ValueError, RecursionError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{where}: {what} is not valid JSON ({e}); the file is corrupted") from None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _entries(header: Any, data_len: int, where: str) -> tuple[list[tuple[str, str, tuple, int, int]], dict]:
    """Validate the header; return (name, dtype, shape, begin, end) per tensor and the metadata."""
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: header is a JSON {type(header).__name__}, not an object")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{where}: header: __metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        bad = f"{where}: header: tensor {name!r}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(f"{bad}: expected exactly dtype, shape and data_offsets, got {info!r:.200}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise CheckpointError(f"{bad}: unknown dtype {dtype!r:.40} (flowgrad reads {' '.join(DTYPES)})")
        if not isinstance(shape, list) or len(shape) > _MAX_NDIM or not all(_is_int(d) and d >= 0 for d in shape):
            raise CheckpointError(f"{bad}: shape {shape!r:.200} is not a list of at most 64 sizes >= 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
            raise CheckpointError(f"{bad}: data_offsets {offsets!r:.200} is not a pair of integers")
        begin, end = offsets
        if not 0 <= begin <= end:
            raise CheckpointError(f"{bad}: data_offsets {offsets} are negative or reversed")
        needed = math.prod(shape) * DTYPES[dtype].itemsize
        if end - begin != needed:
            raise CheckpointError(
                f"{bad}: data_offsets {offsets} span {end - begin} bytes, but shape {shape} of {dtype} needs {needed}"
            )
        entries.append((name, dtype, tuple(shape), begin, end))
    position = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != position:
            problem = "overlaps the tensor before it" if begin < position else f"leaves a hole at byte {position}"
            raise CheckpointError(f"{where}: header: tensor {name!r} (data_offsets [{begin}, {end}]) {problem}")
        position = end
    if position > data_len:
        raise CheckpointError(
            f"{where}: truncated: the header describes {position} bytes of tensor data, but only {data_len} follow it"
        )
    if position < data_len:
        raise CheckpointError(f"{where}: {data_len - position} unexpected bytes after the last tensor")
    return entries, metadata


def read(path: str | os.PathLike | IO[bytes]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file (a path, or a binary file object from where it stands):
    ``({name: array}, metadata)``, in the header's order.

    Arrays are in native byte order and own their memory. Raises CheckpointError for a
    missing, truncated, corrupted or non-safetensors file.

    >>> import os, tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "a.safetensors")
    ...     with open(path, "wb") as f:
    ...         write(f, {"x": np.eye(2, dtype=np.float16)}, {"note": "hi"})
    ...     read(path)
    ({'x': array([[1., 0.],
           [0., 1.]], dtype=float16)}, {'note': 'hi'})
    """
    if hasattr(path, "read"):  # a file object (BytesIO, an open file): read from where it stands
        where = str(getattr(path, "name", "<file object>"))
        data = path.read()
        if not isinstance(data, (bytes, bytearray)):
            raise CheckpointError(f"{where}: the file object must be opened in binary mode ('rb'), got text")
        return _read_from(io.BytesIO(data), where)
    where = os.fspath(path)
    with open_regular(where, CheckpointError) as f:
        return _read_from(f, where)


_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
)  # fmt: skip


def open_regular(
    path: str,
    error: type[Exception],
    text: dict | None = None,
    cannot: str = "cannot open",
    missing: str = "no such file",
) -> IO[Any]:
    """Open ``path`` for reading if it is a regular file; else raise ``error`` naming it.

    A FIFO or a device (``/dev/zero``) would block the reader forever or never end, so it is
    refused before anything is read. The file is opened with ``O_NONBLOCK`` (opening a FIFO
    with no writer would itself block) and checked with ``fstat`` on the open descriptor, so
    nothing can swap the path for a FIFO between the check and the read. ``text``: the
    ``open`` arguments (encoding, newline) for a text file; binary without. ``cannot`` and
    ``missing`` start the error messages.

    >>> import os, tempfile
    >>> from flowgrad.errors import DataError
    >>> open_regular(tempfile.gettempdir(), DataError)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    flowgrad.errors.DataError: ...: cannot open: it is a folder, not a regular file; give the path of a file
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except OSError as e:
        raise error(f"{path}: {cannot}: {e.strerror or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "a socket or other special file")
            raise error(f"{path}: {cannot}: it is {kind}, not a regular file; give the path of a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file never blocks; leave the descriptor as usual
        if text is None:
            return os.fdopen(fd, "rb")
        return os.fdopen(fd, "r", **text)
    except BaseException:
        os.close(fd)
        raise


def _read_from(f: Any, where: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    prefix = f.read(min(size, _SNIFF_BYTES))
    if prefix[8:9] != b"{":  # every safetensors header starts with '{'
        what = _sniff(prefix, size)
        if what is not None:
            raise _pickle_refusal(where, what)
        if size < 8:
            raise CheckpointError(f"{where}: truncated: {size} bytes, too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", prefix[:8])
    if header_len > size - 8:
        raise CheckpointError(
            f"{where}: header claims {header_len} bytes but the file has only {size - 8} after its length "
            "(truncated or not a safetensors file)"
        )
    if prefix[8:9] != b"{":
        raise CheckpointError(f"{where}: header does not start with '{{': not a safetensors file, or corrupted")
    f.seek(8)
    raw = f.read(header_len)  # bounded by the file size checked above
    if len(raw) != header_len:
        raise CheckpointError(f"{where}: truncated while reading the header (the file changed?)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{where}: header is not valid UTF-8 (at byte {8 + e.start}); corrupted") from None
    entries, metadata = _entries(parse_json(text, where, "header"), size - 8 - header_len, where)
    arrays: dict[str, np.ndarray] = {}
    for name, dtype, shape, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        try:
            arr = np.empty(shape, dtype=DTYPES[dtype])  # its byte size was checked against the file's
        except (ValueError, OverflowError):  # e.g. shape [0, 2**63]: no bytes, but no array either
            raise CheckpointError(f"{where}: header: tensor {name!r}: shape {list(shape)} is too large") from None
        raw_bytes = arr.reshape(-1).view(np.uint8)
        f.seek(8 + header_len + begin)
        if (f.readinto(raw_bytes.data) or 0) != end - begin:
            raise CheckpointError(f"{where}: truncated while reading tensor {name!r} (the file changed?)")
        if dtype == "BOOL" and raw_bytes.size and raw_bytes.max() > 1:
            raise CheckpointError(f"{where}: tensor {name!r}: BOOL bytes other than 0 and 1; corrupted")
        arrays[name] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return {name: arrays[name] for name, *_ in entries}, metadata
