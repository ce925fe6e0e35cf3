"""``flowgrad train`` configuration: one schema, TOML files, every error at once with its line.

Every key has a type and a range (``SCHEMA``); a config file, an ``--example`` and the
command-line flags are checked against it together, before anything is read or written,
and every mistake is reported, each naming where it is (``file:line`` or the flag), the
key, what was expected and what was given::

    config.toml:7: optimizer.lr: expected a number > 0, got "fast"
    --epochs: train.epochs: expected an integer in [1, 1000000000], got 0

>>> config = resolve({"train": {"epochs": 3}}, "my.toml", {("train", "epochs"): 4})
>>> config["train"]["epochs"], config.where("train", "epochs"), config.where("run", "seed")
(3, 'my.toml:4', 'defaults')
>>> try:
...     resolve({"train": {"epochs": 0, "batch_size": "big"}}, "my.toml", {})
... except ConfigError as e:
...     print(e)
my.toml: train.epochs: expected an integer in [1, 1000000000], got 0
my.toml: train.batch_size: expected an integer in [1, 2147483647], got "big"
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from flowgrad.errors import FlowgradError
from flowgrad.io.safetensors_format import open_regular

from . import tomlscan
from .sizes import available_memory, human_bytes, model_bytes

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MAX_FILE_BYTES = 1 << 20  # a config is a few hundred bytes; a bigger file is a mistake, not a config
MAX_LAYERS = 1000
INT64_MAX = 2**63 - 1


class ConfigError(FlowgradError, ValueError):
    """A config file or option that cannot be used as given (one error per line of the message)."""


class Key(NamedTuple):
    default: Any
    kind: str  # "int", "number", "str", "bool", "list[int]", "list[str]"
    expected: str  # what a value must be, in words (messages and docs/cli.md)
    check: Callable[[Any], str | None]  # a reason the value is refused, or None


_KIND_WORDS = {
    "int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
    "list[int]": "a list of integers", "list[str]": "a list of strings",
}  # fmt: skip


def _int(default: int, lo: int, hi: int = INT64_MAX) -> Key:
    words = f"an integer >= {lo}" if hi == INT64_MAX else f"an integer in [{lo}, {hi}]"

    def check(v: int) -> str | None:
        if v > INT64_MAX:
            return " (more than 64 bits)"
        return None if lo <= v <= hi else ""

    return Key(default, "int", words, check)


def _number(default: float, lo: float, hi: float = math.inf, *, lo_open: bool = False, hi_open: bool = False) -> Key:
    if hi == math.inf:
        words = f"a number {'>' if lo_open else '>='} {lo:g}"
    else:
        words = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"

    def check(v: float) -> str | None:
        if not math.isfinite(v):
            return ""
        if v < lo or (lo_open and v == lo) or v > hi or (hi_open and v == hi):
            return ""
        return None

    return Key(default, "number", words, check)


def _choice(default: str, choices: tuple[str, ...]) -> Key:
    def check(v: str) -> str | None:
        if v in choices:
            return None
        close = difflib.get_close_matches(v, choices, n=1)
        return f"; did you mean {_show(close[0])}?" if close else ""

    return Key(default, "str", "one of " + ", ".join(choices), check)


def _text(default: str, what: str) -> Key:
    def check(v: str) -> str | None:
        if not v or "\0" in v or len(v.encode("utf-8", "surrogatepass")) > 4096:
            return ""
        return None

    return Key(default, "str", what, check)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a run folder under runs_dir, or None when it can.

    A run name is one folder name, never a path: it must not climb out of runs_dir or
    point anywhere else.

    >>> name_problem("try-2"), name_problem("../../escaped"), name_problem("..")
    (None, 'it contains "/"', 'it is "." or ".."')
    """
    if not name:
        return "it is empty"
    if name in (".", ".."):
        return 'it is "." or ".."'
    for bad in ("/", "\\", "\0"):
        if bad in name:
            return f"it contains {_show(bad)}"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains a control character"
    if re.match(r"^[A-Za-z]:", name):
        return "it starts with a drive letter"
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        return "it is longer than 255 bytes"
    return None


def _name_check(v: str) -> str | None:
    why = name_problem(v)
    return None if why is None else f" ({why})"


def _layers_check(v: list) -> str | None:
    if len(v) > MAX_LAYERS:
        return f" ({len(v)} layers)"
    if any(w < 1 for w in v):
        return " (a layer needs at least one unit)"
    need = model_bytes(v, 1, 1)  # the smallest possible input and output: the data may add more
    have = available_memory()
    if have is not None and need > have:
        return f": the parameters alone need {human_bytes(need)}, more than the {human_bytes(have)} of memory available"
    return None


def _metrics_check(v: list) -> str | None:
    if v == ["auto"]:
        return None
    for m in v:
        if m not in METRICS:
            close = difflib.get_close_matches(m, METRICS, n=1)
            return f" ({_show(m)} is not a metric{'; did you mean ' + _show(close[0]) + '?' if close else ''})"
    if len(set(v)) != len(v):
        return " (a metric is named twice)"
    return None


def _columns_check(v: list) -> str | None:
    if any(not c or "\0" in c for c in v):
        return " (an empty name)"
    return " (a column is named twice)" if len(set(v)) != len(v) else None


# The losses and metrics that fit the models `flowgrad train` builds, by what the model outputs
# (one score per class, one probability of the second of two classes, or numbers). nll (it
# wants log-probabilities) and bce_with_logits (one logit) fit none of them.
CLASS_LOSSES = ("cross_entropy", "crossentropy", "sparse_categorical_crossentropy")
PROBABILITY_LOSSES = ("bce", "binary_crossentropy")
REGRESSION_LOSSES = ("mse", "mean_squared_error", "mae", "l1", "mean_absolute_error", "huber", "smooth_l1")
LOSSES = ("auto", *CLASS_LOSSES, *PROBABILITY_LOSSES, *REGRESSION_LOSSES)
CLASS_METRICS = ("accuracy", "acc", "top_k_accuracy", "precision", "recall", "f1")
REGRESSION_METRICS = ("mae", "mean_absolute_error", "mse", "mean_squared_error", "rmse", "r2")
METRICS = CLASS_METRICS + REGRESSION_METRICS


SCHEMA: dict[str, dict[str, Key]] = {
    "run": {
        "name": Key("digits-mlp", "str", "a folder name (not empty, . or .., no / \\ or control characters)",
                    _name_check),
        "seed": _int(0, 0),
        "runs_dir": _text("runs", "a path (not empty, no NUL)"),
    },
    "data": {
        "source": _text("digits", "a built-in data set's name or a CSV file's path"),
        "label_columns": Key([], "list[str]", "distinct column names", _columns_check),
        "task": _choice("auto", ("auto", "classification", "regression")),
        "test_split": _number(0.2, 0, 1, hi_open=True),
        "validation_split": _number(0.0, 0, 1, hi_open=True),
        "standardize": Key(True, "bool", "true or false", lambda v: None),
    },
    "model": {
        "layers": Key([128, 64], "list[int]", f"at most {MAX_LAYERS} widths >= 1 whose parameters fit in memory",
                      _layers_check),
        "activation": _choice("relu", ("relu", "sigmoid", "tanh", "gelu", "silu", "leaky_relu")),
        "output_activation": _choice("none", ("none", "sigmoid", "softmax")),
        "dropout": _number(0.0, 0, 1, hi_open=True),
        "dtype": _choice("float32", ("float32", "float64")),
    },
    "train": {
        "epochs": _int(20, 1, 10**9),
        "batch_size": _int(32, 1, 2**31 - 1),
        "loss": _choice("auto", LOSSES),
        "metrics": Key(["auto"], "list[str]", '["auto"] or distinct names from ' + ", ".join(METRICS),
                       _metrics_check),
        "shuffle": Key(True, "bool", "true or false", lambda v: None),
    },
    "optimizer": {
        "name": _choice("adam", ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")),
        "lr": _number(1e-3, 0, lo_open=True),
        "momentum": _number(0.9, 0, 1),
        "weight_decay": _number(0.0, 0),
    },
    "schedule": {
        "name": _choice("none", ("none", "step", "exponential", "cosine", "onecycle")),
        "step_size": _int(10, 1),
        "gamma": _number(0.5, 0, lo_open=True),
        "t_max": _int(0, 0),
        "max_lr": _number(0.0, 0),
    },
}  # fmt: skip


def defaults() -> dict:
    return {section: {k: copy.deepcopy(v.default) for k, v in keys.items()} for section, keys in SCHEMA.items()}


class Config(dict):
    """A checked config, ``{section: {key: value}}``, that remembers where each value came from."""

    def __init__(self, values: dict, places: dict[tuple[str, str], str]) -> None:
        super().__init__(values)
        self.places = places

    def where(self, section: str, key: str) -> str:
        """``file:line``, ``--flag``, ``--example NAME`` or ``defaults``."""
        return self.places.get((section, key), "defaults")


def located(config: dict, section: str, key: str, message: str) -> str:
    where = config.where(section, key) if isinstance(config, Config) else "config"
    return f"{where}: {section}.{key}: {message}"


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v, limit) for v in value[:8]) + (", ..." if len(value) > 8 else "") + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_ok(value: Any, kind: str) -> bool:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if kind == "int":
        return is_int(value)
    if kind == "number":
        return is_int(value) or isinstance(value, float)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list[int]":
        return isinstance(value, list) and all(is_int(v) for v in value)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)


def _problem(section: str, key: str, value: Any) -> str | None:
    spec = SCHEMA[section][key]
    expected = spec.expected if spec.kind in ("int", "number", "bool") else f"{_KIND_WORDS[spec.kind]}: {spec.expected}"
    if not _kind_ok(value, spec.kind):
        return f"{section}.{key}: expected {expected}, got {_show(value)}"
    why = spec.check(value)
    return None if why is None else f"{section}.{key}: expected {expected}, got {_show(value)}{why}"


def resolve(
    raw: dict,
    where: str,
    lines: dict[tuple[str, ...], int] | None = None,
    overrides: dict[tuple[str, str], tuple[Any, str]] | None = None,
) -> Config:
    """Check ``raw`` (from ``where``) and the ``overrides`` ({(section, key): (value, flag)}) together.

    Returns the full config with defaults filled in; raises one ConfigError listing every problem.
    """

    def place(*path: str) -> str:
        for k in range(len(path), 0, -1):  # a key inside an inline table: the table's line
            if lines and path[:k] in lines:
                return f"{where}:{lines[path[:k]]}"
        return where

    errors: list[str] = []
    values, places = defaults(), {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of sections, got {_show(raw)}")
    for section, table in raw.items():
        if section not in SCHEMA:
            close = difflib.get_close_matches(section, SCHEMA, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else f"; known sections: {', '.join(SCHEMA)}"
            errors.append(f"{place(section)}: unknown section [{section}]{hint}")
            continue
        if not isinstance(table, dict):
            errors.append(f"{place(section)}: {section}: expected a table [{section}], got {_show(table)}")
            continue
        for key, value in table.items():
            if key not in SCHEMA[section]:
                close = difflib.get_close_matches(key, SCHEMA[section], n=1)
                known = (
                    f"; did you mean {section}.{close[0]}?" if close else f"; known keys: {', '.join(SCHEMA[section])}"
                )
                errors.append(f"{place(section, key)}: unknown key {section}.{key}{known}")
                continue
            problem = _problem(section, key, value)
            if problem:
                errors.append(f"{place(section, key)}: {problem}")
            values[section][key], places[(section, key)] = value, place(section, key)
    for (section, key), (value, flag) in (overrides or {}).items():
        problem = _problem(section, key, value)
        if problem:
            errors.append(f"{flag}: {problem}")
        values[section][key], places[(section, key)] = value, flag
    if errors:
        raise ConfigError("\n".join(errors))
    return Config(values, places)


def read(path: str | Path) -> tuple[dict, dict[tuple[str, ...], int], str]:
    """A TOML file's values and key lines (size, nesting and syntax checked), and its name for messages."""
    path = Path(path)
    try:  # a FIFO or a device would block or never end: only a regular file is read
        with open_regular(
            str(path), ConfigError, cannot="cannot read the config file", missing="no such config file"
        ) as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES} bytes: not a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{bad_line}: not UTF-8 text") from None
    lines, deep = tomlscan.scan(text)
    if deep is not None:
        raise ConfigError(f"{path.name}:{deep}: arrays or tables nested more than {tomlscan.MAX_DEPTH} deep")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = f":{m.group(1)}" if m else ""
        raise ConfigError(f"{path.name}{line}: not valid TOML: {exc}") from None
    except RecursionError:  # nesting the scanner did not see (it counts only brackets outside strings)
        raise ConfigError(f"{path.name}: arrays or tables nested too deep") from None
    return raw, lines, path.name


def load(path: str | Path, overrides: dict[tuple[str, str], tuple[Any, str]] | None = None) -> Config:
    """Read and check a TOML config file (with command-line overrides)."""
    raw, lines, name = read(path)
    return resolve(raw, name, lines, overrides)


def dumps(config: dict) -> str:
    """The config as TOML text (the resolved config saved in each run folder)."""
    lines = ["# flowgrad run configuration (fully resolved)"]
    for section, values in config.items():
        lines.append(f"\n[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are TOML's; TOML also wants DEL escaped
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
