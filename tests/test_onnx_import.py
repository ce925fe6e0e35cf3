"""flowgrad.onnx.load: every IMPORTERS entry against onnxruntime on a one-node graph; gradients."""

import numpy as np
import pytest

import flowgrad as fg

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from flowgrad.onnx import IMPORTERS, OnnxModule  # noqa: E402

h = onnx.helper
RNG = np.random.default_rng(0)
# float32 results of the same math with other kernels: a few units in the last place
RTOL, ATOL = 1e-5, 1e-6


class Init:
    """An input given as an initializer (shapes, axes, indices), not a graph input."""

    def __init__(self, value):
        self.value = np.asarray(value)


def f(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def ints(*values):
    return Init(np.asarray(values, np.int64))


X = f(2, 3)
POS = f(2, 3, lo=0.2, hi=3.0)
UNIT = f(2, 3, lo=-0.9, hi=0.9)
B1, B2 = X > 0, f(2, 3) > 0
IMAGE = f(2, 2, 6, 6)

# op -> (inputs, attributes[, opset]); one row per IMPORTERS entry
ROWS = {
    "Identity": ([X], {}),
    "Dropout": ([X], {}),
    "Constant": ([], {"value": onnx.numpy_helper.from_array(f(2, 2))}),
    "ConstantOfShape": ([ints(2, 3)], {"value": onnx.numpy_helper.from_array(np.float32([1.5]))}),
    "Shape": ([f(2, 3, 4)], {"start": 1}),
    "Cast": ([X], {"to": onnx.TensorProto.DOUBLE}),
    "Reshape": ([f(2, 6)], {}, 18, [ints(0, 3, -1)]),
    "Flatten": ([f(2, 3, 4)], {"axis": 2}),
    "Transpose": ([f(2, 3, 4)], {"perm": [1, 0, 2]}),
    "Unsqueeze": ([X, ints(0, 3)], {}),
    "Squeeze": ([f(2, 1, 3), ints(1)], {}),
    "Concat": ([X, f(2, 2)], {"axis": 1}),
    "Slice": ([f(4, 5), ints(1, -1), ints(3, -5), ints(0, 1), ints(1, -2)], {}),
    "Gather": ([f(4, 5), Init(np.int64([[0, 2], [3, -1]]))], {"axis": 1}),
    "Expand": ([f(3, 1), ints(2, 3, 4)], {}),
    "Pad": ([X, ints(0, 1, 1, 2), Init(np.float32(0.5))], {}),
    "Add": ([X, f(3)], {}),
    "Sub": ([X, f(2, 1)], {}),
    "Mul": ([X, X], {}),
    "Div": ([X, POS], {}),
    "Pow": ([POS, X], {}),
    "Neg": ([X], {}),
    "Abs": ([X], {}),
    "Reciprocal": ([POS], {}),
    "Sqrt": ([POS], {}),
    "Exp": ([X], {}),
    "Log": ([POS], {}),
    "Sin": ([X], {}),
    "Cos": ([X], {}),
    "Tan": ([UNIT], {}),
    "Asin": ([UNIT], {}),
    "Acos": ([UNIT], {}),
    "Atan": ([X], {}),
    "Sinh": ([X], {}),
    "Cosh": ([X], {}),
    "Asinh": ([X], {}),
    "Acosh": ([POS + 1], {}),
    "Atanh": ([UNIT], {}),
    "Erf": ([X], {}),
    "Sign": ([X], {}),
    "Floor": ([X], {}),
    "Ceil": ([X], {}),
    "Round": ([X * 3], {}),
    "IsNaN": ([X], {}),
    "IsInf": ([X], {}),
    "Equal": ([np.floor(X), np.zeros_like(X)], {}),
    "Less": ([X, UNIT], {}),
    "LessOrEqual": ([X, UNIT], {}),
    "Greater": ([X, UNIT], {}),
    "GreaterOrEqual": ([X, UNIT], {}),
    "Not": ([B1], {}),
    "And": ([B1, B2], {}),
    "Or": ([B1, B2], {}),
    "Xor": ([B1, B2], {}),
    "Where": ([B1, X, UNIT], {}),
    "Max": ([X, UNIT, f(3)], {}),
    "Min": ([X, UNIT, f(3)], {}),
    "Clip": ([X, Init(np.float32(-0.5)), Init(np.float32(0.7))], {}),
    "Relu": ([X], {}),
    "Sigmoid": ([X], {}),
    "Tanh": ([X], {}),
    "LeakyRelu": ([X], {"alpha": 0.2}),
    "Elu": ([X], {"alpha": 0.5}),
    "Gelu": ([X], {"approximate": "tanh"}, 20),
    "Softplus": ([X], {}),
    "Softmax": ([f(2, 3, 4)], {"axis": 1}),
    "LogSoftmax": ([f(2, 3, 4)], {"axis": -1}),
    "MatMul": ([f(2, 2, 3), f(3, 4)], {}),
    "Gemm": ([f(3, 2), f(3, 4), f(4)], {"transA": 1, "alpha": 0.5, "beta": 2.0}),
    "Einsum": ([f(2, 3), f(3, 4)], {"equation": "ij,jk->ik"}),
    "Det": ([f(2, 3, 3)], {}),
    "Conv": (
        [IMAGE, f(4, 1, 3, 3), f(4)],
        {"group": 2, "pads": [1, 0, 2, 1], "strides": [2, 1], "dilations": [1, 2]},
    ),
    "MaxPool": ([IMAGE], {"kernel_shape": [3, 3], "pads": [1, 1, 0, 0], "strides": [2, 2]}),
    "AveragePool": ([IMAGE], {"kernel_shape": [3, 2], "pads": [1, 1, 1, 0], "count_include_pad": 0}),
    "GlobalAveragePool": ([IMAGE], {}),
    "GlobalMaxPool": ([IMAGE], {}),
    "BatchNormalization": ([f(2, 3, 4), f(3), f(3), f(3), f(3, lo=0.5, hi=2)], {"epsilon": 1e-3}),
    "ReduceSum": ([f(2, 3, 4), ints(1)], {"keepdims": 0}),
    "ReduceMean": ([f(2, 3, 4), ints(0, 2)], {}),
    "ReduceMax": ([f(2, 3, 4), ints(-1)], {"keepdims": 0}),
    "ReduceMin": ([f(2, 3, 4)], {}),
    "ReduceProd": ([f(2, 3, 4), ints(1)], {}),
    "ReduceLogSumExp": ([f(2, 3, 4), ints(2)], {"keepdims": 0}),
    "ArgMax": ([X], {"axis": 1, "keepdims": 0}),
    "ArgMin": ([X], {"axis": 0}),
    "CumSum": ([X, Init(np.int64(1))], {}),
}


def one_node(op, inputs, attrs, opset=18, more=()):
    graph_inputs, inits, names, feeds = [], [], [], {}
    for i, v in enumerate([*inputs, *more]):
        name = f"in{i}"
        names.append(name)
        if isinstance(v, Init):
            inits.append(onnx.numpy_helper.from_array(v.value, name))
        else:
            graph_inputs.append(h.make_tensor_value_info(name, h.np_dtype_to_tensor_dtype(v.dtype), v.shape))
            feeds[name] = v
    node = h.make_node(op, names, ["out"], **attrs)
    out = h.make_value_info("out", onnx.TypeProto())
    graph = h.make_graph([node], op, graph_inputs, [out], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = h.find_min_ir_version_for([h.make_opsetid("", opset)])
    return model, feeds


def test_every_importer_has_a_row():
    assert set(ROWS) == set(IMPORTERS)


@pytest.mark.parametrize("op", sorted(ROWS))
def test_importer_matches_onnxruntime(op):
    inputs, attrs, *rest = ROWS[op]
    opset = rest[0] if rest else 18
    more = rest[1] if len(rest) > 1 else ()
    model, feeds = one_node(op, inputs, attrs, opset, more)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (want,) = session.run(None, feeds)
    got = OnnxModule(model)(*feeds.values()).numpy()
    assert got.shape == want.shape
    if want.dtype.kind == "f":
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    else:
        np.testing.assert_array_equal(got, want)


def test_loaded_model_gradients_against_central_differences():
    fg.manual_seed(0)
    model = fg.nn.Sequential(
        fg.nn.Conv2d(1, 2, 3, padding=1), fg.nn.Tanh(), fg.nn.AvgPool2d(2), fg.nn.Flatten(), fg.nn.Linear(8, 2)
    ).double()
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4))
    back = fg.onnx.OnnxModule(fg.onnx.export(model, x, None, dynamic_axes={"input": [0]}))
    xt = fg.tensor(x, requires_grad=True)
    assert fg.testing.gradcheck(lambda x: back(x), [xt])
    weight = dict(back.named_parameters())["0.weight"]
    assert weight.dtype == np.float64

    def of_weight(w):
        weight._data = w._data  # central differences move the weight; its gradient flows as a parameter's
        return back(x).sum()

    loss = back(x).sum()
    loss.backward()
    eps, k = 1e-6, (0, 0, 1, 1)
    base = weight.numpy().copy()
    plus, minus = base.copy(), base.copy()
    plus[k] += eps
    minus[k] -= eps
    numeric = (of_weight(fg.tensor(plus)).item() - of_weight(fg.tensor(minus)).item()) / (2 * eps)
    weight._data = base
    np.testing.assert_allclose(weight.grad.numpy()[k], numeric, rtol=1e-6)
