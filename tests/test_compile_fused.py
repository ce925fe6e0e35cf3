"""fg.compile's generated step: the fused chains and the inline SGD update give eager's very bits.

Each test runs the same training (or forward) eagerly and compiled from the same start and
compares every value with np.array_equal, so no tolerance is involved: the replay must run the
same NumPy calls on the same values. ``plan.source`` shows which steps were written out.
"""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn
from flowgrad.core import fusion

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test


def _plan(step):
    (plan,) = step.plans.values()
    return plan


def _run(build, compiled, batches, between=None):
    """``build()`` -> (step, params); the losses and final parameters of running ``step`` on ``batches``."""
    fg.manual_seed(0)
    step, params, opt = build()
    run = fg.compile(step) if compiled else step
    losses = []
    for i, (x, y) in enumerate(batches):
        if between is not None:
            between(i, opt)
        losses.append(run(x, y).numpy().copy())
    return losses, [p.numpy().copy() for p in params], run


def _same(a, b):
    assert len(a[0]) == len(b[0])
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def _mlp(dtype=np.float32, sizes=(13, 10, 1), out_act=False, reduction="mean", lr=0.01, momentum=0.0):
    def build():
        layers = [nn.Linear(sizes[0], sizes[1]), nn.Sigmoid(), nn.Linear(sizes[1], sizes[2])]
        if out_act:
            layers.append(nn.Sigmoid())
        net = nn.Sequential(*layers).to(dtype=fg.float64 if dtype == np.float64 else fg.float32)
        opt = fg.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
        loss_fn = nn.MSELoss(reduction=reduction)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            return loss

        return step, list(net.parameters()), opt

    return build


def _batches(dtype, shape=(11, 13), out=1, n=6, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [
        (
            fg.from_numpy((scale * rng.standard_normal(shape)).astype(dtype)),
            fg.from_numpy(rng.standard_normal((shape[0], out)).astype(dtype)),
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_sigmoid_mse_linear_and_sgd_chains_are_fused_and_bit_identical(dtype, reduction):
    build = _mlp(dtype, out_act=True, reduction=reduction)
    batches = _batches(dtype, scale=30.0)  # large inputs: sigmoid's cap on exp's argument is crossed
    eager = _run(build, False, batches)
    compiled = _run(build, True, batches)
    _same(eager, compiled)
    source = _plan(compiled[2]).source
    assert source.startswith("def replay(")
    assert source.count("reciprocal(") == 2  # both sigmoid forwards, written out
    assert "subtract(1, " in source  # sigmoid's rule
    assert "add_reduce(" in source  # the squared error's sum, the bias gradients
    assert "_lr = _g['lr']" in source  # the SGD update, inline
    assert _plan(compiled[2]).fused >= 10


def test_tiny_network_batch_of_one_float64():
    build = _mlp(np.float64, sizes=(2, 2, 1), out_act=True, lr=0.1)
    batches = _batches(np.float64, shape=(1, 2), n=8, seed=4, scale=10.0)
    _same(_run(build, False, batches), _run(build, True, batches))


def test_scheduler_changes_the_learning_rate_of_the_compiled_step():
    def schedule(i, opt):
        if i == 0:
            opt.scheduler = fg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        else:
            opt.scheduler.step()

    build = _mlp(lr=0.5)
    batches = _batches(np.float32, n=7)
    eager, compiled = _run(build, False, batches, schedule), _run(build, True, batches, schedule)
    _same(eager, compiled)
    assert compiled[2].traces == 1
    # Against a run that keeps lr at 0.5: the schedule did reach the compiled step.
    assert not np.array_equal(compiled[1][0], _run(build, True, batches)[1][0])


def test_learning_rate_set_by_hand_numpy_scalars_and_momentum_switched_on_mid_run():
    # A NumPy-scalar lr promotes differently from a Python float, and momentum needs state:
    # both make the compiled step run the optimizer's own update, with eager's bits.
    def change(i, opt):
        group = opt.param_groups[0]
        if i == 1:
            group["lr"] = 0.02
        elif i == 2:
            group["lr"] = np.float64(0.03)
        elif i == 3:
            group["lr"] = np.float32(0.04)
        elif i == 4:
            group["lr"], group["momentum"] = 0.05, 0.9

    build = _mlp()
    batches = _batches(np.float32, n=7)
    _same(_run(build, False, batches, change), _run(build, True, batches, change))


def test_a_new_batch_shape_traces_again_and_stays_bit_identical():
    build = _mlp()
    batches = _batches(np.float32, n=3) + _batches(np.float32, shape=(5, 13), n=3, seed=1)
    batches += _batches(np.float32, n=2, seed=2)
    eager, compiled = _run(build, False, batches), _run(build, True, batches)
    _same(eager, compiled)
    assert compiled[2].traces == 2


def test_parameters_added_to_the_group_after_tracing_are_updated():
    extra = {}

    def add_one(i, opt):
        if i == 2:  # the traced step's parameter list no longer matches: the optimizer's own update
            extra["w"] = fg.ones(3, requires_grad=True)
            extra["w"].grad = fg.ones(3)
            opt.param_groups[0]["params"].append(extra["w"])

    build = _mlp()
    batches = _batches(np.float32, n=4)
    eager = _run(build, False, batches, add_one)
    w_eager = extra["w"].numpy().copy()
    compiled = _run(build, True, batches, add_one)
    _same(eager, compiled)
    assert np.array_equal(extra["w"].numpy(), w_eager)


def test_returned_values_are_new_arrays_every_call():
    fg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid())
    forward = fg.compile(lambda x: net(x))
    outs = [forward(np.full((2, 3), v, np.float32)) for v in (0.5, 1.0, 2.0)]
    assert "reciprocal(" in _plan(forward).source
    for v, out in zip((0.5, 1.0, 2.0), outs):
        with fg.no_grad():
            assert np.array_equal(out.numpy(), net(fg.tensor(np.full((2, 3), v, np.float32))).numpy())
    assert not np.shares_memory(outs[1].numpy(), outs[2].numpy())


def test_an_emitter_that_changes_the_digits_is_not_used():
    # Sigmoid without its cap on exp's argument differs where exp would overflow: the random
    # check before use catches it and the step calls the op itself.
    def uncapped(dst, a, kw, vals, fresh, buf, like):
        lines = emitters._sigmoid_forward(dst, a, kw, vals, fresh, buf, like)
        return [line for line in lines if not line.startswith("minimum(")]

    from flowgrad.ops import elementwise, emitters

    x = np.linspace(-800, 800, 12)
    good = fusion.fuse(emitters._sigmoid_forward, elementwise._sigmoid_forward, "r", ["x"], [x], {}, True, x, str)
    bad = fusion.fuse(uncapped, elementwise._sigmoid_forward, "r", ["x"], [x], {}, True, x, str)
    assert good is not None and bad is None
