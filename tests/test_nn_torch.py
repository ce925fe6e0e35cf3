"""fg.nn against torch.nn: same weights, same inputs -> same outputs and gradients."""

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}
TDTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def copy_weights(fg_module, t_module):
    """Give the flowgrad module the torch module's weights (by state_dict keys)."""
    state = {k: v.detach().numpy().copy() for k, v in t_module.state_dict().items()}
    fg_module.load_state_dict(state)


def compare(fg_module, t_module, x, dtype, train=True):
    fg_module.to(dtype)
    t_module.to(TDTYPE[dtype])
    copy_weights(fg_module, t_module)
    fg_module.train(train)
    t_module.train(train)
    xf = fg.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    yf, yt = fg_module(xf), t_module(xt)
    w = np.random.default_rng(9).standard_normal(yt.shape).astype(dtype)
    (yf * w).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    tol = TOL[dtype]
    np.testing.assert_allclose(yf.numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **tol)
    t_params = dict(t_module.named_parameters())
    for name, p in fg_module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), err_msg=name, **tol)
    for name, b in t_module.named_buffers():
        np.testing.assert_allclose(fg_module.state_dict()[name].numpy(), b.numpy(), err_msg=name, **tol)


LAYERS = [
    ("linear", lambda: (nn.Linear(5, 3), tnn.Linear(5, 3)), (4, 5)),
    ("linear-nobias", lambda: (nn.Linear(5, 3, bias=False), tnn.Linear(5, 3, bias=False)), (2, 4, 5)),
    ("conv", lambda: (nn.Conv2d(3, 4, 3), tnn.Conv2d(3, 4, 3)), (2, 3, 6, 6)),
    (
        "conv-strided",
        lambda: (
            nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2),
            tnn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2),
        ),
        (2, 4, 9, 8),
    ),
    ("maxpool", lambda: (nn.MaxPool2d(2), tnn.MaxPool2d(2)), (2, 3, 6, 6)),
    (
        "maxpool-overlap",
        lambda: (nn.MaxPool2d(3, stride=2, padding=1), tnn.MaxPool2d(3, stride=2, padding=1)),
        (1, 2, 7, 7),
    ),
    ("avgpool", lambda: (nn.AvgPool2d(2, stride=1, padding=1), tnn.AvgPool2d(2, stride=1, padding=1)), (2, 3, 5, 5)),
    ("bn1d", lambda: (nn.BatchNorm1d(4), tnn.BatchNorm1d(4)), (6, 4)),
    ("bn1d-3d", lambda: (nn.BatchNorm1d(4), tnn.BatchNorm1d(4)), (3, 4, 5)),
    ("bn2d", lambda: (nn.BatchNorm2d(3), tnn.BatchNorm2d(3)), (2, 3, 4, 4)),
    ("layernorm", lambda: (nn.LayerNorm((3, 4)), tnn.LayerNorm((3, 4))), (2, 3, 4)),
    ("layernorm-nobias", lambda: (nn.LayerNorm(4, bias=False), tnn.LayerNorm(4, bias=False)), (2, 3, 4)),
    ("relu", lambda: (nn.ReLU(), tnn.ReLU()), (4, 5)),
    ("sigmoid", lambda: (nn.Sigmoid(), tnn.Sigmoid()), (4, 5)),
    ("tanh", lambda: (nn.Tanh(), tnn.Tanh()), (4, 5)),
    ("leaky", lambda: (nn.LeakyReLU(0.1), tnn.LeakyReLU(0.1)), (4, 5)),
    ("gelu", lambda: (nn.GELU(), tnn.GELU()), (4, 5)),
    ("gelu-tanh", lambda: (nn.GELU("tanh"), tnn.GELU("tanh")), (4, 5)),
    ("silu", lambda: (nn.SiLU(), tnn.SiLU()), (4, 5)),
    ("softplus", lambda: (nn.Softplus(beta=2, threshold=5), tnn.Softplus(beta=2, threshold=5)), (4, 5)),
    ("softmax", lambda: (nn.Softmax(dim=1), tnn.Softmax(dim=1)), (4, 5)),
    ("logsoftmax", lambda: (nn.LogSoftmax(dim=-1), tnn.LogSoftmax(dim=-1)), (4, 5)),
    ("flatten", lambda: (nn.Flatten(), tnn.Flatten()), (2, 3, 4)),
    ("identity", lambda: (nn.Identity(), tnn.Identity()), (3,)),
    (
        "mlp",
        lambda: (
            nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)),
            tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU(), tnn.Linear(8, 8), tnn.Tanh(), tnn.Linear(8, 2)),
        ),
        (6, 4),
    ),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_matches_torch(name, make, shape, dtype):
    torch.manual_seed(0)
    x = np.random.default_rng(1).standard_normal(shape)
    fg_m, t_m = make()
    compare(fg_m, t_m, x, dtype, train=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batchnorm_eval_mode_matches_torch(dtype):
    torch.manual_seed(0)
    fg_m, t_m = nn.BatchNorm2d(3), tnn.BatchNorm2d(3)
    with torch.no_grad():
        t_m.running_mean.uniform_(-1, 1)
        t_m.running_var.uniform_(0.5, 2)
    compare(fg_m, t_m, np.random.default_rng(2).standard_normal((2, 3, 4, 4)), dtype, train=False)


def test_embedding_matches_torch():
    t_m = tnn.Embedding(7, 3).double()
    fg_m = nn.Embedding(7, 3).double()
    copy_weights(fg_m, t_m)
    idx = np.array([[1, 2, 2], [6, 0, 1]])
    yf, yt = fg_m(idx), t_m(torch.tensor(idx))
    (yf * 2).sum().backward()
    (yt * 2).sum().backward()
    np.testing.assert_allclose(yf.numpy(), yt.detach().numpy())
    np.testing.assert_allclose(fg_m.weight.grad.numpy(), t_m.weight.grad.numpy())


def _probs(rng, shape):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(1, keepdims=True)


LOSSES = [
    ("mse", lambda x, y: F.mse_loss(x, y), lambda x, y: TF.mse_loss(x, y), "real"),
    (
        "mse-sum",
        lambda x, y: F.mse_loss(x, y, reduction="sum"),
        lambda x, y: TF.mse_loss(x, y, reduction="sum"),
        "real",
    ),
    (
        "l1-none",
        lambda x, y: F.l1_loss(x, y, reduction="none"),
        lambda x, y: TF.l1_loss(x, y, reduction="none"),
        "real",
    ),
    ("huber", lambda x, y: F.huber_loss(x, y, delta=0.7), lambda x, y: TF.huber_loss(x, y, delta=0.7), "real"),
    ("smoothl1", lambda x, y: F.smooth_l1_loss(x, y, beta=0.3), lambda x, y: TF.smooth_l1_loss(x, y, beta=0.3), "real"),
    (
        "bce",
        lambda x, y: F.binary_cross_entropy(fg.sigmoid(x), y),
        lambda x, y: TF.binary_cross_entropy(torch.sigmoid(x), y),
        "prob",
    ),
    (
        "bce-logits",
        lambda x, y: F.binary_cross_entropy_with_logits(x, y),
        lambda x, y: TF.binary_cross_entropy_with_logits(x, y),
        "prob",
    ),
    (
        "bce-logits-posw",
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=fg.tensor([1.0, 2.0, 3.0], dtype=x.dtype)),
        lambda x, y: TF.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor([1.0, 2.0, 3.0], dtype=x.dtype)),
        "prob",
    ),
    ("ce", lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y), "label"),
    (
        "ce-all-options",
        lambda x, y: F.cross_entropy(x, y, weight=np.array([0.5, 2.0, 1.0]), ignore_index=1, label_smoothing=0.15),
        lambda x, y: TF.cross_entropy(
            x, y, weight=torch.tensor([0.5, 2.0, 1.0], dtype=x.dtype), ignore_index=1, label_smoothing=0.15
        ),
        "label",
    ),
    (
        "ce-sum-smooth",
        lambda x, y: F.cross_entropy(x, y, reduction="sum", label_smoothing=0.2),
        lambda x, y: TF.cross_entropy(x, y, reduction="sum", label_smoothing=0.2),
        "label",
    ),
    (
        "ce-probs",
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
        lambda x, y: TF.cross_entropy(x, y, label_smoothing=0.1),
        "probs",
    ),
    (
        "nll",
        lambda x, y: F.nll_loss(fg.log_softmax(x, 1), y, weight=np.array([1.0, 0.2, 3.0])),
        lambda x, y: TF.nll_loss(torch.log_softmax(x, 1), y, weight=torch.tensor([1.0, 0.2, 3.0], dtype=x.dtype)),
        "label",
    ),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ff, tf, kind", LOSSES, ids=[n for n, *_ in LOSSES])
def test_loss_matches_torch(name, ff, tf, kind, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3)).astype(dtype)
    if kind == "real":
        y = rng.standard_normal((5, 3)).astype(dtype)
    elif kind == "prob":
        y = rng.uniform(0, 1, (5, 3)).astype(dtype)
    elif kind == "probs":
        y = _probs(rng, (5, 3)).astype(dtype)
    else:
        y = np.array([0, 2, 1, 1, 2])
    xf, xt = fg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lf, lt = ff(xf, y if kind == "label" else fg.tensor(y)), tf(xt, torch.tensor(y))
    lf.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(lf.numpy(), lt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])


def test_cross_entropy_on_spatial_inputs_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3, 3))
    y = rng.integers(0, 4, (2, 3, 3))
    lf = F.cross_entropy(fg.tensor(x), y, label_smoothing=0.1)
    lt = TF.cross_entropy(torch.tensor(x), torch.tensor(y), label_smoothing=0.1)
    assert lf.item() == pytest.approx(lt.item(), rel=1e-12)


def test_state_dict_keys_and_shapes_match_torch_and_torch_weights_load():
    def fg_net():
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))

    t_net = tnn.Sequential(
        tnn.Conv2d(1, 4, 3), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.Flatten(), tnn.Linear(4 * 6 * 6, 10)
    )
    f = fg_net()
    assert list(f.state_dict()) == list(t_net.state_dict())
    for (k, v), (_, tv) in zip(f.state_dict().items(), t_net.state_dict().items()):
        assert v.shape == tuple(tv.shape), k
    t_net(torch.randn(8, 1, 8, 8))  # train a step's worth of statistics
    f.load_state_dict({k: v.numpy() for k, v in t_net.state_dict().items()})
    f.eval()
    t_net.eval()
    x = np.random.default_rng(5).standard_normal((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(f(x).numpy(), t_net(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_default_init_distributions_match_torch_bounds():
    torch.manual_seed(0)
    fg.manual_seed(0)
    for fm, tm in ((nn.Linear(30, 20), tnn.Linear(30, 20)), (nn.Conv2d(3, 8, 5), tnn.Conv2d(3, 8, 5))):
        for (name, p), (_, tp) in zip(fm.named_parameters(), tm.named_parameters()):
            if p.numel() < 100:
                continue  # too few samples for the largest one to sit near the bound
            bound = float(tp.detach().abs().max())
            assert float(p.abs().max()) <= bound * 1.2 + 1e-3, name  # same uniform bound
            assert float(p.abs().max()) >= bound * 0.6, name
