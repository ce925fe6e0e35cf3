"""Checkpoints under stress: SIGKILL while saving, failed writes, and truncated, corrupted or hostile files.

Every damaged file must be an fg.CheckpointError that names the file: never garbage weights,
never another exception. `FLOWGRAD_CRASH_RUNS=200 pytest tests/test_checkpoint_crash.py` kills
the saving process more times than the default.
"""

import hashlib
import json
import os
import pickle
import re
import signal
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import flowgrad as fg

from .hostile import harness

CRASH_RUNS = int(os.environ.get("FLOWGRAD_CRASH_RUNS", "50"))
ROOT = Path(__file__).resolve().parent.parent
try:
    import safetensors  # noqa: F401

    BACKENDS = ["builtin", "safetensors"]
except ImportError:
    BACKENDS = ["builtin"]
NAMES = {"float32": "F32", "float64": "F64", "int8": "I8", "int64": "I64", "bool": "BOOL"}


def small_state():
    return {"w": fg.tensor([1.0, -2.0]), "step": 3, "mask": np.array([True, False]), "ids": np.arange(3, dtype=np.int8)}


def refused(path, fragment="", **kwargs):
    """fg.load(path) raises a CheckpointError that names the file (and says `fragment`)."""
    with pytest.raises(fg.CheckpointError, match=re.escape(str(path))) as e:
        fg.load(path, **kwargs)
    assert fragment in str(e.value), str(e.value)
    return str(e.value)


def craft(path, header, data=b""):
    """Write a safetensors file by hand: header is a dict (as JSON) or raw bytes."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def craft_flowgrad(path, tree, tensors, *, sums=None, version=1, extra_meta=None):
    """A flowgrad file with valid checksums, built from the format described in docs/checkpoints.md."""
    sums = {n: hashlib.sha256(a.tobytes()).hexdigest() for n, a in tensors.items()} if sums is None else sums
    metadata = {"flowgrad": json.dumps({"version": version, "tree": tree, "sha256": sums}), **(extra_meta or {})}
    canonical = {"metadata": metadata, "tensors": {n: [NAMES[a.dtype.name], list(a.shape)] for n, a in tensors.items()}}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    metadata["flowgrad.sha256"] = hashlib.sha256(text.encode()).hexdigest()
    header, offset = {"__metadata__": metadata}, 0
    for n, a in tensors.items():
        header[n] = {"dtype": NAMES[a.dtype.name], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    return craft(path, header, b"".join(a.tobytes() for a in tensors.values()))


# ----- truncation and bit flips ----------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_at_every_length_is_refused(backend, tmp_path):
    fg.save(small_state(), tmp_path / "full.safetensors", backend=backend)
    data = (tmp_path / "full.safetensors").read_bytes()
    path = tmp_path / "cut.safetensors"
    for n in range(len(data)):
        path.write_bytes(data[:n])
        refused(path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_single_bit_flip_is_detected(backend, tmp_path):
    fg.save(small_state(), tmp_path / "good.safetensors", backend=backend)
    data = bytearray((tmp_path / "good.safetensors").read_bytes())
    path = tmp_path / "flipped.safetensors"
    # Every bit of the header, the metadata and the tensor data; the package lays out the same
    # bytes (see test_checkpoint.py), so one bit per byte is enough to check its file too.
    for i in range(len(data)):
        for bit in range(8) if backend == "builtin" else [i % 8]:
            data[i] ^= 1 << bit
            path.write_bytes(data)
            refused(path)
            data[i] ^= 1 << bit
    assert fg.load(tmp_path / "good.safetensors")["step"] == 3


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=hst.integers(0, 10**6), junk=hst.binary(min_size=1, max_size=16), checksummed=hst.booleans())
def test_random_damage_is_a_checkpoint_error_or_a_clean_load(at, junk, checksummed, tmp_path):
    path = tmp_path / "fuzz.safetensors"
    if checksummed:
        fg.save(small_state(), path, backend="builtin")
    else:
        craft(path, {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, np.ones(2, np.float32).tobytes())
    data = bytearray(path.read_bytes())
    at %= len(data)
    damaged = data[:at] + junk + data[at + len(junk) :]
    path.write_bytes(damaged)
    if checksummed and damaged != data:
        refused(path)
    else:  # without checksums a change in the data is undetectable, but never another exception
        try:
            fg.load(path)
        except fg.CheckpointError as e:
            assert str(path) in str(e)


def test_a_data_flip_without_verify_loads_the_damage(tmp_path):
    path = tmp_path / "s.safetensors"
    fg.save({"w": np.zeros(4)}, path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x40
    path.write_bytes(data)
    assert "SHA-256 mismatch" in refused(path)
    assert fg.load(path, verify=False)["w"][-1] == 2.0


# ----- hostile headers -------------------------------------------------------------------------
F32 = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
HEADERS = {
    "huge length": (b"\xff" * 8 + b"{}", None, "header claims"),
    "length past the end": (struct.pack("<Q", 100) + b"{}", None, "header claims"),
    "not an object": ({"x": 1}, b"", "expected exactly"),
    "does not start with {": (b"[1,2]   ", b"", "does not start"),
    "negative offset": ({"x": {**F32, "data_offsets": [-4, 0]}}, b"\0" * 4, "negative"),
    "reversed offsets": ({"x": {**F32, "data_offsets": [4, 0]}}, b"\0" * 4, "negative or reversed"),
    "offset past the end": ({"x": {**F32, "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "truncated"),
    "size != shape": ({"x": {**F32, "shape": [2]}}, b"\0" * 4, "needs 8"),
    "huge shape": ({"x": {**F32, "shape": [2**40, 2**40], "data_offsets": [0, 2**82]}}, b"", "truncated"),
    "overlap": ({"a": {**F32, "shape": [2], "data_offsets": [0, 8]}, "b": {**F32, "data_offsets": [4, 8]}}, b"\0" * 8,
                "overlaps"),
    "hole": ({"a": F32, "b": {**F32, "data_offsets": [8, 12]}}, b"\0" * 12, "hole"),
    "trailing bytes": ({"a": F32}, b"\0" * 8, "unexpected bytes"),
    "huge empty shape": ({"x": {**F32, "shape": [0, 2**63], "data_offsets": [0, 0]}}, b"", "too large"),
    "unknown dtype": ({"x": {**F32, "dtype": "BF16", "data_offsets": [0, 2]}}, b"\0" * 2, "unknown dtype"),
    "dtype not a string": ({"x": {**F32, "dtype": 4}}, b"\0" * 4, "unknown dtype"),
    "negative dim": ({"x": {**F32, "shape": [-1]}}, b"\0" * 4, "shape"),
    "float dim": ({"x": {**F32, "shape": [1.0]}}, b"\0" * 4, "shape"),
    "bool dim": ({"x": {**F32, "shape": [True]}}, b"\0" * 4, "shape"),
    "65 dims": ({"x": {**F32, "shape": [1] * 65}}, b"\0" * 4, "shape"),
    "one offset": ({"x": {**F32, "data_offsets": [4]}}, b"\0" * 4, "pair of integers"),
    "string offsets": ({"x": {**F32, "data_offsets": ["0", "4"]}}, b"\0" * 4, "pair of integers"),
    "missing key": ({"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "expected exactly"),
    "extra key": ({"x": {**F32, "pickle": True}}, b"\0" * 4, "expected exactly"),
    "metadata not strings": ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    "duplicate names": (b'{"x":' + json.dumps(F32).encode() + b',"x":' + json.dumps(F32).encode() + b"}", b"\0" * 4,
                        "duplicate name 'x'"),
    "duplicate metadata": (b'{"__metadata__":{"k":"a","k":"b"}}', b"", "duplicate name 'k'"),
    "non-UTF-8 metadata": (b'{"__metadata__":{"k":"\xff\xfe"}}', b"", "UTF-8"),
    "invalid JSON": (b'{"x":{"dtype":', b"", "not valid JSON"),
    "NaN": (b'{"__metadata__":{"k":NaN}}', b"", "not valid JSON"),
    "deep nesting": (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"", "header"),
    "BOOL byte 2": ({"x": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}}, b"\x02", "BOOL"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HEADERS))
def test_hostile_headers_are_refused(case, tmp_path):
    header, data, fragment = HEADERS[case]
    path = tmp_path / "hostile.safetensors"
    if data is None:
        path.write_bytes(header)
    else:
        craft(path, header, data)
    refused(path, fragment)


TREES = {
    "newer version": ({"$fg": "ndarray", "name": "x"}, {"version": 2}, "format version 2"),
    "missing tensor": ({"$fg": "ndarray", "name": "y"}, {}, "missing tensor"),
    "unreferenced tensor": ({"a": 1}, {}, "not referenced"),
    "unknown tag": ({"$fg": "pickle", "name": "x"}, {}, "unknown or malformed"),
    "bad tuple": ({"$fg": "tuple", "items": 3}, {}, "unknown or malformed"),
    "bad dict item": ({"$fg": "dict", "items": [[1]]}, {}, "[key, value]"),
    "list key": ({"$fg": "dict", "items": [[[1], 2]]}, {}, "dict key"),
    "tuple key holding a list": ({"$fg": "dict", "items": [[{"$fg": "tuple", "items": [[1]]}, 2]]}, {}, "dict key"),
    "grad on ints": ({"$fg": "tensor", "name": "i", "requires_grad": True}, {}, "requires_grad"),
    "grad on an array": ({"$fg": "ndarray", "name": "x", "requires_grad": True}, {}, "requires_grad"),
    "deep tree": (json.loads("[" * 500 + "]" * 500), {}, "nested"),
    "incomplete sums": ({"$fg": "ndarray", "name": "x"}, {"sums": {}}, "checksums"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TREES))
def test_malformed_flowgrad_metadata_is_refused(case, tmp_path):
    tree, options, fragment = TREES[case]
    tensors = {"i": np.arange(2)} if case == "grad on ints" else {"x": np.ones(2, np.float32)}
    path = craft_flowgrad(tmp_path / "meta.safetensors", tree, tensors, **options)
    refused(path, fragment)


def test_the_hand_made_file_is_valid(tmp_path):
    path = craft_flowgrad(tmp_path / "ok.safetensors", {"w": {"$fg": "ndarray", "name": "x"}}, {"x": np.ones(2)})
    assert fg.load(path)["w"].tolist() == [1.0, 1.0]


def test_a_changed_header_or_a_lost_checksum_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    fg.save({"lr": 0.001}, path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"0.001", b"0.003"))  # a believable value, caught by the digest
    refused(path, "header checksum mismatch")
    craft(path, {"__metadata__": {"flowgrad.sha256": "0" * 64}})
    refused(path, "incomplete")


# ----- pickles and other formats ---------------------------------------------------------------
class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickles_are_refused_and_never_run(protocol, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"  # pickle bytes renamed to look harmless
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0], "x": _Exploit(marker)}, protocol=protocol))
    message = refused(path, "pickle")
    assert "never unpickles" in message and not marker.exists()


def test_torch_save_files_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "new.pt")
    assert "torch.save" in refused(tmp_path / "new.pt", "pickle")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    refused(tmp_path / "old.pt", "pickle")


def test_other_files_are_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    refused(tmp_path / "a.npy", ".npy")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    refused(tmp_path / "empty.safetensors", "truncated")
    (tmp_path / "text.safetensors").write_text("hello, this is not a checkpoint\n")
    refused(tmp_path / "text.safetensors")


# ----- atomic writes ---------------------------------------------------------------------------
def versions():
    """Two states of ~1 MB that differ in every tensor and every number."""
    return [
        {"epoch": v, "w": np.full(1 << 17, v + 0.5), "layer": {"b": fg.full((999,), v, dtype=fg.int32)}, "tag": "v" * v}
        for v in (1, 2)
    ]


def check_is_a_version(path, states):
    state = fg.load(path)
    expected = states[state["epoch"] - 1]
    assert state["tag"] == expected["tag"]
    assert np.array_equal(state["w"], expected["w"]) and np.array_equal(state["layer"]["b"], expected["layer"]["b"])
    return state["epoch"]


def saves_forever(path, states, backend):
    try:
        i = 1
        while True:
            fg.save(states[i % 2], path, backend=backend)
            i += 1
    finally:
        os._exit(1)  # never run the rest of pytest in the child


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")
def test_sigkill_while_saving_leaves_the_old_or_the_new_file(tmp_path):
    states, path = versions(), tmp_path / "ckpt.safetensors"
    start = time.perf_counter()
    fg.save(states[0], path)
    save_time = time.perf_counter() - start
    rng = np.random.default_rng(int(time.time()))
    seen, torn = set(), 0
    for run in range(CRASH_RUNS):
        pid = os.fork()
        if pid == 0:
            saves_forever(path, states, BACKENDS[run % len(BACKENDS)])
        time.sleep(rng.uniform(0, 3 * save_time + 0.002))  # lands anywhere in a save
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"the child failed: {status}"
        seen.add(check_is_a_version(path, states))
        leftovers = [p for p in tmp_path.iterdir() if p != path]  # a temp file: killed mid-write
        torn += bool(leftovers)
        for p in leftovers:
            p.unlink()
    harness.CRASH_FIGURES["kills"] += CRASH_RUNS  # printed with the hostile-input figures
    harness.CRASH_FIGURES["mid_write"] += torn
    if CRASH_RUNS >= 20:  # evidence that the kills landed both mid-write and between saves
        assert torn > 0 and seen == {1, 2}, (torn, seen)


CHILD = """
import sys, numpy as np, flowgrad as fg
states = [{"epoch": v, "w": np.full(1 << 17, v + 0.5), "layer": {"b": fg.full((999,), v, dtype=fg.int32)}, "tag": "v" * v}
          for v in (1, 2)]
print("ready", flush=True)
i = 1
while True:
    fg.save(states[i % 2], sys.argv[1])
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_of_a_fresh_interpreter_while_saving(tmp_path):
    states, path = versions(), tmp_path / "ckpt.safetensors"
    fg.save(states[0], path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.0, 0.005, 0.02):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        check_is_a_version(path, states)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(backend, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    fg.save({"v": 1, "w": np.zeros(3)}, path)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        fg.save({"v": 2, "w": np.ones(3)}, path, backend=backend)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"] and fg.load(path)["v"] == 1


def test_an_interrupt_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    from flowgrad.io import safetensors_format

    path = tmp_path / "ckpt.safetensors"
    fg.save({"v": 1}, path)

    def half_then_interrupt(f, tensors, metadata=None):
        f.write(b"\0" * 100)
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors_format, "write", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        fg.save({"v": 2}, path, backend="builtin")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"] and fg.load(path)["v"] == 1


def test_the_file_and_its_folder_are_synced(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd).st_mode) or real(fd))
    fg.save({"v": 1}, tmp_path / "s.safetensors")
    assert [stat.S_ISREG(m) for m in synced] == [True, False]  # the file, then the folder
