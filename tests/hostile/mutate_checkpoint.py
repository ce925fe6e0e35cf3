"""Hostile safetensors files: valid flowgrad files, then broken in every way a file can break.

Every mutant comes from ``np.random.default_rng([SEED, index])``, so mutant ``index`` is the
same file in every run (CI's first thousand are the first thousand of ``make verify``'s ten
thousand) and a failure names a file that can be made again with :func:`mutant`.

Each mutant carries its oracle, what a successful load must give:

- ``"same"``: the original state, bit for bit (a harmless change, such as whitespace in the
  header, or a change the checksums should have caught);
- ``"resigned"``: the mutator recomputed the SHA-256 sums after its change, as an attacker can
  (they are checksums against corruption, not signatures), so the file may load with other
  content; it must then be well-formed state that saves and loads again unchanged;
- ``"plain"``: a safetensors file without flowgrad metadata, which loads as
  ``{name: fg.Tensor}`` exactly as its header and bytes say (checked with an independent
  decoder).
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base_files import Base, bases, checkpoint_base, make_training  # noqa: F401 - used as mc.*
from .safetensors_bytes import (  # noqa: F401 - the harness and tests use them as mc.*
    DIGEST,
    META,
    decode_plain,
    dumps,
    has_flowgrad_metadata,
    join,
    raw_object,
    resign,
    split,
    tensor_names,
)

SEED = 20240611


@dataclass(frozen=True)
class Mutant:
    index: int
    base: str
    kind: str  # family/variant, for the report and the file's name
    data: bytes
    oracle: str  # "same", "resigned" or "plain"


# ----- the mutations ---------------------------------------------------------------------------
HUGE = [2**31, 2**32, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30]


def _pick(rng: np.random.Generator, seq: list) -> Any:
    return seq[int(rng.integers(len(seq)))]


def m_truncate(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    cut = int(rng.integers(0, len(data)))
    where = "header" if cut < 8 + int.from_bytes(data[:8], "little") else "data"
    return f"truncate-{where}", data[:cut], "same"


def m_bitflip(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    out = bytearray(data)
    n = int.from_bytes(data[:8], "little")
    in_header = rng.random() < 0.6
    for _ in range(int(rng.integers(1, 5))):
        pos = int(rng.integers(0, 8 + n)) if in_header else int(rng.integers(0, len(out)))
        out[pos] ^= 1 << int(rng.integers(8))
    return f"bitflip-{'header' if in_header else 'anywhere'}", bytes(out), "same"


def m_bytes(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    out = bytearray(data)
    values = [0x00, 0xFF, 0x7F, 0x80, ord('"'), ord("{"), ord("}"), ord("\\"), ord("["), ord(","), ord("-")]
    for _ in range(int(rng.integers(1, 9))):
        pos = int(rng.integers(0, len(out)))
        out[pos] = _pick(rng, values) if rng.random() < 0.7 else int(rng.integers(256))
    return "bytes", bytes(out), "same"


def m_length(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    n = int.from_bytes(data[:8], "little")
    size = len(data)
    value = _pick(rng, [0, 1, 7, n - 1, n + 1, n + 8, n - 8, size, size - 7, size - 8, 2**31, 2**32 + n, *HUGE[4:7]])
    value = int(value) % 2**64
    order = "big" if rng.random() < 0.1 else "little"
    return f"length-{'big-endian' if order == 'big' else value}", value.to_bytes(8, order) + data[8:], "same"


def _entry_value(rng: np.random.Generator, field: str, info: dict) -> Any:
    begin, end = info["data_offsets"]
    size = end - begin
    if field == "data_offsets":
        return _pick(
            rng,
            [
                [-1, end], [begin, begin - 1] if begin else [end, begin], [end, begin], [begin, end + 1],
                [begin - 8, end - 8], [begin + 8, end + 8], [0, 2**64], [2**62, 2**62 + size], [-(2**63), end],
                [float(begin), float(end)], [begin], [begin, end, 0], "0-16", None, {"0": end}, [True, end],
                [begin, -1], [str(begin), str(end)], [begin, 2**63 - 1], [],
            ],
        )  # fmt: skip
    if field == "shape":
        shape = list(info["shape"])
        return _pick(
            rng,
            [
                [2**62, 2**62], [-1], [1.5], ["2"], [[2]], [], [0, 2**63], [2**31] * 4, [True], [1] * 65,
                shape[::-1] + [1], [*shape, 2], None, "2,3", {"0": 2}, [0] * 3, [2**64], [-(2**63)],
                [size], [0, 2**64 - 1],
            ],
        )  # fmt: skip
    return _pick(
        rng,
        ["F8", "C64", "f32", "", "F32 ", None, 32, ["F32"], "BF16", "F64", "F16", "I32", "U8", "BOOL", "I64",
         "float32", "<f4", "F32\u0000", "\u0046\u0033\u0032x", "U64"],
    )  # fmt: skip


def m_entry(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    header, body = split(data)
    names = tensor_names(header)
    name = _pick(rng, names)
    field = _pick(rng, ["data_offsets", "shape", "dtype"])
    header[name][field] = _entry_value(rng, field, header[name])
    if rng.random() < 0.3:  # also remove or add a field
        if rng.random() < 0.5:
            header[name].pop(_pick(rng, ["data_offsets", "shape", "dtype"]), None)
        else:
            header[name]["extra"] = 1
    return f"entry-{field}", join(header, body), "same"


def m_names(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    header, body = split(data)
    items = list(header.items())
    names = tensor_names(header)
    target = _pick(rng, names)
    k = next(i for i, (key, _) in enumerate(items) if key == target)
    variant = _pick(rng, ["duplicate", "rename", "empty", "metadata-name", "extra-empty", "extra-data", "remove"])
    if variant == "duplicate":
        items.insert(int(rng.integers(0, len(items) + 1)), items[k])
    elif variant == "rename":
        items[k] = (items[k][0] + "x", items[k][1])
    elif variant == "empty":
        items[k] = ("", items[k][1])
    elif variant == "metadata-name":
        items[k] = ("__metadata__", items[k][1])
    elif variant == "extra-empty":  # a zero-byte tensor fits anywhere in the layout
        end = max(info["data_offsets"][1] for key, info in items if key != "__metadata__")
        items.append(("ghost", {"dtype": "F32", "shape": [0, 5], "data_offsets": [end, end]}))
    elif variant == "extra-data":
        items.append(("ghost", {"dtype": "U8", "shape": [4], "data_offsets": [len(body), len(body) + 4]}))
        body += b"\x01\x02\x03\x04"
    else:
        del items[k]
    return f"names-{variant}", join(raw_object(items), body), "same"


def m_metadata(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    header, body = split(data)
    meta = header.get("__metadata__", {})
    variant = _pick(
        rng,
        ["not-a-dict", "not-strings", "drop-tree", "drop-digest", "drop-both", "non-utf8", "surrogate", "nan",
         "deep", "huge-int", "trailing", "not-an-object", "nul", "tree-not-json"],
    )  # fmt: skip
    oracle = "same"
    if variant == "not-a-dict":
        header["__metadata__"] = _pick(rng, [[], "x", 1, None, [["flowgrad", "{}"]]])
    elif variant == "not-strings":
        meta[_pick(rng, [META, DIGEST, "other"])] = _pick(rng, [1, None, {"version": 1}, ["a"], 1.5, True])
    elif variant in ("drop-tree", "drop-digest", "drop-both"):
        if variant != "drop-digest":
            meta.pop(META, None)
        if variant != "drop-tree":
            meta.pop(DIGEST, None)
        if variant == "drop-both":
            oracle = "plain"  # what is left is a plain safetensors file, which loads as such
    elif variant == "non-utf8":  # raw bytes that are not UTF-8, inside the metadata's strings
        raw = dumps(header).encode()
        at = raw.find(b'"__metadata__"') + 20
        pos = int(rng.integers(at, len(raw) - 2))
        bad = _pick(rng, [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"])
        return f"metadata-{variant}", join(raw[:pos] + bad + raw[pos + 1 :], body), oracle
    elif variant == "surrogate":
        meta["note"] = "\ud800 lone"
    elif variant == "nan":
        text = dumps(header)
        token = _pick(rng, ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
        text = text.replace('"shape":[', f'"shape":[{token},', 1)
        return f"metadata-{variant}", join(text, body), oracle
    elif variant == "deep":
        depth = int(_pick(rng, [100, 1000, 100_000]))
        header["__metadata__"] = json.loads("[" * min(depth, 500) + "]" * min(depth, 500)) if depth <= 500 else None
        if depth > 500:
            text = dumps(header).replace('"__metadata__":null', '"__metadata__":' + "[" * depth + "]" * depth)
            return f"metadata-{variant}-{depth}", join(text, body), oracle
    elif variant == "huge-int":
        text = dumps(header).replace('"data_offsets":[0,', '"data_offsets":[' + "0" * 4 + "1" * 5000 + ",", 1)
        return f"metadata-{variant}", join(text, body), oracle
    elif variant == "trailing":
        return f"metadata-{variant}", join(dumps(header) + _pick(rng, [" x", "{}", ",", "]", "\x00"]), body), oracle
    elif variant == "not-an-object":
        return f"metadata-{variant}", join(_pick(rng, ["[]", '"x"', "1", "null", "true", "[{}]"]), body), oracle
    elif variant == "nul":
        text = dumps(header)
        pos = int(rng.integers(1, len(text) - 1))
        return f"metadata-{variant}", join(text[:pos] + "\x00" + text[pos:], body), oracle
    else:
        meta[META] = _pick(rng, ["{", "[1,", "", "nan", '{"version":1,"tree":NaN,"sha256":{}}', "{'a': 1}"])
    return f"metadata-{variant}", join(header, body), oracle


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*at, i))
    return out


def _replace(node: Any, at: tuple, value: Any) -> Any:
    if not at:
        return value
    node[at[0]] = _replace(node[at[0]], at[1:], value)
    return node


def _hostile_nodes(rng: np.random.Generator, names: list[str]) -> list[Any]:
    name = _pick(rng, names)
    deep: Any = 1
    for _ in range(int(_pick(rng, [150, 250, 400]))):
        deep = [deep]
    return [
        {"$fg": "tensor", "name": "nope"}, {"$fg": "tensor"}, {"$fg": "tensor", "name": 5},
        {"$fg": "tensor", "name": name, "requires_grad": _pick(rng, ["yes", 1, None, False, True, 0.0])},
        {"$fg": "ndarray", "name": name, "requires_grad": True}, {"$fg": "scalar", "name": name},
        {"$fg": "ndarray", "name": name}, {"$fg": "tensor", "name": name, "extra": 1},
        {"$fg": "unknown"}, {"$fg": 5}, {"$fg": None}, {"$fg": ["tuple"]}, {"$fg": {"a": 1}},
        {"$fg": "tuple", "items": 5}, {"$fg": "tuple", "items": [1], "x": 2}, {"$fg": "tuple"},
        {"$fg": "dict", "items": [[1]]}, {"$fg": "dict", "items": [[[1, 2], 3]]},
        {"$fg": "dict", "items": [[{"a": 1}, 3]]}, {"$fg": "dict", "items": [[1, "a"], [1, "b"]]},
        {"$fg": "dict", "items": [[{"$fg": "tuple", "items": [[1]]}, 0]]},
        {"$fg": "dict", "items": [[{"$fg": "float", "value": "nan"}, 1], [{"$fg": "float", "value": "nan"}, 2]]},
        {"$fg": "dict", "items": [[{"$fg": "tensor", "name": name}, 1]]},
        {"$fg": "dict", "items": [[{"$fg": "scalar", "name": name}, 1]]},
        {"$fg": "dict", "items": {"a": 1}}, {"$fg": "dict", "items": [[True, 1], [1, 2]]},
        {"$fg": "float", "value": "1e999"}, {"$fg": "float", "value": 5}, {"$fg": "float", "value": "nan", "x": 1},
        {"$fg": "float", "value": "NaN"}, deep, [{"$fg": "tensor", "name": name}] * 2,
        {"$fg": "tuple", "items": [{"$fg": "tensor", "name": name}, {"$fg": "ndarray", "name": name}]},
        "x" * 10_000, "\ud800", 10**300, -(2**64), 1e308, -0.0, [], {}, None,
    ]  # fmt: skip


def m_tree(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    """Change the flowgrad tree and recompute the checksums: the decoder's own checks must hold."""
    header, body = split(data)
    meta = header["__metadata__"]
    tree = json.loads(meta[META])
    names = tensor_names(header)
    variant = _pick(rng, ["node", "node", "node", "version", "sha256", "keys"])
    if variant == "node":
        at = _pick(rng, _paths(tree["tree"]))
        nodes = _hostile_nodes(rng, names)
        tree["tree"] = _replace(tree["tree"], at, nodes[int(rng.integers(len(nodes)))])
    elif variant == "version":
        tree["version"] = _pick(rng, [2, 0, "1", None, True, 1.0, -1, [1]])
    elif variant == "sha256":
        tree["sha256"] = _pick(rng, [[], {}, {names[0]: 1}, None, {**tree["sha256"], "ghost": "00"}])
    else:
        change = _pick(rng, ["drop-tree", "drop-sha", "extra"])
        if change == "drop-tree":
            del tree["tree"]
        elif change == "drop-sha":
            del tree["sha256"]
        else:
            tree["extra"] = 1
    meta[META] = dumps(tree)
    return f"tree-{variant}", join(resign(header, body), body), "resigned"


def m_resigned_data(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    """Change a tensor's bytes, dtype or shape and recompute the checksums."""
    header, body = split(data)
    names = [n for n in tensor_names(header) if header[n]["data_offsets"][1] > header[n]["data_offsets"][0]]
    name = _pick(rng, names)
    info = header[name]
    begin, end = info["data_offsets"]
    variant = _pick(rng, ["bytes", "dtype", "shape"])
    if variant == "bytes":
        out = bytearray(body)
        for _ in range(int(rng.integers(1, 4))):
            out[int(rng.integers(begin, end))] = int(rng.integers(256))
        body = bytes(out)
    elif variant == "dtype":
        same_size = {
            1: ["I8", "U8", "BOOL"],
            2: ["F16", "I16", "U16"],
            4: ["F32", "I32", "U32"],
            8: ["F64", "I64", "U64"],
        }
        size = (end - begin) // max(int(np.prod(info["shape"])), 1)
        info["dtype"] = _pick(rng, same_size.get(size, ["U8"]))
    else:
        count = int(np.prod(info["shape"]))
        info["shape"] = _pick(rng, [[count], [1, count], [count, 1], list(info["shape"])[::-1], [1] * 10 + [count]])
    return f"resigned-{variant}", join(resign(header, body), body), "resigned"


def _foreign(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    obj = {"w": [1.0, 2.0], "epoch": 3, "name": "net"}
    variant = _pick(
        rng,
        ["pickle", "pickle", "zip", "npy", "npz", "garbage", "empty", "zeros", "json", "csv", "gzip", "short",
         "pickle-prefix", "brace"],
    )  # fmt: skip
    if variant == "pickle":
        protocol = int(rng.integers(0, pickle.HIGHEST_PROTOCOL + 1))
        big = _pick(rng, [obj, list(range(int(rng.integers(1, 30_000))))])
        return f"pickle-{protocol}", pickle.dumps(big, protocol=protocol)
    if variant == "zip":  # what torch.save writes: a zip holding data.pkl
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
            z.writestr("archive/version", "3\n")
        return variant, buf.getvalue()
    if variant in ("npy", "npz"):
        buf = io.BytesIO()
        arr = np.arange(int(rng.integers(0, 100)), dtype=np.float32)
        np.save(buf, arr) if variant == "npy" else np.savez(buf, w=arr)
        return variant, buf.getvalue()
    if variant == "garbage":
        return variant, rng.integers(0, 256, size=int(rng.integers(0, 3000)), dtype=np.uint8).tobytes()
    if variant == "empty":
        return variant, b""
    if variant == "zeros":
        return variant, bytes(int(rng.integers(1, 200)))
    if variant == "json":
        return variant, json.dumps(obj).encode()
    if variant == "csv":
        return variant, b"a,b,y\n1,2,3\n4,5,6\n"
    if variant == "gzip":
        return variant, gzip.compress(data, mtime=0)
    if variant == "short":
        return variant, data[: int(rng.integers(0, 9))]
    if variant == "pickle-prefix":  # a pickle's opcodes where a safetensors header should be
        return variant, data[:8] + pickle.dumps(obj, protocol=0) + data[8:]
    return variant, (16).to_bytes(8, "little") + b"{" + rng.integers(0, 256, 15, dtype=np.uint8).tobytes()


def m_foreign(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    variant, out = _foreign(rng, data)
    return f"foreign-{variant}", out, "same"


def m_splice(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    variant = _pick(rng, ["append", "insert", "delete", "duplicate", "swap"])
    junk = rng.integers(0, 256, size=int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
    a, b = sorted(int(v) for v in rng.integers(0, len(data) + 1, size=2))
    if variant == "append":
        out = data + _pick(rng, [junk, bytes(len(junk)), data[-8:]])
    elif variant == "insert":
        out = data[:a] + junk + data[a:]
    elif variant == "delete":
        out = data[:a] + data[max(b, a + 1) :]
    elif variant == "duplicate":
        out = data[:b] + data[a:b] + data[b:] if b > a else data + data[:1]
    elif b - a >= 8 and b + 8 <= len(data):  # swap two 8-byte blocks
        out = data[:a] + data[b : b + 8] + data[a + 8 : b] + data[a : a + 8] + data[b + 8 :]
    else:
        out = data + b"\0"
    return f"splice-{variant}", out, "same"


def m_harmless(rng: np.random.Generator, data: bytes) -> tuple[str, bytes, str]:
    """Changes that keep the file's meaning: it must load, and give the original state."""
    header, body = split(data)
    variant = _pick(rng, ["indent", "reorder", "no-padding", "more-padding", "escape", "spaces"])
    if variant == "indent":
        return f"harmless-{variant}", join(json.dumps(header, indent=int(rng.integers(0, 4))), body), "same"
    if variant == "reorder":
        items = list(header.items())
        rng.shuffle(items)
        return f"harmless-{variant}", join(dict(items), body), "same"
    if variant == "no-padding":
        return f"harmless-{variant}", join(header, body, pad=False), "same"
    if variant == "more-padding":
        raw = dumps(header) + " " * int(rng.integers(0, 100)) + _pick(rng, ["", "\t", "\n", "\r\n"])
        return f"harmless-{variant}", join(raw, body, pad=False), "same"
    if variant == "escape":  # "dtype" as "\u0064type": another spelling of the same string
        text = dumps(header).replace('"dtype"', '"\\u0064type"').replace('"shape"', '"sh\\u0061pe"')
        return f"harmless-{variant}", join(text, body), "same"
    return f"harmless-{variant}", join(json.dumps(header, separators=(" , ", " : ")), body), "same"


FAMILIES = [
    (m_truncate, 12),
    (m_bitflip, 22),
    (m_bytes, 6),
    (m_length, 6),
    (m_entry, 10),
    (m_names, 7),
    (m_metadata, 10),
    (m_tree, 10),
    (m_resigned_data, 5),
    (m_foreign, 6),
    (m_splice, 6),
    (m_harmless, 4),
]
_NEEDS_FLOWGRAD_METADATA = {m_tree}


def mutant(
    index: int, base_data: bytes | None = None, base_name: str | None = None, *, plain_ok: bool = True
) -> Mutant:
    """Mutant ``index``: of ``base_data`` when given, else of one of :func:`bases` chosen by the index."""
    rng = np.random.default_rng([SEED, index])
    if base_data is None:
        choices = bases() if plain_ok else tuple(b for b in bases() if not b.plain)
        base = choices[int(rng.integers(len(choices)))]
        base_data, base_name, plain = base.data, base.name, base.plain
    else:
        plain = False
    families = [(f, w) for f, w in FAMILIES if not (plain and f in _NEEDS_FLOWGRAD_METADATA)]
    weights = np.array([w for _, w in families], dtype=float)
    family = families[int(rng.choice(len(families), p=weights / weights.sum()))][0]
    kind, data, oracle = family(rng, base_data)
    return Mutant(index, base_name or "base", kind, data, "plain" if plain else oracle)
