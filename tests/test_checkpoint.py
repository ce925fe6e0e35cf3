"""fg.save / fg.load / fg.save_checkpoint / fg.load_checkpoint: round trips, interop, training."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from hypothesis.extra import numpy as hnp

import flowgrad as fg

try:
    import safetensors.numpy as stnp
    from safetensors import safe_open
except ImportError:  # the interop tests skip; everything else runs on the built-in reader/writer
    stnp = None

needs_safetensors = pytest.mark.skipif(stnp is None, reason="the safetensors package is not installed")
BACKENDS = ["builtin", pytest.param("safetensors", marks=needs_safetensors)]
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_,
          np.uint16, np.uint32, np.uint64]  # fmt: skip
SHAPES = [(), (0,), (3, 0), (5,), (2, 3), (2, 1, 3)]


def assert_same(a, b, where="state"):
    """Same structure, same types, arrays bit-exact (NaN payloads and -0.0 included)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, fg.Tensor):
        assert a.requires_grad == b.requires_grad, where
        a, b = a.numpy(), b.numpy()
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert type(k) is type(next(x for x in b if x == k)), f"{where}: key {k!r}"
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b and repr(a) == repr(b), where


def roundtrip(obj, tmp_path, backend="builtin"):
    path = tmp_path / "state.safetensors"
    fg.save(obj, path, backend=backend)
    assert [p.name for p in tmp_path.iterdir()] == ["state.safetensors"]  # no temp file left
    return fg.load(path)


# ----- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_and_shape_round_trips_bit_exactly(dtype, backend, tmp_path):
    rng = np.random.default_rng(0)
    state = {}
    for shape in SHAPES:
        raw = rng.integers(0, 256, size=(*shape, np.dtype(dtype).itemsize), dtype=np.uint8)
        arr = raw.view(dtype).reshape(shape) if dtype != np.bool_ else np.asarray(raw[..., 0] > 127)
        state[f"a{len(state)}"] = arr  # random bits: NaNs with payloads, subnormals, -0.0
        state[f"t{len(state)}"] = fg.from_numpy(arr.copy())
    state["transposed"] = (np.arange(12) % 3).astype(dtype).reshape(3, 4).T  # not C-contiguous
    state["scalar"] = np.dtype(dtype).type(1)
    back = roundtrip(state, tmp_path, backend)
    assert_same(state, back)
    assert back["transposed"].tolist() == state["transposed"].tolist()


def test_big_endian_input_comes_back_native_with_the_same_values(tmp_path):
    arr = np.arange(6, dtype=">f4").reshape(2, 3)
    back = roundtrip({"x": arr}, tmp_path)["x"]
    assert back.dtype == np.float32 and back.dtype.isnative and back.tolist() == arr.tolist()


@settings(max_examples=40, deadline=None)
@given(arr=hnp.arrays(hst.sampled_from(DTYPES), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
def test_random_arrays_round_trip(arr, tmp_path_factory):
    assert_same({"x": arr}, roundtrip({"x": arr}, tmp_path_factory.mktemp("h")))


def test_nested_structures_round_trip(tmp_path):
    shared = fg.randn(2, 2)
    state = {
        "epoch": 7,
        "lr": 1e-3,
        "odd": [float("nan"), float("inf"), float("-inf"), -0.0, 1e-310, 2**200, -(2**70)],
        "flags": [True, False, None, "", "grüße ✓", "$fg"],
        "betas": (0.9, (0.999, [1, 2])),
        "by_int": {0: {"step": 3, "exp_avg": np.zeros(3)}, 10: "ten", -1: None},
        "by_other": {1.5: "f", None: "n", True: "b", ("a", 1): "t", "s": "s"},
        "$fg": {"$fg": "tensor", "name": "not-a-reference"},  # the reserved word as plain data
        "__metadata__": np.ones(2),  # a tensor that would clash with safetensors' reserved name
        "a.b": np.zeros(1),
        "a": {"b": np.ones(1)},  # both would be the tensor 'a.b'
        "grad": fg.tensor([1.0, 2.0], requires_grad=True),
        "shared": [shared, shared],
        "scalars": [np.float32(0.1), np.int64(-5), np.bool_(True), np.uint8(255), np.float16(-0.0)],
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "rng": fg.get_rng_state(),
    }
    back = roundtrip(state, tmp_path)
    assert_same(state, back)
    assert back["shared"][0] is back["shared"][1]  # shared stays shared
    assert back["grad"].requires_grad and back["grad"].is_leaf


def test_a_bare_tensor_and_top_level_lists(tmp_path):
    assert_same(fg.arange(5), roundtrip(fg.arange(5), tmp_path))
    assert_same([1, np.zeros(2)], roundtrip([1, np.zeros(2)], tmp_path))
    assert roundtrip({}, tmp_path) == {} and roundtrip(None, tmp_path) is None


def test_module_state_dict_keys_are_the_tensor_names(tmp_path):
    net = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.BatchNorm1d(4))
    fg.save(net.state_dict(), tmp_path / "net.safetensors", backend="builtin")
    back = fg.load(tmp_path / "net.safetensors")
    assert list(back) == list(net.state_dict())
    fresh = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.BatchNorm1d(4))
    fresh.load_state_dict(back)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.state_dict().values(), net.state_dict().values()))


@pytest.mark.parametrize(
    "bad, what",
    [
        ({"x": np.zeros(2, np.complex64)}, "dtype complex64"),
        ({"x": np.array(["a"])}, "dtype <U1"),
        ({"x": {1, 2}}, "set is not"),
        ({"x": object()}, "object is not"),
        ({"k": {(1, frozenset()): 0}}, "dict key"),
        ({"x": 10**5000}, "cannot save"),
    ],
)
def test_unsupported_values_are_refused_before_anything_is_written(bad, what, tmp_path):
    with pytest.raises(fg.CheckpointError, match="bad.safetensors") as e:
        fg.save(bad, tmp_path / "bad.safetensors")
    assert what in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_cycle_is_refused(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(fg.CheckpointError, match="cycle"):
        fg.save(loop, tmp_path / "c.safetensors")


def test_save_overwrites_accepts_paths_and_respects_the_umask(tmp_path):
    path = tmp_path / "s.safetensors"
    fg.save({"v": 1}, str(path))
    fg.save({"v": 2}, path)
    assert fg.load(str(path)) == {"v": 2}
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(ValueError, match="backend"):
        fg.save({}, path, backend="pickle")


def test_import_flowgrad_does_not_load_io():
    code = "import sys, flowgrad as fg; assert 'flowgrad.io' not in sys.modules; fg.save; fg.load_checkpoint; fg.io"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- interop with the safetensors package ----------------------------------------------------
@needs_safetensors
def test_both_writers_lay_out_the_same_file(tmp_path):
    state = {"w": fg.randn(3, 2), "i": np.arange(4, dtype=np.int16), "m": np.array([True]), "cfg": {"k": (1, 2)}}
    fg.save(state, tmp_path / "a.safetensors", backend="builtin")
    fg.save(state, tmp_path / "b.safetensors", backend="safetensors")
    a, b = (tmp_path / "a.safetensors").read_bytes(), (tmp_path / "b.safetensors").read_bytes()
    n = int.from_bytes(a[:8], "little")
    # The package orders __metadata__'s keys as it likes; everything else is byte for byte equal.
    assert a[:8] == b[:8] and json.loads(a[8 : 8 + n]) == json.loads(b[8 : 8 + n]) and a[8 + n :] == b[8 + n :]


@needs_safetensors
def test_the_package_reads_flowgrad_files(tmp_path):
    state = {"layer": {"weight": fg.randn(3, 2), "mask": np.array([True, False])}, "epoch": 4}
    path = str(tmp_path / "m.safetensors")
    fg.save(state, path, backend="builtin")
    arrays = stnp.load_file(path)
    assert set(arrays) == {"layer.weight", "layer.mask"}
    assert arrays["layer.weight"].tobytes() == state["layer"]["weight"].numpy().tobytes()
    with safe_open(path, framework="numpy") as f:
        assert '"epoch":4' in f.metadata()["flowgrad"]


@needs_safetensors
def test_flowgrad_reads_files_of_the_package(tmp_path):
    arrays = {name: np.arange(6).reshape(2, 3).astype(d) for name, d in zip("abcdefghijk", DTYPES)}
    arrays["zero_d"], arrays["empty"] = np.array(2.5), np.zeros((0, 4), np.float32)
    path = str(tmp_path / "plain.safetensors")
    stnp.save_file(arrays, path, metadata={"format": "np"})
    back = fg.load(path)
    assert set(back) == set(arrays) and all(isinstance(v, fg.Tensor) for v in back.values())
    for name, arr in arrays.items():
        assert_same(fg.from_numpy(arr), back[name], name)


def test_plain_safetensors_files_load_without_the_package(tmp_path):
    from flowgrad.io import safetensors_format

    with open(tmp_path / "p.safetensors", "wb") as f:
        safetensors_format.write(f, {"w": np.ones((2, 2), np.float32)})
    back = fg.load(tmp_path / "p.safetensors")
    assert list(back) == ["w"] and back["w"].dtype == fg.float32 and back["w"].tolist() == [[1, 1], [1, 1]]


# ----- training checkpoints --------------------------------------------------------------------
def make_run(seed):
    fg.manual_seed(seed)
    net = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Dropout(0.2), fg.nn.Linear(8, 1))
    opt = fg.optim.Adam(net.parameters(), lr=1e-2, amsgrad=True)
    return net, opt


def train(net, opt, steps):
    losses = []
    for _ in range(steps):
        x = fg.randn(16, 4)
        loss = ((net(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("backend", BACKENDS)
def test_resuming_from_a_checkpoint_continues_identically(backend, tmp_path):
    net, opt = make_run(0)
    train(net, opt, 5)
    path = tmp_path / "ckpt.safetensors"
    fg.save_checkpoint(path, net, opt, epoch=5, backend=backend, best_loss=0.5, history=[1.0, 0.7])
    expected = train(net, opt, 5)  # the uninterrupted run (Dropout and data use the RNG)

    fresh_net, fresh_opt = make_run(123)  # other weights, other RNG state
    info = fg.load_checkpoint(path, model=fresh_net, optimizer=fresh_opt)
    assert info["epoch"] == 5 and info["best_loss"] == 0.5 and info["history"] == [1.0, 0.7]
    assert fresh_opt.state_dict()["param_groups"][0]["betas"] == (0.9, 0.999)
    assert train(fresh_net, fresh_opt, 5) == expected
    for a, b in zip(net.parameters(), fresh_net.parameters()):
        assert a.numpy().tobytes() == b.numpy().tobytes()


def test_restore_rng_false_leaves_the_generator_alone(tmp_path):
    fg.manual_seed(1)
    fg.save_checkpoint(tmp_path / "c.safetensors", epoch=0)
    fg.manual_seed(2)
    state = fg.get_rng_state()
    info = fg.load_checkpoint(tmp_path / "c.safetensors", restore_rng=False)
    assert fg.get_rng_state() == state and info["rng_state"] != state


def test_objects_with_a_state_dict_are_saved_and_restored_by_name(tmp_path):
    ema = fg.nn.Linear(2, 2)
    fg.save_checkpoint(tmp_path / "c.safetensors", epoch=1, ema=ema)
    other = fg.nn.Linear(2, 2)
    info = fg.load_checkpoint(tmp_path / "c.safetensors", ema=other)
    assert np.array_equal(other.weight.numpy(), ema.weight.numpy())
    assert set(info["ema"]) == {"weight", "bias"}
    with pytest.raises(ValueError, match="rng_state"):
        fg.save_checkpoint(tmp_path / "d.safetensors", rng_state=1)


def test_a_model_that_does_not_fit_restores_nothing(tmp_path):
    net, opt = make_run(0)
    train(net, opt, 2)
    fg.save_checkpoint(tmp_path / "c.safetensors", net, opt, epoch=2)
    small = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Dropout(0.2), fg.nn.Linear(8, 1))
    small_opt = fg.optim.Adam([small[0].weight])  # one parameter group of the wrong size
    before = [p.numpy().copy() for p in small.parameters()]
    rng = fg.get_rng_state()
    with pytest.raises(fg.CheckpointError, match=r"c\.safetensors: cannot restore optimizer"):
        fg.load_checkpoint(tmp_path / "c.safetensors", small, small_opt)
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, small.parameters()))
    assert fg.get_rng_state() == rng and not small_opt.state
    with pytest.raises(fg.CheckpointError, match="cannot restore model"):
        fg.load_checkpoint(tmp_path / "c.safetensors", fg.nn.Linear(4, 2))


def test_checkpoint_errors_name_the_file(tmp_path):
    fg.save_checkpoint(tmp_path / "no_opt.safetensors", fg.nn.Linear(1, 1), epoch=0)
    with pytest.raises(fg.CheckpointError, match="no_opt.safetensors: the checkpoint has no optimizer"):
        net = fg.nn.Linear(1, 1)
        fg.load_checkpoint(tmp_path / "no_opt.safetensors", net, fg.optim.SGD(net.parameters(), lr=0.1))
    fg.save({"epoch": 1}, tmp_path / "plain.safetensors")
    with pytest.raises(fg.CheckpointError, match="plain.safetensors: not a checkpoint"):
        fg.load_checkpoint(tmp_path / "plain.safetensors")
    with pytest.raises(fg.CheckpointError, match="missing.safetensors: no such file"):
        fg.load_checkpoint(tmp_path / "missing.safetensors")
    with pytest.raises(fg.CheckpointError, match="cannot open"):
        fg.load(tmp_path)
