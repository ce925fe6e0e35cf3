"""``Model.summary()``: the network's layers, their output shapes and parameter counts, as Keras
prints them.

>>> import flowgrad as fg
>>> net = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Linear(8, 2))
>>> fg.Model(net, "mse", "sgd", lr=0.1).summary(input_shape=(4,))
Layer (type)   Output shape   Params
------------------------------------
0 (Linear)     (None, 8)          40
1 (ReLU)       (None, 8)           0
2 (Linear)     (None, 2)          18
------------------------------------
Total params: 58
Trainable params: 58
Non-trainable params: 0
"""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad as fg


def _shape_of(out: Any) -> str:
    if isinstance(out, fg.Tensor):  # the batch axis (one example was passed) as Keras writes it
        return str((None, *out.shape[1:])) if out.ndim else "()"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_of(o) for o in out) + "]"
    return type(out).__name__


def _output_shapes(network: Any, leaves: list, input_shape: tuple) -> dict:
    """Each leaf module's output shape on one example of ``input_shape`` (a batch of one, in eval
    mode, without recording a graph), by wrapping the leaves' forward for the one call."""
    shapes: dict = {}
    originals = {}
    for name, module in leaves:
        originals[name] = module.__dict__.get("forward")

        def recording(*args: Any, _m: Any = module, _n: str = name, **kwargs: Any) -> Any:
            out = type(_m).forward(_m, *args, **kwargs)
            shapes[_n] = _shape_of(out)
            return out

        module.__dict__["forward"] = recording
    was_training = network.training
    network.eval()
    try:
        dtype = next((p.dtype for p in network.parameters()), fg.get_default_dtype())
        with fg.no_grad():
            network(fg.from_numpy(np.zeros((1, *input_shape), dtype=dtype)))
    finally:
        network.train(was_training)
        for name, module in leaves:
            if originals[name] is None:
                del module.__dict__["forward"]
            else:
                module.__dict__["forward"] = originals[name]
    return shapes


def summary(network: Any, input_shape: Any = None) -> str:
    """The table of ``network``'s layers (the modules without children), with output shapes when
    ``input_shape`` (one example's shape, without the batch axis) is known."""
    leaves = [(name or type(network).__name__, m) for name, m in network.named_modules() if not list(m.children())]
    shapes = _output_shapes(network, leaves, tuple(input_shape)) if input_shape is not None else {}
    rows = []
    for name, module in leaves:
        count = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((f"{name} ({type(module).__name__})", shapes.get(name, "?"), f"{count:,}"))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in
              enumerate(("Layer (type)", "Output shape", "Params"))]  # fmt: skip
    line = "-" * (sum(widths) + 6)
    out = [f"{'Layer (type)':<{widths[0]}}   {'Output shape':<{widths[1]}}   {'Params':>{widths[2]}}", line]
    out += [f"{a:<{widths[0]}}   {b:<{widths[1]}}   {c:>{widths[2]}}" for a, b, c in rows]
    trainable = sum(p.numel() for p in network.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in network.parameters() if not p.requires_grad)
    frozen += sum(int(np.size(getattr(b, "_data", b))) for b in network.buffers())
    out += [line, f"Total params: {trainable + frozen:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {frozen:,}"]  # fmt: skip
    return "\n".join(out)
