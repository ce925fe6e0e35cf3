"""The LeNet-5 benchmark case: hand NumPy (strided im2col, index-scatter pooling) trains as flowgrad
and PyTorch do, step for step, from the same weights."""

import numpy as np
import pytest

from benchmarks.contenders import flowgrad_eager, numpy_hand
from benchmarks.problems import lenet


def _losses(module, problem, steps=4):
    s = module.setup(problem, 1)
    out = []
    for i in range(steps):
        loss = s.step(*s.batches[i])
        out.append(float(loss.item() if hasattr(loss, "item") else loss))
    return out


def test_lenet_hand_numpy_matches_flowgrad():
    problem = lenet()
    assert problem.batches[0][0].shape == (64, 1, 28, 28)
    # float32 through four SGD steps: summation order differs between the GEMMs, so 1e-5 relative.
    np.testing.assert_allclose(_losses(numpy_hand, problem), _losses(flowgrad_eager, problem), rtol=1e-5)


def test_lenet_hand_numpy_matches_torch():
    pytest.importorskip("torch")
    from benchmarks.contenders import torch_eager

    problem = lenet()
    np.testing.assert_allclose(_losses(numpy_hand, problem), _losses(torch_eager, problem), rtol=1e-5)


def test_functional_contenders_refuse_lenet_clearly():
    from benchmarks.contenders.functional import loss_function

    with pytest.raises(NotImplementedError, match="lenet"):
        loss_function(np, lenet())
