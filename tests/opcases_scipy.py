"""The op table, part 5: flowgrad.scipy.special's primitives (only where SciPy is installed:
without it they are not registered, so there is nothing to check)."""

from __future__ import annotations

import numpy as np

from .opcases import UNARY, OpCase, unary, unif

try:
    import scipy.special as sc

    from flowgrad.scipy import special as fs
except ImportError:  # the optional extra is missing
    CASES: list[OpCase] = []
else:

    def _orders(values: list) -> callable:  # noqa: ANN001 - a sampler: an integer order, then x
        def sample(rng: np.random.Generator, shapes: tuple) -> list:
            return [rng.choice(values, shapes[0]).astype(np.int64), rng.uniform(0.5, 3.0, shapes[1])]

        return sample

    PAIRS = [((), s) for s in UNARY]
    CASES = [
        unary("gammaln", fs.gammaln, sc.gammaln, unif(0.3, 4.0)),
        unary("digamma", fs.digamma, sc.digamma, unif(0.3, 4.0)),
        OpCase("polygamma", fs.polygamma, lambda n, x: sc.polygamma(n, x).astype(x.dtype), PAIRS, _orders([0, 1, 2])),
        unary("erfc", fs.erfc, sc.erfc, unif(-2.0, 2.0)),
        unary("erfinv", fs.erfinv, sc.erfinv, unif(-0.9, 0.9)),
        unary("erfcinv", fs.erfcinv, sc.erfcinv, unif(0.1, 1.9)),
        unary("expit", fs.expit, sc.expit, unif(-4.0, 4.0)),
        unary("logit", fs.logit, sc.logit, unif(0.1, 0.9)),
        OpCase("iv", fs.iv, lambda v, x: sc.iv(v, x).astype(x.dtype), PAIRS, _orders([0, 1, 2, 3])),
        unary("ndtr", fs.ndtr, sc.ndtr, unif(-3.0, 3.0)),
        unary("log_ndtr", fs.log_ndtr, sc.log_ndtr, unif(-6.0, 3.0)),
    ]
