"""``export``: a flowgrad model as an ONNX file, by tracing its forward through the op registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError

from . import _onnx
from .emitters import EMITTERS
from .graph import Call, ExportError, Graph
from .trace import Trace, trace

__all__ = ["export", "DEFAULT_OPSET"]

DEFAULT_OPSET = 18  # the newest with every node used here unchanged since, and run by onnxruntime >= 1.14
MIN_OPSET = 13


def _as_inputs(example: Any) -> list[np.ndarray]:
    items = list(example) if isinstance(example, (tuple, list)) else [example]
    out = []
    for a in items:
        if isinstance(a, fg.Tensor):
            out.append(a.numpy())
        elif isinstance(a, np.ndarray):
            out.append(a)
        else:
            raise ArgumentError(f"onnx.export: example_input must be tensors or arrays, got {type(a).__name__}")
    return out


def _axes_of(spec: Any, name: str) -> dict[int, str]:
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return {int(k): f"{name}_dynamic_axes_{int(k) + 1}" for k in spec}
    raise ArgumentError(f"onnx.export: dynamic_axes[{name!r}] must be a list of axes or a dict axis -> name")


def _resized(inputs: list[np.ndarray], names: list[str], dynamic: dict[str, dict[int, str]]) -> list[np.ndarray]:
    """The inputs with each dynamic axis one longer (or two, from 1), to see what follows it."""
    out = []
    for a, name in zip(inputs, names):
        for axis in dynamic.get(name, {}):
            if not -a.ndim <= axis < a.ndim:
                raise ArgumentError(f"onnx.export: dynamic axis {axis} of input {name!r} of shape {a.shape}")
            size = a.shape[axis]
            a = np.take(a, np.arange(size + (2 if size == 1 else 1)) % max(size, 1), axis=axis)
        out.append(a)
    return out


def _pair_values(t1: Trace, t2: Trace) -> dict[int, np.ndarray]:
    """Trace 1's value keys -> the same values in trace 2 (same steps, in the same order)."""
    if [s.op for s in t1.steps] != [s.op for s in t2.steps]:
        raise ExportError(
            "onnx.export: the forward ran other ops when the dynamic axes changed size; a graph with "
            "dynamic axes needs one path for every size (no Python branch on shapes)"
        )
    pairs = {k1: t2.values[k2] for k1, k2 in zip(t1.inputs, t2.inputs)}
    for s1, s2 in zip(t1.steps, t2.steps):
        for a1, a2, v in zip(s1.args, s2.args, s1.is_value):
            if v:
                pairs.setdefault(a1, t2.values[a2])
        pairs[s1.out] = t2.values[s2.out]
    return pairs


def _prune(g: Graph, outputs: list[str]) -> list[Any]:
    """Nodes the outputs depend on, in order (a conv's weight reshape may have become unused)."""
    needed, kept = set(outputs), []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1]


def _name_output(g: Graph, value: str, name: str) -> None:
    """Have the node that computes ``value`` write ``name``; an Identity where none does (or twice)."""
    producer = [n for n in g.nodes if value in n.output]
    if not producer or value in g.initializers or value == name:
        if value != name:
            g.node("Identity", [value], name)
        return
    for n in g.nodes:
        for seq in (n.input, n.output):
            for i, v in enumerate(seq):
                if v == value:
                    seq[i] = name
    g.node("Identity", [name], value)  # later outputs of the same value find it under its old name


def _value_info(name: str, array: np.ndarray, dims: dict[int, str]) -> Any:
    onnx = _onnx.onnx
    shape = [dims.get(i, s) for i, s in enumerate(array.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(array.dtype), shape)


def export(
    model: Any,
    example_input: Any,
    path: str | Path | None,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_axes: dict[str, Any] | None = None,
    opset_version: int | None = None,
) -> Any:
    """Write ``model`` as an ONNX file at ``path`` (None: only return it); returns the ModelProto.

    As ``torch.onnx.export``: ``example_input`` is one input or a tuple of them; ``dynamic_axes``
    maps an input or output name to the axes whose size may vary (a list, or a dict axis -> name).
    Parameters and buffers become initializers under their ``state_dict`` names.

    >>> import numpy as np, flowgrad as fg
    >>> model = fg.nn.Sequential(fg.nn.Linear(3, 2), fg.nn.ReLU())
    >>> proto = fg.onnx.export(model, np.zeros((1, 3), np.float32), None, dynamic_axes={"input": [0]})
    >>> [n.op_type for n in proto.graph.node], [i.name for i in proto.graph.initializer]
    (['Gemm', 'Relu'], ['0.weight', '0.bias'])
    """
    onnx = _onnx.require("onnx.export")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ArgumentError(
            f"onnx.export: opset_version must be {MIN_OPSET}..{onnx.defs.onnx_opset_version()}, got {opset}"
        )
    inputs = _as_inputs(example_input)
    in_names = (
        list(input_names)
        if input_names
        else (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    )
    if len(in_names) != len(inputs):
        raise ArgumentError(f"onnx.export: {len(in_names)} input_names for {len(inputs)} inputs")
    dynamic = {name: _axes_of(spec, name) for name, spec in (dynamic_axes or {}).items()}
    was_training = getattr(model, "training", False)
    if isinstance(model, fg.nn.Module):
        model.eval()
    try:
        t1 = trace(model, inputs)
        in_dynamic = [n for n in in_names if n in dynamic]
        t2 = trace(model, _resized(inputs, in_names, dynamic)) if in_dynamic else None
    finally:
        if isinstance(model, fg.nn.Module):
            model.train(was_training)
    out_names = (
        list(output_names)
        if output_names
        else (["output"] if len(t1.outputs) == 1 else [f"output_{i}" for i in range(len(t1.outputs))])
    )
    if len(out_names) != len(t1.outputs):
        raise ArgumentError(f"onnx.export: {len(out_names)} output_names for {len(t1.outputs)} outputs")
    unknown = set(dynamic) - set(in_names) - set(out_names)
    if unknown:
        raise ArgumentError(f"onnx.export: dynamic_axes names {sorted(unknown)}, not an input or output name")
    values2 = _pair_values(t1, t2) if t2 is not None else None

    g = Graph(opset)
    for k, name in zip(t1.inputs, in_names):
        g.names[k] = name
        g.fresh(name)
    state_names: dict[int, str] = {}
    if isinstance(model, fg.nn.Module):
        for name, tensor in model.state_dict(keep_vars=True).items():
            if isinstance(tensor, fg.Tensor):
                state_names.setdefault(id(tensor._data), name)
    produced = {s.out for s in t1.steps}
    for k in t1.tensors:
        if k in produced or k in g.names:
            continue
        array = t1.values[k]
        if values2 is not None and k in values2 and values2[k].shape != array.shape:
            raise ExportError(
                "onnx.export: a tensor made inside the forward has a shape that follows a dynamic axis; "
                "make it with ops on the input (for example fg.zeros_like(x)) or export without dynamic_axes"
            )
        name = g.fresh(state_names.get(id(array), "const"))
        g.names[k] = name
        g.initializers[name] = np.ascontiguousarray(array)
    for step in t1.steps:
        if step.out not in g.names:
            g.names[step.out] = g.fresh(f"{step.op}_{len(g.names)}")
        emit = EMITTERS.get(step.op)
        if emit is None:
            raise ExportError(
                f"onnx.export: the op {step.op!r} (in {step.where}) has no ONNX form; exportable ops: "
                f"{', '.join(sorted(EMITTERS))}"
            )
        emit(g, Call(g, step, t1.values, values2))
    outputs = []
    for k, name in zip(t1.outputs, out_names):
        if g.names.get(k) in g.virtual:
            raise ExportError("onnx.export: the model returns unfold2d's windows, which have no ONNX form")
        _name_output(g, g.names[k], name)
        dims = dict(dynamic.get(name, {}))
        if values2 is not None:
            for axis, (a, b) in enumerate(zip(t1.values[k].shape, values2[k].shape)):
                if a != b:
                    dims.setdefault(axis, f"{name}_dynamic_axes_{axis + 1}")
        outputs.append(_value_info(name, t1.values[k], dims))
    nodes = _prune(g, out_names)
    used = {i for n in nodes for i in n.input}
    initializers = [
        onnx.numpy_helper.from_array(np.ascontiguousarray(a), name)
        for name, a in g.initializers.items()
        if name in used
    ]
    graph_inputs = [_value_info(n, a, dynamic.get(n, {})) for n, a in zip(in_names, inputs)]
    graph = onnx.helper.make_graph(nodes, type(model).__name__, graph_inputs, outputs, initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(
        graph, opset_imports=opsets, producer_name="flowgrad", producer_version=fg.__version__
    )
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(proto)
    if path is not None:
        onnx.save(proto, str(path))
    return proto
