"""nn.Dropout1d/2d/3d (channel-wise, PyTorch's semantics) and nn.Embedding's PyTorch arguments
(padding_idx, from_pretrained, max_norm) against torch."""

import warnings

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn

torch = pytest.importorskip("torch")
tnn = torch.nn

DROPOUTS = [  # layer, batched input shape, unbatched input shape (None: torch has none)
    (nn.Dropout1d, (40, 50, 3), (50, 3)),
    (nn.Dropout2d, (40, 50, 2, 3), None),
    (nn.Dropout3d, (40, 50, 2, 2, 2), (50, 2, 2, 2)),
]


@pytest.mark.parametrize("cls,batched,unbatched", DROPOUTS)
def test_channel_dropout_drops_whole_channels_at_rate_p(cls, batched, unbatched):
    fg.manual_seed(0)
    p = 0.3
    layer = cls(p)
    for shape in [s for s in (batched, unbatched) if s is not None]:
        x = fg.ones(*shape, requires_grad=True)
        y = layer(x)
        lead = 2 if shape == batched else 1
        per_channel = y.numpy().reshape(shape[:lead] + (-1,))
        dropped = (per_channel == 0).all(-1)
        kept = np.isclose(per_channel, 1 / (1 - p), rtol=1e-6).all(-1)  # float32: 1/0.7 rounds
        assert np.all(dropped | kept)  # a channel goes or stays whole
        # 2000 (or 50) channels, each dropped with p = 0.3: the rate is within 5 standard deviations
        n = dropped.size
        assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # d(x * mask)/dx = mask
        layer.eval()
        assert np.array_equal(layer(x).numpy(), x.numpy())  # eval mode: the identity
        layer.train()


@pytest.mark.parametrize("cls,batched,unbatched", DROPOUTS)
def test_channel_dropout_edges_follow_torch(cls, batched, unbatched):
    t_cls = getattr(tnn, cls.__name__)
    assert repr(cls(0.2)) == repr(t_cls(0.2))
    x = np.random.default_rng(0).standard_normal(batched)
    for p in (0.0, 1.0):  # no randomness at the ends: compare values
        np.testing.assert_array_equal(cls(p)(x).numpy(), t_cls(p)(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(cls(0.5).eval()(x).numpy(), x)
    with pytest.raises(fg.ArgumentError, match=r"p must be in \[0, 1\]"):
        cls(1.5)
    fg.manual_seed(3)
    a = cls(0.5)(x).numpy()
    fg.manual_seed(3)
    np.testing.assert_array_equal(a, cls(0.5)(x).numpy())  # follows fg.manual_seed


def test_dropout_dims_as_torch():
    with pytest.raises(fg.ShapeError, match=r"dropout1d: expected an \(N, C, L\) or \(C, L\) input"):
        nn.Dropout1d()(fg.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match=r"taken as \(N, C, L\)"):  # torch's historical reading of 3-D
        y = nn.Dropout2d(0.5)(fg.ones(30, 40, 6))
    assert np.all((y.numpy() == 0).all(-1) | (y.numpy() == 2).all(-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Dropout2d(0.5)(fg.ones(2, 3, 4, 4))
        nn.Dropout3d(0.5)(fg.ones(3, 4, 4, 4))
    x = fg.ones(3, 4)
    assert F.dropout1d(x, 0.5, inplace=True) is x  # in place, on a tensor that needs no gradient


def test_embedding_padding_idx_matches_torch():
    t_m = tnn.Embedding(7, 3, padding_idx=-2).double()
    fg_m = nn.Embedding(7, 3, padding_idx=-2).double()
    assert fg_m.padding_idx == t_m.padding_idx == 5 and repr(fg_m) == repr(t_m)
    assert np.all(fg_m.weight.numpy()[5] == 0)
    with torch.no_grad():
        t_m.weight[5] = 1.5  # a non-zero padding row: returned as is, never updated
    fg_m.load_state_dict({k: v.numpy().copy() for k, v in t_m.state_dict().items()})
    idx = np.array([[1, 5, 2], [5, 0, 1]])
    yf, yt = fg_m(idx), t_m(torch.tensor(idx))
    w = np.random.default_rng(1).standard_normal(yf.shape)
    (yf * fg.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(yf.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(fg_m.weight.grad.numpy(), t_m.weight.grad.numpy(), rtol=1e-12)  # repeats add up
    assert np.all(fg_m.weight.grad.numpy()[5] == 0)


def test_embedding_from_pretrained_as_torch():
    table = np.random.default_rng(2).standard_normal((4, 3))
    emb = nn.Embedding.from_pretrained(fg.tensor(table))
    t_emb = tnn.Embedding.from_pretrained(torch.tensor(table))
    assert not emb.weight.requires_grad and repr(emb) == repr(t_emb)
    np.testing.assert_array_equal(emb(fg.tensor([3, 0])).numpy(), t_emb(torch.tensor([3, 0])).numpy())
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    np.testing.assert_array_equal(trainable.weight.numpy()[1], table[1])  # the given padding row is kept
    trainable(fg.tensor([1, 2])).sum().backward()
    assert trainable.weight.grad.numpy()[1].tolist() == [0, 0, 0]
    assert trainable.weight.grad.numpy()[2].tolist() == [1, 1, 1]
    with pytest.raises(fg.ShapeError, match="2-D"):
        nn.Embedding.from_pretrained(fg.ones(3))


def test_embedding_max_norm_matches_torch():
    table = 3 * np.random.default_rng(3).standard_normal((6, 4))
    for norm_type in (2.0, 1.0):
        t_m = tnn.Embedding.from_pretrained(torch.tensor(table), freeze=False, max_norm=1.5, norm_type=norm_type)
        fg_m = nn.Embedding.from_pretrained(table, freeze=False, max_norm=1.5, norm_type=norm_type)
        idx = np.array([0, 2, 2, 5])
        yf, yt = fg_m(idx), t_m(torch.tensor(idx))
        # rtol: the norms are sums, whose order (and last bits) may differ between NumPy and torch
        np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(fg_m.weight.numpy(), t_m.weight.detach().numpy(), rtol=1e-12)  # rows renormed
    with pytest.raises(fg.ArgumentError, match="scale_grad_by_freq"):
        nn.Embedding(3, 2, scale_grad_by_freq=True)
