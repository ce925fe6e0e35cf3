"""Transformer layers against torch: same weights (state_dicts both ways), same inputs -> same
outputs and gradients (float64, rtol 1e-9) for every parameter; post-/pre-norm, activations,
batch_first, masks; dropout by its properties; clear errors."""

import copy

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn

pytestmark = [
    pytest.mark.numeric,  # compared with torch: rounding-dependent, run again by make test
    pytest.mark.filterwarnings("ignore:Support for mismatched"),  # torch's, on mixed masks
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),  # torch's note on its fast path
]

torch = pytest.importorskip("torch")
tnn = torch.nn
TOL = dict(rtol=1e-9, atol=1e-12)
D, HEADS, FF = 8, 2, 12


def _t(x):
    return torch.tensor(x) if isinstance(x, np.ndarray) else x


def _perturb(t_module, seed):
    """Move every torch parameter off its initial value (zero biases, unit norms hide mistakes)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in t_module.parameters():
            p.add_(0.2 * torch.randn_like(p))


def _load_from_torch(f_module, t_module):
    assert list(f_module.state_dict()) == list(t_module.state_dict())  # names and order
    f_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})


def _compare(f_module, t_module, inputs, kwargs, seed=0):
    rng = np.random.default_rng(seed)
    f_module.eval()
    t_module.eval()  # dropout off; the inputs require grad, so torch takes its ordinary path
    tx = [torch.tensor(x, requires_grad=True) for x in inputs]
    fx = [fg.tensor(x, requires_grad=True) for x in inputs]
    to = t_module(*tx, **{k: _t(v) for k, v in kwargs.items()})
    fo = f_module(*fx, **kwargs)
    np.testing.assert_allclose(fo.numpy(), to.detach().numpy(), err_msg="output", **TOL)
    g = rng.standard_normal(to.shape)
    (to * torch.tensor(g)).sum().backward()
    (fo * fg.tensor(g)).sum().backward()
    for i, (a, b) in enumerate(zip(fx, tx)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {i} grad", **TOL)
    t_params = dict(t_module.named_parameters())
    f_params = dict(f_module.named_parameters())
    assert sorted(f_params) == sorted(t_params)
    for name, p in f_params.items():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), err_msg=f"{name} grad", **TOL)


def _padding(rng, n, s):
    m = rng.random((n, s)) > 0.6
    m[:, 0] = False  # every query keeps a key: no NaN rows
    return m


ACTIVATIONS = {
    "relu": ("relu", "relu"),
    "gelu": ("gelu", "gelu"),
    "callable": (F.silu, torch.nn.functional.silu),
    "module": (nn.GELU("tanh"), tnn.GELU("tanh")),
}


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(activation, norm_first, batch_first):
    rng = np.random.default_rng(1)
    fa, ta = ACTIVATIONS[activation]
    kw = dict(dim_feedforward=FF, dropout=0.1, norm_first=norm_first, batch_first=batch_first)
    f = nn.TransformerEncoderLayer(D, HEADS, activation=fa, **kw).double()
    t = tnn.TransformerEncoderLayer(D, HEADS, activation=ta, dtype=torch.float64, **kw)
    _perturb(t, 1)
    _load_from_torch(f, t)
    n, s = 3, 5
    x = rng.standard_normal((n, s, D) if batch_first else (s, n, D))
    mask = np.triu(np.ones((s, s), bool), 1)
    _compare(f, t, [x], dict(src_mask=mask, src_key_padding_mask=_padding(rng, n, s)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(src_mask=np.random.default_rng(0).standard_normal((5, 5))),
        dict(src_mask=np.triu(np.ones((5, 5), bool), 1), is_causal=True),
        dict(src_key_padding_mask=np.array([False, True, False, False, True])),
    ],
    ids=["none", "float-mask", "causal-hint", "padding"],
)
def test_encoder_layer_unbatched_and_masks(kwargs):
    rng = np.random.default_rng(2)
    f = nn.TransformerEncoderLayer(D, HEADS, FF, bias=False).double()
    t = tnn.TransformerEncoderLayer(D, HEADS, FF, bias=False, dtype=torch.float64)
    _perturb(t, 2)
    _load_from_torch(f, t)
    _compare(f, t, [rng.standard_normal((5, D))], kwargs)


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack_matches_torch(norm):
    rng = np.random.default_rng(3)
    f_layer = nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True).double()
    t_layer = tnn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True, dtype=torch.float64)
    f = nn.TransformerEncoder(f_layer, 3, norm=nn.LayerNorm(D).double() if norm else None)
    t = tnn.TransformerEncoder(t_layer, 3, norm=tnn.LayerNorm(D, dtype=torch.float64) if norm else None)
    _perturb(t, 3)
    _load_from_torch(f, t)
    mask = tnn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64).numpy()
    x = rng.standard_normal((2, 4, D))
    _compare(f, t, [x], dict(mask=mask, src_key_padding_mask=_padding(rng, 2, 4)))
    _compare(f, t, [x], dict(mask=mask, is_causal=True), seed=1)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(activation, norm_first, batch_first):
    rng = np.random.default_rng(4)
    kw = dict(dim_feedforward=FF, activation=activation, norm_first=norm_first, batch_first=batch_first)
    f = nn.TransformerDecoderLayer(D, HEADS, **kw).double()
    t = tnn.TransformerDecoderLayer(D, HEADS, dtype=torch.float64, **kw)
    _perturb(t, 4)
    _load_from_torch(f, t)
    n, lt, ls = 2, 4, 6
    tgt = rng.standard_normal((n, lt, D) if batch_first else (lt, n, D))
    mem = rng.standard_normal((n, ls, D) if batch_first else (ls, n, D))
    kwargs = dict(
        tgt_mask=np.triu(np.ones((lt, lt), bool), 1),
        memory_mask=rng.standard_normal((lt, ls)),
        tgt_key_padding_mask=_padding(rng, n, lt),
        memory_key_padding_mask=_padding(rng, n, ls),
    )
    _compare(f, t, [tgt, mem], kwargs)


def test_decoder_stack_matches_torch():
    rng = np.random.default_rng(5)
    f = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, HEADS, FF).double(), 2, norm=nn.LayerNorm(D).double())
    t = tnn.TransformerDecoder(
        tnn.TransformerDecoderLayer(D, HEADS, FF, dtype=torch.float64), 2, norm=tnn.LayerNorm(D, dtype=torch.float64)
    )
    _perturb(t, 5)
    _load_from_torch(f, t)
    causal = np.triu(np.ones((3, 3), bool), 1)
    inputs = [rng.standard_normal((3, 2, D)), rng.standard_normal((5, 2, D))]
    _compare(f, t, inputs, dict(tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=_padding(rng, 2, 5)))


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_matches_torch_both_ways(batch_first, norm_first):
    rng = np.random.default_rng(6)
    kw = dict(
        d_model=D,
        nhead=HEADS,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=FF,
        batch_first=batch_first,
        norm_first=norm_first,
    )
    t = tnn.Transformer(dtype=torch.float64, **kw)
    f = nn.Transformer(**kw).double()
    _perturb(t, 6)
    _load_from_torch(f, t)
    n, ls, lt = 2, 5, 4
    src = rng.standard_normal((n, ls, D) if batch_first else (ls, n, D))
    tgt = rng.standard_normal((n, lt, D) if batch_first else (lt, n, D))
    kwargs = dict(
        tgt_mask=nn.Transformer.generate_square_subsequent_mask(lt, dtype=fg.float64).numpy(),
        src_key_padding_mask=_padding(rng, n, ls),
        memory_key_padding_mask=_padding(rng, n, ls),
    )
    _compare(f, t, [src, tgt], kwargs)
    # The other way: flowgrad's (new, random) weights into torch.
    f2 = nn.Transformer(**kw).double()
    t2 = tnn.Transformer(dtype=torch.float64, **kw)
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in f2.state_dict().items()})
    _compare(f2, t2, [src, tgt], kwargs, seed=1)


def test_transformer_unbatched():
    rng = np.random.default_rng(7)
    kw = dict(d_model=D, nhead=HEADS, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF)
    t = tnn.Transformer(dtype=torch.float64, **kw)
    f = nn.Transformer(**kw).double()
    _perturb(t, 7)
    _load_from_torch(f, t)
    _compare(f, t, [rng.standard_normal((5, D)), rng.standard_normal((3, D))], {})


def test_generate_square_subsequent_mask_is_torchs():
    for size in (1, 4):
        ours = nn.Transformer.generate_square_subsequent_mask(size)
        theirs = tnn.Transformer.generate_square_subsequent_mask(size)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == fg.float32
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=fg.float64).dtype == fg.float64


def test_transformer_initialisation_xavier_and_shapes():
    f = nn.Transformer(D, HEADS, 1, 1, FF)
    t = tnn.Transformer(D, HEADS, 1, 1, FF)
    assert {k: tuple(v.shape) for k, v in t.state_dict().items()} == {k: v.shape for k, v in f.state_dict().items()}
    w = f.encoder.layers[0].linear1.weight.numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF))  # Xavier-uniform bound for (FF, D)


def test_stack_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    enc = nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0], enc.layers[1]
    assert a is not layer and a.linear1.weight is not b.linear1.weight
    np.testing.assert_array_equal(a.linear1.weight.numpy(), layer.linear1.weight.numpy())
    with fg.no_grad():
        a.linear1.weight.mul_(0)
    assert np.abs(b.linear1.weight.numpy()).sum() > 0 and np.abs(layer.linear1.weight.numpy()).sum() > 0
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))
    enc2 = copy.deepcopy(enc)
    assert enc2.layers[1].self_attn.in_proj_weight is not enc.layers[1].self_attn.in_proj_weight


def test_dropout_in_training_mode_properties():
    rng = np.random.default_rng(8)
    f = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.3).double()
    x = fg.tensor(rng.standard_normal((5, 2, D)))
    f.eval()
    e1, e2 = f(x).numpy(), f(x).numpy()
    np.testing.assert_array_equal(e1, e2)  # evaluation: deterministic
    f.train()
    fg.manual_seed(11)
    t1 = f(x).numpy()
    fg.manual_seed(11)
    t2 = f(x).numpy()
    fg.manual_seed(12)
    t3 = f(x).numpy()
    np.testing.assert_array_equal(t1, t2)  # the same seed, the same masks
    assert not np.allclose(t1, e1) and not np.allclose(t1, t3)
    # Post-norm: the last LayerNorm still normalises each position (zero mean, unit variance, then
    # the affine 1/0 of a fresh layer) whatever was dropped; the tolerance covers eps=1e-5.
    np.testing.assert_allclose(t1.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(t1.var(-1), 1, rtol=1e-3)
    zero = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0).double()
    zero.load_state_dict(f.state_dict())
    np.testing.assert_allclose(zero.train()(x).numpy(), e1, **TOL)  # p=0 in training == evaluation


def test_errors_are_clear():
    with pytest.raises(fg.ArgumentError, match="TransformerEncoderLayer: activation must be 'relu', 'gelu'"):
        nn.TransformerEncoderLayer(D, HEADS, activation="tanh")
    with pytest.raises(fg.DTypeError, match="TransformerDecoderLayer: activation must be"):
        nn.TransformerDecoderLayer(D, HEADS, activation=3)
    with pytest.raises(fg.ArgumentError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(10, 3)
    with pytest.raises(fg.DTypeError, match="TransformerEncoder: expected a TransformerEncoderLayer"):
        nn.TransformerEncoder("layer", 2)
    model = nn.Transformer(D, HEADS, 1, 1, FF)
    with pytest.raises(fg.ShapeError, match=r"same batch size on axis 1 .* \(5, 2, 8\) and \(4, 3, 8\)"):
        model(fg.ones(5, 2, D), fg.ones(4, 3, D))
    with pytest.raises(fg.ShapeError, match=r"d_model=8 features, got shapes \(5, 2, 6\)"):
        model(fg.ones(5, 2, 6), fg.ones(4, 2, 6))
    with pytest.raises(fg.ShapeError, match="both be batched or both unbatched"):
        model(fg.ones(5, 2, D), fg.ones(4, D))
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    with pytest.raises(fg.ShapeError, match=r"MultiheadAttention: expected attn_mask of shape \(5, 5\)"):
        layer(fg.ones(5, 2, D), src_mask=fg.zeros(4, 4))
