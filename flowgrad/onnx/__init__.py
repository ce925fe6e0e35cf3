"""ONNX export and import: ``export(model, example_input, path)`` and ``load(path)``.

The optional extra ``[onnx]`` (the ``onnx`` package). ``export`` traces the model's forward
through flowgrad's op registry, the hook ``fg.compile`` records with, and writes one ONNX node
(or a small fixed pattern) per primitive, as declared in ``flowgrad.onnx.emitters.EMITTERS``.
``load`` reads a graph back as an ``nn.Module`` whose initializers are Parameters, run with
flowgrad ops (the ONNX operators in ``flowgrad.onnx.load.IMPORTERS``), so it trains.

>>> import numpy as np, flowgrad as fg
>>> model = fg.nn.Sequential(fg.nn.Linear(4, 3), fg.nn.Tanh())
>>> proto = fg.onnx.export(model, np.zeros((2, 4), np.float32), None)
>>> [n.op_type for n in proto.graph.node]
['Gemm', 'Tanh']
"""

from __future__ import annotations

from .emitters import EMITTERS
from .export import DEFAULT_OPSET, export
from .graph import ExportError
from .importers import UnsupportedOnnxError
from .load import IMPORTERS, OnnxModule, load

__all__ = [
    "export",
    "load",
    "OnnxModule",
    "EMITTERS",
    "IMPORTERS",
    "ExportError",
    "UnsupportedOnnxError",
    "DEFAULT_OPSET",
]
