"""The shared pieces of the wrong-argument table (tests/hostile/test_wrong_arguments.py): the row
record, the small models and files the rows call, and the rows for the core: tensors, factories,
ops, methods and functional gradients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import flowgrad as fg
import flowgrad.flow as flow
from flowgrad import nn

X = fg.ones(2, 3)


def net():
    return nn.Linear(3, 2)


def opt():
    return fg.optim.SGD(net().parameters(), lr=0.1)


def model():
    return fg.Model(net(), "mse", "sgd", lr=0.1)


def csv(d):
    path = d / "a.csv"
    path.write_text("a,b,y\n1,2,3\n")
    return path


def fit(**kwargs):
    args = {"x": np.ones((4, 3)), "y": np.ones((4, 2)), "verbose": 0, **kwargs}
    return model().fit(**args)


def graph(feed: dict, *nodes):
    return flow.forward_and_backward(flow.topological_sort(feed))


@dataclass(frozen=True)
class Case:
    area: str
    name: str
    call: Callable  # takes a temporary folder
    error: type
    needles: tuple[str, ...]  # words the message must hold


def case(area: str, name: str, call: Callable, error: type, *needles: str) -> Case:
    return Case(area, name, call if call.__code__.co_argcount else (lambda d, call=call: call()), error, needles)


Shape, DType, Arg, Data, Ckpt = fg.ShapeError, fg.DTypeError, fg.ArgumentError, fg.DataError, fg.CheckpointError

CORE_CASES = [
    # ----- fg.tensor and the factories -----------------------------------------------------------
    case("tensor", "tensor of a string", lambda: fg.tensor("abc"), DType, "tensor", "str"),
    case("tensor", "tensor of a dict", lambda: fg.tensor({"a": 1}), DType, "tensor", "dict"),
    case("tensor", "tensor of None", lambda: fg.tensor(None), DType, "tensor", "NoneType"),
    case("tensor", "tensor of ragged lists", lambda: fg.tensor([[1, 2], [3]]), Shape, "tensor", "inhomogeneous"),
    case("tensor", "tensor with a bogus dtype", lambda: fg.tensor([1.0], dtype="bogus"), DType, "dtype", "'bogus'"),
    case("tensor", "integer tensor requiring grad", lambda: fg.tensor([1, 2], requires_grad=True), DType, "tensor", "int64"),  # fmt: skip
    case("tensor", "tensor on cuda", lambda: fg.tensor([1.0], device="cuda"), Arg, "device", "'cuda'", "cpu"),
    case("tensor", "device with a bad index", lambda: fg.device("cpu:x"), Arg, "device", "'cpu:x'"),
    case("tensor", "from_numpy of a list", lambda: fg.from_numpy([1]), DType, "from_numpy", "list"),
    case("tensor", "numel of a string", lambda: fg.numel("a"), DType, "numel", "str"),
    case("factories", "zeros(-1, 2)", lambda: fg.zeros(-1, 2), Shape, "zeros", "(-1, 2)"),
    case("factories", "zeros('a')", lambda: fg.zeros("a"), DType, "zeros", "integer", "'a'"),
    case("factories", "zeros(2.5)", lambda: fg.zeros(2.5), DType, "zeros", "integer", "2.5"),
    case("factories", "zeros(None)", lambda: fg.zeros(None), DType, "zeros", "None"),
    case("factories", "ones(['a', 2])", lambda: fg.ones(["a", 2]), DType, "ones", "'a'"),
    case("factories", "empty(-3)", lambda: fg.empty(-3), Shape, "empty", "-3"),
    case("factories", "full(-2, 1.0)", lambda: fg.full(-2, 1.0), Shape, "full", "-2"),
    case("factories", "full((2,), 'x')", lambda: fg.full((2,), "x"), DType, "full", "fill_value", "str"),
    case("factories", "arange('a')", lambda: fg.arange("a"), DType, "arange", "'a'"),
    case("factories", "arange step 0", lambda: fg.arange(0, 5, 0), Arg, "arange", "step"),
    case("factories", "linspace steps -3", lambda: fg.linspace(0, 1, -3), Arg, "linspace", "steps", "-3"),
    case("factories", "linspace steps 'a'", lambda: fg.linspace(0, 1, "a"), DType, "linspace", "'a'"),
    case("factories", "eye(-1)", lambda: fg.eye(-1), Arg, "eye", "-1"),
    case("factories", "eye('a')", lambda: fg.eye("a"), DType, "eye", "'a'"),
    case("factories", "randn(-2)", lambda: fg.randn(-2), Shape, "randn", "-2"),
    case("factories", "randn('x')", lambda: fg.randn("x"), DType, "randn", "'x'"),
    case("factories", "rand with an integer dtype", lambda: fg.rand(2, dtype=fg.int64), DType, "rand", "int64"),
    case("factories", "randint high < low", lambda: fg.randint(5, 2, (3,)), Arg, "randint", "low=5", "high=2"),
    case("factories", "randint size 'a'", lambda: fg.randint(0, 5, "a"), DType, "randint", "'a'"),
    case("factories", "randperm(-1)", lambda: fg.randperm(-1), Arg, "randperm", "-1"),
    case("factories", "zeros_like of a string", lambda: fg.zeros_like("abc"), DType, "zeros_like", "'abc'"),
    case("factories", "ones_like with a bogus dtype", lambda: fg.ones_like(X, dtype="bogus"), DType, "dtype", "'bogus'"),
    case("factories", "manual_seed('abc')", lambda: fg.manual_seed("abc"), DType, "manual_seed", "'abc'"),
    case("factories", "manual_seed(-1)", lambda: fg.manual_seed(-1), Arg, "manual_seed", "-1"),
    case("factories", "set_rng_state of a dict", lambda: fg.set_rng_state({"a": 1}), Arg, "set_rng_state", "{'a': 1}"),
    case("factories", "set_rng_state(5)", lambda: fg.set_rng_state(5), Arg, "set_rng_state", "5 (int)"),
    case("factories", "set_default_dtype(int64)", lambda: fg.set_default_dtype(fg.int64), DType, "set_default_dtype", "int64"),  # fmt: skip
    # ----- functions on tensors ------------------------------------------------------------------
    case("ops", "sum over dim 5", lambda: fg.sum(X, dim=5), Shape, "sum", "dim 5", "2 dims"),
    case("ops", "sum over dim 'a'", lambda: fg.sum(X, dim="a"), DType, "sum", "'a'"),
    case("ops", "sum with dim and axis", lambda: fg.sum(X, dim=0, axis=1), DType, "sum", "dim or axis"),
    case("ops", "sum of a string", lambda: fg.sum("abc"), DType, "sum", "str"),
    case("ops", "mean over dim -3", lambda: fg.mean(X, dim=-3), Shape, "mean", "dim -3"),
    case("ops", "amax over (0, 7)", lambda: fg.amax(X, dim=(0, 7)), Shape, "max", "dim 7"),
    case("ops", "std over dim 9", lambda: fg.std(X, dim=9), Shape, "var", "dim 9"),
    case("ops", "logsumexp over dim 9", lambda: fg.logsumexp(X, dim=9), Shape, "logsumexp", "dim 9"),
    case("ops", "argmax over dim 4", lambda: fg.argmax(X, dim=4), Shape, "argmax", "axis 4"),
    case("ops", "argmax over dim 'a'", lambda: fg.argmax(X, dim="a"), DType, "argmax", "'a'"),
    case("ops", "max of an empty tensor", lambda: fg.max(fg.ones(0)), Shape, "max", "empty"),
    case("ops", "matmul of (2, 3) and (2, 3)", lambda: fg.matmul(fg.ones(2, 3), fg.ones(2, 3)), Shape, "matmul", "(2, 3) @ (2, 3)"),  # fmt: skip
    case("ops", "matmul of a string", lambda: fg.matmul("a", X), DType, "matmul", "() @ (2, 3)"),
    case("ops", "mm of a vector", lambda: fg.mm(fg.ones(3), X), Shape, "mm", "matrix", "(3,)"),
    case("ops", "dot of (3,) and (4,)", lambda: fg.dot(fg.ones(3), fg.ones(4)), Shape, "(3,) @ (4,)"),
    case("ops", "einsum with bad shapes", lambda: fg.einsum("ij,jk->ik", X, X), Shape, "einsum", "(2, 3)"),
    case("ops", "einsum with number subscripts", lambda: fg.einsum(5, X), DType, "einsum", "5 (int)"),
    case("ops", "reshape (2, 3) to (4, 2)", lambda: fg.reshape(X, (4, 2)), Shape, "reshape", "(2, 3)", "(4, 2)"),
    case("ops", "reshape to 'ab'", lambda: fg.reshape(X, "ab"), DType, "reshape", "'ab'"),
    case("ops", "reshape to (-1, -1)", lambda: fg.reshape(X, (-1, -1)), Shape, "reshape", "(-1, -1)"),
    case("ops", "cat of mismatched shapes", lambda: fg.cat([fg.ones(2, 3), fg.ones(2, 4)]), Shape, "concatenate", "(2, 4)"),  # fmt: skip
    case("ops", "cat of nothing", lambda: fg.cat([]), Shape, "concatenate", "empty"),
    case("ops", "cat along dim 4", lambda: fg.cat([X, X], dim=4), Shape, "concatenate", "axis 4"),
    case("ops", "cat(x, x)", lambda: fg.cat(X, X), DType, "concatenate", "dim", "Tensor"),
    case("ops", "stack of different shapes", lambda: fg.stack([fg.ones(2), fg.ones(3)]), Shape, "stack", "same shape"),
    case("ops", "stack of nothing", lambda: fg.stack([]), Shape, "stack", "empty"),
    case("ops", "softmax over dim 3", lambda: fg.softmax(X, dim=3), Shape, "softmax", "axis 3"),
    case("ops", "softmax over dim 'a'", lambda: fg.softmax(X, dim="a"), DType, "softmax", "'a'"),
    case("ops", "log_softmax over dim 9", lambda: fg.log_softmax(X, dim=9), Shape, "log_softmax", "axis 9"),
    case("ops", "clamp with min 'a'", lambda: fg.clamp(X, min="a"), DType, "clip", "str"),
    case("ops", "clamp with a (4,) bound", lambda: fg.clamp(X, min=fg.ones(4)), Shape, "clip", "(4,)"),
    case("ops", "transpose dims 0 and 5", lambda: fg.transpose(X, 0, 5), Shape, "transpose", "dim 5"),
    case("ops", "permute (0, 0)", lambda: fg.permute(X, (0, 0)), Shape, "transpose", "repeated axis"),
    case("ops", "permute (0,)", lambda: fg.permute(X, (0,)), Shape, "transpose", "axes"),
    case("ops", "squeeze dim 5", lambda: fg.squeeze(X, 5), Shape, "squeeze", "dim 5"),
    case("ops", "unsqueeze dim 7", lambda: fg.unsqueeze(X, 7), Shape, "expand_dims", "axis 7"),
    case("ops", "flatten from dim 3", lambda: fg.flatten(X, 3), Shape, "flatten", "start_dim 3"),
    case("ops", "moveaxis to 5", lambda: fg.moveaxis(X, 0, 5), Shape, "moveaxis", "destination 5"),
    case("ops", "swapaxes 0 and 5", lambda: fg.swapaxes(X, 0, 5), Shape, "swapaxes", "dim 5"),
    case("ops", "split into 0", lambda: fg.split(X, 0), Shape, "split", "positive", "0"),
    case("ops", "split along dim 4", lambda: fg.split(X, 1, dim=4), Shape, "split", "dim 4"),
    case("ops", "chunk into 0", lambda: fg.chunk(X, 0), Arg, "chunk", "chunks", "0"),
    case("ops", "where with a (4,) branch", lambda: fg.where(fg.ones(2) > 0, X, fg.ones(4)), Shape, "where", "(4,)"),
    case("ops", "norm with p=3", lambda: fg.norm(X, p=3), Arg, "norm", "p", "3"),
    case("ops", "pad with widths 'ab'", lambda: fg.pad(X, "ab"), Shape, "pad", "'ab'"),
    case("ops", "expand (2, 3) to (4, 4)", lambda: fg.expand(X, (4, 4)), Shape, "broadcast_to", "(4, 4)"),
    case("ops", "expand to fewer dims", lambda: fg.expand(X, (3,)), Shape, "expand", "(3,)"),
    case("ops", "broadcast_to (5,)", lambda: fg.broadcast_to(X, (5,)), Shape, "broadcast_to", "(5,)"),
    case("ops", "masked_fill with a (4,) mask", lambda: fg.masked_fill(X, fg.ones(4) > 0, 0.0), Shape, "where", "(4,)"),
    case("ops", "maximum of (2, 3) and (4,)", lambda: fg.maximum(X, fg.ones(4)), Shape, "maximum", "(4,)"),
    case("ops", "add a string", lambda: fg.add(X, "a"), DType, "add", "str"),
    case("ops", "exp of a string", lambda: fg.exp("a"), DType, "exp", "str"),
    case("ops", "sub of bools", lambda: fg.tensor([True]) - fg.tensor([False]), DType, "sub"),
    # ----- Tensor methods and operators -------------------------------------------------------------
    case("methods", "t.sum(dim=5)", lambda: X.sum(dim=5), Shape, "sum", "dim 5"),
    case("methods", "t.view(-1, -1)", lambda: X.view(-1, -1), Shape, "reshape", "(-1, -1)"),
    case("methods", "t.view('a')", lambda: X.view("a"), DType, "reshape", "'a'"),
    case("methods", "t.to('bogus')", lambda: X.to("bogus"), Arg, "device", "'bogus'"),
    case("methods", "t.to(foo=1)", lambda: X.to(foo=1), DType, "to", "foo"),
    case("methods", "t.type('bogus')", lambda: X.type("bogus"), Arg, "device", "'bogus'"),
    case("methods", "t.item() of 6 elements", lambda: X.item(), Shape, "item", "(2, 3)"),
    case("methods", "float(t) of 6 elements", lambda: float(X), Shape, "item", "(2, 3)"),
    case("methods", "bool(t) of 6 elements", lambda: bool(X), Shape, "bool", "6 elements"),
    case("methods", "len() of a 0-d tensor", lambda: len(fg.tensor(1.0)), DType, "len()", "0-d"),
    case("methods", "iter() of a 0-d tensor", lambda: next(iter(fg.tensor(1.0))), DType, "iteration", "0-d"),
    case("methods", "a float tensor as an index", lambda: [1, 2][fg.tensor(1.0)], DType, "index", "float32"),
    case("methods", "t[5]", lambda: X[5], Shape, "getitem", "5", "(2, 3)"),
    case("methods", "t['a']", lambda: X["a"], Shape, "getitem", "'a'"),
    case("methods", "t[1.5]", lambda: X[1.5], Shape, "getitem", "1.5"),
    case("methods", "t[0, 0, 0]", lambda: X[0, 0, 0], Shape, "getitem", "(0, 0, 0)"),
    case("methods", "t[mask of 5]", lambda: X[fg.ones(5) > 0], Shape, "getitem", "(2, 3)"),
    case("methods", "t[0] = a (4,) tensor", lambda: fg.zeros(2, 3).__setitem__(0, fg.ones(4)), Shape, "item assignment", "(4,)"),  # fmt: skip
    case("methods", "t[0] = 'a'", lambda: fg.zeros(2, 3).__setitem__(0, "a"), DType, "item assignment", "'a'"),
    case("methods", "t.fill_('x')", lambda: fg.zeros(2).fill_("x"), DType, "fill_", "'x'"),
    case("methods", "t.copy_ of (3,) into (2,)", lambda: fg.zeros(2).copy_(fg.ones(3)), Shape, "copy_", "(3,)"),
    case("methods", "t.clamp_(min='a')", lambda: fg.zeros(2).clamp_(min="a"), DType, "clamp_", "'a'"),
    case("methods", "t.add_ of (4,)", lambda: fg.zeros(2, 3).add_(fg.ones(4)), Shape, "add_", "(4,)"),
    case("methods", "t.add_('a')", lambda: fg.zeros(2, 3).add_("a"), DType, "add_", "'a'"),
    case("methods", "t.requires_grad_() on ints", lambda: fg.arange(3).requires_grad_(), DType, "requires_grad_", "int64"),  # fmt: skip
    case("methods", "t.expand(4, 4)", lambda: X.expand(4, 4), Shape, "broadcast_to", "(4, 4)"),
    case("methods", "t.transpose(0, 3)", lambda: X.transpose(0, 3), Shape, "transpose", "dim 3"),
    case("methods", "t.size(5)", lambda: X.size(5), Shape, "size", "dim 5"),
    case("methods", "t.mm('a')", lambda: X.mm("a"), Shape, "mm", "matrix"),
    case("methods", "t @ t with (2, 3)", lambda: X @ X, Shape, "matmul", "(2, 3) @ (2, 3)"),
    case("methods", "t + 'a'", lambda: X + "a", DType, "add", "str"),
    case("methods", "t ** 'a'", lambda: X ** "a", DType, "pow", "str"),
    case("methods", "t / None", lambda: X / None, DType, "div", "NoneType"),
    case("methods", "backward of a vector", lambda: fg.ones(3, requires_grad=True).mul(2).backward(), Shape, "backward", "(3,)"),  # fmt: skip
    case("methods", "backward with a (4,) gradient", lambda: fg.ones(3, requires_grad=True).mul(2).backward(fg.ones(4)), Shape, "backward", "(4,)"),  # fmt: skip
    # ----- functional gradients ---------------------------------------------------------------------
    case("grad", "grad of a number", lambda: fg.grad(5), DType, "grad", "5 (int)"),
    case("grad", "grad argnum 3 of one argument", lambda: fg.grad(lambda a: a.sum(), argnum=3)(X), DType, "grad", "argnum 3", "1 arguments"),  # fmt: skip
    case("grad", "grad argnum 'a'", lambda: fg.grad(lambda a: a.sum(), argnum="a"), DType, "grad", "argnum", "'a'"),
    case("grad", "grad of a vector output", lambda: fg.grad(lambda a: a * 2)(fg.ones(3)), Shape, "grad", "scalar", "(3,)"),  # fmt: skip
    case("grad", "grad with respect to a string", lambda: fg.grad(lambda a: a.sum())("abc"), DType, "grad", "str"),
    case("grad", "grad with respect to ints", lambda: fg.grad(lambda a: a.sum())(np.arange(3)), DType, "grad", "integer"),
    case("grad", "grad of a function returning a string", lambda: fg.grad(lambda a: "x")(fg.ones(3)), DType, "grad", "'x'"),  # fmt: skip
    case("grad", "value_and_grad of a vector output", lambda: fg.value_and_grad(lambda a: a * 2)(fg.ones(3)), Shape, "grad", "(3,)"),  # fmt: skip
    case("grad", "jacobian of a string", lambda: fg.jacobian("f"), DType, "jacobian", "'f'"),
    case("grad", "jacobian argnum 2 of one argument", lambda: fg.jacobian(lambda a: a, argnum=2)(X), DType, "jacobian", "argnum 2"),  # fmt: skip
    case("grad", "jacobian with respect to a string", lambda: fg.jacobian(lambda a: a)("abc"), DType, "jacobian", "str"),
    case("grad", "jacobian of a function returning None", lambda: fg.jacobian(lambda a: None)(X), DType, "jacobian", "None"),  # fmt: skip
    case("grad", "hessian of a vector output", lambda: fg.hessian(lambda a: a * 2)(fg.ones(3)), Shape, "grad", "scalar"),
    case("grad", "hvp of a number", lambda: fg.hvp(3), DType, "hvp", "3 (int)"),
    case("grad", "vjp of a number", lambda: fg.vjp(5, X), DType, "vjp", "5 (int)"),
    case("grad", "elementwise_grad of a number", lambda: fg.elementwise_grad(7), DType, "elementwise_grad", "7 (int)"),
]  # fmt: skip
