"""The op table, part 4: the elementwise math of ``flowgrad/ops/elementwise_more.py``."""

from __future__ import annotations

import numpy as np

import flowgrad.numpy as fnp

from .opcases import BINARY, OpCase, T, apart, each, signed, unary, unif

CASES = [
    unary("exp2", fnp.exp2, np.exp2, unif(-3.0, 3.0), torch=T.exp2),
    unary("arcsinh", fnp.arcsinh, np.arcsinh, unif(-3.0, 3.0), torch=T.asinh),
    unary("arccosh", fnp.arccosh, np.arccosh, unif(1.2, 4.0), torch=T.acosh),
    unary("arctanh", fnp.arctanh, np.arctanh, unif(-0.8, 0.8), torch=T.atanh),
    OpCase("arctan2", fnp.arctan2, np.arctan2, BINARY, each(signed(0.3, 2.0)), torch=T.atan2),
    OpCase("hypot", fnp.hypot, np.hypot, BINARY, each(signed(0.3, 2.0)), torch=T.hypot),
    OpCase("logaddexp2", fnp.logaddexp2, np.logaddexp2, BINARY, each(unif(-3.0, 3.0)), torch=T.logaddexp2),
    OpCase("fmax", fnp.fmax, np.fmax, BINARY, apart, torch=T.fmax),
    OpCase("fmin", fnp.fmin, np.fmin, BINARY, apart, torch=T.fmin),
]
