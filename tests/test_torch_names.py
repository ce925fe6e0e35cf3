"""PyTorch names that old and everyday programs use: Generator and the samplers (normal's
overloads, *_like), the typed legacy constructors, autograd.Variable and torch.cuda, each checked
against torch where it is installed (shapes, dtypes, sharing, what raises)."""

import warnings

import numpy as np
import pytest

import flowgrad as fg


def test_generator_streams_are_reproducible_and_independent():
    a = fg.randn(4, generator=fg.Generator().manual_seed(3))
    b = fg.randn(4, generator=fg.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g = fg.Generator().manual_seed(3)
    state = g.get_state()
    first = fg.rand(3, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(fg.rand(3, generator=g).numpy(), first.numpy())
    assert g.initial_seed() == 3 and isinstance(fg.Generator().seed(), int)
    fg.manual_seed(0)
    before = fg.randn(2)
    fg.manual_seed(0)
    fg.randn(2, generator=fg.Generator().manual_seed(9))  # does not touch the default stream
    np.testing.assert_array_equal(fg.randn(2).numpy(), before.numpy())
    with pytest.raises(fg.DTypeError, match="generator"):
        fg.randn(2, generator=42)


def test_normal_overloads_and_likes_follow_torch():
    torch = pytest.importorskip("torch")
    cases = [
        ((fg.zeros(2, 3), fg.ones(3)), (torch.zeros(2, 3), torch.ones(3))),
        ((2.0, fg.ones(4, dtype=fg.float64)), (2.0, torch.ones(4, dtype=torch.float64))),
        ((fg.zeros(5),), (torch.zeros(5),)),
    ]
    for ours, theirs in cases:
        a, b = fg.normal(*ours), torch.normal(*theirs)
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).removeprefix("torch.")
    a, b = fg.normal(1.0, 2.0, size=(3, 2)), torch.normal(1.0, 2.0, size=(3, 2))
    assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).removeprefix("torch.")
    x, t = fg.ones(2, 3, dtype=fg.float64), torch.ones(2, 3, dtype=torch.float64)
    for ours, theirs in [(fg.randn_like(x), torch.randn_like(t)), (fg.rand_like(x), torch.rand_like(t))]:
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float64
    r, rt = fg.randint_like(x, 3, 7), torch.randint_like(t, 3, 7)
    assert r.dtype == np.float64 and str(rt.dtype) == "torch.float64" and r.numpy().min() >= 3 and r.numpy().max() < 7


def test_normal_statistics_and_refusals():
    draws = fg.normal(fg.full((200_000,), 3.0), 0.5, generator=fg.Generator().manual_seed(1)).numpy()
    # 200,000 draws: the mean's standard error is 0.5 / 447 = 0.0011, so 0.01 is 9 of them
    assert abs(draws.mean() - 3.0) < 0.01 and abs(draws.std() - 0.5) < 0.01
    with pytest.raises(fg.DTypeError, match="reparameterisation"):
        fg.normal(fg.zeros(2, requires_grad=True), 1.0)
    with pytest.raises(fg.ArgumentError, match="give size="):
        fg.normal(0.0, 1.0)
    with pytest.raises(fg.ArgumentError, match="std must be >= 0"):
        fg.normal(fg.zeros(2), -1.0)
    mean = fg.zeros(3, requires_grad=True)
    (mean + 0.5 * fg.randn_like(mean)).sum().backward()  # the reparameterised draw is differentiable
    np.testing.assert_array_equal(mean.grad.numpy(), np.ones(3))


def test_typed_legacy_constructors_follow_torch():
    torch = pytest.importorskip("torch")
    for name in ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"]:
        ours, theirs = getattr(fg, name), getattr(torch, name)
        a, b = ours([1, 0, 2]), theirs([1, 0, 2])
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.") and a.tolist() == b.tolist()
        assert ours(2, 3).shape == tuple(theirs(2, 3).shape)
        assert isinstance(a, ours) and not isinstance(fg.ones(1, dtype=fg.float16), ours)
    with pytest.raises(TypeError, match="expected a tensor of dtype float32"):
        fg.FloatTensor(fg.ones(2, dtype=fg.float64))


def test_variable_is_a_detached_leaf_sharing_data():
    x = fg.ones(2)
    v = fg.autograd.Variable(x, requires_grad=True)
    assert v is not x and v.requires_grad and not x.requires_grad and np.shares_memory(v.numpy(), x.numpy())
    y = (x * 2).requires_grad_()
    z = fg.autograd.Variable(y * 3)
    assert z.grad_fn is None and not z.requires_grad  # as torch: cut from the graph
    assert isinstance(fg.ones(1), fg.autograd.Variable)
    with pytest.warns(UserWarning, match="volatile was removed"):
        fg.autograd.Variable(x, volatile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (fg.autograd.Variable(fg.tensor([2.0]), requires_grad=True) ** 2).sum().backward()


def test_cuda_answers_as_a_machine_without_a_gpu():
    assert fg.cuda.is_available() is False and fg.cuda.device_count() == 0
    fg.cuda.manual_seed(0)
    fg.cuda.manual_seed_all(0)
    with pytest.raises(fg.FlowgradError, match="cuda"):
        fg.ones(2).cuda()


def test_sort_topk_narrow_repeat_follow_torch_and_differentiate():
    torch = pytest.importorskip("torch")
    data = np.array([[3.0, 1.0, 4.0, 1.0, 5.0], [2.0, 7.0, 1.0, 8.0, 2.0]])
    x, t = fg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    w = np.random.default_rng(0).standard_normal((2, 3))
    distinct = np.array([[3.0, 1.0, 4.0, 1.5, 5.0], [2.0, 7.0, 1.0, 8.0, 2.5]])
    for largest in (True, False):
        ours, theirs = x.topk(3, dim=1, largest=largest), t.topk(3, dim=1, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
        # which of tied values torch's topk picks is its kernel's choice: indices without ties
        ours = fg.tensor(distinct).topk(3, dim=1, largest=largest)
        np.testing.assert_array_equal(
            ours.indices.numpy(), torch.tensor(distinct).topk(3, dim=1, largest=largest).indices
        )
    for descending in (False, True):
        ours, theirs = x.sort(dim=1, descending=descending), t.sort(dim=1, descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())  # ties keep their order
    (x.topk(3, dim=1).values * fg.tensor(w)).sum().backward()
    (t.topk(3, dim=1).values * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(x.narrow(1, -3, 2).numpy(), t.narrow(1, -3, 2).detach().numpy())
    assert x.repeat(2, 1, 3).shape == tuple(t.repeat(2, 1, 3).shape)
    np.testing.assert_array_equal(x.repeat(2, 1).numpy(), t.repeat(2, 1).detach().numpy())
    assert fg.allclose(x, x + 1e-9) and fg.equal(x, fg.tensor(data)) and not fg.equal(x, x[:1])
    with pytest.raises(fg.ShapeError, match="do not fit"):
        x.narrow(1, 3, 4)
    with pytest.raises(fg.ArgumentError, match="larger than dim"):
        x.topk(6)
    with pytest.raises(fg.ShapeError, match="at least one size per dim"):
        x.repeat(2)


def test_inference_mode_default_device_and_utils_data():
    with fg.inference_mode():
        assert not fg.is_grad_enabled()
    with fg.inference_mode(False):
        assert fg.is_grad_enabled()

    @fg.inference_mode
    def bare():
        return fg.is_grad_enabled()

    @fg.inference_mode()
    def called():
        return fg.is_grad_enabled()

    assert bare() is False and called() is False and fg.is_grad_enabled()
    fg.set_default_device("cpu")
    with pytest.raises(fg.ArgumentError, match="not available"):
        fg.set_default_device("cuda")
    from flowgrad.utils.data import DataLoader, TensorDataset

    assert DataLoader is fg.data.DataLoader and TensorDataset is fg.data.TensorDataset


def test_save_and_load_with_file_objects_and_torchs_keywords(tmp_path):
    import io

    buffer = io.BytesIO()
    state = {"w": fg.ones(2, 3), "step": 3, "betas": (0.9, 0.999)}
    fg.save(state, buffer)
    buffer.seek(0)
    loaded = fg.load(buffer, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(loaded["w"].numpy(), np.ones((2, 3), np.float32))
    assert loaded["step"] == 3 and loaded["betas"] == (0.9, 0.999)
    net = fg.nn.Linear(2, 1)
    with open(tmp_path / "net.safetensors", "wb") as f:
        fg.save(net.state_dict(), f)
    with open(tmp_path / "net.safetensors", "rb") as f:
        again = fg.load(f, map_location={"cuda:0": "cpu"}, weights_only=False)
    np.testing.assert_array_equal(again["weight"].numpy(), net.weight.numpy())
    with pytest.raises(fg.ArgumentError, match="not available"):
        fg.load(io.BytesIO(), map_location="cuda")
    with pytest.raises(fg.CheckpointError, match="binary mode"):
        fg.load(io.StringIO("text"))
    import pickle

    with pytest.raises(fg.CheckpointError, match="pickle"):
        fg.load(io.BytesIO(pickle.dumps({"a": 1})))


def test_grad_fn_name_and_next_functions_follow_torch():
    torch = pytest.importorskip("torch")
    a, b = fg.ones(2, requires_grad=True), fg.ones(2)
    ta, tb = torch.ones(2, requires_grad=True), torch.ones(2)
    ours, theirs = (a * b).exp().grad_fn, (ta * tb).exp().grad_fn

    def shape(fn):  # names without torch's overload digit, and the tree of next functions
        if fn is None:
            return None
        name = fn.name().removeprefix("torch::autograd::").rstrip("0123456789")
        return name, tuple((shape(f), i) for f, i in fn.next_functions)

    assert shape(ours) == shape(theirs)
    leaf = ours.next_functions[0][0].next_functions[0][0]
    assert leaf.name() == "AccumulateGrad" and leaf.variable is a


def test_num_threads_reach_the_blas():
    pytest.importorskip("threadpoolctl")
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        assert fg.get_num_threads() == 1
    finally:
        fg.set_num_threads(before)
    assert fg.get_num_threads() == before
    with pytest.raises(fg.ArgumentError):
        fg.set_num_threads(0)
