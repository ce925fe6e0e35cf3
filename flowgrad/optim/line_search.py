"""Line searches along a direction ``d`` for the closure-driven optimizers.

Every search looks at ``phi(t) = f(x + t d)`` through ``evaluate(t) -> (loss, flat_grad)``,
which moves the parameters to ``x + t d``, evaluates the closure and puts them back. The
searches only need ``phi(0) = f``, ``phi'(0) = gtd = <g, d>`` and ``evaluate``; they return a
:class:`LineSearchResult` with the loss and gradient *at the accepted step*, so the optimizer
never evaluates that point twice.

- :func:`strong_wolfe`: bracketing then zoom with safeguarded cubic interpolation
  (Nocedal & Wright, *Numerical Optimization*, algorithms 3.5 and 3.6), with the same
  decisions, constants and budget as ``torch.optim.LBFGS(line_search_fn="strong_wolfe")``.
- :func:`backtracking_armijo`: halve the step until the sufficient-decrease condition holds.
- :func:`exact_quadratic`: the exact minimizer along ``d`` when ``phi`` is a quadratic.

>>> import numpy as np
>>> from flowgrad.optim.line_search import strong_wolfe
>>> evaluate = lambda t: ((t - 3.0) ** 2, np.array([2 * (t - 3.0)]))  # phi(t) = (t - 3)^2
>>> res = strong_wolfe(evaluate, np.array([1.0]), t=10.0, f=9.0, g=np.array([-6.0]), gtd=-6.0)
>>> float(res.t), res.evals
(3.0, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

Evaluate = Callable[[float], "tuple[float, np.ndarray]"]


class LineSearchResult(NamedTuple):
    """What a line search found: loss and flat gradient at step ``t``, and how many evaluations it used.

    >>> import numpy as np
    >>> loss, grad, t, evals = LineSearchResult(0.5, np.zeros(2), 1.0, 1)
    >>> t, evals
    (1.0, 1)
    """

    loss: float
    grad: np.ndarray
    t: float
    evals: int


def cubic_interpolate(
    x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds: tuple[float, float] | None = None
) -> float:
    """Minimizer of the cubic matching ``f`` and ``f'`` at ``x1`` and ``x2``, clipped to ``bounds``.

    ``bounds`` defaults to the interval between the two points. Where the cubic has no
    minimizer (negative discriminant) the midpoint of the bounds is returned.

    >>> cubic_interpolate(0.0, 0.0, -1.0, 2.0, 0.0, 1.0)   # phi(t) = (t - 1)^2 / 2 - 1/2
    1.0
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    # Nocedal & Wright (3.59), written with the points in increasing order so the sign of
    # the square root is always +: ``b`` is the right end, ``a`` the left.
    a, ga, b, gb = (x1, g1, x2, g2) if x1 <= x2 else (x2, g2, x1, g1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1**2 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2))
    return min(max(t, lo), hi)


def strong_wolfe(
    evaluate: Evaluate,
    d: np.ndarray,
    t: float,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> LineSearchResult:
    """A step ``t`` satisfying the strong Wolfe conditions along ``d``, starting from the trial ``t``.

    Sufficient decrease ``phi(t) <= f + c1 t gtd`` and curvature ``|phi'(t)| <= c2 |gtd|``.
    At most ``max_ls`` evaluations after the first; the search also stops once the bracket is
    narrower than ``tolerance_change`` (measured as ``width * max|d|``, a change in the
    parameters). It then returns the best point of the bracket, which may be ``t = 0``.

    >>> import numpy as np
    >>> evaluate = lambda t: (t**4 - t, np.array([4 * t**3 - 1]))
    >>> res = strong_wolfe(evaluate, np.array([1.0]), t=1.0, f=0.0, g=np.array([-1.0]), gtd=-1.0)
    >>> bool(abs(4 * res.t**3 - 1) <= 0.9)
    True
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)

    # --- bracketing: grow the step until [t_prev, t] holds a point with the Wolfe conditions
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    bracket: list = []
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [(t, f_new, g_new, gtd_new)]
            done = True
            break
        if gtd_new >= 0:  # walked past a minimizer: it lies in [t_prev, t]
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        # Still going down: extrapolate, at least 1% further and at most 10 times as far.
        t_next = cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # budget spent while extrapolating: keep the better of 0 and t
        bracket = [(0.0, f, g, gtd), (t, f_new, g_new, gtd_new)]

    # --- zoom: shrink the bracket; ``lo`` is the end with the lower loss
    lo, hi = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(a, fa, ga, b, fb, gb)
        # Safeguard: a trial hugging an end of the bracket shrinks it too slowly. The first
        # time, allow it; a second time in a row (or outside the bracket) move it to 10% in.
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if insufficient_progress or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        point = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or f_new >= bracket[lo][1]:
            bracket[hi] = point  # not low enough: the new point closes the bracket
            lo, hi = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[hi][0] - bracket[lo][0]) >= 0:
                bracket[hi] = bracket[lo]  # the minimizer lies on the other side of the new point
            bracket[lo] = point
    t, f_new, g_new, _ = bracket[lo]
    return LineSearchResult(f_new, g_new, t, evals)


def backtracking_armijo(
    evaluate: Evaluate,
    d: np.ndarray,
    t: float,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_ls: int = 25,
) -> LineSearchResult:
    """The first of ``t, shrink t, shrink^2 t, ...`` with sufficient decrease ``phi(t) <= f + c1 t gtd``.

    If none of ``max_ls`` trials decreases enough, returns ``t = 0`` with the starting loss
    and gradient (no move), so a caller's change tolerance stops it.

    >>> import numpy as np
    >>> evaluate = lambda t: ((t - 0.3) ** 2, np.array([2 * (t - 0.3)]))
    >>> res = backtracking_armijo(evaluate, np.array([1.0]), t=1.0, f=0.09, g=np.array([-0.6]), gtd=-0.6)
    >>> res.t, res.evals
    (0.5, 2)
    """
    if not 0 < shrink < 1:
        raise ValueError(f"backtracking_armijo: shrink must be in (0, 1), got {shrink}")
    for evals in range(1, max_ls + 1):
        f_new, g_new = evaluate(t)
        if f_new <= f + c1 * t * gtd:
            return LineSearchResult(f_new, g_new, t, evals)
        t *= shrink
    return LineSearchResult(f, g, 0.0, max_ls)


def exact_quadratic(
    evaluate: Evaluate,
    d: np.ndarray,
    t: float,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.1,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> LineSearchResult:
    """The exact minimizer along ``d`` when ``phi`` is quadratic, else a strong-Wolfe step.

    For a quadratic, ``phi'`` is linear in ``t``: one gradient at the trial ``t`` gives the
    curvature ``(phi'(t) - gtd) / t`` and the minimizer ``t* = -gtd / curvature`` (a secant step
    on ``phi'``). That is what makes conjugate gradient finish an n-dimensional quadratic in n
    iterations. If the curvature is not positive or ``t*`` fails the sufficient-decrease test,
    ``phi`` is not close to a convex quadratic and the search falls back to :func:`strong_wolfe`.

    >>> import numpy as np
    >>> evaluate = lambda t: (2 * t * t - 4 * t, np.array([4 * t - 4]))  # minimum at t = 1
    >>> res = exact_quadratic(evaluate, np.array([1.0]), t=0.25, f=0.0, g=np.array([-4.0]), gtd=-4.0)
    >>> float(res.t), res.evals
    (1.0, 2)
    """
    if not t > 0:
        raise ValueError(f"exact_quadratic: the trial step must be > 0 to measure the curvature, got {t}")
    _, g_trial = evaluate(t)
    curvature = (g_trial.dot(d) - gtd) / t
    if curvature > 0:
        t_star = -gtd / curvature
        f_star, g_star = evaluate(t_star)
        if f_star <= f + c1 * t_star * gtd:
            return LineSearchResult(f_star, g_star, t_star, 2)
    res = strong_wolfe(evaluate, d, t, f, g, gtd, c1, c2, tolerance_change, max_ls)
    return res._replace(evals=res.evals + (2 if curvature > 0 else 1))
