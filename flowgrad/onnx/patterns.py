"""The fixed patterns: convolution and pooling over ``unfold2d``'s windows, and indexing.

conv2d is ``unfold2d -> reshape (N, groups, C/groups*kh*kw, oh*ow) -> weight @ cols -> reshape
(N, out, oh, ow)``; max_pool2d and avg_pool2d are ``unfold2d -> reshape (N, C, kh*kw, oh, ow) ->
max/mean over axis 2``. The windows stay symbolic until the step that closes the pattern, which
writes one Conv, MaxPool or AveragePool node.

>>> from flowgrad.onnx.patterns import index_items
>>> index_items((Ellipsis, 0), 3)
[slice(None, None, None), slice(None, None, None), 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Call, Graph

__all__ = ["unfold2d", "reshape_windows", "conv", "pool", "getitem", "index_items"]

_BIG = np.iinfo(np.int64).max


def unfold2d(g: Graph, c: Call) -> None:
    p = c.params
    g.virtual[c.out] = {
        "kind": "unfold2d",
        "stage": "windows",
        "x": c.name(0),
        "shape": c.out_shape,
        **{k: tuple(int(v) for v in p[k]) for k in ("kernel", "stride", "padding", "dilation")},
        "pad_value": float(p["pad_value"]),
    }


def _attrs(w: dict) -> dict:
    ph, pw = w["padding"]
    return {"kernel_shape": list(w["kernel"]), "strides": list(w["stride"]), "pads": [ph, pw, ph, pw]}


def reshape_windows(g: Graph, c: Call, w: dict) -> None:
    n, ch, kh, kw, oh, ow = w["shape"]
    shape = tuple(c.out_shape)
    if w["stage"] == "windows" and len(shape) == 4 and shape[0] == n and shape[3] == oh * ow:
        groups = shape[1]
        if ch % groups == 0 and shape[2] == ch // groups * kh * kw:
            g.virtual[c.out] = {**w, "stage": "conv_cols", "groups": groups}
            return
    if w["stage"] == "windows" and shape == (n, ch, kh * kw, oh, ow):
        g.virtual[c.out] = {**w, "stage": "pool_cols"}
        return
    if w["stage"] == "conv_out" and shape == (n, w["out_channels"], oh, ow):
        _emit_conv(g, c, w)
        return
    raise c.fail(
        f"reshapes convolution windows to {shape}, which is not conv2d's or a pooling's pattern; "
        "use fg.nn.functional.conv2d, max_pool2d or avg_pool2d"
    )


def conv(g: Graph, c: Call, w: dict) -> None:
    """``weight @ cols``: the weight (groups, out/groups, C/groups*kh*kw) times the windows."""
    if w["stage"] != "conv_cols" or w["pad_value"] != 0.0 or c.virtual(0) is not None:
        raise c.fail("multiplies convolution windows in a form other than conv2d's")
    groups, per_group, _ = c.shape(0)
    if groups != w["groups"]:
        raise c.fail("multiplies convolution windows by a weight with another number of groups")
    g.virtual[c.out] = {**w, "stage": "conv_out", "weight": c.name(0), "out_channels": groups * per_group}


def _emit_conv(g: Graph, c: Call, w: dict) -> None:
    ch, (kh, kw), groups = w["shape"][1], w["kernel"], w["groups"]
    kernel_shape = (w["out_channels"], ch // groups, kh, kw)
    weight = w["weight"]
    source = g.origin.get(weight)
    if source is not None and tuple(source[1]) == kernel_shape:
        weight = source[0]  # the layer's own (out, in/groups, kh, kw) parameter
    else:
        weight = g.node("Reshape", [weight, g.ints(kernel_shape)])
    g.node("Conv", [w["x"], weight], c.out, dilations=list(w["dilation"]), group=groups, **_attrs(w))


def pool(g: Graph, c: Call, w: dict, op_type: str) -> None:
    """max or mean over axis 2 of the (N, C, kh*kw, oh, ow) windows."""
    axis, keep = c.params["axis"], c.params["keepdims"]
    if w["stage"] != "pool_cols" or axis not in (2, (2,), -3, (-3,)) or keep:
        raise c.fail("reduces pooling windows over other axes than max_pool2d's and avg_pool2d's")
    if op_type == "MaxPool":
        if w["pad_value"] != -np.inf:
            raise c.fail("takes the max over windows padded with a finite value; MaxPool pads with -inf")
        g.node(op_type, [w["x"]], c.out, dilations=list(w["dilation"]), **_attrs(w))
        return
    if w["pad_value"] != 0.0:
        raise c.fail("averages windows padded with a value other than 0")
    dilated = w["dilation"] != (1, 1)
    if dilated and g.opset < 19:
        raise c.fail("a dilated average pooling needs opset 19 or later (AveragePool's dilations)")
    g.node(
        op_type,
        [w["x"]],
        c.out,
        count_include_pad=1,
        dilations=list(w["dilation"]) if dilated else None,
        **_attrs(w),
    )


def index_items(index: Any, ndim: int) -> list:
    """The index as one item per input axis (Ellipsis expanded), None items kept in place."""
    items = list(index) if isinstance(index, tuple) else [index]
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in items):
        k = next(j for j, i in enumerate(items) if i is Ellipsis)
        items[k : k + 1] = [slice(None)] * (ndim - used)
    else:
        items += [slice(None)] * (ndim - used)
    return items


def getitem(g: Graph, c: Call) -> None:
    """Slice for slices and integers, Gather for one integer array, Squeeze/Unsqueeze for the rest."""
    shape = c.shape(0)
    items = index_items(c.params["index"], len(shape))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    gather = None
    axis = out_axis = 0
    for item in items:
        if isinstance(item, list):
            item = np.asarray(item)
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            i = int(item)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _BIG)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if item != slice(None):
                starts.append(int(item.start) if item.start is not None else (0 if step > 0 else _BIG))
                ends.append(int(item.stop) if item.stop is not None else (_BIG if step > 0 else -_BIG))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif isinstance(item, np.ndarray) and item.dtype.kind in "iu" and gather is None:
            gather = (axis, item.astype(np.int64))
            out_axis += item.ndim
        else:
            raise c.fail(
                f"index {c.params['index']!r} has no ONNX form here (integers, slices, None, ... and one "
                "integer array do; boolean masks and several arrays do not)"
            )
        axis += 1
    if gather is not None and squeeze:
        raise c.fail("an index with an integer array and integers (NumPy moves the axes) has no ONNX form here")
    x = c.name(0)
    if starts:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if gather is not None:
        x = g.node("Gather", [x, g.const(gather[1], "index")], axis=gather[0])
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)])
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)])
    g.node("Identity", [x], c.out)
