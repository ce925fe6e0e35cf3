"""LBFGS, ConjugateGradient and the line searches: against torch.optim.LBFGS, on classic
problems (Rosenbrock, logistic regression, a convex quadratic), state dicts and bad arguments."""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.optim import LBFGS, ConjugateGradient
from flowgrad.optim.line_search import backtracking_armijo, cubic_interpolate, exact_quadratic, strong_wolfe

from .optim_cases import PROBLEMS, fg_leaves, flat, logistic_loss, logistic_problem, make_closure, rel_diff, rosenbrock

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

LBFGS_CONFIGS = [
    dict(line_search_fn=None, max_iter=1),
    dict(line_search_fn=None, max_iter=5, history_size=3),
    dict(line_search_fn=None, max_iter=20, lr=0.5),
    dict(line_search_fn="strong_wolfe", max_iter=1),
    dict(line_search_fn="strong_wolfe", max_iter=5, history_size=3),
    dict(line_search_fn="strong_wolfe", max_iter=20),
]


# ----- LBFGS against PyTorch -----------------------------------------------------------------
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("config", LBFGS_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_lbfgs_matches_torch_for_100_steps(problem, config):
    torch = pytest.importorskip("torch")
    make, loss_fn = PROBLEMS[problem]
    data, init = make()
    ours = fg_leaves(init)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, topt = LBFGS(ours, **config), torch.optim.LBFGS(theirs, **config)
    closure = make_closure(opt, loss_fn, [fg.tensor(a) for a in data], ours)
    tclosure = make_closure(topt, loss_fn, [torch.tensor(a) for a in data], theirs)
    for step in range(100):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-6, abs=1e-12), step
        assert rel_diff(ours, theirs) <= 1e-6, step
    state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
    assert (state["n_iter"], state["func_evals"]) == (tstate["n_iter"], tstate["func_evals"])
    assert len(state["old_dirs"]) == len(tstate["old_dirs"]) <= config.get("history_size", 100)
    assert float(state["t"]) == pytest.approx(float(tstate["t"]), rel=1e-6)
    assert float(state["H_diag"]) == pytest.approx(float(tstate["H_diag"]), rel=1e-5)
    # Near the minimum the direction is as small as the gradient (1e-5 here) and its last digits
    # are rounding noise that the CPU's kernels change; judge it on the parameters' scale, as the
    # parameters themselves (the step moves them by t * d).
    d_diff = np.abs(np.asarray(state["d"]) - tstate["d"].numpy()).max()
    assert d_diff <= 1e-6 * np.abs(flat(theirs)).max()


def test_lbfgs_first_step_size_and_state_keys():
    # One iteration without line search: t = min(1, 1/|g|_1) * lr along -g.
    w = fg.tensor(np.array([3.0, -4.0]), requires_grad=True)
    opt = LBFGS([w], lr=0.5, max_iter=1)
    opt.step(make_closure(opt, lambda w: (w * w).sum() / 2, [], [w]))  # gradient = w, |g|_1 = 7
    np.testing.assert_allclose(w.numpy(), [3.0 - 0.5 / 7 * 3.0, -4.0 + 0.5 / 7 * 4.0])
    state = opt.state[w]
    keys = "d t old_dirs old_stps ro H_diag prev_flat_grad prev_loss n_iter func_evals".split()
    assert set(keys) <= set(state)
    assert state["t"] == pytest.approx(0.5 / 7) and state["n_iter"] == 1 and state["func_evals"] == 1


def test_lbfgs_keeps_only_positive_curvature_pairs():
    # A concave direction (y.s < 0) must not enter the history.
    w = fg.tensor(np.array([0.5]), requires_grad=True)
    opt = LBFGS([w], max_iter=3, max_eval=10, tolerance_change=0)
    opt.step(make_closure(opt, lambda w: -(w * w).sum(), [], [w]))
    assert opt.state[w]["old_dirs"] == [] and opt.state[w]["n_iter"] == 3


def test_lbfgs_state_dict_round_trip():
    data, init = logistic_problem()
    fdata = [fg.tensor(a) for a in data]
    config = dict(line_search_fn="strong_wolfe", max_iter=2, history_size=4)
    reference = fg_leaves(init)
    ref_opt = LBFGS(reference, **config)
    ref_closure = make_closure(ref_opt, logistic_loss, fdata, reference)
    for _ in range(6):
        ref_opt.step(ref_closure)

    first = fg_leaves(init)
    opt = LBFGS(first, **config)
    for _ in range(3):
        opt.step(make_closure(opt, logistic_loss, fdata, first))
    saved = opt.state_dict()
    resumed = fg_leaves([p.numpy() for p in first])
    opt2 = LBFGS(resumed, lr=123.0)  # hyper-parameters come back from the state dict too
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 1 and opt2.param_groups[0]["history_size"] == 4
    for _ in range(3):
        opt2.step(make_closure(opt2, logistic_loss, fdata, resumed))
    for a, b in zip(resumed, reference):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert opt2.state[resumed[0]]["n_iter"] == ref_opt.state[reference[0]]["n_iter"]


# ----- both methods on classic problems (no torch needed) ---------------------------------------
OPTIMIZERS = {
    "lbfgs": lambda p: LBFGS(p),
    "lbfgs-strong-wolfe": lambda p: LBFGS(p, line_search_fn="strong_wolfe"),
    "cg-PR+": lambda p: ConjugateGradient(p),
    "cg-FR": lambda p: ConjugateGradient(p, method="FR"),
    "cg-HS": lambda p: ConjugateGradient(p, method="HS"),
    "cg-armijo": lambda p: ConjugateGradient(p, line_search="armijo", max_iter=20),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_rosenbrock_decreases(name):
    x = fg.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = OPTIMIZERS[name]([x])
    closure = make_closure(opt, rosenbrock, [], [x])
    assert float(closure()) == 12.5
    losses = [12.5]
    for _ in range(100):
        opt.step(closure)
        losses.append(float(closure()))
    end = losses[-1]
    if name == "cg-armijo":
        # Backtracking never lengthens a step, so it crawls along the curved valley, and where it
        # stands after 100 steps is chaotic: starts 1e-13 apart (the size of a difference between
        # CPU kernels) end anywhere from 1e-3 to 0.2 (300 such starts). Judge the properties:
        # every step is a sufficient decrease, and the run is in the valley (f < 1, 5x the worst).
        assert all(b <= a for a, b in zip(losses, losses[1:]))
        assert end < 1.0
    else:
        assert end < 1e-8 and np.allclose(x.numpy(), [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_logistic_regression_decreases(name):
    data, init = logistic_problem()
    params = fg_leaves(init)
    opt = OPTIMIZERS[name](params)
    closure = make_closure(opt, logistic_loss, [fg.tensor(a) for a in data], params)
    start = float(closure())  # log 2
    for _ in range(30):
        opt.step(closure)
    assert float(closure()) < 0.5 * start
    g = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert np.abs(g).max() < 1e-4  # at (or very near) the minimum


# ----- conjugate gradient on a convex quadratic -------------------------------------------------
def _quadratic(n=5, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.geomspace(1.0, 50.0, n)) @ Q.T  # SPD, condition number 50
    b = rng.normal(size=n)
    return A, b, np.linalg.solve(A, b)


def _cg_errors(n_steps, **kwargs):
    A, b, x_star = _quadratic()
    At, bt = fg.tensor(A), fg.tensor(b)
    x = fg.tensor(np.zeros(len(b)), requires_grad=True)
    opt = ConjugateGradient([x], **kwargs)
    closure = make_closure(opt, lambda x: 0.5 * (x * (At @ x)).sum() - (bt * x).sum(), [], [x])
    errors = []
    for _ in range(n_steps):
        opt.step(closure)
        errors.append(np.abs(x.numpy() - x_star).max())
    return errors, opt.state[x]


@pytest.mark.parametrize("line_search", ["exact_quadratic", "strong_wolfe"])
@pytest.mark.parametrize("method", ["PR+", "FR", "HS"])
def test_cg_minimizes_an_n_dimensional_quadratic_in_n_iterations(method, line_search):
    # With exact line searches the directions are A-conjugate and CG ends in n = 5 iterations.
    # The strong-Wolfe search gets there too: its cubic interpolation is exact on a quadratic.
    errors, state = _cg_errors(5, method=method, line_search=line_search)
    assert state["n_iter"] == 5 and state["restarts"] == 1
    assert errors[-1] <= 1e-8
    assert errors[-2] > 1e-6  # not before: it is the n-th conjugate direction that finishes


def test_steepest_descent_with_exact_steps_does_not_finish_the_quadratic():
    errors, state = _cg_errors(5, line_search="exact_quadratic", restart=1)
    assert state["restarts"] == 5 and errors[-1] > 0.1


def test_cg_fixed_step_reproduces_the_seed000_notebook_done_right():
    # The notebook's loop with its matrix "beta" replaced by the scalar Fletcher-Reeves beta,
    # computed independently here with fg.grad and np.vdot.
    x0, y_true = np.array([2.0, -4.0]), np.array([0.0, 1.0])

    def mse(W, x=x0):
        y = 1 / (1 + fg.numpy.exp(-fg.numpy.dot(x, W)))
        y1 = 1 / (1 + fg.numpy.exp(-fg.numpy.dot(y, W)))
        return fg.numpy.sum(fg.numpy.square(y_true - y1))

    W = np.array([[4.0, -2.0], [-1.0, -2.0]])
    expected, g_prev, p_prev = [], None, None
    for _ in range(64):
        expected.append(mse(W))
        g = fg.grad(mse)(W)
        p = g if p_prev is None else g + np.vdot(g, g) / np.vdot(g_prev, g_prev) * p_prev
        if p_prev is not None and np.vdot(g, p) <= 0:
            p = g
        W, g_prev, p_prev = W - 0.2 * p, g, p

    Wt = fg.tensor(np.array([[4.0, -2.0], [-1.0, -2.0]]), requires_grad=True)
    opt = ConjugateGradient([Wt], lr=0.2, method="FR", line_search=None, restart=10**9)
    closure = make_closure(opt, mse, [], [Wt])
    losses = [float(opt.step(closure)) for _ in range(64)]
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_allclose(Wt.numpy(), W, rtol=1e-12)


def test_cg_state_dict_round_trip():
    errors, _ = _cg_errors(4, line_search="exact_quadratic")
    A, b, x_star = _quadratic()
    At, bt = fg.tensor(A), fg.tensor(b)
    loss = lambda x: 0.5 * (x * (At @ x)).sum() - (bt * x).sum()
    x = fg.tensor(np.zeros(5), requires_grad=True)
    opt = ConjugateGradient([x], line_search="exact_quadratic")
    for _ in range(2):
        opt.step(make_closure(opt, loss, [], [x]))
    x2 = fg.tensor(x.numpy().copy(), requires_grad=True)
    opt2 = ConjugateGradient([x2], line_search="armijo")
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["line_search"] == "exact_quadratic"
    for _ in range(2):
        opt2.step(make_closure(opt2, loss, [], [x2]))
    assert np.abs(x2.numpy() - x_star).max() == pytest.approx(errors[-1], rel=1e-6)


# ----- line searches on their own ---------------------------------------------------------------
def _phi(f, df):
    return lambda t: (f(t), np.array([df(t)]))


def test_cubic_interpolate_is_exact_on_a_cubic_and_bisects_without_a_minimum():
    f, df = lambda t: t**3 - 3 * t, lambda t: 3 * t**2 - 3  # local minimum at t = 1
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, 0.0, 2.0, 1.0, 1.0, 2.0, bounds=(2.0, 4.0)) == 3.0  # d1^2 < g1 g2


def test_strong_wolfe_conditions_hold_where_it_stops():
    f, df = lambda t: np.exp(t) - 3 * t, lambda t: np.exp(t) - 3  # minimum at log 3
    for t0 in [1e-3, 0.5, 1.0, 5.0]:
        res = strong_wolfe(_phi(f, df), np.array([1.0]), t0, f(0.0), np.array([df(0.0)]), df(0.0))
        assert res.loss <= f(0.0) + 1e-4 * res.t * df(0.0)
        assert abs(df(res.t)) <= 0.9 * abs(df(0.0))
        assert res.loss == f(res.t) and res.grad[0] == df(res.t)


def test_armijo_and_exact_quadratic():
    f, df = lambda t: (t - 0.1) ** 2, lambda t: 2 * (t - 0.1)
    res = backtracking_armijo(_phi(f, df), np.array([1.0]), 1.0, f(0.0), np.array([df(0.0)]), df(0.0))
    assert res.t == 0.125 and res.evals == 4
    up = backtracking_armijo(_phi(lambda t: t, lambda t: 1.0), np.array([1.0]), 1.0, 0.0, np.array([1.0]), -1.0)
    assert up.t == 0.0 and up.loss == 0.0  # no decrease anywhere: no move
    res = exact_quadratic(_phi(f, df), np.array([1.0]), 1.0, f(0.0), np.array([df(0.0)]), df(0.0))
    assert res.t == pytest.approx(0.1) and res.evals == 2
    g, dg = lambda t: -np.cos(t), lambda t: np.sin(t)  # negative curvature at 4: falls back to Wolfe
    res = exact_quadratic(_phi(g, dg), np.array([1.0]), 4.0, g(0.0), np.array([0.0]), -0.5)
    assert res.evals >= 2


# ----- arguments ----------------------------------------------------------------------------------
def test_bad_arguments():
    w = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="learning rate"):
        LBFGS([w], lr=-1)
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="max_iter"):
        LBFGS([w], max_iter=0)
    with pytest.raises(ValueError, match="max_eval"):
        LBFGS([w], max_eval=0)
    with pytest.raises(ValueError, match="history_size"):
        LBFGS([w], history_size=0)
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [w]}, {"params": [fg.tensor([2.0], requires_grad=True)]}])
    with pytest.raises(TypeError, match="closure"):
        LBFGS([w]).step()
    with pytest.raises(ValueError, match="method"):
        ConjugateGradient([w], method="DY")
    with pytest.raises(ValueError, match="line_search"):
        ConjugateGradient([w], line_search="wolfe")
    with pytest.raises(ValueError, match="restart"):
        ConjugateGradient([w], restart=0)
    with pytest.raises(ValueError, match="c1 < c2"):
        ConjugateGradient([w], c2=1e-5)
    with pytest.raises(ValueError, match="tolerances"):
        ConjugateGradient([w], tolerance_grad=-1)
    with pytest.raises(TypeError, match="closure"):
        ConjugateGradient([w]).step()
    with pytest.raises(ValueError, match="shrink"):
        backtracking_armijo(lambda t: (0.0, np.zeros(1)), np.ones(1), 1.0, 0.0, np.zeros(1), -1.0, shrink=1.0)


def test_exported_from_flowgrad_optim():
    assert fg.optim.LBFGS is LBFGS and fg.optim.ConjugateGradient is ConjugateGradient
    assert {"LBFGS", "ConjugateGradient", "lr_scheduler", "Adam"} <= set(fg.optim.__all__)


@pytest.mark.parametrize("cls", [fg.optim.LBFGS, fg.optim.ConjugateGradient])
def test_flat_optimizers_need_a_closure_and_one_group(cls):
    w = fg.tensor([1.0], requires_grad=True)
    opt = cls([w])
    with pytest.raises(fg.DTypeError, match=rf"{cls.__name__}\.step needs a closure"):
        opt.step()
    with pytest.raises(fg.ArgumentError, match=rf"{cls.__name__} doesn't support per-parameter options"):
        opt.add_param_group({"params": [fg.tensor([2.0], requires_grad=True)]})
