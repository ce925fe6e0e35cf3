"""Seed 000's problem solved by gradient descent, conjugate gradient and L-BFGS, side by side.

The notebook trains W (2 x 2) of a two-layer sigmoid network on one sample by
gradient descent (step 0.2), then tries "conjugate gradient" with
``beta = np.dot(g, g) / np.dot(g_prev, g_prev)``. With 2 x 2 gradients np.dot is a matrix
product, so that beta is a matrix, not the scalar the method needs. Here:

- gradient descent: ``fg.optim.SGD(lr=0.2)``, one gradient evaluation per step;
- conjugate gradient: ``fg.optim.ConjugateGradient`` (Polak-Ribiere+, scalar beta from
  flattened inner products, strong-Wolfe line search, restarts);
- L-BFGS: ``fg.optim.LBFGS(line_search_fn='strong_wolfe')``.

Each method gets the same budget of gradient evaluations; the table prints the loss after
each number of evaluations, and the picture (with matplotlib) plots loss against evaluations.

Run: python examples/conjugate_gradient.py [--evals 60] [--plot cg.png]
"""

import argparse

import numpy as np

import flowgrad as fg

parser = argparse.ArgumentParser(description="GD vs CG vs L-BFGS on seed 000's problem")
parser.add_argument("--evals", type=int, default=60, help="gradient evaluations per method")
parser.add_argument("--plot", default="conjugate_gradient.png", help="where to save the plot ('' for none)")
args = parser.parse_args()

x0 = fg.tensor([2.0, -4.0], dtype=fg.float64)
y_true = fg.tensor([0.0, 1.0], dtype=fg.float64)
W_START = np.array([[4.0, -2.0], [-1.0, -2.0]])


def mse(W):
    y = fg.sigmoid(x0 @ W)
    y1 = fg.sigmoid(y @ W)
    return ((y_true - y1) ** 2).sum()


def run(make_optimizer, closure_driven):
    """Losses after each gradient evaluation, up to the budget."""
    W = fg.tensor(W_START, requires_grad=True)
    opt = make_optimizer([W])
    losses = []

    def closure():
        opt.zero_grad()
        loss = mse(W)
        loss.backward()
        losses.append(loss.item())
        return loss

    while len(losses) < args.evals:
        before = len(losses)
        if closure_driven:
            opt.step(closure)
        else:
            closure()
            opt.step()
        if len(losses) == before:  # converged: nothing more to evaluate
            break
    losses = losses[: args.evals]
    return losses + [losses[-1]] * (args.evals - len(losses))  # flat after convergence


methods = {
    "gradient descent": run(lambda p: fg.optim.SGD(p, lr=0.2), closure_driven=False),
    "conjugate gradient (PR+)": run(
        lambda p: fg.optim.ConjugateGradient(p, method="PR+", max_iter=5), closure_driven=True
    ),
    "L-BFGS": run(lambda p: fg.optim.LBFGS(p, max_iter=5, line_search_fn="strong_wolfe"), closure_driven=True),
}

print(f"{'evaluations':>12}" + "".join(f"{name:>28}" for name in methods))
for k in [1, 2, 5, 10, 20, 40, args.evals]:
    if k <= args.evals:
        print(f"{k:>12}" + "".join(f"{losses[k - 1]:>28.6g}" for losses in methods.values()))

if args.plot:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print('no plot: install matplotlib (pip install "flowgrad[plot]")')
    else:
        fig = Figure(figsize=(6.4, 4.8), layout="tight")
        ax = fig.add_subplot()
        for name, losses in methods.items():
            ax.semilogy(range(1, len(losses) + 1), np.maximum(losses, 1e-16), label=name)
        ax.set_xlabel("gradient evaluations")
        ax.set_ylabel("loss")
        ax.set_title("Loss of a tiny sigmoid network: gradient descent, conjugate gradient, L-BFGS")
        ax.legend()
        fig.savefig(args.plot)
        print(f"saved the plot to {args.plot}")
