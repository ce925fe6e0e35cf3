"""The op table, part 5: flowgrad.scipy.special's primitives (only where SciPy is installed:
without it they are not registered, so there is nothing to check)."""

from __future__ import annotations

import numpy as np

from .opcases import BINARY, UNARY, WHERE_SHAPES, OpCase, T, away, each, one, signed, unary, unif

try:
    import scipy.special as sc

    from flowgrad.scipy import special as fs
except ImportError:  # the optional extra is missing
    CASES: list[OpCase] = []
else:

    def _orders(values: list, x=None) -> callable:  # noqa: ANN001 - an integer order, then x
        x = x or unif(0.5, 3.0)

        def sample(rng: np.random.Generator, shapes: tuple) -> list:
            return [rng.choice(values, shapes[0]).astype(np.int64), x(rng, shapes[1])]

        return sample

    def _in_dtype(fn: callable) -> callable:  # noqa: ANN001 - SciPy's float64 for an integer order
        return lambda n, x: fn(n, x).astype(x.dtype)

    SHAPE_PARAMS = unif(0.5, 3.0)  # a, b of the incomplete gamma and beta functions
    POLES = away(-3.0, -2.0, -1.0, 0.0, lo=-3.5, hi=3.5, margin=0.15)  # Gamma's poles

    PAIRS = [((), s) for s in UNARY]
    CASES = [
        unary("gammaln", fs.gammaln, sc.gammaln, unif(0.3, 4.0), torch=T.special.gammaln),
        unary("digamma", fs.digamma, sc.digamma, unif(0.3, 4.0), torch=T.special.digamma),
        OpCase("polygamma", fs.polygamma, lambda n, x: sc.polygamma(n, x).astype(x.dtype), PAIRS,
            _orders([0, 1, 2])),
        unary("erfc", fs.erfc, sc.erfc, unif(-2.0, 2.0), torch=T.special.erfc),
        unary("erfinv", fs.erfinv, sc.erfinv, unif(-0.9, 0.9), torch=T.special.erfinv),
        unary("erfcinv", fs.erfcinv, sc.erfcinv, unif(0.1, 1.9)),
        unary("expit", fs.expit, sc.expit, unif(-4.0, 4.0), torch=T.special.expit),
        unary("logit", fs.logit, sc.logit, unif(0.1, 0.9), torch=T.special.logit),
        OpCase("iv", fs.iv, lambda v, x: sc.iv(v, x).astype(x.dtype), PAIRS, _orders([0, 1, 2, 3])),
        unary("ndtr", fs.ndtr, sc.ndtr, unif(-3.0, 3.0), torch=T.special.ndtr),
        unary("log_ndtr", fs.log_ndtr, sc.log_ndtr, unif(-6.0, 3.0), torch=T.special.log_ndtr),
        # in x only: the shape parameters' derivatives raise (tests/test_scipy_special_more.py)
        OpCase("gammainc", fs.gammainc, sc.gammainc, BINARY, each(SHAPE_PARAMS, unif(0.2, 4.0)),
            grad_inputs=(1,), torch=T.special.gammainc),
        OpCase("gammaincc", fs.gammaincc, sc.gammaincc, BINARY, each(SHAPE_PARAMS, unif(0.2, 4.0)),
            grad_inputs=(1,), torch=T.special.gammaincc),
        OpCase("betainc", fs.betainc, sc.betainc, WHERE_SHAPES,
            each(SHAPE_PARAMS, SHAPE_PARAMS, unif(0.05, 0.95)), grad_inputs=(2,)),
        unary("rgamma", fs.rgamma, sc.rgamma, POLES),
        unary("gammasgn", fs.gammasgn, sc.gammasgn, POLES),  # its true gradient: zeros
        unary("j0", fs.j0, sc.j0, unif(-10.0, 10.0)),
        unary("j1", fs.j1, sc.j1, unif(-10.0, 10.0)),
        unary("y0", fs.y0, sc.y0, unif(0.3, 10.0)),  # y0, y1, yn: real for x > 0 only
        unary("y1", fs.y1, sc.y1, unif(0.3, 10.0)),
        OpCase("jn", fs.jn, _in_dtype(sc.jn), PAIRS, _orders([0, 1, 2, 5], signed(0.3, 6.0))),
        OpCase("yn", fs.yn, _in_dtype(sc.yn), PAIRS, _orders([0, 1, 2, 4], unif(0.5, 6.0))),
        OpCase("ive", fs.ive, _in_dtype(sc.ive), PAIRS, _orders([0, 1, 2, 3], signed(0.2, 4.0))),
        OpCase("ive", lambda x: fs.ive(1.5, x), lambda x: sc.ive(1.5, x), one(UNARY[:4]),
            each(unif(0.2, 4.0)), label="v=1.5"),
    ]  # fmt: skip
