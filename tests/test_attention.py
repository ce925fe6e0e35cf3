"""nn.MultiheadAttention and F.scaled_dot_product_attention against torch: same weights, same
inputs -> same outputs and gradients (float64, rtol 1e-9), masks of every kind, state_dicts
both ways; dropout by its properties; a central-difference check; clear errors."""

import copy

import numpy as np
import pytest

import flowgrad as fg
import flowgrad.nn.functional as F
from flowgrad import nn

from .finite_differences import central

pytestmark = [
    pytest.mark.numeric,  # compared with torch: rounding-dependent, run again by make test
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),  # torch's, on mixed masks
]

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = dict(rtol=1e-9, atol=1e-12)


def _t(x):
    return torch.tensor(x) if isinstance(x, np.ndarray) else x


def _assert_close(a, b, what):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), err_msg=what, equal_nan=True, **TOL)


def _perturbed_torch_mha(seed, *args, **kwargs):
    """A torch layer whose biases are not zero (torch initialises them to 0, which hides mistakes)."""
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(*args, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return t


def _run_both(f_module, t_module, inputs, kwargs, rng):
    """Outputs and gradients (inputs and every parameter) of both layers; weights too."""
    tx = [torch.tensor(x, requires_grad=True) for x in inputs]
    fx = [fg.tensor(x, requires_grad=True) for x in inputs]
    t_out, t_w = t_module(*tx, **{k: _t(v) for k, v in kwargs.items()})
    f_out, f_w = f_module(*fx, **kwargs)
    _assert_close(f_out.numpy(), t_out.detach().numpy(), "output")
    assert (f_w is None) == (t_w is None)
    if t_w is not None:
        _assert_close(f_w.numpy(), t_w.detach().numpy(), "attention weights")
    g = rng.standard_normal(t_out.shape)
    loss_t = (t_out * torch.tensor(g)).sum()
    loss_f = (f_out * fg.tensor(g)).sum()
    if t_w is not None:  # the weights are an output too: their gradient path is checked as well
        gw = rng.standard_normal(t_w.shape)
        loss_t = loss_t + (t_w * torch.tensor(gw)).sum()
        loss_f = loss_f + (f_w * fg.tensor(gw)).sum()
    loss_t.backward()
    loss_f.backward()
    for i, (a, b) in enumerate(zip(fx, tx)):
        _assert_close(a.grad.numpy(), b.grad.numpy(), f"input {i} grad")
    t_params = dict(t_module.named_parameters())
    f_params = dict(f_module.named_parameters())
    assert sorted(f_params) == sorted(t_params)
    for name, p in f_params.items():
        _assert_close(p.grad.numpy(), t_params[name].grad.numpy(), f"{name} grad")


# ----- scaled_dot_product_attention ---------------------------------------------------------------


def _sdpa_case(rng, q_shape, k_shape, v_shape, mask=None, **kw):
    q, k, v = (rng.standard_normal(s) for s in (q_shape, k_shape, v_shape))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    fq, fk, fv = (fg.tensor(a, requires_grad=True) for a in (q, k, v))
    to = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=_t(mask), **kw)
    fo = F.scaled_dot_product_attention(fq, fk, fv, attn_mask=mask, **kw)
    _assert_close(fo.numpy(), to.detach().numpy(), "output")
    g = rng.standard_normal(to.shape)
    (to * torch.tensor(g)).sum().backward()
    (fo * fg.tensor(g)).sum().backward()
    for name, a, b in (("q", fq, tq), ("k", fk, tk), ("v", fv, tv)):
        _assert_close(a.grad.numpy(), b.grad.numpy(), f"{name} grad")
    return fo


def test_sdpa_plain_scaled_and_causal():
    rng = np.random.default_rng(0)
    _sdpa_case(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))
    _sdpa_case(rng, (2, 4, 5), (2, 6, 5), (2, 6, 3), scale=0.37)
    _sdpa_case(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), is_causal=True)  # L < S: top-left aligned
    _sdpa_case(rng, (1, 6, 5), (1, 4, 5), (1, 4, 2), is_causal=True)  # L > S
    _sdpa_case(rng, (4, 5), (6, 5), (6, 2))  # no batch axes


def test_sdpa_bool_and_float_masks_broadcast():
    rng = np.random.default_rng(1)
    keep = rng.random((4, 6)) > 0.4
    keep[:, 0] = True
    _sdpa_case(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=keep)
    _sdpa_case(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=rng.standard_normal((3, 1, 6)))
    additive = np.where(rng.random((2, 1, 4, 6)) > 0.5, -np.inf, rng.standard_normal((2, 1, 4, 6)))
    additive[..., 0] = 0.0
    _sdpa_case(rng, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=additive)


def test_sdpa_row_with_nothing_to_attend_gives_zeros_as_torch():
    rng = np.random.default_rng(2)
    keep = rng.random((4, 6)) > 0.4
    keep[:, 0] = True
    keep[2] = False  # query 2 may attend to nothing
    out = _sdpa_case(rng, (2, 4, 5), (2, 6, 5), (2, 6, 3), mask=keep)
    assert np.all(out.numpy()[:, 2] == 0) and np.isfinite(out.numpy()).all()


def test_sdpa_grouped_query_heads():
    if "enable_gqa" not in TF.scaled_dot_product_attention.__doc__:
        pytest.skip("this torch has no enable_gqa")
    rng = np.random.default_rng(3)
    _sdpa_case(rng, (2, 6, 4, 5), (2, 2, 3, 5), (2, 2, 3, 7), enable_gqa=True)


def test_sdpa_dropout_properties():
    rng = np.random.default_rng(4)
    q, k, v = fg.tensor(rng.standard_normal((2, 4, 5))), fg.tensor(rng.standard_normal((2, 6, 5))), fg.ones(2, 6, 1)
    # With v all ones, each output is the sum of the kept weights / (1 - p): its expectation is 1.
    fg.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    fg.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)  # the same seed, the same mask
    assert not np.allclose(a, 1.0)  # something was dropped
    assert np.all(a >= 0) and np.all(a <= 2.0 + 1e-12)  # kept weights sum to <= 1, scaled by 2
    qs, ks = fg.tensor(rng.standard_normal((1000, 4, 5))), fg.tensor(rng.standard_normal((1000, 6, 5)))
    big = F.scaled_dot_product_attention(qs, ks, fg.ones(1000, 6, 1), dropout_p=0.5).numpy()
    # 4000 rows, each of mean 1 and variance sum(w_i^2) <= 1: standard error <= 0.016, bound at 5 of them.
    assert abs(big.mean() - 1.0) < 0.08


def test_sdpa_errors():
    q = fg.ones(2, 4, 5)
    with pytest.raises(fg.ShapeError, match="query has 5 features but key has 3"):
        F.scaled_dot_product_attention(q, fg.ones(2, 6, 3), fg.ones(2, 6, 3))
    with pytest.raises(fg.ShapeError, match="key has 6 positions but value has 5"):
        F.scaled_dot_product_attention(q, fg.ones(2, 6, 5), fg.ones(2, 5, 5))
    with pytest.raises(fg.ArgumentError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=fg.ones(4, 4), is_causal=True)
    with pytest.raises(fg.ShapeError, match=r"attn_mask of shape \(3, 4\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=fg.ones(3, 4))
    with pytest.raises(fg.DTypeError, match="boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=fg.tensor(np.ones((4, 4), np.int64)))


# ----- MultiheadAttention against torch ---------------------------------------------------------------

E, H, L, S, N = 8, 2, 4, 6, 3


def _kpm(rng, n=N, s=S):
    m = rng.random((n, s)) > 0.6
    m[:, 0] = False  # every query keeps one key (no NaN rows here)
    return m


def _mask_cases(rng):
    causal_like = rng.random((L, S)) > 0.6
    causal_like[:, 0] = False
    return {
        "none": {},
        "bool-2d": dict(attn_mask=causal_like),
        "float-2d": dict(attn_mask=rng.standard_normal((L, S))),
        "float-3d": dict(attn_mask=rng.standard_normal((N * H, L, S))),
        "kpm-bool": dict(key_padding_mask=_kpm(rng)),
        "kpm-float": dict(key_padding_mask=np.where(_kpm(rng), -np.inf, 0.5 * rng.standard_normal((N, S)))),
        "both-bool": dict(attn_mask=causal_like, key_padding_mask=_kpm(rng)),
        "both-float": dict(attn_mask=rng.standard_normal((L, S)), key_padding_mask=rng.standard_normal((N, S))),
    }


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", list(_mask_cases(np.random.default_rng(0))))
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_masks_and_layouts_match_torch(mask, need_weights, average, batch_first):
    rng = np.random.default_rng(10)
    kwargs = dict(_mask_cases(rng)[mask], need_weights=need_weights, average_attn_weights=average)
    t = _perturbed_torch_mha(0, E, H, batch_first=batch_first)
    f = nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    shape_q, shape_kv = ((N, L, E), (N, S, E)) if batch_first else ((L, N, E), (S, N, E))
    q, kv = rng.standard_normal(shape_q), rng.standard_normal(shape_kv)
    _run_both(f, t, [q, kv, rng.standard_normal(shape_kv)], kwargs, rng)


def test_mha_self_attention_one_tensor_for_all_three():
    rng = np.random.default_rng(11)
    t = _perturbed_torch_mha(1, E, H)
    f = nn.MultiheadAttention(E, H).double()
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((L, N, E))
    tx, fx = torch.tensor(x, requires_grad=True), fg.tensor(x, requires_grad=True)
    (t(tx, tx, tx)[0] ** 2).sum().backward()
    (f(fx, fx, fx)[0] ** 2).sum().backward()
    _assert_close(fx.grad.numpy(), tx.grad.numpy(), "self-attention input grad (three paths summed)")


@pytest.mark.parametrize(
    "options",
    [
        dict(kdim=5, vdim=7),
        dict(bias=False),
        dict(add_bias_kv=True),
        dict(add_zero_attn=True),
        dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=4),
    ],
    ids=["kdim-vdim", "no-bias", "bias-kv", "zero-attn", "all"],
)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_options_match_torch(options, need_weights):
    rng = np.random.default_rng(12)
    t = _perturbed_torch_mha(2, E, H, **options)
    f = nn.MultiheadAttention(E, H, **options).double()
    assert list(f.state_dict()) == list(t.state_dict())  # same names, same order
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    kd, vd = options.get("kdim", E), options.get("vdim", E)
    inputs = [rng.standard_normal((L, N, E)), rng.standard_normal((S, N, kd)), rng.standard_normal((S, N, vd))]
    kwargs = dict(attn_mask=rng.standard_normal((L, S)), key_padding_mask=_kpm(rng), need_weights=need_weights)
    _run_both(f, t, inputs, kwargs, rng)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched_matches_torch(need_weights):
    rng = np.random.default_rng(13)
    t = _perturbed_torch_mha(3, E, H, batch_first=True)
    f = nn.MultiheadAttention(E, H, batch_first=True).double()
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    pad = rng.random(S) > 0.5
    pad[0] = False
    kwargs = dict(attn_mask=rng.standard_normal((H, L, S)), key_padding_mask=pad, need_weights=need_weights)
    inputs = [rng.standard_normal((L, E)), rng.standard_normal((S, E)), rng.standard_normal((S, E))]
    _run_both(f, t, inputs, kwargs, rng)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_is_causal_hint_matches_torch(need_weights):
    rng = np.random.default_rng(14)
    t = _perturbed_torch_mha(4, E, H)
    f = nn.MultiheadAttention(E, H).double()
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((L, N, E))
    causal = np.triu(np.ones((L, L), bool), 1)
    _run_both(f, t, [x, x, x], dict(attn_mask=causal, is_causal=True, need_weights=need_weights), rng)


def test_mha_fully_masked_rows_nan_weights_zero_attention_as_torch():
    rng = np.random.default_rng(15)
    t = _perturbed_torch_mha(5, E, H)
    f = nn.MultiheadAttention(E, H).double()
    f.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = rng.standard_normal((L, N, E))
    pad = _kpm(rng, N, L)
    pad[1] = True  # sequence 1 has no key at all
    for need_weights in (True, False):
        to, tw = t(_t(x), _t(x), _t(x), key_padding_mask=_t(pad), need_weights=need_weights)
        fo, fw = f(x, x, x, key_padding_mask=pad, need_weights=need_weights)
        _assert_close(fo.numpy(), to.detach().numpy(), f"output, need_weights={need_weights}")
        if need_weights:
            _assert_close(fw.numpy(), tw.detach().numpy(), "weights")
            assert np.isnan(fw.numpy()[1]).all() and np.isnan(fo.numpy()[:, 1]).all()
        else:
            assert np.isfinite(fo.numpy()).all()


def test_state_dict_from_flowgrad_into_torch():
    rng = np.random.default_rng(16)
    f = nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True).double()
    with fg.no_grad():
        for p in f.parameters():
            p.add_(fg.tensor(rng.standard_normal(p.shape)))
    t = torch.nn.MultiheadAttention(E, H, kdim=5, vdim=3, add_bias_kv=True, dtype=torch.float64)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in f.state_dict().items()})
    q, k, v = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, 5)), rng.standard_normal((S, N, 3))
    _run_both(f, t, [q, k, v], {}, rng)


def test_mha_initialisation_as_torch():
    f = nn.MultiheadAttention(E, H)
    t = torch.nn.MultiheadAttention(E, H)
    for name, p in t.state_dict().items():
        assert f.state_dict()[name].shape == tuple(p.shape), name
    assert np.all(f.in_proj_bias.numpy() == 0) and np.all(f.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (E + 3 * E))  # Xavier-uniform over the (3E, E) stacked projection
    assert np.abs(f.in_proj_weight.numpy()).max() <= bound


def test_mha_dropout_properties():
    rng = np.random.default_rng(17)
    f = nn.MultiheadAttention(E, H, dropout=0.5).double()
    x = fg.tensor(rng.standard_normal((L, N, E)))
    f.eval()
    _, w_eval = f(x, x, x, average_attn_weights=False)
    f.train()
    fg.manual_seed(3)
    _, w_train = f(x, x, x, average_attn_weights=False)
    fg.manual_seed(3)
    out_again, w_again = f(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(w_train.numpy(), w_again.numpy())
    wt, we = w_train.numpy(), w_eval.numpy()
    dropped = wt == 0
    assert dropped.any() and not dropped.all()
    # Each kept weight is the evaluation weight scaled by 1/(1-p) = 2 (a product: rounding only).
    np.testing.assert_allclose(wt[~dropped], 2 * we[~dropped], rtol=1e-12)
    f.eval()
    out_eval, _ = f(x, x, x)
    out_eval2, _ = f(x, x, x)
    np.testing.assert_array_equal(out_eval.numpy(), out_eval2.numpy())  # evaluation: no dropout


def test_mha_gradient_by_central_differences():
    rng = np.random.default_rng(18)
    f = nn.MultiheadAttention(4, 2, kdim=3, add_zero_attn=True).double()
    k, v = fg.tensor(rng.standard_normal((3, 1, 3))), fg.tensor(rng.standard_normal((3, 1, 4)))
    pad = np.array([[False, True, False]])
    w = rng.standard_normal((2, 1, 4))

    def loss(q):
        out, weights = f(fg.tensor(q), k, v, key_padding_mask=pad, attn_mask=np.array([[0.0, 0.1, -0.2]] * 2))
        return float((out.numpy() * w).sum() + (weights.numpy() ** 2).sum())

    q = rng.standard_normal((2, 1, 4))
    qt = fg.tensor(q, requires_grad=True)
    out, weights = f(qt, k, v, key_padding_mask=pad, attn_mask=np.array([[0.0, 0.1, -0.2]] * 2))
    ((out * fg.tensor(w)).sum() + (weights**2).sum()).backward()
    # Central differences with eps=1e-6 on float64: truncation ~1e-12, cancellation ~1e-10.
    np.testing.assert_allclose(qt.grad.numpy(), central(loss, q), rtol=1e-6, atol=1e-8)


def test_deepcopy_gives_independent_parameters():
    f = nn.MultiheadAttention(E, H)
    g = copy.deepcopy(f)
    assert g.in_proj_weight is not f.in_proj_weight
    np.testing.assert_array_equal(g.in_proj_weight.numpy(), f.in_proj_weight.numpy())
    with fg.no_grad():
        g.in_proj_weight.mul_(0)
    assert np.abs(f.in_proj_weight.numpy()).sum() > 0


def test_mha_errors_name_layer_expected_and_given():
    with pytest.raises(
        fg.ArgumentError, match=r"MultiheadAttention: embed_dim must be divisible by num_heads.*=10.*=3"
    ):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(fg.DTypeError, match="MultiheadAttention: num_heads must be an integer"):
        nn.MultiheadAttention(8, 2.0)
    f = nn.MultiheadAttention(E, H, kdim=5)
    with pytest.raises(
        fg.ShapeError, match=r"MultiheadAttention: expected query with 8 features \(embed_dim\), got shape \(4, 3, 7\)"
    ):
        f(fg.ones(L, N, 7), fg.ones(S, N, 5), fg.ones(S, N, E))
    with pytest.raises(fg.ShapeError, match=r"expected key with 5 features \(kdim\), got shape \(6, 3, 8\)"):
        f(fg.ones(L, N, E), fg.ones(S, N, E), fg.ones(S, N, E))
    with pytest.raises(fg.ShapeError, match="key and value must agree"):
        f(fg.ones(L, N, E), fg.ones(S, N, 5), fg.ones(S + 1, N, E))
    with pytest.raises(fg.ShapeError, match="different batch sizes"):
        f(fg.ones(L, N, E), fg.ones(S, N + 1, 5), fg.ones(S, N + 1, E))
    with pytest.raises(fg.ShapeError, match=r"expected attn_mask of shape \(4, 6\) or \(6, 4, 6\), got \(6, 4\)"):
        f(fg.ones(L, N, E), fg.ones(S, N, 5), fg.ones(S, N, E), attn_mask=fg.zeros(S, L))
    with pytest.raises(fg.ShapeError, match=r"expected key_padding_mask of shape \(3, 6\), got \(6,\)"):
        f(fg.ones(L, N, E), fg.ones(S, N, 5), fg.ones(S, N, E), key_padding_mask=fg.zeros(S))
    with pytest.raises(fg.DTypeError, match="attn_mask must be a boolean or floating mask, got dtype int64"):
        f(fg.ones(L, N, E), fg.ones(S, N, 5), fg.ones(S, N, E), attn_mask=np.zeros((L, S), np.int64))
    with pytest.raises(fg.ArgumentError, match="is_causal=True is a hint"):
        f(fg.ones(L, N, E), fg.ones(S, N, 5), fg.ones(S, N, E), is_causal=True)
    with pytest.raises(fg.ShapeError, match="query must be"):
        f(fg.ones(E), fg.ones(5), fg.ones(E))


def test_compiled_step_sees_each_calls_masks():
    # The masks change every call: a mask converted with NumPy at trace time would be replayed
    # as a constant (silently the first batch's padding); they must be ops.
    fg.manual_seed(0)
    mha = nn.MultiheadAttention(E, H).double()
    rng = np.random.default_rng(19)
    x = fg.tensor(rng.standard_normal((5, N, E)))

    @fg.compile
    def step(x, pad):
        with_weights, _ = mha(x, x, x, key_padding_mask=pad)
        without, _ = mha(x, x, x, key_padding_mask=pad, need_weights=False)
        return with_weights, without

    for call in range(3):
        pad = rng.random((N, 5)) > 0.5
        pad[:, 0] = False
        pad[1] = call == 2  # the last call has a sequence with nothing to attend to
        a, b = step(x, fg.tensor(pad))
        want_a, _ = mha(x, x, x, key_padding_mask=pad)
        want_b, _ = mha(x, x, x, key_padding_mask=pad, need_weights=False)
        np.testing.assert_array_equal(a.numpy(), want_a.numpy())  # replay is bit-identical to eager
        np.testing.assert_array_equal(b.numpy(), want_b.numpy())
    assert step.traces == 1
