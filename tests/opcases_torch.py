"""The op table, part 6: the PyTorch-style API, each row written once against a module ``M``.

``both(op, lambda M, *xs: ..., spec)`` runs with ``M = fg`` and ``M = torch`` (see
:func:`tests.opcases.both`): the keyword spellings, methods, operators and tuple
results of PyTorch's API, checked against torch and, like every row, against
central differences. ``op`` is the registry primitive the row must run.
"""

from __future__ import annotations

import numpy as np

from .opcases import OpCase, both

MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROW_MASK = [True, False, True, True]
EINSUM_DIAG = "flowgrad's einsum raises NotImplementedError (no gradient for repeated axes in 'ii'); torch supports it"

# elementwise, with broadcasting and Python scalars on either side
ELEMENTWISE = [
    both("add", lambda M, x, y: M.add(x, y).add(y, alpha=2), "n3,4 n4", "fn, alpha"),
    both("add", lambda M, x: (x + 1.5) * (2.5 + x), "n3,4", "scalars"),
    both("sub", lambda M, x, y: x - y - M.sub(y, x) + (1.0 - x), "n3,1 n1,4", "spellings"),
    both("mul", lambda M, x, y: x * y * M.mul(x, 3.0), "n3,1 n1,4", "spellings"),
    both("div", lambda M, x, y: x / y + M.div(y, x) + 2.0 / y, "a3,4 a4", "spellings"),
    both("pow", lambda M, x, y: x**y + M.pow(x, y), "p3,4 n3,4", "tensor"),
    both("pow", lambda M, x: x**3 + x.pow(2) + M.pow(x, -1.5) ** 0.5, "p2,5", "scalar"),
    both("pow", lambda M, x: 2.0**x + 0.5**x, "n2,5", "rpow"),
    both("neg", lambda M, x: -x + M.neg(x) * 2, "n4", "spellings"),
    both("exp", lambda M, x: M.exp(x) + x.exp(), "n3,4", "method"),
    both("log", lambda M, x: M.log(x) + x.log(), "p3,4", "method"),
    both("log1p", lambda M, x: M.log1p(x), "u3,4", "(-1, 1)"),
    both("sqrt", lambda M, x: M.sqrt(x) + x.sqrt(), "p3,4", "method"),
    both("abs", lambda M, x: M.abs(x) + abs(x), "a3,4", "builtin"),
    both("sin", lambda M, x: M.sin(x) * M.cos(x) + x.sin() - x.cos(), "n3,4", "with cos"),
    both("tanh", lambda M, x: M.tanh(x) + x.tanh(), "w3,4", "wide"),
    both("sigmoid", lambda M, x: M.sigmoid(x) + x.sigmoid(), "w3,4", "wide"),
    both("relu", lambda M, x: M.relu(x) + x.relu(), "a3,4", "method"),
    both("leaky_relu", lambda M, x: M.leaky_relu(x) + M.leaky_relu(x, 0.2), "a3,4", "slopes"),
    both("softplus", lambda M, x: M.softplus(x), "w4,5", "wide"),
    both("softplus", lambda M, x: M.softplus(x, beta=2.0) + M.softplus(x, 0.5, 5.0), "w4,5", "beta"),
    both("clip", lambda M, x: M.clamp(x, -0.5, 0.5) + x.clamp(min=0.1) + x.clamp(max=-0.2), "n4,5", "clamp"),
    both("maximum", lambda M, x, y: M.maximum(x, y) + M.minimum(x, y) * 2, "n3,4 n4", "with minimum"),
    both("maximum", lambda M, x, y: M.max(x, y) - M.min(x, y), "n3,4 n3,4", "max(x, y)"),
    both("where", lambda M, x, y: M.where(x > 0, x, y) + M.where(y < 0.3, 2.0 * y, x * x), "n3,4 n4",
        "mixed"),
    both("where", lambda M, x: M.where(x > 0, x, 0.0), "n3,4", "scalar"),
    both("where", lambda M, x, y: M.where(M.tensor(MASK), x, y), "n3,4 n3,1", "mask tensor"),
]  # fmt: skip

# reductions, dim / keepdim / tuples of dims; a 0-d tensor has one wrappable dim in torch and in flowgrad
REDUCTIONS = [
    both("sum", lambda M, x: (x.sum(), M.sum(x, 1), x.sum(-1, keepdim=True), x.sum((0, 2))), "n2,3,4"),
    both("sum", lambda M, x: (x.sum(), x.mean(), x.max(), x.softmax(0), x.log_softmax(-1)), "n", "0-d"),
    both("sum", lambda M, x: (x.sum(0), x.mean(-1), x.prod(0), x.logsumexp(0), x.max(0).values, x.squeeze(0)),
         "n", "0-d, dim"),
    both("mean", lambda M, x: (x.mean(), M.mean(x, 0), x.mean(1, keepdim=True), x.mean((0, 1))), "n2,3,4"),
    both("var", lambda M, x: (x.var(), M.var(x, 1), x.var(0, keepdim=True), x.var(2, correction=0)),
        "n2,3,4"),
    both("var", lambda M, x: x.var((0, 2)), "n2,3,4", "dims"),
    both("var", lambda M, x: (x.std(), M.std(x, 1), x.std(-1, keepdim=True), x.std(0, correction=0)),
        "n2,3,4", "std"),
    both("max", lambda M, x: (x.max(), M.max(x), x.min(), M.min(x)), "n3,4", "all"),
    both("max", lambda M, x: (*x.max(1), *M.max(x, 0, keepdim=True)), "n3,4,2", "dim"),
    both("min", lambda M, x: (*x.min(-1), *M.min(x, 1, keepdim=True)), "n3,4,2", "dim"),
    both("max", lambda M, x: x.max(dim=1).values + M.min(x, 1).values, "n3,4", "values"),
    both("max", lambda M, x: (M.amax(x, (0, 2)), x.amin(1, keepdim=True)), "n2,3,4", "amax, amin"),
    both("prod", lambda M, x: (x.prod(), M.prod(x, 1), x.prod(0, keepdim=True)), "a3,4"),
    both("logsumexp", lambda M, x: (M.logsumexp(x, 1), x.logsumexp(0, keepdim=True), x.logsumexp((0, 1))),
        "w3,4"),
    both("softmax", lambda M, x: (M.softmax(x, -1), x.softmax(0), M.softmax(x, dim=1)), "w3,4"),
    both("log_softmax", lambda M, x: (M.log_softmax(x, 1), x.log_softmax(0)), "w3,4"),
]  # fmt: skip

SHAPES = [
    both("reshape", lambda M, x: (x.reshape(4, 6), x.reshape((2, -1)), x.view(-1), M.reshape(x, (6, 4))),
        "n2,3,4"),
    both("reshape", lambda M, x: (x.flatten(), M.flatten(x, 1), x.flatten(0, 1)), "n2,3,4", "flatten"),
    both("squeeze", lambda M, x: (x.squeeze(), x.squeeze(1), x.squeeze(0), M.squeeze(x, -1)), "n3,1,4,1"),
    both("expand_dims", lambda M, x: (x.unsqueeze(0), M.unsqueeze(x, -1), x.unsqueeze(1)), "n3,4",
        "unsqueeze"),
    both("transpose", lambda M, x: (x.transpose(0, 2), M.transpose(x, 1, -1)), "n2,3,4"),
    both("transpose", lambda M, x, y: (x.t(), x.T, y.mT), "n3,4 n2,3,4", "t, T, mT"),
    both("transpose", lambda M, x: (x.permute(2, 0, 1), M.permute(x, (1, 2, 0))), "n2,3,4", "permute"),
    both("broadcast_to", lambda M, x: (x.expand(3, -1, 4),
        x.expand(2, 3, 1, 4), M.broadcast_to(x, (3, 1, 4))), "n3,1,4", "expand",
    ),
    both("broadcast_to", lambda M, x, y: x.expand_as(y) * y, "n1,4 n3,4", "expand_as"),
    both("concatenate", lambda M, x, y: (M.cat([x, y], 1),
        M.cat((x, x * 2), dim=-1), M.cat([x, y], dim=1)), "n3,2 n3,4"
    ),
    both("stack", lambda M, x, y: (M.stack([x, y]), M.stack((x, y * 2), dim=-1), M.stack([x, y], 1)),
        "n3,4 n3,4"),
    both("getitem", lambda M, x: (*x.split(2, 1), *M.split(x, [1, 3, 1], dim=1)), "n3,5", "x.split"),
    both("getitem", lambda M, x: (*x.chunk(3, 1), *M.chunk(x, 4, 0)), "n6,5", "x.chunk"),
    both("getitem", lambda M, x: (x[1], x[:, 1:3], x[..., ::2], x[None, -1, :, None], x[1:, 2]), "n3,4,2",
        "basic"),
    both("getitem", lambda M, x: (x[[0, 0, 2]], x[:, [1, 1, 0, 3]]), "n3,4", "int list, repeats"),
    both("getitem", lambda M, x: (x[M.tensor([2, 0, 2, 2])], x[M.tensor([[0, 1], [1, 1]])]), "n3,4",
        "int tensor"),
    both("getitem", lambda M, x: (x[[0, 1, 1], [2, 2, 3]], x[[0, 1], :, [1, 1]], x[1:, [0, 0]]), "n3,4,2",
        "pairs"),
    both("getitem", lambda M, x: (x[M.tensor(MASK)], x[x > 0], x[:, M.tensor(ROW_MASK)]), "n3,4", "bool"),
    both("getitem", lambda M, x: x[..., [-1, 0, -1]], "n2,3,4", "..., negative ints"),
]  # fmt: skip

# batched x @ y, einsum "ij,jk->ik" and "bij,bjk->bik": rows of tests/opcases_more.py
PRODUCTS = [
    both("matmul", lambda M, x, y: (x @ y, M.matmul(x, y), M.mm(x, y), x.mm(y)), "n3,4 n4,2", "2-D"),
    both("matmul", lambda M, x, y, v: (v @ v, x @ v, v @ y, M.matmul(v, y)), "n3,4 n4,2 n4", "vectors"),
    both("matmul", lambda M, x, v: (x @ v, v @ x.transpose(-1, -2)), "n2,3,4 n4", "batch, vector"),
    both("matmul", lambda M, x, y: M.matmul(x, y), "n3,4 n2,4,5", "2-D, 3-D"),
    both("einsum", lambda M, x: (M.einsum("ij->", x), M.einsum("ij->ji", x), M.einsum("ij->j", x)), "n3,3",
        "one"),
    both("einsum", lambda M, x: (M.einsum("ii->i", x), M.einsum("ii", x)), "n3,3", "diag", xfail=EINSUM_DIAG),
    both("einsum", lambda M, x, y: (M.einsum("i,j->ij", x, y), M.einsum("i,i->", x, x)), "n3 n4",
        "outer, dot of x with x"),
    both("einsum", lambda M, x, y: M.einsum("...ij,jk->...ik", x, y), "n2,3,4 n4,2", "ellipsis"),
    both("mul", lambda M, x, y: (M.outer(x, y), x.outer(y)), "n3 n4", "outer"),
]  # fmt: skip

CASES: list[OpCase] = ELEMENTWISE + REDUCTIONS + SHAPES + PRODUCTS
