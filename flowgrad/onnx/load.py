"""``load``: an ONNX file as an ``nn.Module`` that runs its graph with flowgrad ops."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad import nn

from . import _onnx
from .importers import IMPORTERS, UnsupportedOnnxError

__all__ = ["OnnxModule", "load", "IMPORTERS"]

_IDENT = re.compile(r"^[A-Za-z0-9_]+$")


class _Holder(nn.Module):
    """A container for parameters whose names have dots (``fc1.weight``), so state_dict keeps them."""


class OnnxModule(nn.Module):
    """An ONNX graph as a module: float initializers are Parameters (trainable), nodes run as flowgrad ops.

    >>> import numpy as np, flowgrad as fg
    >>> proto = fg.onnx.export(fg.nn.Linear(3, 2), np.zeros((1, 3), np.float32), None)
    >>> m = fg.onnx.OnnxModule(proto)
    >>> sorted(m.state_dict())
    ['bias', 'weight']
    >>> m(np.ones((4, 3), np.float32)).shape
    (4, 2)
    """

    def __init__(self, proto: Any) -> None:
        super().__init__()
        onnx = _onnx.require("onnx.load")
        graph = proto.graph
        domains = {o.domain: o.version for o in proto.opset_import}
        self.opset = domains.get("", domains.get("ai.onnx", 0))
        unknown = sorted(
            {n.op_type for n in graph.node if n.op_type not in IMPORTERS or n.domain not in ("", "ai.onnx")}
        )
        if unknown:
            raise UnsupportedOnnxError(
                f"onnx.load: the graph uses operators flowgrad does not run: {', '.join(unknown)}; "
                f"it runs {', '.join(sorted(IMPORTERS))}"
            )
        self._nodes = [
            (
                n.op_type,
                {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute},
                list(n.input),
                list(n.output),
            )
            for n in graph.node
        ]
        self._param_names: dict[str, str] = {}  # initializer -> the parameter's name in named_parameters()
        self._consts: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            array = onnx.numpy_helper.to_array(init).copy()
            if array.dtype.kind == "f":
                self._param_names[init.name] = self._register(init.name, array)
            else:
                self._consts[init.name] = array
        init_names = {i.name for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in init_names]
        self.output_names = [o.name for o in graph.output]

    def _register(self, name: str, array: np.ndarray) -> str:
        param = nn.Parameter(fg.from_numpy(array))
        parts = name.split(".")
        owner: nn.Module = self
        if all(_IDENT.match(p) for p in parts) and not any(p in ("forward", "training") for p in parts):
            for p in parts[:-1]:
                child = owner._modules.get(p)
                if child is None and p not in owner.__dict__ and p not in owner._parameters:
                    child = _Holder()
                    owner.add_module(p, child)
                if not isinstance(child, nn.Module):
                    break
                owner = child
            else:
                if parts[-1] not in owner._modules and parts[-1] not in owner.__dict__:
                    owner.register_parameter(parts[-1], param)
                    return name
        flat = re.sub(r"\W", "_", name)
        while flat in self._parameters or flat in self._modules or flat in self.__dict__:
            flat += "_"
        self.register_parameter(flat, param)
        return flat

    def forward(self, *inputs: Any) -> Any:
        if len(inputs) != len(self.input_names):
            raise fg.ArgumentError(
                f"OnnxModule: the graph takes {len(self.input_names)} inputs ({', '.join(self.input_names)}), "
                f"got {len(inputs)}"
            )
        params = dict(self.named_parameters())  # looked up now: a parameter may have been replaced
        values: dict[str, Any] = {"": None, **self._consts}
        values.update((init, params[name]) for init, name in self._param_names.items())
        for name, x in zip(self.input_names, inputs):
            values[name] = x if isinstance(x, fg.Tensor) else fg.from_numpy(np.asarray(x))
        for op_type, attrs, ins, outs in self._nodes:
            args = [values[i] for i in ins]
            try:
                result = IMPORTERS[op_type](attrs, args)
            except fg.FlowgradError as exc:
                raise type(exc)(f"onnx.load: {op_type} node writing {outs[0]!r}: {exc}") from exc
            results = result if isinstance(result, (list, tuple)) else [result]
            for name, value in zip(outs, results):
                values[name] = value
        outputs = [
            values[n] if isinstance(values[n], fg.Tensor) else fg.from_numpy(np.asarray(values[n]))
            for n in self.output_names
        ]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def load(path: str | Path) -> OnnxModule:
    """Read an ONNX file as an ``OnnxModule`` (a trainable ``nn.Module``).

    >>> import numpy as np, flowgrad as fg, tempfile, os
    >>> model = fg.nn.Sequential(fg.nn.Linear(3, 2), fg.nn.Sigmoid())
    >>> path = os.path.join(tempfile.mkdtemp(), "m.onnx")
    >>> _ = fg.onnx.export(model, np.zeros((1, 3), np.float32), path, dynamic_axes={"input": [0]})
    >>> back = fg.onnx.load(path)
    >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    >>> bool(np.allclose(back(x).numpy(), model(x).numpy()))
    True
    """
    onnx = _onnx.require("onnx.load")
    try:
        proto = onnx.load(str(path))
    except FileNotFoundError:
        raise
    except Exception as exc:  # the onnx package's DecodeError and friends
        raise fg.DataError(f"{path}: not a readable ONNX model ({exc})") from None
    return OnnxModule(proto)
