"""Complex gradients: every op allowed complex values, the fft family, and the refusals.

flowgrad follows HIPS autograd's convention: the gradient of a real loss L at z = x + iy is
dL/dx - i dL/dy. Each case is checked three ways in float64: against central differences that
perturb the real and the imaginary part of each element separately, against HIPS autograd's own
gradient (where installed), and to second order with check_grads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp
import pytest

import flowgrad as fg
import flowgrad.numpy as np
from flowgrad.core.ops import COMPLEX_OK
from flowgrad.errors import DTypeError
from flowgrad.test_util import check_grads

EPS = 1e-6
# Central differences with step 1e-6 on functions of size ~1 are good to ~1e-9 absolutely.
ATOL, RTOL = 1e-7, 1e-6


def numeric_grad(loss: Callable[[Any], Any], z: onp.ndarray) -> onp.ndarray:
    """dL/dx - i dL/dy by central differences (dL/dx alone for a real z)."""
    z = onp.array(z)
    out = onp.zeros(z.shape, dtype=z.dtype)
    for idx in onp.ndindex(z.shape):
        for unit in (1.0, 1j) if z.dtype.kind == "c" else (1.0,):
            plus, minus = z.copy(), z.copy()
            plus[idx] += unit * EPS
            minus[idx] -= unit * EPS
            d = (float(loss(plus)) - float(loss(minus))) / (2 * EPS)
            out[idx] += d if unit == 1.0 else -1j * d
    return out


def complex_sample(shape: tuple, seed: int) -> onp.ndarray:
    rng = onp.random.default_rng(seed)
    return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)


def read_out(lib: Any, y: Any, seed: int = 7) -> Any:
    """A real loss of a (possibly complex) result: both parts weighted by fixed random numbers."""
    rng = onp.random.default_rng(seed)
    shape = onp.shape(y._data if isinstance(y, fg.Tensor) else y)
    w1, w2 = rng.standard_normal(shape), rng.standard_normal(shape)
    return lib.sum(lib.real(y) * w1 + lib.imag(y) * w2)


# Each op of COMPLEX_OK reached through flowgrad.numpy, on complex values.
HOLOMORPHIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda lib, z: z + (z * 2.0),
    "sub": lambda lib, z: z - z[::-1] * 1j,
    "mul": lambda lib, z: z * z[::-1],
    "div": lambda lib, z: z / (z[::-1] + 3.0),
    "neg": lambda lib, z: -z,
    "exp": lambda lib, z: lib.exp(z),
    "log": lambda lib, z: lib.log(z + 3.0),
    "sin": lambda lib, z: lib.sin(z),
    "cos": lambda lib, z: lib.cos(z),
    "tanh": lambda lib, z: lib.tanh(z),
    "square": lambda lib, z: lib.square(z),
    "sqrt": lambda lib, z: lib.sqrt(z + 3.0),
    "reciprocal": lambda lib, z: lib.reciprocal(z + 3.0),
    "sum": lambda lib, z: lib.sum(z * z, axis=0),
    "mean": lambda lib, z: lib.mean(z * z),
    "getitem": lambda lib, z: z[1:, ::2] * z[0, 0],
    "index_scatter": lambda lib, z: z[[0, 0, 1]] * z[[1, 0, 0]],
    "reshape": lambda lib, z: lib.reshape(z, (-1,)) * lib.reshape(z, (-1,))[0],
    "transpose": lambda lib, z: lib.transpose(z * z) * lib.transpose(z),
    "copy": lambda lib, z: lib.array(z) * z,
    "broadcast_to": lambda lib, z: lib.broadcast_to(z[:1], (3, 2, 2)) * z,
    "sum_to": lambda lib, z: z[:1] * z,
    "squeeze": lambda lib, z: lib.squeeze(z[:1]) * z,
    "expand_dims": lambda lib, z: lib.expand_dims(z, 0) * z,
    "concatenate": lambda lib, z: lib.concatenate([z, z * z]),
    "stack": lambda lib, z: lib.stack([z, z * 1j]),
    "matmul": lambda lib, z: lib.matmul(z, z.T) if lib is onp else lib.matmul(z, lib.transpose(z)),
    "einsum": lambda lib, z: lib.einsum("ij,kj->ik", z, z * z),
    "pad": lambda lib, z: lib.pad(z, [(1, 0), (0, 2)]) * 1j,
    "flip": lambda lib, z: lib.flip(z, 0) * z,
    "astype": lambda lib, z: lib.real(z).astype(complex) * z,
    "where": lambda lib, z: lib.where(onp.eye(2, dtype=bool)[None], z, z * z),
    "tan": lambda lib, z: lib.tan(z * 0.5),
    "sinh": lambda lib, z: lib.sinh(z),
    "cosh": lambda lib, z: lib.cosh(z),
    "log2": lambda lib, z: lib.log2(z + 3.0),
    "log10": lambda lib, z: lib.log10(z + 3.0),
    "log1p": lambda lib, z: lib.log1p(z * 0.5),
    "expm1": lambda lib, z: lib.expm1(z),
    "exp2": lambda lib, z: lib.exp2(z),
    "arcsinh": lambda lib, z: lib.arcsinh(z * 0.5),
    "arcsin": lambda lib, z: lib.arcsin(z * 0.5),
    "arccos": lambda lib, z: lib.arccos(z * 0.5),
    "arctan": lambda lib, z: lib.arctan(z * 0.5),
    "arctanh": lambda lib, z: lib.arctanh(z * 0.5),
    "cumsum": lambda lib, z: lib.cumsum(z * z, axis=0),
    "pow": lambda lib, z: (z + 3.0) ** 2.5 + (z[::-1] + 3.0) ** z,
    "prod": lambda lib, z: lib.prod(z, axis=0),
}


def test_every_complex_op_has_a_case() -> None:
    own = {"fftn", "ifftn", "rfftn", "irfftn", "real", "imag", "conj", "angle", "abs_complex"}
    assert COMPLEX_OK - own == set(HOLOMORPHIC), "COMPLEX_OK and HOLOMORPHIC disagree"


def _check_against_differences(fn: Callable[[Any, Any], Any], z: onp.ndarray) -> onp.ndarray:
    got = fg.grad(lambda v: read_out(np, fn(np, v)))(z)
    want = numeric_grad(lambda v: read_out(onp, fn(onp, v)), z)
    assert got.dtype == z.dtype and got.shape == z.shape
    onp.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)
    return got


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_complex_op_matches_central_differences(name: str) -> None:
    z = complex_sample((3, 2, 2), seed=len(name)) if name in ("broadcast_to", "where") else None
    z = complex_sample((3, 2), seed=len(name)) if z is None else z
    if name == "where":
        z = z[:1]
    _check_against_differences(HOLOMORPHIC[name], z)


@pytest.mark.parametrize("name", ["mul", "div", "exp", "sqrt", "matmul", "getitem", "einsum", "tanh", "pow", "prod"])
def test_complex_op_second_order(name: str) -> None:
    check_grads(lambda v: HOLOMORPHIC[name](np, v), modes=["rev"], order=2)(complex_sample((3, 2), 3))


def test_real_input_through_complex_values_gets_a_real_gradient() -> None:
    x = onp.random.default_rng(0).standard_normal(6)
    g = fg.grad(lambda x: np.sum(np.abs(np.fft.fft(x * (1 + 2j))) ** 2))(x)
    assert g.dtype == onp.float64
    onp.testing.assert_allclose(
        g, numeric_grad(lambda x: onp.sum(onp.abs(onp.fft.fft(x * (1 + 2j))) ** 2), x), atol=1e-6
    )


FFTS: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "fft": (lambda lib, z: lib.fft.fft(z), "c"),
    "fft_n_axis": (lambda lib, z: lib.fft.fft(z, n=6, axis=0, norm="ortho"), "c"),
    "ifft_n": (lambda lib, z: lib.fft.ifft(z, n=3), "c"),
    "fft2": (lambda lib, z: lib.fft.fft2(z, norm="forward"), "c"),
    "ifft2_s": (lambda lib, z: lib.fft.ifft2(z, s=(5, 3)), "c"),
    "fftn": (lambda lib, z: lib.fft.fftn(z, axes=(1,)), "c"),
    "ifftn": (lambda lib, z: lib.fft.ifftn(z, norm="ortho"), "c"),
    "rfft": (lambda lib, x: lib.fft.rfft(x), "r"),
    "rfft_odd": (lambda lib, x: lib.fft.rfft(x, n=5, axis=0), "r"),
    "rfft2": (lambda lib, x: lib.fft.rfft2(x, norm="ortho"), "r"),
    "rfftn_s": (lambda lib, x: lib.fft.rfftn(x, s=(6, 3), axes=(0, 1)), "r"),
    "irfft": (lambda lib, z: lib.fft.irfft(z), "c"),
    "irfft_odd": (lambda lib, z: lib.fft.irfft(z, n=5, norm="forward"), "c"),
    "irfft2": (lambda lib, z: lib.fft.irfft2(z), "c"),
    "irfftn_s": (lambda lib, z: lib.fft.irfftn(z, s=(3, 4), axes=(1, 0)), "c"),
    "hfft": (lambda lib, z: lib.fft.hfft(z, n=6), "c"),
    "ihfft": (lambda lib, x: lib.fft.ihfft(x, norm="ortho"), "r"),
    "fftshift": (lambda lib, z: lib.fft.fftshift(lib.fft.fft(z)), "c"),
}


def _fft_input(kind: str) -> onp.ndarray:
    z = complex_sample((4, 4), seed=11)
    return z if kind == "c" else z.real.copy()


@pytest.mark.parametrize("name", sorted(FFTS))
def test_fft_matches_central_differences(name: str) -> None:
    fn, kind = FFTS[name]
    x = _fft_input(kind)
    onp.testing.assert_allclose(np.fft.fft(x) if kind == "c" else x, onp.fft.fft(x) if kind == "c" else x)
    _check_against_differences(fn, x)


@pytest.mark.parametrize("name", sorted(FFTS))
def test_fft_second_order(name: str) -> None:
    fn, kind = FFTS[name]
    check_grads(lambda v: fn(np, v), modes=["rev"], order=2)(_fft_input(kind))


# autograd differentiates these (hfft/ihfft have no rule there; odd rfft lengths it refuses).
AUTOGRAD_FFTS = sorted(set(FFTS) - {"hfft", "ihfft", "rfft_odd", "irfft_odd", "rfftn_s"})


@pytest.mark.parametrize("name", AUTOGRAD_FFTS)
def test_fft_matches_hips_autograd(name: str) -> None:
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    fn, kind = FFTS[name]
    x = _fft_input(kind)
    theirs = ag.grad(lambda v: read_out(anp, fn(anp, v)))(x)
    ours = fg.grad(lambda v: read_out(np, fn(np, v)))(x)
    # Both sum the same products in other orders: rounding apart only.
    onp.testing.assert_allclose(ours, theirs, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("fname", ["real", "imag", "conj", "angle", "abs"])
def test_complex_functions_match_hips_autograd(fname: str) -> None:
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    z = complex_sample((5,), seed=5)

    def loss(lib: Any, v: Any) -> Any:
        return read_out(lib, getattr(lib, fname)(v * v))

    ours = fg.grad(lambda v: loss(np, v))(z)
    onp.testing.assert_allclose(ours, ag.grad(lambda v: loss(anp, v))(z), atol=1e-12, rtol=1e-10)
    onp.testing.assert_allclose(ours, numeric_grad(lambda v: loss(onp, v), z), atol=ATOL, rtol=RTOL)
    check_grads(lambda v: getattr(np, fname)(v * v), order=2)(z)  # forward mode too


def test_abs_of_complex_zero_has_zero_gradient() -> None:
    assert fg.grad(lambda z: np.abs(z))(0j) == 0


def test_holomorphic_gradient_is_the_derivative() -> None:
    # autograd's convention makes a holomorphic f's vjp g * f'(z): here f = z**3 at 1 + 1j.
    _, vjp_fn = fg.vjp(lambda z: z * z * z, onp.array(1 + 1j))
    (g,) = vjp_fn(onp.array(1.0 + 0j))
    assert onp.isclose(g, 3 * (1 + 1j) ** 2)


# ----- refusals: never a silently wrong number -------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda z: np.sum(np.real(np.maximum(z, 0.5))),
        lambda z: np.sum(np.real(np.arccosh(z + 3.0))),
        lambda z: np.sum(np.real(np.sign(z) * z)),
        lambda z: np.real(np.linalg.det(np.reshape(z, (2, 2)))),
    ],
)
def test_ops_without_complex_rules_refuse(fn: Callable[[Any], Any]) -> None:
    with pytest.raises(DTypeError, match="real numbers only"):
        fg.grad(fn)(complex_sample((4,), 1))


def test_real_op_making_complex_from_a_traced_value_refuses() -> None:
    with pytest.raises(DTypeError, match="real numbers only"):
        fg.grad(lambda x: np.sum(np.real(np.arccosh(x * 0.5j))))(onp.ones(3))


def test_grad_of_a_complex_result_refuses() -> None:
    with pytest.raises(DTypeError, match="complex"):
        fg.grad(lambda x: np.sum(np.fft.fft(x)))(onp.ones(4))


def test_rfft_of_complex_refuses_and_bad_arguments_are_named() -> None:
    with pytest.raises(DTypeError, match="rfftn: expects a real input"):
        fg.grad(lambda z: np.sum(np.real(np.fft.rfft(z))))(complex_sample((4,), 1))
    with pytest.raises(ValueError, match="norm must be one of"):
        fg.grad(lambda x: np.sum(np.real(np.fft.fft(x, norm="half"))))(onp.ones(4))
    with pytest.raises(NotImplementedError, match="repeated axis"):
        fg.grad(lambda x: np.sum(np.real(np.fft.fftn(x, axes=(0, 0)))))(onp.ones((2, 2)))


def test_pytorch_api_still_refuses_complex_leaves() -> None:
    with pytest.raises(DTypeError):
        fg.tensor(onp.ones(2, dtype=complex), requires_grad=True)


def test_plain_arrays_get_numpys_fft() -> None:
    x = onp.arange(5.0)
    assert isinstance(np.fft.rfft(x), onp.ndarray)
    onp.testing.assert_array_equal(np.fft.irfft(np.fft.rfft(x), 5), onp.fft.irfft(onp.fft.rfft(x), 5))


def test_holomorphic_grad_is_the_complex_derivative_as_in_autograd() -> None:
    z = 0.3 - 0.7j
    for fn, deriv in [
        (lambda z: z**3, lambda z: 3 * z**2),
        (lambda z: np.exp(np.sin(z)), lambda z: onp.cos(z) * onp.exp(onp.sin(z))),
    ]:
        onp.testing.assert_allclose(fg.holomorphic_grad(fn)(z), deriv(z), rtol=1e-14)
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    theirs = ag.holomorphic_grad(lambda z: anp.log(z + 2.0) * z)(z)
    onp.testing.assert_allclose(fg.holomorphic_grad(lambda z: np.log(z + 2.0) * z)(z), theirs, rtol=1e-14)


# ----- the flowgrad.numpy namespace on complex values: right, or refused ----------------------
# Functions built from primitives in Python (cumprod, sort, norm, sinc, ...) reach complex values
# through many ops; each must give autograd's gradient or a clear error, never another number.
NAMESPACE: dict[str, Callable[[Any, Any], Any]] = {
    "cumprod": lambda m, z: m.cumprod(z, axis=0),
    "sort": lambda m, z: m.sort(z, axis=0),
    "tensordot": lambda m, z: m.tensordot(z, z, 1),
    "dot": lambda m, z: m.dot(z, z),
    "outer": lambda m, z: m.outer(z, z),
    "kron": lambda m, z: m.kron(z, z),
    "trace": lambda m, z: m.trace(z),
    "diag": lambda m, z: m.diag(z),
    "tril": lambda m, z: m.tril(z),
    "roll": lambda m, z: m.roll(z, 1),
    "tile": lambda m, z: m.tile(z, 2),
    "repeat": lambda m, z: m.repeat(z, 2),
    "diff": lambda m, z: m.diff(z),
    "norm": lambda m, z: m.linalg.norm(z),
    "norm1": lambda m, z: m.linalg.norm(z, 1),
    "var": lambda m, z: m.var(z),
    "std": lambda m, z: m.std(z),
    "sinc": lambda m, z: m.sinc(z),
    "cross": lambda m, z: m.cross(z, z[::-1]),
    "inner": lambda m, z: m.inner(z, z),
    "linspace": lambda m, z: m.linspace(z[0, 0], z[1, 1], 4),
    "clip": lambda m, z: m.clip(z, -1, 1),
    "logaddexp": lambda m, z: m.logaddexp(z, z),
    "hypot": lambda m, z: m.hypot(z, z),
    "square": lambda m, z: m.square(z),
    "power": lambda m, z: m.power(z, 3),
    "true_divide": lambda m, z: m.true_divide(1.0, z + 2),
    "swapaxes": lambda m, z: m.swapaxes(z, 0, 1),
    "ravel": lambda m, z: m.ravel(z),
    "take": lambda m, z: m.take(z, [0, 2]),
    "concat": lambda m, z: m.concatenate([z, z], 1),
    "vstack": lambda m, z: m.vstack([z, z]),
    "average": lambda m, z: m.average(z, axis=0),
    "mean": lambda m, z: m.mean(z, 0),
    "rot90": lambda m, z: m.rot90(z),
    "triu": lambda m, z: m.triu(z),
    "fliplr": lambda m, z: m.fliplr(z),
    "matmul": lambda m, z: m.matmul(z, z),
    "einsum": lambda m, z: m.einsum("ij,jk", z, z),
    "inv": lambda m, z: m.linalg.inv(z),
    "solve": lambda m, z: m.linalg.solve(z, z[0]),
    "pinv": lambda m, z: m.linalg.pinv(z),
    "det": lambda m, z: m.linalg.det(z),
    "expm1": lambda m, z: m.expm1(z),
    "sqrt": lambda m, z: m.sqrt(z + 2),
    "maximum": lambda m, z: m.maximum(z, 0.1),
    "nan_to_num": lambda m, z: m.nan_to_num(z),
    "select": lambda m, z: m.select([onp.eye(3, dtype=bool)], [z]),
    "full": lambda m, z: m.full((2,), z[0, 0]),
    "append": lambda m, z: m.append(z, z),
    "atleast_2d": lambda m, z: m.atleast_2d(z[0]),
    "split": lambda m, z: m.split(z, 3)[1],
    "where1": lambda m, z: m.where(onp.eye(3) > 0, z, 0.0),
    "logsumexp": lambda m, z: m.log(m.sum(m.exp(z))),
    "prod": lambda m, z: m.prod(z),
    "sum_kw": lambda m, z: m.sum(z, axis=(0, 1), keepdims=True),
    "partition": lambda m, z: m.partition(z, 1, axis=0),
    "diagonal": lambda m, z: m.diagonal(z),
    "reciprocal": lambda m, z: m.reciprocal(z + 2),
    "sinh": lambda m, z: m.sinh(z),
    "fftshift": lambda m, z: m.fft.fftshift(z),
    "eigh": lambda m, z: m.linalg.eigh(z @ z.T if m is onp else m.matmul(z, m.transpose(z)))[0],
}


@pytest.mark.parametrize("name", sorted(NAMESPACE))
def test_numpy_namespace_on_complex_values_is_right_or_refused(name: str) -> None:
    fn = NAMESPACE[name]
    z = complex_sample((3, 3), 2) * 0.6 + 0.2
    try:
        got = fg.grad(lambda v: read_out(np, fn(np, v)))(z)
    except (TypeError, NotImplementedError):  # DTypeError is a TypeError
        return
    want = numeric_grad(lambda v: read_out(onp, fn(onp, v)), z)
    onp.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5)
