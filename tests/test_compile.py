"""fg.compile: replaying a traced training step is bit-identical to running it eagerly."""

import warnings

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test


def gender():
    X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)
    return (
        nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double(),
        X,
        np.array([[1.0], [0.0], [0.0], [1.0]]),
        "mse",
        1,
    )


def perceptron():
    data = np.array([[1, 0, -1], [0, 1, -1], [0, 0, -1], [1, 1, 1]], dtype=np.float64)
    return nn.Linear(2, 1).double(), data[:, :2], data[:, 2:], "mse", 1


def housing():
    X, y = fg.datasets.load_housing(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return (
        nn.Sequential(nn.Linear(13, 10), nn.Sigmoid(), nn.Linear(10, 1)),
        X[:99],
        y[:99, None].astype(np.float32),
        "mse",
        11,
    )


def regression():
    x, y = fg.datasets.make_linear(64, seed=0)
    return nn.Dense(1, 1), x, y, "mse", 16


def digits_mlp():
    d = fg.datasets.load_digits()
    X = (d.data[:200] / 16).astype(np.float32)
    net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    return net, X, d.target[:200], "cross_entropy", 32


def digits_conv():
    d = fg.datasets.load_digits()
    X = (d.images[:96] / 16).astype(np.float32)[:, None]
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )
    return net, X, d.target[:96], "cross_entropy", 32


NETWORKS = [gender, perceptron, housing, regression, digits_mlp, digits_conv]


def train(make, compiled, optimizer="sgd", steps=3):
    fg.manual_seed(0)
    net, X, y, loss_name, batch = make()
    loss_fn = nn.MSELoss() if loss_name == "mse" else nn.CrossEntropyLoss()
    opt = (
        fg.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        if optimizer == "sgd"
        else fg.optim.Adam(net.parameters(), lr=1e-2)
    )

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        return loss

    run = fg.compile(step) if compiled else step
    losses = []
    for _ in range(steps):
        for start in range(0, len(X), batch):  # the last batch may be smaller: a second trace
            losses.append(run(fg.from_numpy(X[start : start + batch]), fg.from_numpy(y[start : start + batch])).item())
    return losses, [p.numpy().copy() for p in net.parameters()], [b.numpy().copy() for b in net.buffers()], run


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("make", NETWORKS, ids=[f.__name__ for f in NETWORKS])
def test_compiled_training_is_bit_identical_to_eager(make, optimizer):
    eager_losses, eager_params, eager_buffers, _ = train(make, False, optimizer)
    losses, params, buffers, run = train(make, True, optimizer)
    assert losses == eager_losses
    for a, b in zip(params + buffers, eager_params + eager_buffers):
        np.testing.assert_array_equal(a, b)
    assert 1 <= run.traces <= 2  # one per batch shape


def test_pytorch_style_manual_update_in_a_compiled_step():
    def run(compiled):
        fg.manual_seed(1)
        w1 = fg.randn(10, 7, requires_grad=True)
        w2 = fg.randn(7, 3, requires_grad=True)
        x, y = fg.randn(16, 10), fg.randn(16, 3)

        def step(x, y):
            nonlocal w1, w2
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            with fg.no_grad():
                w1 -= 1e-3 * w1.grad
                w2 -= 1e-3 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
            return loss

        f = fg.compile(step) if compiled else step
        return [f(x, y).item() for _ in range(5)], w1.numpy().copy()

    (a, wa), (b, wb) = run(False), run(True)
    assert a == b and np.array_equal(wa, wb)


def test_reading_values_while_tracing_warns():
    w = fg.ones(2, requires_grad=True)

    @fg.compile
    def step(x):
        loss = (x * w).sum()
        if loss.item() > 0:  # baked in at trace time
            loss = loss * 2
        return loss

    with pytest.warns(fg.compiler.TracingWarning, match=r"\.item\(\)"):
        step(np.ones(2, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert step(np.ones(2, np.float32)).item() == 4.0  # replay: no warning


def test_new_shapes_and_python_values_trace_again():
    w = fg.ones(3, requires_grad=True)
    step = fg.compile(lambda x, scale: (x * w * scale).sum())
    step(np.ones(3), 2.0)
    step(np.ones(3), 2.0)
    assert step.traces == 1
    step(np.ones((2, 3)), 2.0)
    step(np.ones(3), 3.0)
    assert step.traces == 3
    assert step(np.ones(3), 3.0).item() == 9.0


def test_what_cannot_be_compiled_says_so():
    w = fg.ones(2, requires_grad=True)
    opt = fg.optim.LBFGS([w])

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pytest.raises(fg.FlowgradError, match="cannot be traced"):
        fg.compile(lambda: opt.step(closure))()

    def second_order(x):
        (g,) = fg.autograd.grad((x * x * w).sum(), [w], create_graph=True)
        return g.sum()

    with pytest.raises(fg.FlowgradError, match="create_graph"):
        fg.compile(second_order)(fg.ones(2))


def test_functional_gradients_compile():
    def loss_and_grad(x, W):
        W = fg.tensor(W, requires_grad=True) if not isinstance(W, fg.Tensor) else W
        loss = F.mse_loss(fg.tanh(x @ W), fg.zeros(4, 2, dtype=fg.float64))
        (g,) = fg.autograd.grad(loss, [W])
        return loss, g

    x = np.random.default_rng(0).standard_normal((4, 3))
    W = fg.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    eager = loss_and_grad(x, W)
    compiled = fg.compile(loss_and_grad)
    compiled(x, W)
    again = compiled(x, W)
    assert again[0].item() == eager[0].item()
    np.testing.assert_array_equal(again[1].numpy(), eager[1].numpy())


def test_functional_gradient_that_is_a_view_is_replayed_not_baked():
    # The gradient of a reshape is a view of the walk's buffer; grad() copies it for the caller,
    # and that copy must be part of the replay (it was once a constant from the first call).
    @fg.compile
    def step(x):
        t = fg.from_numpy(x).requires_grad_()
        z = t.reshape(-1)
        return fg.autograd.grad((z * z).sum(), [t])[0]

    for value in (1.0, 2.0, 3.0):
        np.testing.assert_array_equal(step(np.full((2, 3), value)).numpy(), np.full((2, 3), 2 * value))
    assert step.traces == 1


def test_replay_reuses_buffers_but_never_one_that_outlives_the_call():
    # Intermediates are written into buffers allocated once (out=); what the function returns
    # (or a view of it, or a gradient in .grad) must be a new array on every call.
    fg.manual_seed(0)
    net = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.Sigmoid(), fg.nn.Linear(4, 2), fg.nn.Sigmoid())

    @fg.compile
    def forward(x):
        h = net[1](net[0](x))  # an intermediate, returned below as a view
        out = net[3](net[2](h))
        return out, h.T

    kept = []
    for value in (0.5, 1.0, 2.0):
        out, hT = forward(np.full((5, 3), value, np.float32))
        kept.append((value, out, hT))
    plan = next(iter(forward.plans.values()))
    assert plan.buffers >= 1  # the first layer's output is an intermediate the replay reuses
    for value, out, hT in kept:  # every call's results intact after the later calls
        with fg.no_grad():
            h = net[1](net[0](fg.tensor(np.full((5, 3), value, np.float32))))
            ref = net[3](net[2](h))
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
        np.testing.assert_array_equal(hT.numpy(), h.numpy().T)
    assert not np.shares_memory(kept[1][1].numpy(), kept[2][1].numpy())


def test_const_graph_runs_the_python_once_as_autograds():
    from flowgrad.misc import const_graph

    body = []

    def f(x, y):
        body.append(1)
        return fg.grad(lambda t: fg.sin(t) + t * 2)(x * y)

    g = const_graph(f)
    for x, y in ((0.0, 0.0), (1.0, 0.5), (2.0, -1.0)):
        expected = np.cos(x * y) + 2  # d/dt (sin t + 2t) at t = x*y
        np.testing.assert_allclose(g(x, y), expected, rtol=1e-15)
    assert len(body) == 1
