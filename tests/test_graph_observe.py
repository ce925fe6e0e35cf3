"""fg.autograd.graph: the public hook fg.viz.record and fg.onnx.export observe ops and backward with."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.core import mode


class Log(fg.autograd.graph.Observer):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_op(self, name, inputs, params, output):
        self.events.append(("op", name, output.shape))

    def on_inplace(self, what, target):
        self.events.append(("inplace", what, target is not None))

    def on_read(self, what):
        self.events.append(("read", what))

    def on_backward_start(self, roots, seeds):
        self.events.append(("backward", len(roots)))

    def on_visit(self, tensor, grad):
        self.events.append(("visit", tensor.shape))

    def on_contribution(self, output, node, i, grad, input_grad):
        self.events.append(("edge", node.name(), i, np.asarray(input_grad).shape))


def test_ops_reads_inplace_and_backward_reach_the_observer_in_order():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    log = Log()
    with fg.autograd.graph.observe(log) as same:
        assert same is log
        y = (x * 2).sum()
        assert y.item() == 12.0
        with fg.no_grad():
            z = x.detach().clone()
            z += 1  # an in-place change outside an op
        y.backward()
    kinds = [e[0] for e in log.events]
    assert log.events[:2] == [("op", "mul", (3,)), ("op", "sum", ())]
    assert ("read", ".item()") in log.events and ("inplace", "an in-place update (+=)", True) in log.events
    assert kinds.index("backward") < kinds.index("visit") < kinds.index("edge")
    assert ("edge", "MulBackward", 0, (3,)) in log.events
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])  # observing changes no number


def test_nothing_is_observed_outside_and_nesting_restores_the_outer_observer():
    outer, inner = Log(), Log()
    before = mode.RECORDING
    with fg.autograd.graph.observe(outer):
        fg.tensor(1.0) + 1
        with fg.autograd.graph.observe(inner):
            fg.tensor(1.0) * 2
        fg.tensor(1.0) - 1
    fg.tensor(1.0) / 2
    assert [e[1] for e in outer.events] == ["add", "sub"]
    assert [e[1] for e in inner.events] == ["mul"]
    assert mode.RECORDING == before and mode.state.recorder is None


def test_an_error_inside_leaves_nothing_observing():
    with pytest.raises(ZeroDivisionError):
        with fg.autograd.graph.observe(Log()):
            raise ZeroDivisionError
    assert mode.state.recorder is None


def test_observers_are_per_thread():
    log = Log()
    other: list = []

    def work() -> None:
        other.append(fg.tensor(1.0) * 3)

    with fg.autograd.graph.observe(log):
        t = threading.Thread(target=work)
        t.start()
        t.join()
        fg.tensor(2.0) + 2
    assert [e[1] for e in log.events] == ["add"]  # the other thread's mul is not ours


def test_local_derivative_is_the_rule_with_an_upstream_one_and_refuses_after_backward():
    x = fg.tensor([1.0, -2.0], requires_grad=True)
    w = fg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    prod = y.grad_fn.next_functions[0][0]
    assert fg.autograd.graph.local_derivative(y, y.grad_fn, 0).tolist() == [1.0, 1.0]
    out = x * w
    s = out.sum()
    assert fg.autograd.graph.local_derivative(s, s.grad_fn, 0).shape == (2,)
    assert prod is not None
    y.backward()
    assert fg.autograd.graph.local_derivative(y, y.grad_fn, 0) is None  # inputs freed by backward


def test_rand_and_randn_are_ops_so_a_compiled_step_draws_anew():
    log = Log()
    with fg.autograd.graph.observe(log):
        fg.rand(2, 3)
        fg.randn(4, generator=fg.Generator().manual_seed(0))
    assert [e[1] for e in log.events] == ["draw", "draw"]
    step = fg.compile(lambda x: x + fg.rand(3, dtype=fg.float64))
    first, second = step(np.zeros(3)).numpy(), step(np.zeros(3)).numpy()
    assert not np.array_equal(first, second)
    fg.manual_seed(5)
    eager = [fg.rand(3, dtype=fg.float64).numpy() for _ in range(2)]
    fg.manual_seed(5)
    replayed = [step(np.zeros(3)).numpy() for _ in range(2)]
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)  # the same stream, in the same order, as eager
