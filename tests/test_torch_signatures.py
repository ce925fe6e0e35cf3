"""PyTorch's keyword names and out= on flowgrad's top-level functions (core/torch_signatures.py),
each function of the table called the PyTorch way in both libraries."""

import warnings

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.core.torch_signatures import SIGNATURES, parse

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A = RNG.uniform(0.2, 0.8, size=(3, 4))
B = RNG.uniform(1.2, 1.8, size=(3, 4))

# the arguments of each signature's positional names, by name (the rest come from defaults)
ARGS = {
    "input": A, "other": B, "exponent": B, "vec2": B[0], "mat2": B.T, "condition": A > 0.5,
    "tensors": [A, B], "dim": 1, "min": 0.3, "max": 0.7,
}  # fmt: skip
SPECIAL = {  # functions whose inputs need another shape or domain
    "dot": {"input": A[0], "tensor": B[0]},
    "matmul": {"input": A, "other": B.T},
    "outer": {"input": A[0], "vec2": B[0]},
    "acosh": {"input": B}, "arccosh": {"input": B},
    "kron": {"input": A[:2, :2], "other": B[:2, :2]},
}  # fmt: skip
NO_OUT_IN_TORCH = {"softmax", "log_softmax", "argmax", "argmin", "leaky_relu"}


def _both(value):
    if isinstance(value, np.ndarray):
        return fg.tensor(value), torch.tensor(value)
    if isinstance(value, list):
        pairs = [_both(v) for v in value]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return value, value


def _call_kwargs(name):
    sig = parse(SIGNATURES[name])
    names = [p.name for p in sig.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    chosen = {n: SPECIAL.get(name, {}).get(n, ARGS.get(n)) for n in names}
    chosen = {n: v for n, v in chosen.items() if v is not None}  # the others keep their defaults
    ours, theirs = {}, {}
    for n, v in chosen.items():
        ours[n], theirs[n] = _both(v)
    return ours, theirs


IN_TORCH = sorted(n for n in SIGNATURES if hasattr(torch, n) and hasattr(fg, n))


@pytest.mark.parametrize("name", IN_TORCH)
def test_keyword_names_as_pytorch_gives_them(name):
    ours, theirs = _call_kwargs(name)
    got, want = getattr(fg, name)(**ours), getattr(torch, name)(**theirs)
    # one elementwise op or one small reduction on float64: rounding is the only difference
    np.testing.assert_allclose(np.asarray(got.numpy(), dtype=np.float64), want.double().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in IN_TORCH if n not in NO_OUT_IN_TORCH])
def test_out_writes_into_the_given_tensor(name):
    ours, theirs = _call_kwargs(name)
    want = getattr(torch, name)(**theirs)
    buf = fg.empty(*want.shape, dtype=fg.bool if want.dtype == torch.bool else fg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a buffer of the right shape is not resized
        got = getattr(fg, name)(**ours, out=buf)
    assert got is buf
    np.testing.assert_allclose(np.asarray(buf.numpy(), dtype=np.float64), want.double().numpy(), rtol=1e-12)


def test_alpha_rounding_mode_and_mixed_calls():
    x, y = fg.tensor([7.0, -7.0, 5.5]), fg.tensor([2.0, 2.0, -2.0])
    tx, ty = torch.tensor([7.0, -7.0, 5.5]), torch.tensor([2.0, 2.0, -2.0])
    assert fg.add(x, y, alpha=3).tolist() == torch.add(tx, ty, alpha=3).tolist()
    assert fg.sub(x, other=y, alpha=0.5).tolist() == torch.sub(tx, other=ty, alpha=0.5).tolist()
    for mode in ("floor", "trunc"):
        assert fg.div(x, y, rounding_mode=mode).tolist() == torch.div(tx, ty, rounding_mode=mode).tolist()
        ints = fg.div(fg.tensor([7, -7]), 2, rounding_mode=mode)
        tints = torch.div(torch.tensor([7, -7]), 2, rounding_mode=mode)
        assert ints.tolist() == tints.tolist() and ints.dtype == fg.int64
    assert fg.sum(x, axis=0).item() == pytest.approx(5.5)  # NumPy's keywords still pass through


def test_out_is_resized_refuses_gradients_and_bad_dtypes():
    small = fg.zeros(1)
    with pytest.warns(UserWarning, match="resized"):
        fg.add(fg.ones(3), 1, out=small)
    assert small.tolist() == [2.0, 2.0, 2.0]
    fg.exp(fg.zeros(2), out=(empty := fg.empty(0)))  # empty: resized without a warning
    assert empty.tolist() == [1.0, 1.0]
    w = fg.ones(2, requires_grad=True)
    with pytest.raises(fg.FlowgradError, match="out= does not support automatic differentiation"):
        fg.mul(w, 2, out=fg.empty(2))
    with fg.no_grad():
        assert fg.mul(w, 2, out=fg.empty(2)).tolist() == [2.0, 2.0]
    with pytest.raises(fg.DTypeError, match="cannot be written into out of dtype int64"):
        fg.exp(fg.ones(2), out=fg.zeros(2, dtype=fg.int64))
    with pytest.raises(fg.DTypeError, match="out= must be a tensor"):
        fg.exp(fg.ones(2), out=np.zeros(2))


def test_wrong_arguments_name_pytorchs_signature():
    with pytest.raises(fg.ArgumentError, match=r"add\(input, other, \*, alpha=1, out=None\)"):
        fg.add(fg.ones(1), fg.ones(1), bogus=1)
    with pytest.raises(fg.ArgumentError, match="missing a required argument: 'other'"):
        fg.mul(input=fg.ones(1))
    with pytest.raises(fg.ArgumentError, match="rounding_mode"):
        fg.div(fg.ones(1), 2, rounding_mode="ceil")


def test_a_call_without_keywords_is_the_function_itself_underneath():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    fg.exp(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))
    assert fg.exp.__torch_signature__ == "input, *, out=None"


def test_methods_take_the_same_keywords():
    x, y = fg.tensor([7.0, -7.0]), fg.tensor([2.0, 2.0])
    tx, ty = torch.tensor([7.0, -7.0]), torch.tensor([2.0, 2.0])
    for call in (
        lambda a, b: a.div(b, rounding_mode="floor"),
        lambda a, b: a.div(other=b, rounding_mode="trunc"),
        lambda a, b: a.pow(exponent=2),
        lambda a, b: a.add(other=b, alpha=3),
        lambda a, b: a.sub(b, alpha=0.5),
        lambda a, b: a.mul(other=b),
        lambda a, b: a.sum(dim=0, keepdim=True),
        lambda a, b: a.clamp(min=-1.0, max=1.0),
        lambda a, b: a.softmax(dim=0),
    ):
        assert call(x, y).tolist() == pytest.approx(call(tx, ty).tolist(), rel=1e-6)
