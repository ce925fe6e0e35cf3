"""fg.nn without torch: the Module API, layers, losses, gradients vs central differences."""

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn
from flowgrad.testing import gradcheck, gradgradcheck


def f64(*shape, seed=0, low=None):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if low is not None:
        a = np.abs(a) + low
    return fg.tensor(a, dtype=fg.float64, requires_grad=True)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", fg.tensor(0))

    def forward(self, x):
        return self.out(fg.tanh(self.hidden(x)))


def test_module_registration_and_walking():
    net = TwoLayer()
    assert [n for n, _ in net.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight"]
    assert len(list(net.parameters())) == 3 and len(net.trainable_params()) == 3
    assert [type(c).__name__ for c in net.children()] == ["Linear", "Linear"]
    assert len(list(net.modules())) == 3
    assert list(net.state_dict()) == ["steps", "hidden.weight", "hidden.bias", "out.weight"]  # PyTorch order
    assert net.out.bias is None
    assert net.training and not net.eval().hidden.training and net.train().out.training


def test_repr_is_nested():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25)\n"
        "  )\n"
        ")"
    )


def test_sequential_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    holder = nn.Module()
    holder.layers, holder.heads = ml, md
    assert len(list(holder.parameters())) == 8 and "a" in md and len(ml) == 3
    assert nn.SequentialCell is nn.Sequential and nn.Cell is nn.Module


def test_state_dict_round_trip_and_errors():
    a, b = TwoLayer(), TwoLayer()
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    arrays = {k: v.numpy() for k, v in a.state_dict().items()}
    b.load_state_dict(arrays)  # plain arrays load too
    bad = dict(arrays)
    bad["hidden.weight"] = np.zeros((5, 3))
    with pytest.raises(fg.ShapeError, match=r"hidden.weight: expected shape \(4, 3\), got \(5, 3\)"):
        b.load_state_dict(bad)
    missing = {k: v for k, v in arrays.items() if k != "out.weight"}
    with pytest.raises(fg.ShapeError, match="missing keys: out.weight"):
        b.load_state_dict(missing)
    extra = dict(arrays, bogus=np.zeros(1))
    with pytest.raises(fg.ShapeError, match="unexpected keys: bogus"):
        b.load_state_dict(extra)
    result = b.load_state_dict(extra, strict=False)
    assert result.unexpected_keys == ["bogus"] and result.missing_keys == []


def test_to_dtype_returns_module_and_float64_inputs_keep_float32_compute():
    net = TwoLayer()
    x64 = np.ones((5, 3))
    assert net(x64).dtype == fg.float32  # no silent float64 compute
    assert net.to(fg.float64) is net and net.hidden.weight.dtype == fg.float64
    assert net(np.ones((5, 3), np.float32)).dtype == fg.float64
    with pytest.raises(fg.FlowgradError):
        net.to("cuda")
    assert net.float().out.weight.dtype == fg.float32


def test_zero_grad():
    net = TwoLayer()
    net(fg.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_linear_init_matches_pytorch_bounds():
    fg.manual_seed(0)
    layer = nn.Linear(16, 8)
    assert float(layer.weight.abs().max()) <= 0.25 and float(layer.bias.abs().max()) <= 0.25
    assert layer.weight.shape == (8, 16)
    dense = nn.Dense(4, 3, activation="relu")
    assert float(dense(fg.randn(5, 4)).min()) >= 0
    assert "activation=relu" in repr(dense)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.Linear(3, 2), (4, 3)),
        (lambda: nn.Dense(3, 2, activation="tanh"), (4, 3)),
        (lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=1), (2, 2, 5, 5)),
        (lambda: nn.Conv2d(4, 4, 2, groups=2, dilation=2), (1, 4, 5, 6)),
        (lambda: nn.MaxPool2d(2), (1, 2, 4, 4)),
        (lambda: nn.AvgPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
        (lambda: nn.BatchNorm1d(3), (5, 3)),
        (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
        (lambda: nn.LayerNorm(4), (2, 3, 4)),
        (lambda: nn.GELU(), (6,)),
        (lambda: nn.GELU("tanh"), (6,)),
        (lambda: nn.SiLU(), (6,)),
        (lambda: nn.Softplus(beta=2.0), (6,)),
        (lambda: nn.LeakyReLU(0.2), (6,)),
        (lambda: nn.Softmax(dim=1), (2, 3)),
        (lambda: nn.LogSoftmax(dim=1), (2, 3)),
        (lambda: nn.Flatten(), (2, 3, 2)),
    ],
)
def test_layer_gradients_against_central_differences(make, shape):
    fg.manual_seed(1)
    layer = make().double()
    x = f64(*shape, seed=2)
    params = [p for p in layer.parameters()]
    assert gradcheck(lambda x_, *ps: layer(x_), (x, *params))


def test_second_derivatives_of_a_small_network():
    fg.manual_seed(3)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = f64(5, 3, seed=4)
    assert gradgradcheck(lambda x_: net(x_).pow(2).sum(), (x,))


@pytest.mark.parametrize(
    "loss_fn",
    [
        lambda x, t: F.mse_loss(x, t),
        lambda x, t: F.l1_loss(x, t, reduction="sum"),
        lambda x, t: F.huber_loss(x, t, delta=0.5),
        lambda x, t: F.smooth_l1_loss(x, t, beta=0.5, reduction="none"),
        lambda x, t: F.binary_cross_entropy(fg.sigmoid(x), fg.sigmoid(t).detach()),
        lambda x, t: F.binary_cross_entropy_with_logits(x, fg.sigmoid(t).detach(), pos_weight=2.0),
        lambda x, t: F.cross_entropy(x, np.array([0, 2, 1, 2])),
        lambda x, t: F.cross_entropy(
            x, np.array([0, 2, -100, 2]), weight=np.array([1.0, 2.0, 0.5]), label_smoothing=0.1
        ),
        lambda x, t: F.cross_entropy(x, fg.softmax(t, 1).detach(), label_smoothing=0.2),
        lambda x, t: F.nll_loss(fg.log_softmax(x, 1), np.array([1, 1, 0, 2]), reduction="sum"),
    ],
)
def test_loss_gradients_against_central_differences(loss_fn):
    x, t = f64(4, 3, seed=5), f64(4, 3, seed=6)
    assert gradcheck(lambda a: loss_fn(a, t), (x,))


def test_losses_refuse_mismatched_shapes():
    with pytest.raises(fg.ShapeError, match=r"input shape \(4, 1\) and target shape \(4,\)"):
        F.mse_loss(fg.ones(4, 1), fg.ones(4))
    with pytest.raises(fg.ShapeError, match="labels"):
        F.cross_entropy(fg.ones(4, 3), np.array([0, 1]))
    with pytest.raises(fg.ShapeError, match=r"labels must be in \[0, 3\)"):
        F.cross_entropy(fg.ones(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_cross_entropy_is_stable_for_huge_logits():
    logits = fg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss = F.cross_entropy(logits, np.array([0, 2]))
        loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(5000.0)
    assert np.all(np.isfinite(logits.grad.numpy()))


def test_dropout_and_batchnorm_train_vs_eval():
    fg.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = fg.ones(1000)
    y = drop(x)
    kept = y.numpy() != 0
    assert 400 < kept.sum() < 600 and np.allclose(y.numpy()[kept], 2.0)
    assert np.array_equal(drop.eval()(x).numpy(), x.numpy())
    bn = nn.BatchNorm1d(2, momentum=0.5)
    batch = fg.tensor([[1.0, 10.0], [3.0, 30.0]])
    out = bn(batch)
    np.testing.assert_allclose(out.numpy(), [[-1, -1], [1, 1]], atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.numpy(), [1.0, 10.0])  # 0.5 * 0 + 0.5 * mean
    np.testing.assert_allclose(bn.running_var.numpy(), [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 200.0])
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    np.testing.assert_allclose(
        bn(batch).numpy(), (batch.numpy() - [1.0, 10.0]) / np.sqrt(np.array([1.5, 100.5]) + 1e-5), rtol=1e-5
    )


def test_embedding_and_one_hot():
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert emb(fg.tensor([[0, 4], [1, 1]])).shape == (2, 2, 3)
    assert np.all(emb.weight.numpy()[0] == 0)
    with pytest.raises(fg.ShapeError):
        emb(fg.tensor([5]))
    assert F.one_hot(fg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_init_functions_follow_manual_seed():
    w1, w2 = fg.empty(4, 5), fg.empty(4, 5)
    for init in (nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.kaiming_uniform_, nn.init.kaiming_normal_):
        fg.manual_seed(7)
        init(w1)
        fg.manual_seed(7)
        init(w2)
        assert np.array_equal(w1.numpy(), w2.numpy())
    assert np.all(nn.init.constant_(w1, 0.5).numpy() == 0.5) and np.all(nn.init.zeros_(w1).numpy() == 0)
    assert nn.init.calculate_gain("relu") == pytest.approx(2**0.5)


def test_grad_utilities():
    w = fg.ones(4, requires_grad=True)
    (w * 3).sum().backward()
    total = nn.utils.clip_grad_norm_([w], 1.0)
    assert total.item() == pytest.approx(6.0) and float(w.grad.norm()) == pytest.approx(1.0, rel=1e-5)
    nn.utils.clip_grad_value_([w], 0.1)
    assert float(w.grad.abs().max()) <= np.float32(0.1)
    net = TwoLayer()
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (4 * 3 + 4 + 2 * 4,)
    nn.utils.vector_to_parameters(fg.zeros(vec.shape[0]), net.parameters())
    assert all(float(p.abs().sum()) == 0 for p in net.parameters())


def test_functional_call_lets_grad_and_hessian_see_parameters():
    fg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    x = np.random.default_rng(0).standard_normal((6, 2))
    params = {k: v.numpy().copy() for k, v in net.state_dict().items()}

    def loss(p):
        return fg.func.functional_call(net, p, (x,)).pow(2).mean()

    g = fg.grad(loss)(params)
    assert set(g) == set(params) and all(g[k].shape == params[k].shape for k in params)
    out = net(x).pow(2).mean()
    out.backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(g[name], p.grad.numpy(), rtol=1e-12)

    def loss_of_bias(b):
        return loss(dict(params, **{"2.bias": b}))

    H = fg.hessian(loss_of_bias)(params["2.bias"])
    assert H.shape == (1, 1) and H[0, 0] == pytest.approx(2.0)  # d2/db2 mean((f + b)^2) = 2
