"""``flowgrad train`` configuration: defaults, TOML files, validation with line numbers.

A config error names the file, the line, the key, what was expected and what
was given, and suggests the closest known key for a misspelt one::

    config.toml:7: optimizer.lr: expected a number, got "fast"
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any

from flowgrad.errors import FlowgradError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class ConfigError(FlowgradError, ValueError):
    """A config file or option that cannot be used as given."""


# Each entry: default value and the expected kind ("int", "number", "str", "bool", "list[int]", "list[str]", "str|none").
SCHEMA: dict[str, dict[str, tuple[Any, str]]] = {
    "run": {"name": ("digits-mlp", "str"), "seed": (0, "int"), "runs_dir": ("runs", "str")},
    "data": {
        "source": ("digits", "str"),
        "label_columns": ([], "list[str]"),
        "task": ("auto", "str"),
        "test_split": (0.2, "number"),
        "validation_split": (0.0, "number"),
        "standardize": (True, "bool"),
    },
    "model": {
        "layers": ([128, 64], "list[int]"),
        "activation": ("relu", "str"),
        "output_activation": ("none", "str"),
        "dropout": (0.0, "number"),
    },
    "train": {
        "epochs": (20, "int"),
        "batch_size": (32, "int"),
        "loss": ("auto", "str"),
        "metrics": (["auto"], "list[str]"),
        "shuffle": (True, "bool"),
    },
    "optimizer": {
        "name": ("adam", "str"),
        "lr": (1e-3, "number"),
        "momentum": (0.9, "number"),
        "weight_decay": (0.0, "number"),
    },
    "schedule": {
        "name": ("none", "str"),
        "step_size": (10, "int"),
        "gamma": (0.5, "number"),
        "t_max": (0, "int"),
        "max_lr": (0.0, "number"),
    },
}

CHOICES = {
    ("data", "task"): ("auto", "classification", "regression"),
    ("model", "activation"): ("relu", "sigmoid", "tanh", "gelu", "silu", "leaky_relu"),
    ("model", "output_activation"): ("none", "sigmoid", "softmax"),
    ("optimizer", "name"): ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"),
    ("schedule", "name"): ("none", "step", "exponential", "cosine", "onecycle"),
}


def defaults() -> dict:
    return {section: {k: copy.deepcopy(v[0]) for k, v in keys.items()} for section, keys in SCHEMA.items()}


def _locate(text: str, section: str, key: str | None) -> int | None:
    """The line number of ``key`` in ``[section]`` (or of the section header) in TOML text."""
    current = None
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        m = header.match(line)
        if m:
            current = m.group(1)
            if key is None and current == section:
                return number
            continue
        if current == section and key is not None and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
        if (
            current is None
            and key is not None
            and re.match(rf"^\s*{re.escape(section)}\s*\.\s*{re.escape(key)}\s*=", line)
        ):
            return number
    return None


def _kind_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list[int]":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)


_KIND_WORDS = {
    "int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
    "list[int]": "a list of integers", "list[str]": "a list of strings",
}  # fmt: skip


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def validate(config: dict, where: str = "config", text: str | None = None) -> dict:
    """Check every section and key against the schema; return a full config with defaults filled."""

    def fail(section: str, key: str | None, message: str) -> None:
        line = _locate(text, section, key) if text is not None else None
        prefix = f"{where}:{line}" if line else where
        raise ConfigError(f"{prefix}: {message}")

    full = defaults()
    for section, values in config.items():
        if section not in SCHEMA:
            close = difflib.get_close_matches(section, SCHEMA, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else f"; known sections: {', '.join(SCHEMA)}"
            fail(section, None, f"unknown section [{section}]{hint}")
        if not isinstance(values, dict):
            fail(section, None, f"{section}: expected a table [{section}], got {_show(values)}")
        for key, value in values.items():
            if key not in SCHEMA[section]:
                close = difflib.get_close_matches(key, SCHEMA[section], n=1)
                hint = (
                    f"; did you mean {section}.{close[0]}?" if close else f"; known keys: {', '.join(SCHEMA[section])}"
                )
                fail(section, key, f"unknown key {section}.{key}{hint}")
            kind = SCHEMA[section][key][1]
            if not _kind_ok(value, kind):
                fail(section, key, f"{section}.{key}: expected {_KIND_WORDS[kind]}, got {_show(value)}")
            choices = CHOICES.get((section, key))
            if choices and value not in choices:
                close = difflib.get_close_matches(str(value), choices, n=1)
                hint = f"; did you mean {_show(close[0])}?" if close else ""
                fail(section, key, f"{section}.{key}: expected one of {', '.join(choices)}, got {_show(value)}{hint}")
            full[section][key] = value
    _check_ranges(full, fail)
    return full


def _check_ranges(c: dict, fail: Any) -> None:
    if c["train"]["epochs"] < 1:
        fail("train", "epochs", f"train.epochs: expected at least 1, got {c['train']['epochs']}")
    if c["train"]["batch_size"] < 1:
        fail("train", "batch_size", f"train.batch_size: expected at least 1, got {c['train']['batch_size']}")
    if not c["optimizer"]["lr"] > 0:
        fail("optimizer", "lr", f"optimizer.lr: expected a positive number, got {c['optimizer']['lr']}")
    for key in ("test_split", "validation_split"):
        if not 0 <= c["data"][key] < 1:
            fail("data", key, f"data.{key}: expected a fraction in [0, 1), got {c['data'][key]}")
    if not 0 <= c["model"]["dropout"] < 1:
        fail("model", "dropout", f"model.dropout: expected a fraction in [0, 1), got {c['model']['dropout']}")


def load(path: str | Path) -> dict:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = f":{m.group(1)}" if m else ""
        raise ConfigError(f"{path.name}{line}: not valid TOML: {exc}") from None
    return validate(raw, path.name, text)


def merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``{section: {key: value}}`` overrides applied and validated."""
    merged = copy.deepcopy(base)
    for section, values in overrides.items():
        merged.setdefault(section, {}).update(values)
    return validate(merged, "command line")


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
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
