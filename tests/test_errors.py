"""Errors: one hierarchy, messages that say what, which shapes, and where."""

import numpy as np
import pytest

import flowgrad as fg


def test_hierarchy():
    assert issubclass(fg.ShapeError, fg.FlowgradError) and issubclass(fg.ShapeError, ValueError)
    assert issubclass(fg.DTypeError, fg.FlowgradError) and issubclass(fg.DTypeError, TypeError)
    for cls in (fg.DataError, fg.CheckpointError, fg.AnomalyError):
        assert issubclass(cls, fg.FlowgradError)


def test_matmul_message_names_op_shapes_and_line():
    with pytest.raises(fg.ShapeError) as info:
        fg.ones(3, 4) @ fg.ones(5, 2)
    msg = str(info.value)
    assert msg.splitlines()[0] == "matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ"
    assert "test_errors.py:" in msg


def test_broadcast_message():
    with pytest.raises(fg.ShapeError, match=r"add: shapes \(3,\) and \(4,\) do not broadcast"):
        fg.ones(3) + fg.ones(4)
    with pytest.raises(fg.ShapeError, match=r"mul: shapes \(2, 3\) and \(2,\)"):
        fg.ones(2, 3) * np.ones(2)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: fg.ones(2, 3).reshape(4, 2), r"reshape: cannot reshape an array of shape \(2, 3\)"),
        (lambda: fg.cat([fg.ones(2, 3), fg.ones(2, 4)]), r"concatenate: shapes \(2, 3\), \(2, 4\)"),
        (lambda: fg.stack([fg.ones(2), fg.ones(3)]), r"stack: all inputs must have the same shape"),
        (lambda: fg.ones(2, 3)[5], r"getitem: index 5 does not fit shape \(2, 3\)"),
        (lambda: fg.mm(fg.ones(3), fg.ones(3, 2)), r"mm: input must be a matrix"),
        (lambda: fg.broadcast_to(fg.ones(3), (2, 4)), r"broadcast_to: cannot broadcast shape \(3,\)"),
        (lambda: fg.ones(0).max(), r"max: cannot reduce an empty array"),
    ],
)
def test_shape_errors(call, pattern):
    with pytest.raises(fg.ShapeError, match=pattern):
        call()


def test_dtype_errors():
    with pytest.raises(fg.DTypeError, match="sub"):
        fg.tensor([True]) - fg.tensor([False])
    with pytest.raises(fg.DTypeError, match="floating-point"):
        fg.ones(2, dtype=fg.int64, requires_grad=True)
    with pytest.raises(fg.DTypeError):
        fg.tensor(["a", "b"])
    with pytest.raises(fg.DTypeError, match="integer"):
        fg.grad(lambda x: x * x)(np.arange(3))
    with pytest.raises(fg.DTypeError):
        fg.zeros(2, dtype="not-a-dtype")


def test_integer_tensor_cannot_require_grad_later():
    t = fg.arange(3)
    with pytest.raises(fg.DTypeError):
        t.requires_grad_()
