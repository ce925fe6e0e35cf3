"""The op table, part 4: the elementwise math of ``flowgrad/ops/elementwise_more.py``."""

from __future__ import annotations

import numpy as np

import flowgrad.numpy as fnp

from .opcases import BINARY, OpCase, apart, each, signed, unary, unif

CASES = [
    unary("exp2", fnp.exp2, np.exp2, unif(-3.0, 3.0)),
    unary("arcsinh", fnp.arcsinh, np.arcsinh, unif(-3.0, 3.0)),
    unary("arccosh", fnp.arccosh, np.arccosh, unif(1.2, 4.0)),
    unary("arctanh", fnp.arctanh, np.arctanh, unif(-0.8, 0.8)),
    OpCase("arctan2", fnp.arctan2, np.arctan2, BINARY, each(signed(0.3, 2.0))),
    OpCase("hypot", fnp.hypot, np.hypot, BINARY, each(signed(0.3, 2.0))),
    OpCase("logaddexp2", fnp.logaddexp2, np.logaddexp2, BINARY, each(unif(-3.0, 3.0))),
    OpCase("fmax", fnp.fmax, np.fmax, BINARY, apart),
    OpCase("fmin", fnp.fmin, np.fmin, BINARY, apart),
]
