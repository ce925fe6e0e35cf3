"""flowgrad.onnx: export checked by onnx.checker and onnxruntime, load back, torch's exports, the CLI."""

import inspect

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.numpy as fnp
from flowgrad import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from flowgrad.onnx import EMITTERS, ExportError  # noqa: E402
from flowgrad.onnx.trace import trace  # noqa: E402

# float32 results of the same math with other summation orders and kernels (BLAS, ORT's MLAS):
# they agree to a few units in the last place, relative to the size of the sums involved.
RTOL, ATOL = 1e-5, 1e-6


class Fn(nn.Module):
    """A module whose forward is ``fn(x)`` (with a parameter ``w`` of shape (4, 3) to use)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.w = nn.Parameter(fg.from_numpy(np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)))

    def forward(self, x):
        x = x if isinstance(x, fg.Tensor) else fg.from_numpy(x)
        return self.fn(x, self.w) if isinstance(self.fn, WithW) else self.fn(x)


class WithW:
    """A forward that takes the module's parameter ``w`` too."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x, w):
        return self.fn(x, w)


def _u(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, size=shape).astype(np.float32)


NORMAL = lambda rng, shape: rng.normal(size=shape).astype(np.float32)  # noqa: E731
POS = _u(0.1, 3.0)
UNIT = _u(-0.9, 0.9)

# op -> (forward using it, input maker, input shape with the batch first). One row per EMITTERS entry.
OP_ROWS = {
    "add": (lambda x: x + 1.5 + x, NORMAL, (2, 4)),
    "sub": (lambda x: x - 2.0, NORMAL, (2, 4)),
    "mul": (lambda x: x * 3.0, NORMAL, (2, 4)),
    "div": (lambda x: x / 4.0, NORMAL, (2, 4)),
    "pow": (lambda x: x**2.5, POS, (2, 4)),
    "neg": (lambda x: -x, NORMAL, (2, 4)),
    "abs": (fg.abs, NORMAL, (2, 4)),
    "reciprocal": (fnp.reciprocal, POS, (2, 4)),
    "square": (fnp.square, NORMAL, (2, 4)),
    "sqrt": (fg.sqrt, POS, (2, 4)),
    "exp": (fg.exp, NORMAL, (2, 4)),
    "exp2": (fnp.exp2, NORMAL, (2, 4)),
    "expm1": (
        fnp.expm1,
        lambda rng, s: (rng.normal(size=s) * 10.0 ** rng.integers(-8, 1, s)).astype(np.float32),
        (2, 4),
    ),
    "log": (fg.log, POS, (2, 4)),
    "log1p": (
        fnp.log1p,
        lambda rng, s: (rng.uniform(0, 1, s) * 10.0 ** rng.integers(-8, 1, s)).astype(np.float32),
        (2, 4),
    ),
    "log2": (fnp.log2, POS, (2, 4)),
    "log10": (fnp.log10, POS, (2, 4)),
    "sin": (fg.sin, NORMAL, (2, 4)),
    "cos": (fg.cos, NORMAL, (2, 4)),
    "tan": (fnp.tan, UNIT, (2, 4)),
    "arcsin": (fnp.arcsin, UNIT, (2, 4)),
    "arccos": (fnp.arccos, UNIT, (2, 4)),
    "arctan": (fnp.arctan, NORMAL, (2, 4)),
    "sinh": (fnp.sinh, NORMAL, (2, 4)),
    "cosh": (fnp.cosh, NORMAL, (2, 4)),
    "arcsinh": (fnp.arcsinh, NORMAL, (2, 4)),
    "arccosh": (fnp.arccosh, _u(1.1, 4.0), (2, 4)),
    "arctanh": (fnp.arctanh, UNIT, (2, 4)),
    "hypot": (lambda x: fnp.hypot(x, x * 2.0), NORMAL, (2, 4)),
    "erf": (fg.erf, NORMAL, (2, 4)),
    "sign": (fnp.sign, NORMAL, (2, 4)),
    "floor": (fnp.floor, NORMAL, (2, 4)),
    "ceil": (fnp.ceil, NORMAL, (2, 4)),
    "round": (lambda x: fnp.round(x * 3.0), NORMAL, (2, 4)),
    "maximum": (lambda x: fnp.maximum(x, 0.3), NORMAL, (2, 4)),
    "minimum": (lambda x: fnp.minimum(x, 0.3), NORMAL, (2, 4)),
    "clip": (lambda x: fnp.clip(x, -0.5, 0.5), NORMAL, (2, 4)),
    "where": (lambda x: fg.where(x > 0, x, x * 0.1), NORMAL, (2, 4)),
    "eq": (lambda x: fnp.floor(x) == 0.0, NORMAL, (2, 4)),
    "ne": (lambda x: fnp.floor(x) != 0.0, NORMAL, (2, 4)),
    "lt": (lambda x: x < 0.2, NORMAL, (2, 4)),
    "le": (lambda x: x <= 0.2, NORMAL, (2, 4)),
    "gt": (lambda x: x > 0.2, NORMAL, (2, 4)),
    "ge": (lambda x: x >= 0.2, NORMAL, (2, 4)),
    "logical_and": (lambda x: fnp.logical_and(x > 0, x < 1), NORMAL, (2, 4)),
    "logical_or": (lambda x: fnp.logical_or(x > 1, x < 0), NORMAL, (2, 4)),
    "logical_xor": (lambda x: fnp.logical_xor(x > 0, x < 1), NORMAL, (2, 4)),
    "logical_not": (lambda x: fnp.logical_not(x > 0), NORMAL, (2, 4)),
    "isnan": (fnp.isnan, NORMAL, (2, 4)),
    "isfinite": (fnp.isfinite, NORMAL, (2, 4)),
    "relu": (nn.ReLU(), NORMAL, (2, 4)),
    "sigmoid": (nn.Sigmoid(), NORMAL, (2, 4)),
    "tanh": (nn.Tanh(), NORMAL, (2, 4)),
    "leaky_relu": (nn.LeakyReLU(0.2), NORMAL, (2, 4)),
    "softplus": (nn.Softplus(beta=2.0, threshold=1.5), NORMAL, (2, 4)),
    "softmax": (nn.Softmax(dim=1), NORMAL, (2, 4)),
    "log_softmax": (nn.LogSoftmax(dim=1), NORMAL, (2, 4)),
    "sum": (lambda x: x.sum(axis=1), NORMAL, (2, 4)),
    "mean": (lambda x: x.mean(axis=(1, 2), keepdims=True), NORMAL, (2, 3, 4)),
    "max": (lambda x: x.max(axis=1), NORMAL, (2, 4)),
    "min": (lambda x: x.min(axis=-1, keepdims=True), NORMAL, (2, 4)),
    "prod": (lambda x: x.prod(axis=1), NORMAL, (2, 4)),
    "any": (lambda x: (x > 1).any(axis=1), NORMAL, (2, 4)),
    "all": (lambda x: (x > -1).all(axis=1), NORMAL, (2, 4)),
    "logsumexp": (lambda x: fg.logsumexp(x, 1), NORMAL, (2, 4)),
    "var": (lambda x: x.var(axis=1, ddof=1) + x.var(axis=1), NORMAL, (2, 4)),
    "argmax": (lambda x: fnp.argmax(x, axis=1), NORMAL, (2, 4)),
    "argmin": (lambda x: fnp.argmin(x, axis=1), NORMAL, (2, 4)),
    "cumsum": (lambda x: fnp.cumsum(x, axis=1), NORMAL, (2, 4)),
    "astype": (lambda x: fnp.floor(x * 3.0).astype(np.int32), NORMAL, (2, 4)),
    "copy": (lambda x: x.clone(), NORMAL, (2, 4)),
    "reshape": (lambda x: x.reshape(x.shape[0], 2, -1), NORMAL, (2, 4)),
    "broadcast_to": (lambda x: fnp.broadcast_to(x[:, :1], x.shape) * x, NORMAL, (2, 4)),
    "transpose": (lambda x: fnp.transpose(x, (1, 0)), NORMAL, (2, 4)),
    "expand_dims": (lambda x: fnp.expand_dims(x, 1), NORMAL, (2, 4)),
    "squeeze": (lambda x: fnp.squeeze(x[:, :1], 1), NORMAL, (2, 4)),
    "flip": (lambda x: fnp.flip(x, 1), NORMAL, (2, 4)),
    "concatenate": (lambda x: fnp.concatenate([x, 2.0 * x], axis=1), NORMAL, (2, 4)),
    "stack": (lambda x: fnp.stack([x, 2.0 * x], axis=1), NORMAL, (2, 4)),
    "pad": (lambda x: fnp.pad(x, ((0, 0), (1, 2))) + fnp.pad(x, ((0, 0), (2, 1)), mode="reflect"), NORMAL, (2, 4)),
    "getitem": (lambda x: x[:, 1:3] + x[:, 0][:, None] + x[..., ::-2][:, :2] + x[:, [0, 3]], NORMAL, (2, 4)),
    "linear": (nn.Linear(4, 3), NORMAL, (2, 4)),
    "matmul": (WithW(lambda x, w: x @ w), NORMAL, (2, 4)),
    "einsum": (WithW(lambda x, w: fnp.einsum("bi,ij->bj", x, w)), NORMAL, (2, 4)),
    "det": (lambda x: fnp.linalg.det(x.reshape(x.shape[0], 2, 2)), NORMAL, (2, 4)),
    "unfold2d": (nn.AvgPool2d(2, padding=1), NORMAL, (2, 2, 5, 5)),
    "conv2d": (nn.Conv2d(2, 3, 3, padding=1), NORMAL, (2, 2, 5, 5)),
    "max_pool2d": (nn.MaxPool2d(3, stride=2, padding=1), NORMAL, (2, 2, 5, 5)),
}


def run_ort(proto, *inputs):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def assert_matches(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    else:
        np.testing.assert_array_equal(got, want)


def check_export(model, x, tmp_path, other_batch=5):
    """Export with a dynamic batch; onnxruntime must give the model's outputs at two batch sizes."""
    path = tmp_path / "model.onnx"
    fg.onnx.export(model, x, path, dynamic_axes={"input": {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    rng = np.random.default_rng(7)
    for batch in (x.shape[0], other_batch):
        xb = np.concatenate([x, x])[:batch] if batch <= 2 * x.shape[0] else np.resize(x, (batch, *x.shape[1:]))
        if batch != x.shape[0]:
            xb = xb + rng.normal(scale=1e-3, size=xb.shape).astype(np.float32) * (xb != 0)
        (got,) = run_ort(proto, xb)
        assert_matches(got, model(xb).numpy())
    return path


def test_every_emitter_has_a_row():
    assert set(OP_ROWS) == set(EMITTERS)


@pytest.mark.parametrize("name", sorted(OP_ROWS))
def test_op_exports_and_runs_in_onnxruntime(name, tmp_path):
    fn, make, shape = OP_ROWS[name]
    model = fn if isinstance(fn, nn.Module) else Fn(fn)
    x = make(np.random.default_rng(0), shape)
    assert name in [s.op for s in trace(model, [x]).steps]  # the row exercises its op
    model.eval()
    check_export(model, x, tmp_path)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2),
            nn.GELU(),
            nn.AvgPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 5)
        )

    def forward(self, x):
        return fg.log_softmax(self.head(self.features(x)), 1)


def trained_net():
    fg.manual_seed(0)
    model = Net()
    x = np.random.default_rng(0).normal(size=(6, 3, 8, 8)).astype(np.float32)
    model(x)  # one training-mode pass: running statistics away from 0 and 1
    model.eval()
    return model, x


def test_conv_net_with_dynamic_batch(tmp_path):
    model, x = trained_net()
    path = check_export(model, x[:2], tmp_path, other_batch=6)
    proto = onnx.load(str(path))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "MaxPool", "AveragePool", "Gemm"} <= ops and "Reshape" in ops
    inits = {i.name for i in proto.graph.initializer}
    assert {"features.0.weight", "features.1.running_mean", "head.2.weight", "head.3.running_var"} <= inits
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.training is False


def test_mlp_layers(tmp_path):
    fg.manual_seed(1)
    model = nn.Sequential(
        nn.Linear(6, 8),
        nn.LayerNorm(8),
        nn.SiLU(),
        nn.Linear(8, 8),
        nn.GELU(approximate="tanh"),
        nn.Softplus(),
        nn.Linear(8, 3),
        nn.Softmax(dim=-1),
    )
    x = np.random.default_rng(2).normal(size=(3, 6)).astype(np.float32)
    check_export(model, x, tmp_path, other_batch=9)


def test_mixed_dtypes_promote_as_numpy(tmp_path):
    steps = np.arange(4)  # int64: float32 * int64 is float64 in NumPy, so in flowgrad
    model = Fn(lambda x: (x * steps, x > steps, fg.where(x > 0, x, steps), x.astype(np.float64) + x))
    x = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32) * 3
    proto = fg.onnx.export(model, x, None, dynamic_axes={"input": [0]})
    onnx.checker.check_model(proto, full_check=True)
    x3 = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32) * 3
    for got, want in zip(run_ort(proto, x3), model(x3)):
        assert_matches(got, want.numpy())


def test_pool_options_and_static_shape(tmp_path):
    model = nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(2, stride=1, padding=1))
    x = np.random.default_rng(3).normal(size=(2, 2, 7, 7)).astype(np.float32)
    proto = fg.onnx.export(model, x, None)  # no dynamic axes: a fixed batch
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert_matches(run_ort(proto, x)[0], model(x).numpy())


def test_unsupported_op_names_it_and_the_module():
    class Solver(nn.Module):
        def forward(self, x):
            return fnp.linalg.inv(x)

    model = nn.Sequential(nn.Identity(), Solver())
    x = np.eye(3, dtype=np.float32)[None] * 2
    with pytest.raises(ExportError, match=r"'inv' \(in module '1' \(Solver\)\) has no ONNX form"):
        fg.onnx.export(model, x, None)


def test_refusals(tmp_path):
    x = np.ones((2, 4), np.float32)
    with pytest.raises(ExportError, match="a tensor made inside the forward"):
        fg.onnx.export(Fn(lambda x: x + fg.ones(x.shape[0], 4)), x, None, dynamic_axes={"input": [0]})
    with pytest.raises(fg.ArgumentError, match="opset_version"):
        fg.onnx.export(nn.ReLU(), x, None, opset_version=7)
    with pytest.raises(fg.ArgumentError, match="not an input or output name"):
        fg.onnx.export(nn.ReLU(), x, None, dynamic_axes={"x": [0]})
    with pytest.raises(ExportError, match="windows"):
        fg.onnx.export(Fn(lambda x: fg.ops.conv.unfold2d(x, 2).sum()), np.ones((1, 1, 3, 3), np.float32), None)


def test_several_inputs_outputs_and_older_opset(tmp_path):
    class Two(nn.Module):
        def forward(self, a, b):
            return a.mean(axis=1) + b, fg.relu(a)

    proto = fg.onnx.export(
        Two(), (np.ones((2, 3), np.float32), np.ones(2, np.float32)), None, output_names=["m", "r"], opset_version=13
    )
    assert [o.name for o in proto.graph.output] == ["m", "r"]
    a, b = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32), np.float32([1.0, 2.0])
    m, r = run_ort(proto, a, b)
    assert_matches(m, a.mean(1) + b)
    assert_matches(r, np.maximum(a, 0))


def test_round_trip_is_trainable(tmp_path):
    model, x = trained_net()
    path = tmp_path / "net.onnx"
    fg.onnx.export(model, x[:2], path, dynamic_axes={"input": [0]})
    back = fg.onnx.load(path)
    assert isinstance(back, nn.Module)
    names = {n for n, _ in model.named_parameters()}
    assert names <= set(back.state_dict())  # the state_dict names survive
    np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=RTOL, atol=ATOL)
    # gradients through the loaded graph are the original's
    y = np.arange(6) % 5
    loss = nn.NLLLoss()
    loss(model(x), fg.tensor(y)).backward()
    loss(back(x), fg.tensor(y)).backward()
    got = dict(back.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(got[name].grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6)
    opt = fg.optim.SGD(back.parameters(), lr=0.1)
    before = loss(back(x), fg.tensor(y)).item()
    for _ in range(3):
        opt.zero_grad()
        loss(back(x), fg.tensor(y)).backward()
        opt.step()
    assert loss(back(x), fg.tensor(y)).item() < before


@pytest.mark.parametrize("name", sorted(OP_ROWS))
def test_op_round_trip(name, tmp_path):
    fn, make, shape = OP_ROWS[name]
    model = fn if isinstance(fn, nn.Module) else Fn(fn)
    model.eval()
    x = make(np.random.default_rng(0), shape)
    proto = fg.onnx.export(model, x, None, dynamic_axes={"input": [0]})
    back = fg.onnx.OnnxModule(proto)
    xb = make(np.random.default_rng(1), (3, *shape[1:]))
    assert_matches(back(xb).numpy(), model(xb).numpy())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's TorchScript-based exporter says it is legacy
def test_torch_exported_model_loads(tmp_path):
    torch = pytest.importorskip("torch")
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    else:
        pytest.importorskip("onnxscript")
    torch.manual_seed(0)

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(4)
            self.pool = torch.nn.MaxPool2d(2)
            self.avg = torch.nn.AvgPool2d(2, padding=1, count_include_pad=False)
            self.fc = torch.nn.Linear(4 * 3 * 3, 6)
            self.out = torch.nn.Linear(6, 3)

        def forward(self, x):
            x = self.avg(self.pool(torch.relu(self.bn(self.conv(x)))))
            x = x.view(x.size(0), -1)
            x = torch.nn.functional.elu(self.fc(x))
            x = torch.nn.functional.gelu(x) + torch.nn.functional.leaky_relu(x, 0.1)
            return torch.softmax(self.out(torch.sigmoid(x) * torch.tanh(x)), dim=1)

    net = TorchNet()
    with torch.no_grad():
        net(torch.randn(8, 3, 8, 8))  # running statistics
    net.eval()
    path = tmp_path / "torch.onnx"
    x = np.random.default_rng(0).normal(size=(2, 3, 8, 8)).astype(np.float32)
    torch.onnx.export(
        net,
        (torch.from_numpy(x),),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        **kwargs,
    )
    back = fg.onnx.load(path)
    x5 = np.random.default_rng(1).normal(size=(5, 3, 8, 8)).astype(np.float32)
    for xb in (x, x5):
        with torch.no_grad():
            want = net(torch.from_numpy(xb)).numpy()
        np.testing.assert_allclose(back(xb).numpy(), want, rtol=RTOL, atol=ATOL)
    assert {"fc.weight", "out.weight"} <= set(back.state_dict())  # torch folds the batch norm into conv


def test_load_refuses_unknown_operators(tmp_path):
    h = onnx.helper
    node = h.make_node("Hardmax", ["x"], ["y"])
    graph = h.make_graph([node], "g", [h.make_tensor_value_info("x", 1, [2])], [h.make_tensor_value_info("y", 1, [2])])
    with pytest.raises(NotImplementedError, match="Hardmax"):
        fg.onnx.OnnxModule(h.make_model(graph))
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(fg.DataError, match="not a readable ONNX model"):
        fg.onnx.load(tmp_path / "bad.onnx")


def test_cli_export(tmp_path, capsys):
    from flowgrad.cli import main
    from flowgrad.cli.jobs import load_run

    assert main(["train", "--epochs", "1", "--runs-dir", str(tmp_path)]) == 0
    folder = tmp_path / "digits-mlp"
    out = tmp_path / "digits.onnx"
    assert main(["export", str(folder), "--format", "onnx", "--output", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    run = load_run(folder)
    X = run.X_test[:7].astype(np.float32)  # noqa: N806
    (got,) = run_ort(proto, X)
    np.testing.assert_allclose(got, run.model.predict(run.scale(X)), rtol=RTOL, atol=ATOL)
    assert main(["export", str(folder)]) == 0 and (folder / "model.onnx").exists()
    assert main(["export", str(folder), "--format", "tflite"]) == 2
    assert main(["export", str(folder), "--output", str(tmp_path / "no" / "m.onnx")]) == 3
