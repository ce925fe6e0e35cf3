"""Whole models in a file without pickle: fg.save(model) stores the class's import path, the
constructor's arguments, plain attributes and the state; fg.load rebuilds it from classes the
program has imported, and refuses what cannot be rebuilt exactly, at save time."""

import io
import json

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn
from flowgrad.io import checkpoint as ck
from flowgrad.io import safetensors_format as st
from flowgrad.io import state_tree


class Classifier(nn.Module):
    def __init__(self, n_in: int, hidden: int = 8, *, classes: int = 3, dropout: float = 0.1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden, classes)
        self.labels = [f"c{i}" for i in range(classes)]

    def forward(self, x):
        return self.head(self.body(x))


class TiedLM(nn.Module):
    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.out = nn.Linear(dim, vocab, bias=False)
        self.out.weight = self.embed.weight  # weight tying

    def forward(self, ids):
        return self.out(self.embed(ids))


class WithFunction(nn.Module):
    def __init__(self, act=None) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.act = fg.tanh if act is None else act

    def forward(self, x):
        return self.act(self.lin(x))


def roundtrip(obj, tmp_path):
    path = tmp_path / "model.pt"
    fg.save(obj, path)
    return fg.load(path, weights_only=False)


def test_a_sequential_comes_back_whole_and_the_rng_stream_does_not_move(tmp_path):
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fg.manual_seed(5)
    expected = fg.randn(3)
    fg.manual_seed(5)
    back = roundtrip(net, tmp_path)  # rebuilding draws initial weights, then puts the stream back
    np.testing.assert_array_equal(fg.randn(3).numpy(), expected.numpy())
    assert type(back) is nn.Sequential and len(back) == 3 and back is not net
    x = fg.randn(5, 3)
    np.testing.assert_array_equal(back(x).numpy(), net(x).numpy())
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_user_classes_with_keywords_changes_modes_and_dtypes(tmp_path):
    net = Classifier(4, hidden=6, classes=5, dropout=0.25)
    net.head = nn.Linear(6, 2)  # the transfer-learning move: a new head after construction
    net.labels = ["cat", "dog"]
    net.body[0].weight.requires_grad_(False)  # a frozen layer
    net.double().eval()
    back = roundtrip(net, tmp_path)
    assert isinstance(back, Classifier) and back.head.out_features == 2 and back.labels == ["cat", "dog"]
    assert not back.training and not back.body[2].training and back.body[2].p == 0.25
    assert not back.body[0].weight.requires_grad and back.head.weight.requires_grad
    assert back.head.weight.dtype == fg.float64
    x = fg.randn(3, 4, dtype=fg.float64)
    np.testing.assert_array_equal(back(x).numpy(), net(x).numpy())


def test_tied_weights_stay_tied(tmp_path):
    lm = TiedLM(7, 3)
    back = roundtrip({"model": lm, "step": 12}, tmp_path)
    model = back["model"]
    assert back["step"] == 12 and model.out.weight is model.embed.weight
    ids = fg.tensor([[1, 2, 6]])
    np.testing.assert_array_equal(model(ids).numpy(), lm(ids).numpy())


def test_what_cannot_be_rebuilt_is_refused_when_saving(tmp_path):
    path = tmp_path / "m.pt"
    with pytest.raises(fg.CheckpointError, match=r"act = a function.*state_dict\(\)"):
        fg.save(WithFunction(act=fg.sigmoid), path)
    changed = WithFunction()
    changed.act = fg.sigmoid  # the constructor makes tanh: a rebuilt model would differ
    with pytest.raises(fg.CheckpointError, match="attribute 'act'.*changed after construction"):
        fg.save(changed, path)
    grown = nn.Linear(2, 2)
    grown.scale = nn.Parameter(fg.ones(2))  # a parameter the constructor does not make
    with pytest.raises(fg.CheckpointError, match="cannot save the whole model.*unexpected keys: scale"):
        fg.save(grown, path)

    class Local(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(fg.CheckpointError, match="inside a function"):
        fg.save(Local(), path)
    assert not path.exists()  # nothing written by a refused save
    fg.save(WithFunction(), path)  # the default function is what its constructor makes
    assert fg.load(path).act is fg.tanh


def _file_with(tree, arrays=None) -> io.BytesIO:
    """A well-formed flowgrad file whose JSON tree is ``tree`` (checksums made to match)."""
    arrays = arrays or {}
    meta = {"version": ck.FORMAT_VERSION, "tree": tree, "sha256": {n: state_tree.sha256(a) for n, a in arrays.items()}}
    metadata = {ck.META_KEY: json.dumps(meta)}
    metadata[ck.DIGEST_KEY] = ck._header_digest(metadata, arrays)
    f = io.BytesIO()
    st.write(f, arrays, metadata)
    f.seek(0)
    return f


def _module_tree(cls_path, args=(), children=None):
    return {
        "$fg": "module", "class": cls_path, "args": list(args), "kwargs": {}, "attrs": {},
        "children": children or {}, "frozen": [], "state": None, "tied": [],
    }  # fmt: skip


def test_a_file_names_no_code_but_imported_module_classes(monkeypatch):
    called = []
    monkeypatch.setattr("os.system", lambda *a: called.append(a))
    with pytest.raises(fg.CheckpointError, match="not an nn.Module subclass"):
        fg.load(_file_with(_module_tree("os:system", ["echo hi"])))
    with pytest.raises(fg.CheckpointError, match="not an nn.Module subclass"):
        fg.load(_file_with(_module_tree("builtins:object")))
    with pytest.raises(fg.CheckpointError, match="has not imported"):
        fg.load(_file_with(_module_tree("antigravity:Fly")))  # never imported because a file says so
    import sys

    assert "antigravity" not in sys.modules and not called
    with pytest.raises(fg.CheckpointError, match="malformed"):
        fg.load(_file_with({**_module_tree("flowgrad.nn.layers:Linear", [2, 2]), "args": "2, 2"}))
    with pytest.raises(fg.CheckpointError, match="rebuilding Linear"):
        fg.load(_file_with(_module_tree("flowgrad.nn.layers:Linear", ["two", 2])))


def test_every_class_the_file_names_is_a_module(tmp_path):
    path = tmp_path / "c.pt"
    fg.save(Classifier(3), path)
    _, metadata = st.read(str(path))
    names = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("$fg") == "module":
                names.append(node["class"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(metadata[ck.META_KEY])["tree"])
    assert set(names) == {
        "tests.test_whole_model:Classifier", "flowgrad.nn.module:Sequential", "flowgrad.nn.layers:Linear",
        "flowgrad.nn.layers:ReLU", "flowgrad.nn.layers:Dropout",
    }  # fmt: skip


def test_replacing_a_child_keeps_its_place_as_in_pytorch():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    seq[-1] = nn.Linear(3, 5)
    setattr(seq, "1", nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"] and seq(fg.ones(1, 2)).shape == (1, 5)
    assert type(seq.get_submodule("1")).__name__ == "Tanh"
    with pytest.raises(AttributeError, match="no submodule"):
        seq.get_submodule("7")


def test_torch_programs_save_and_load_whole_models_the_same_way(tmp_path):
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (fg, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(model, path)
        back = lib.load(path, weights_only=False)
        back.eval()
        x = lib.ones(2, 4)
        results[lib.__name__] = (type(back).__name__, back(x).shape, bool((back(x) == model(x)).all()))
    assert results["flowgrad"] == ("Sequential", (2, 2), True)
    assert results["torch"][0] == "Sequential" and tuple(results["torch"][1]) == (2, 2) and results["torch"][2]
