"""``flowgrad export RUN_DIR --format onnx [--output PATH]``: a run's model as a file other tools run.

The exported graph takes the raw feature rows, as ``flowgrad predict`` does: the run's
standardization (the training features' mean and scale) is its first op, and the batch size is
a dynamic axis. Its output is the network's: logits, probabilities or values, by the run's task.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg

from . import config as cfg_lib
from . import runs

FORMATS = ("onnx",)


def standardized(network: Any, mean: np.ndarray, std: np.ndarray) -> Any:
    """The run's network after its input scaling, as one module: ``network((x - mean) / std)``."""
    from flowgrad import nn  # here: `flowgrad --help` does not load the layers

    class Standardized(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network
            self.register_buffer("input_mean", fg.from_numpy(np.asarray(mean, np.float32)))
            self.register_buffer("input_std", fg.from_numpy(np.asarray(std, np.float32)))

        def forward(self, x: Any) -> fg.Tensor:
            return self.network((x - self.input_mean) / self.input_std)

    return Standardized()


def export_run(folder: Path, fmt: str, output: str | None) -> int:
    """Write the model of the run in ``folder``; returns the exit code."""
    from .jobs import load_run

    if fmt not in FORMATS:
        raise cfg_lib.ConfigError(f"export: --format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    target = Path(output) if output else folder / "model.onnx"
    if not target.parent.is_dir():
        raise fg.DataError(f"cannot write {target}: the folder {target.parent} does not exist")
    if importlib.util.find_spec("onnx") is None:
        raise cfg_lib.ConfigError("export --format onnx needs the onnx package: pip install 'flowgrad[onnx]'")
    from flowgrad import onnx as fg_onnx

    run = load_run(folder)
    model = standardized(run.network, run.mean, run.std)
    example = np.zeros((1, len(run.mean)), np.float32)
    try:
        fg_onnx.export(
            model,
            example,
            target,
            input_names=["features"],
            output_names=["output"],
            dynamic_axes={"features": {0: "batch"}, "output": {0: "batch"}},
        )
    except OSError as exc:
        raise runs.file_error("write", target, exc) from None
    print(f"wrote {target} (ONNX opset {fg_onnx.DEFAULT_OPSET}; input 'features' of {len(run.mean)} columns)")
    return 0


def add_parser(sub: Any) -> None:
    """The ``export`` subcommand's arguments."""
    x = sub.add_parser("export", help="write a trained run's model for other tools (ONNX)")
    x.add_argument("run_dir")
    x.add_argument("--format", default="onnx", help="the file format: onnx (the default)")
    x.add_argument("--output", help="where to write it (default: RUN_DIR/model.onnx)")


def run(args: argparse.Namespace) -> int:
    """``flowgrad export``: returns the exit code."""
    return export_run(Path(args.run_dir), args.format, args.output)
