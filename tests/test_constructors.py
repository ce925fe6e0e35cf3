"""Constructors: a requested dtype applies to the Python numbers themselves, PyTorch's legacy
``Tensor`` constructor, ``as_tensor`` and the ``new_*`` methods (PyTorch's own bits are compared
in tests/differential/test_constructors.py)."""

import numpy as np
import pytest

import flowgrad as fg


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("dtype", [fg.float64, "float64", np.float64])
def test_float64_from_python_numbers_is_the_nearest_double(dtype, requires_grad):
    t = fg.tensor([0.666, 0.333], dtype=dtype, requires_grad=requires_grad)
    assert t.dtype == fg.float64 and t.data.tolist() == [0.666, 0.333]
    assert fg.tensor(0.1, dtype=dtype).item() == 0.1
    assert fg.full((2,), 0.1, dtype=dtype).data.tolist() == [0.1, 0.1]
    assert fg.zeros(1, dtype=fg.float64).new_tensor([0.1]).item() == 0.1
    assert fg.as_tensor([0.1], dtype=dtype).item() == 0.1


def test_python_ints_reach_a_float_dtype_through_a_double_as_in_pytorch():
    n = 2**60 + 2**36 + 1  # nearest float32 directly: 2**60 + 2**37; through a double: 2**60
    assert fg.tensor([n], dtype=fg.float32).item() == float(np.float32(float(n)))
    assert fg.tensor([n], dtype=fg.float64).item() == float(n)


def test_float16_rounds_through_float32_as_in_pytorch():
    # A double just above the midpoint of two halves that float32 rounds onto the midpoint:
    # ties-to-even then picks the even half, where a direct rounding goes up.
    lo = np.float16(1.0)
    mid = (float(lo) + float(np.nextafter(lo, np.float16(2)))) / 2
    x = mid + 2.0**-40
    assert float(np.float16(x)) != float(np.float16(np.float32(x)))  # the case is a real one
    assert fg.tensor(x, dtype=fg.float16).item() == float(np.float16(np.float32(x)))


def test_ints_that_do_not_fit_are_refused_not_wrapped():
    for data, dtype in [(2**40, fg.int32), ([1.5, float("nan")], fg.int64), (1e30, fg.int64), (-1, fg.uint8)]:
        with pytest.raises(fg.DTypeError, match="without overflow"):
            fg.tensor(data, dtype=dtype)
    with pytest.raises(fg.DTypeError, match="without overflow"):
        fg.tensor(np.array([np.inf]), dtype=fg.int32)
    assert fg.tensor([1.9, -2.7, 2**62 + 1], dtype=fg.int64).data.tolist() == [1, -2, 2**62 + 1]  # each exact
    with pytest.raises(fg.DTypeError, match="int64"):
        fg.tensor(2**63)
    with pytest.raises(fg.DTypeError, match="expected numbers"):
        fg.tensor([2**70])


def test_legacy_tensor_constructor_is_pytorchs():
    assert fg.Tensor([1, 2]).dtype == fg.float32 and fg.Tensor([1, 2]).data.tolist() == [1.0, 2.0]
    assert fg.Tensor(np.array([1, 2])).dtype == fg.float32
    assert fg.Tensor((2, 3)).data.tolist() == [2.0, 3.0]  # a tuple is data
    assert fg.Tensor(2, 3).shape == (2, 3) and fg.Tensor(2, 3).dtype == fg.float32  # ints are sizes
    assert fg.Tensor(4).shape == (4,) and fg.Tensor().shape == (0,)
    src = fg.tensor([1, 2])
    assert fg.Tensor(src).numpy() is src.numpy()  # shares, keeps int64
    assert fg.Tensor([1, 2], dtype=fg.float64, requires_grad=True).requires_grad
    with pytest.raises(fg.DTypeError, match=r"fg\.tensor\(3\.5\)"):
        fg.Tensor(3.5)
    with pytest.raises(fg.ShapeError, match="sizes"):
        fg.Tensor([1.0], 3)
    with pytest.raises(fg.ShapeError, match="sizes"):
        fg.Tensor(2, -1)


def test_as_tensor_shares_what_it_can():
    a = np.zeros(3)
    t = fg.as_tensor(a)
    a[0] = 5
    assert t.data[0] == 5 and t.dtype == fg.float64
    assert fg.as_tensor(t) is t and fg.as_tensor(t, dtype=fg.float64) is t
    c = fg.as_tensor(a, dtype=fg.float32)
    a[1] = 7
    assert c.dtype == fg.float32 and c.data[1] == 0  # a converted copy
    assert fg.as_tensor([1, 2]).dtype == fg.int64 and fg.as_tensor([1.0]).dtype == fg.float32
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = fg.as_tensor(x, dtype=fg.float64)
    y.sum().backward()  # converting a tensor stays in the graph, as .to() does
    assert x.grad.data.tolist() == [1.0, 1.0]


def test_new_methods_take_this_tensors_dtype():
    t = fg.zeros(2, dtype=fg.float64)
    assert t.new_tensor([1, 2]).dtype == fg.float64
    assert t.new_full((2,), 1).dtype == fg.float64 and t.new_full((2,), 1).data.tolist() == [1.0, 1.0]
    for make in (t.new_zeros, t.new_ones, t.new_empty):
        assert make(2, 3).shape == (2, 3) and make((2, 3)).dtype == fg.float64
        assert make(2, dtype=fg.int32).dtype == fg.int32
        assert make(()).shape == ()
        with pytest.raises(fg.ArgumentError, match="missing the size"):
            make()
    assert t.new_zeros(3).data.tolist() == [0.0] * 3 and t.new_ones(1).data.tolist() == [1.0]
    i = fg.tensor([1, 2])
    assert i.new_full((2,), 2.7).data.tolist() == [2, 2]  # truncated, as PyTorch
    assert t.new_tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(fg.DTypeError, match="overflow"):
        fg.zeros(1, dtype=fg.float16).new_full((1,), 1e6)


def test_full_and_like_forms():
    assert fg.full((2,), 7).dtype == fg.int64 and fg.full((2,), True).dtype == fg.bool
    assert fg.full((2,), 1.5).dtype == fg.get_default_dtype()
    assert fg.full((2,), np.float64(1.5)).dtype == fg.get_default_dtype()  # a NumPy scalar is a number
    assert fg.full_like(fg.tensor([1, 2]), 2.7).data.tolist() == [2, 2]
    e = fg.empty_like(fg.zeros(2, 3, dtype=fg.float64))
    assert e.shape == (2, 3) and e.dtype == fg.float64
    with pytest.raises(fg.DTypeError, match="fill_value"):
        fg.full((2,), [1, 2])
    with pytest.raises(fg.DTypeError, match="overflow"):
        fg.full((1,), 1e300, dtype=fg.float32)
    assert np.isinf(fg.full((1,), 1e10, dtype=fg.float16).item())  # PyTorch's full: inf for float16


def test_arange_and_linspace():
    assert fg.arange(0, 1, 0.1).data.tolist() == [np.float32(i * 0.1).item() for i in range(10)]
    assert fg.arange(0, 1, 0.1, dtype=fg.float64).data.tolist() == [i * 0.1 for i in range(10)]
    assert fg.arange(5, 0, -2).data.tolist() == [5, 3, 1]
    with pytest.raises(fg.ArgumentError, match="cannot be reached"):
        fg.arange(5, 0)
    with pytest.raises(fg.DTypeError, match="bool"):
        fg.arange(3, dtype=fg.bool)
    v = fg.linspace(-1.3, 2.9, 7, dtype=fg.float64).data
    assert v[0] == -1.3 and v[-1] == 2.9  # both ends exact
    # NumPy counts up from the start only; the second half, counted down from the end, may
    # differ by an ulp or two of the range (4.4e-16 at 2.9).
    np.testing.assert_allclose(v, np.linspace(-1.3, 2.9, 7), rtol=0, atol=2 * np.spacing(2.9))
    assert fg.linspace(3, 9, 1).data.tolist() == [3.0] and fg.linspace(0, 1, 0).shape == (0,)
    assert fg.linspace(0, 10, 4, dtype=fg.int64).data.tolist() == [0, 3, 6, 10]
