"""fg.viz.record and GraphRecord: what a picture of a finished step needs, checked against the
values and gradients the same run computed, and the engine's own walk."""

import gc
import json
import weakref

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.core import mode, walks
from flowgrad.flow import Add, Input, Mul, Sigmoid, forward_and_backward, topological_sort


def xyz_step():
    x = fg.tensor(4.0, requires_grad=True)
    y = fg.tensor(5.0, requires_grad=True)
    z = fg.tensor(10.0, requires_grad=True)
    with fg.viz.record() as rec:
        f = x + y
        g = f * z
        g.backward()
    return rec, (x, y, z, f, g)


def test_values_and_gradients_of_the_classic_example():
    rec, (x, y, z, f, g) = xyz_step()
    for name, t in {"x": x, "y": y, "z": z}.items():
        node = rec.node(name)
        assert node.kind == "leaf" and node.op == "leaf" and node.requires_grad
        assert np.array_equal(node.value, t.numpy()) and np.array_equal(node.grad, t.grad.numpy())
    assert float(rec.node("x").value) == 4.0 and float(rec.node("x").grad) == 10.0
    assert float(rec.node("z").grad) == 9.0
    assert rec.node("f").op == "add" and float(rec.node("f").value) == 9.0 and float(rec.node("f").grad) == 10.0
    assert rec.node("g").op == "mul" and float(rec.node("g").grad) == 1.0
    assert np.array_equal(rec.node("g").value, g.numpy())
    assert len(rec.nodes) == 5 and len(rec.edges()) == 4
    assert rec.outputs == [rec.node("g").id]
    assert rec.node(f) is rec.node("f")  # by the tensor itself, while it lives
    assert rec.node("f").source.code == "f = x + y" and rec.node("f").source.file == __file__
    assert rec.node("x").source is None  # made before recording


def test_forward_order_puts_inputs_first_and_keeps_argument_order():
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([3.0, 5.0], requires_grad=True)
    with fg.viz.record() as rec:
        d = b - a
        s = (d * d).sum()
        s.backward()
    index = {nid: i for i, nid in enumerate(rec.nodes)}
    for src, dst, _ in rec.edges():
        assert index[src] < index[dst]
    assert rec.node("d").op == "sub" and rec.node("d").inputs == [rec.node("b").id, rec.node("a").id]
    square = rec.nodes[rec.node("s").inputs[0]]
    assert square.op == "mul" and square.inputs == [rec.node("d").id] * 2  # x * x lists x twice
    assert rec.node("s").op == "sum"


def test_constants_are_nodes():
    x = fg.tensor(3.0, requires_grad=True)
    c = fg.tensor([1.0, 1.0])  # data: no grad
    with fg.viz.record() as rec:
        loss = ((x - 1.0) ** 2 + c).sum()
        loss.backward()
    constants = [n for n in rec.nodes.values() if n.kind == "constant"]
    assert sorted(float(n.value.sum()) for n in constants) == [1.0, 2.0, 2.0]  # 1.0, the power 2 and c
    sub = next(n for n in rec.nodes.values() if n.op == "sub")
    assert len(sub.inputs) == 2 and rec.nodes[sub.inputs[1]].kind == "constant"  # two arrows into "-"
    assert rec.node("c").kind == "constant" and rec.node("c").grad is None
    assert float(rec.node("x").grad) == float(x.grad)


def test_fan_out_contributions_add_up_to_the_gradient():
    x = fg.tensor([3.0, -2.0], requires_grad=True)
    with fg.viz.record() as rec:
        y = (x * x + fg.sin(x)).sum()
        y.backward()
    node = rec.node("x")
    parts = rec.contributions_to(node.id)
    assert len(parts) == 3  # x * x twice, sin once
    total = np.sum([p.value for p in parts], axis=0)
    np.testing.assert_allclose(total, x.grad.numpy(), rtol=1e-6)  # float32 sums in another order
    assert np.array_equal(node.grad, x.grad.numpy())
    for step in rec.backward_order:
        for c in step.contributions:
            assert c.output == step.node and rec.nodes[c.output].inputs[c.position] == c.input
            assert c.value.shape == rec.nodes[c.input].shape


def test_local_derivative_times_upstream_is_the_contribution():
    x = fg.tensor(0.5, dtype=fg.float64, requires_grad=True)
    with fg.viz.record() as rec:
        s = fg.sigmoid(x * 3.0)
        s.backward()
    step = next(st for st in rec.backward_order if rec.nodes[st.node].op == "sigmoid")
    (c,) = step.contributions
    sig = 1 / (1 + np.exp(-1.5))
    np.testing.assert_allclose(c.local, sig * (1 - sig), rtol=1e-12)  # float64: the rule's rounding only
    np.testing.assert_allclose(c.value, c.upstream * c.local, rtol=1e-12)
    # A many-valued output has no cheap local derivative: None, never a guess.
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    with fg.viz.record() as rec2:
        (w * 2.0).sum().backward()
    mul = next(st for st in rec2.backward_order if rec2.nodes[st.node].op == "mul")
    assert all(c.local is None for c in mul.contributions)


def test_backward_order_is_the_engines(monkeypatch):
    # The engine itself reports each contribution under anomaly mode (check_finite): log its order.
    seen = []
    real = walks.check_finite

    def spy(op, value, phase, node):
        seen.append((op.name, np.array(value, copy=True)))
        return real(op, value, phase, node)

    monkeypatch.setattr(walks, "check_finite", spy)
    w = fg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    xs = fg.tensor([[1.0, 2.0]])
    with fg.detect_anomaly():
        with fg.viz.record() as rec:
            h = fg.tanh(xs @ w)
            loss = (h * h).mean() + h.sum()
            loss.backward()
    recorded = [(rec.nodes[c.output].op, c.value) for step in rec.backward_order for c in step.contributions]
    assert [name for name, _ in recorded] == [name for name, _ in seen]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(recorded, seen))
    assert rec.backward_order[0].node == rec.node("loss").id and rec.backward_order[-1].node in {
        rec.node("w").id,
        rec.node("xs").id,
    }


def test_recording_gives_the_same_gradients():
    def step():
        w = fg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        loss = (fg.relu(w @ fg.ones(3, 2)) ** 2).mean()
        return w, loss

    w0, loss0 = step()
    loss0.backward()
    with fg.viz.record() as rec:
        w1, loss1 = step()
        loss1.backward()
    np.testing.assert_allclose(w1.grad.numpy(), w0.grad.numpy(), rtol=1e-6)  # another walk, float32
    assert np.array_equal(rec.node(w1).grad, w1.grad.numpy())


def test_nothing_is_kept_alive():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    with fg.viz.record() as rec:
        h = fg.exp(x) * 2.0
        loss = h.sum()
        loss.backward()
    assert float(h.sum().numpy()) == float(loss.numpy())  # the code's variables are untouched
    refs = [weakref.ref(h), weakref.ref(loss)]
    del h, loss
    gc.collect()
    assert all(r() is None for r in refs)
    assert len(rec.nodes) == 5 and rec.node("h").op == "mul"  # names were taken at the end of the block
    assert rec.node("loss").value.shape == ()
    with pytest.raises(fg.ArgumentError, match="not recorded"):
        rec.node(fg.tensor(1.0))


def test_no_recorder_no_records_and_no_calls(monkeypatch):
    class Exploding:
        def __getattr__(self, name):
            raise AssertionError(f"the recorder was called ({name}) while not recording")

    assert mode.RECORDING == 0 and mode.state.recorder is None
    monkeypatch.setattr(mode.state, "recorder", Exploding())
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (fg.sigmoid(x) * x).sum().backward()  # RECORDING == 0: the counter alone gates every hook
    assert x.grad is not None


def test_a_finished_recorder_records_nothing_more():
    x = fg.tensor(1.0, requires_grad=True)
    with fg.viz.record() as rec:
        y = x * 2.0
    count = len(rec.nodes)
    (y * 3.0).backward()
    assert len(rec.nodes) == count and rec.backward_order == []
    assert mode.RECORDING == 0 and mode.state.recorder is None


def test_names_from_a_mapping_and_from_locals():
    net = fg.nn.Linear(2, 1)
    X = fg.tensor([[1.0, 2.0]])
    with fg.viz.record(names=dict(net.named_parameters())) as rec:
        out = net(X).sum()
        out.backward()
    assert rec.node("weight").kind == "leaf" and rec.node("bias").kind == "leaf"
    np.testing.assert_array_equal(rec.node("weight").grad, net.weight.grad.numpy())
    assert rec.node("X").kind == "constant" and rec.node("out").op == "sum"
    with fg.viz.record(local_names=False) as quiet:
        (X * 2.0).sum()
    assert quiet.names() == []
    with pytest.raises(fg.ArgumentError, match="known names"):
        rec.node("nope")


def test_nested_recorders_and_reuse():
    x = fg.tensor(2.0, requires_grad=True)
    outer = fg.viz.record()
    with outer as rec_out:
        a = x * 3.0
        with fg.viz.record() as rec_in:
            b = a + 1.0
        c = b * b
    assert [n.op for n in rec_in.nodes.values() if n.kind == "op"] == ["add"]
    assert [n.op for n in rec_out.nodes.values() if n.kind == "op"] == ["mul", "mul"]
    assert float(c.numpy()) == 49.0
    with pytest.raises(fg.FlowgradError, match="already recording"):
        with outer:
            with outer:
                pass


def test_create_graph_and_autograd_grad_are_recorded():
    x = fg.tensor(3.0, dtype=fg.float64, requires_grad=True)
    with fg.viz.record() as rec:
        y = x**3
        (gx,) = fg.autograd.grad(y, x, create_graph=True)
    assert float(gx.numpy()) == pytest.approx(27.0, rel=1e-12)  # 3 x^2
    assert rec.backward_order and rec.backward_order[0].node == rec.node("y").id
    assert float(rec.node("x").grad) == pytest.approx(27.0, rel=1e-12)


def test_two_backward_passes_are_numbered_and_summed():
    w = fg.tensor(1.5, requires_grad=True)
    with fg.viz.record() as rec:
        for _ in range(2):
            (w * w).backward()
    assert {s.backward_pass for s in rec.backward_order} == {0, 1}
    assert float(rec.node("w").grad) == float(w.grad) == 6.0


def test_from_tensor_before_and_after_backward():
    w = fg.tensor([1.0, -2.0], requires_grad=True)
    loss = (w * 3.0).sum()
    before = fg.viz.GraphRecord.from_tensor(loss, names={"w": w})
    assert [n.op for n in before.nodes.values()] == ["leaf", "constant", "mul", "sum"]
    assert before.backward_order == [] and before.node("w").grad is None
    loss.backward()
    after = fg.viz.GraphRecord.from_tensor(loss, names={"w": w})
    assert "inputs" in after.nodes[after.outputs[0]].params  # freed by backward: said so
    again = fg.viz.GraphRecord.from_tensor([(w * 2.0).sum()], names={"w": w})
    np.testing.assert_array_equal(again.node("w").grad, w.grad.numpy())
    with pytest.raises(fg.DTypeError, match="not a flowgrad Tensor"):
        fg.viz.GraphRecord.from_tensor(np.ones(2))


def test_from_flow_graph():
    x, y, z = Input("x"), Input("y"), Input("z")
    f = Add(x, y, name="f")
    g = Mul(f, z, name="g")
    s = Sigmoid(Add(g, x, name="h"), name="s")  # x fans out
    graph = topological_sort({x: 0.4, y: 0.5, z: -1.0})
    forward_and_backward(graph)
    rec = fg.viz.GraphRecord.from_flow(graph)
    assert rec.origin == "flow" and len(rec.nodes) == len(graph) and rec.outputs == [rec.node("s").id]
    for node in graph:
        r = rec.node(node.name)
        assert np.array_equal(r.value, np.asarray(node.value))
        assert np.array_equal(r.grad, np.asarray(node.gradients[node]))
        assert r.kind == ("leaf" if isinstance(node, Input) else "op")
    assert [rec.nodes[st.node].name for st in rec.backward_order] == [n.name for n in reversed(graph)]
    parts = rec.contributions_to(rec.node("x").id)
    assert len(parts) == 2
    np.testing.assert_allclose(sum(p.value for p in parts), x.gradients[x], rtol=1e-12)  # float64 sums
    assert rec.node("g").op == "Mul" and rec.node("g").inputs == [rec.node("f").id, rec.node("z").id]
    from_output = fg.viz.GraphRecord.from_flow(s)
    assert sorted(n.name for n in from_output.nodes.values()) == sorted(n.name for n in graph)


def test_to_dict_is_json():
    rec, _ = xyz_step()
    data = json.loads(json.dumps(rec.to_dict()))
    assert len(data["nodes"]) == 5 and data["nodes"][0]["value"] == 4.0
    assert data["backward_order"][0]["contributions"][0]["upstream"] == 1.0
    f = next(n for n in data["nodes"] if n["name"] == "f")
    assert f["source"]["code"] == "f = x + y" and f["shape"] == []


def test_only_what_the_loss_needs_is_kept_unless_asked():
    w = fg.tensor([0.5, -1.0], requires_grad=True)
    labels = fg.tensor([1, 0])
    everything = ["mul", "sum", "reshape", "argmax", "eq", "astype", "mean", "mul"]  # the last: 0.1 * w.grad
    for prune, expected in ((True, ["mul", "sum"]), (False, everything)):
        with fg.viz.record(prune=prune) as rec:
            scores = w * 2.0
            loss = scores.sum()
            accuracy = (fg.argmax(scores.reshape(1, 2), 1) == labels).float().mean()  # noqa: F841
            loss.backward()
            with fg.no_grad():
                w -= 0.1 * w.grad
        ops = [n.op for n in rec.nodes.values() if n.kind == "op"]
        assert ops == expected
        assert rec.node("loss").id in rec.outputs


def test_a_recorder_entered_again_adds_to_its_record():
    x = fg.tensor(2.0, requires_grad=True)
    recorder = fg.viz.record()
    with recorder as rec:
        (x * 3.0).backward()
    with recorder:
        (x + 1.0).backward()
    assert len(set(rec.nodes)) == len(rec.nodes) == 5  # x once, two constants, two ops
    assert float(rec.node("x").grad) == float(x.grad) == 4.0
