"""Hostile CSV files for ``fg.data.CSVDataset``, and an independent reader that says what each holds.

Mutant ``index`` comes from ``np.random.default_rng([SEED, index])``, so every run makes the
same files. CSV has no checksums: a truncated number is still a number. So the oracle is
:func:`reference`, a plain reading of docs/data.md's rules (UTF-8 with an optional BOM, the
``csv`` module's dialect, blank lines skipped, every row as wide as the header, every used
field a float, each value representable in the column's dtype) written without flowgrad's
code: CSVDataset must raise a ``fg.DataError`` exactly when the reference finds a problem,
and otherwise give exactly the reference's arrays.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

SEED = 20240612


@dataclass(frozen=True)
class Base:
    name: str
    data: bytes
    kwargs: dict  # CSVDataset's arguments besides the path


@dataclass(frozen=True)
class Mutant:
    index: int
    base: Base
    kind: str
    data: bytes


def _number(rng: np.random.Generator) -> str:
    v = float(rng.normal(0, 50))
    return str(_pick(rng, [f"{v:.3f}", f"{v:g}", f"{v:.6e}", str(round(v)), f"{v:.1f}"]))


@cache
def bases() -> tuple[Base, ...]:
    rng = np.random.default_rng(SEED)
    housing = "CRIM,RM,AGE,MEDV\n" + "".join(",".join(_number(rng) for _ in range(4)) + "\n" for _ in range(40))
    classes = "".join(
        ",".join(_number(rng) for _ in range(4)) + f",{int(rng.integers(10))}{_pick(rng, ['', '.0'])}\n"
        for _ in range(30)
    )
    names = ['"Smith, J."', '"two\nlines"', "plain", '"say ""hi"""', "", "ümlaut"]
    ids = "id,name,x1,x2,y\n" + "".join(
        f"r{i},{_pick(rng, names)},{_number(rng)},{_number(rng)},{_number(rng)}\n" for i in range(25)
    )
    excel = "\ufeffa,b,c\r\n" + "".join(
        ",".join(_number(rng) for _ in range(3)) + "\r\n" + ("\r\n" if i % 5 == 0 else "") for i in range(20)
    )
    wide = ",".join(f"c{k}" for k in range(25)) + "\n"
    wide += "".join(",".join(f"{rng.uniform(-100, 100):.2f}" for _ in range(25)) + "\n" for _ in range(12))
    return (
        Base("housing", housing.encode(), {"label_columns": "MEDV", "chunk_size": 7}),
        Base("classes", classes.encode(), {"label_columns": 4, "header": False, "label_dtype": np.int64, "chunk_size": 5}),
        Base("ids", ids.encode(), {"feature_columns": ["x1", "x2"], "label_columns": "y", "dtype": np.float64, "chunk_size": 4}),
        Base("excel", excel.encode(), {"label_columns": 0, "chunk_size": 3}),
        Base("wide", wide.encode(), {"dtype": np.float16, "chunk_size": 5}),
    )  # fmt: skip


# ----- mutations ------------------------------------------------------------------------------
def _pick(rng: np.random.Generator, seq: list) -> Any:
    return seq[int(rng.integers(len(seq)))]


BAD_NUMBERS = [
    "abc", "1.2.3", "1e", "--1", "0x10", "1_000", "\u0661\u0662", "inf", "-inf", "nan", "NaN", "-0", "1e400",
    "-1e400", "1e-400", "", " 1 ", "+.5", ".", '"1,5"', "Infinity", "\u221e", "1e39", "-3.5e38", "3.4028236e38",
    "65520", "-65504", "1d5", "TRUE", "null", "\uff11\uff12", "\u00bd", "1/2", "0b1", "1j", "9" * 400, "1e+", "e5",
    "5e5e5", "\t7", "1\x00", "3.0", "3.5", "-1", "9223372036854775808", "9223372036854775807", "1e19", "-9.3e18",
    "1" * 5000, " ", "\u00a01", "'3'", '"3"', "3,", "nan(1)", "-nan", "+inf", "iNfInItY",
]  # fmt: skip
TROUBLE = [",", '"', "\n", "\r", "\r\n", "\x00", " ", "\t", ";", "e", "-", ".", "+", "x", "\\", "'", "\x1a",
           "\x0c", "\u2028", "\u00a0", "\ufeff", '""', ",,", "\n\n"]  # fmt: skip


def _lines(text: str) -> list[str]:
    return text.split("\n")


def c_truncate(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    return "truncate", data[: int(rng.integers(0, len(data)))]


def c_bitflip(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        out[int(rng.integers(len(out)))] ^= 1 << int(rng.integers(8))
    return "bitflip", bytes(out)


def c_insert(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    text = data.decode("utf-8")
    for _ in range(int(rng.integers(1, 4))):
        pos = int(rng.integers(len(text) + 1))
        text = text[:pos] + _pick(rng, TROUBLE) + text[pos:]
    return "insert", text.encode("utf-8")


def c_number(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    lines = _lines(data.decode("utf-8"))
    for _ in range(int(rng.integers(1, 3))):
        i = int(rng.integers(1, max(2, len(lines) - 1)))
        fields = lines[i].split(",")
        fields[int(rng.integers(len(fields)))] = _pick(rng, BAD_NUMBERS)
        lines[i] = ",".join(fields)
    return "number", "\n".join(lines).encode("utf-8")


def c_ragged(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    lines = _lines(data.decode("utf-8"))
    i = int(rng.integers(0, max(1, len(lines) - 1)))
    variant = _pick(rng, ["drop", "add", "merge", "split", "empty-field"])
    fields = lines[i].split(",")
    if variant == "drop" and len(fields) > 1:
        del fields[int(rng.integers(len(fields)))]
    elif variant == "add":
        fields.insert(int(rng.integers(len(fields) + 1)), _pick(rng, ["1", "", "2.5"]))
    elif variant == "merge" and i + 1 < len(lines):
        lines[i + 1] = ""
        fields += lines[i + 1].split(",")
    elif variant == "split":
        fields.insert(int(rng.integers(len(fields) + 1)), "\n")
    else:
        fields.append("")
    lines[i] = ",".join(fields)
    return f"ragged-{variant}", "\n".join(lines).encode("utf-8")


def c_nul(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    if rng.random() < 0.3:
        out[int(rng.integers(len(out))) :] = bytes(int(rng.integers(1, 100)))
    for _ in range(int(rng.integers(1, 6))):
        out.insert(int(rng.integers(len(out) + 1)), 0)
    return "nul", bytes(out)


def c_huge_line(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    lines = _lines(data.decode("utf-8"))
    i = int(rng.integers(0, len(lines)))
    variant = _pick(rng, ["field", "fields", "digits", "quote"])
    if variant == "field":  # one field longer than the csv module's limit (128 KiB)
        line = "x" * int(rng.integers(140_000, 200_000))
    elif variant == "fields":  # many short fields
        line = ",".join("1" for _ in range(int(rng.integers(10_000, 60_000))))
    elif variant == "digits":  # a number with 100,000 digits: a float, but out of range
        line = ",".join(["1" * 100_000] + lines[i].split(",")[1:])
    else:  # a quote that never closes: the rest of the file is one field
        line = '"' + "a" * int(rng.integers(1_000, 150_000))
    lines.insert(i, line)
    return f"huge-{variant}", "\n".join(lines).encode("utf-8")


def c_encoding(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    text = data.decode("utf-8")
    if rng.random() < 0.6:  # a non-ASCII character somewhere, so that the encodings differ
        pos = int(rng.integers(len(text) + 1))
        text = text[:pos] + _pick(rng, ["é", "ß", "€", "中", "“", "Ω"]) + text[pos:]
    encoding = _pick(rng, ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "gb18030"])
    return f"encoding-{encoding}", text.encode(encoding, errors="replace")


def c_bom(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    variant = _pick(rng, ["utf8", "double", "middle", "utf16-bom-on-utf8", "utf32-bom"])
    if variant == "utf8":
        return "bom-utf8", codecs.BOM_UTF8 + data.removeprefix(codecs.BOM_UTF8)
    if variant == "double":
        return "bom-double", codecs.BOM_UTF8 * 2 + data
    if variant == "middle":
        pos = data.find(b"\n", len(data) // 2) + 1
        return "bom-middle", data[:pos] + codecs.BOM_UTF8 + data[pos:]
    if variant == "utf16-bom-on-utf8":
        return "bom-utf16", codecs.BOM_UTF16_LE + data
    return "bom-utf32", codecs.BOM_UTF32_LE + data


def c_line_endings(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    text = data.decode("utf-8").replace("\r\n", "\n")
    variant = _pick(rng, ["crlf", "cr", "mixed", "no-final", "blank-lines", "spaces-line"])
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "cr":
        text = text.replace("\n", "\r")
    elif variant == "mixed":
        text = "".join(c if c != "\n" else _pick(rng, ["\n", "\r\n", "\r"]) for c in text)
    elif variant == "no-final":
        text = text.rstrip("\n")
    elif variant == "blank-lines":
        lines = _lines(text)
        for _ in range(int(rng.integers(1, 6))):
            lines.insert(int(rng.integers(len(lines) + 1)), "")
        text = "\n".join(lines)
    else:
        lines = _lines(text)
        lines.insert(int(rng.integers(len(lines) + 1)), _pick(rng, [" ", "\t", "  ,  "]))
        text = "\n".join(lines)
    return f"endings-{variant}", text.encode("utf-8")


def c_quotes(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    lines = _lines(data.decode("utf-8"))
    i = int(rng.integers(0, max(1, len(lines) - 1)))
    fields = lines[i].split(",")
    k = int(rng.integers(len(fields)))
    variant = _pick(rng, ["quote", "open", "close", "inner", "newline"])
    if variant == "quote":  # a properly quoted number: harmless
        fields[k] = f'"{fields[k]}"'
    elif variant == "open":
        fields[k] = '"' + fields[k]
    elif variant == "close":
        fields[k] = fields[k] + '"'
    elif variant == "inner":
        fields[k] = fields[k][:1] + '"' + fields[k][1:]
    else:
        fields[k] = f'"{fields[k]}\n"'
    lines[i] = ",".join(fields)
    return f"quotes-{variant}", "\n".join(lines).encode("utf-8")


def c_degenerate(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    header = data.split(b"\n", 1)[0]
    variant = _pick(
        rng,
        ["empty", "newlines", "header-only", "header-blank", "bom-only", "garbage", "safetensors", "gzip", "one-row",
         "spaces", "zeros"],
    )  # fmt: skip
    out = {
        "empty": b"",
        "newlines": b"\n" * int(rng.integers(1, 10)),
        "header-only": header + b"\n",
        "header-blank": header + b"\n\n\r\n\n",
        "bom-only": codecs.BOM_UTF8,
        "garbage": rng.integers(0, 256, size=int(rng.integers(1, 3000)), dtype=np.uint8).tobytes(),
        "safetensors": (16).to_bytes(8, "little") + b'{"__metadata__":{}}'[:16] + bytes(8),
        "gzip": gzip.compress(data, mtime=0),
        "one-row": data.split(b"\n", 2)[0] + b"\n" + (data.split(b"\n", 2)[1:] or [b""])[0],
        "spaces": b" \n \n",
        "zeros": bytes(int(rng.integers(1, 100))),
    }[variant]
    return f"degenerate-{variant}", out


def c_header(rng: np.random.Generator, data: bytes) -> tuple[str, bytes]:
    first, _, rest = data.partition(b"\n")
    names = first.split(b",")
    variant = _pick(rng, ["rename", "duplicate", "empty", "spaces", "drop"])
    k = int(rng.integers(len(names)))
    if variant == "rename":
        names[k] = names[k] + b"x"
    elif variant == "duplicate":
        names[k] = names[int(rng.integers(len(names)))]
    elif variant == "empty":
        names[k] = b""
    elif variant == "spaces":
        names[k] = b"  " + names[k] + b" "
    elif len(names) > 1:
        del names[k]
    return f"header-{variant}", b",".join(names) + b"\n" + rest


FAMILIES = [
    (c_truncate, 10),
    (c_bitflip, 12),
    (c_insert, 10),
    (c_number, 16),
    (c_ragged, 8),
    (c_nul, 5),
    (c_huge_line, 3),
    (c_encoding, 7),
    (c_bom, 5),
    (c_line_endings, 7),
    (c_quotes, 7),
    (c_degenerate, 5),
    (c_header, 5),
]


def mutant(index: int) -> Mutant:
    rng = np.random.default_rng([SEED, index])
    base = bases()[int(rng.integers(len(bases())))]
    weights = np.array([w for _, w in FAMILIES], dtype=float)
    family = FAMILIES[int(rng.choice(len(FAMILIES), p=weights / weights.sum()))][0]
    kind, data = family(rng, base.data)
    return Mutant(index, base, kind, data)


# ----- the reference reader -------------------------------------------------------------------
class RefusedError(Exception):
    """What the reference reader finds wrong with a file."""


def _is_infinity(text: str) -> bool:
    return text.strip().lower().lstrip("+-") in ("inf", "infinity")


def _convert(values: np.ndarray, texts: list[list[str]], dtype: np.dtype) -> np.ndarray:
    """``values`` (float64, parsed from ``texts``) in ``dtype``, or RefusedError when one does not fit."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        for row, texts_row in zip(values, texts):
            for v, t in zip(row, texts_row):
                if not (np.isfinite(v) and v == np.floor(v) and info.min <= v < float(info.max) + 1):
                    raise RefusedError(f"{t!r:.40} is not an integer of {dtype}")
        return values.astype(dtype)
    with np.errstate(over="ignore"):
        out = values.astype(dtype)
    for out_row, texts_row in zip(out, texts):
        for o, t in zip(out_row, texts_row):
            if np.isinf(o) and not _is_infinity(t):
                raise RefusedError(f"{t!r:.40} is out of range for {dtype}")
            if not np.isfinite(o):  # NaN, or an infinity written as such: not data to train on
                raise RefusedError(f"{t!r:.40} is not a finite number")
    return out


def reference(data: bytes, kwargs: dict) -> tuple[np.ndarray, ...]:
    """The arrays ``(features, labels)`` (or ``(features,)``) the file holds, or RefusedError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RefusedError("not UTF-8") from e
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=",") if r]
    except csv.Error as e:
        raise RefusedError(f"{e!s:.80}") from e
    if not rows:
        raise RefusedError("empty")
    header = kwargs.get("header", True)
    columns: list = [c.strip() for c in rows[0]] if header else list(range(len(rows[0])))
    body = rows[1:] if header else rows
    if not body:
        raise RefusedError("no data rows")

    def resolve(wanted: Any) -> list[int]:
        out = []
        for c in [wanted] if isinstance(wanted, (str, int)) else list(wanted):
            if isinstance(c, int) and 0 <= c < len(columns):
                out.append(c)
            elif isinstance(c, str) and c in columns:
                out.append(columns.index(c))
            else:
                raise RefusedError(f"no column {c!r}")
        return out

    labels = [] if kwargs.get("label_columns") is None else resolve(kwargs["label_columns"])
    given = kwargs.get("feature_columns")
    features = [k for k in range(len(columns)) if k not in labels] if given is None else resolve(given)
    if not features:
        raise RefusedError("no feature columns")
    if any(len(r) != len(columns) for r in body):
        raise RefusedError("ragged")
    dtype = np.dtype(kwargs.get("dtype", np.float32))
    label_dtype = np.dtype(kwargs.get("label_dtype") or dtype)
    out = []
    for cols, dt in [(features, dtype)] + ([(labels, label_dtype)] if labels else []):
        texts = [[r[k] for k in cols] for r in body]
        try:
            values = np.array([[float(t) for t in row] for row in texts], dtype=np.float64)
        except ValueError as e:
            raise RefusedError(f"{e!s:.80}") from e
        out.append(_convert(values.reshape(len(body), len(cols)), texts, dt))
    return tuple(out)
