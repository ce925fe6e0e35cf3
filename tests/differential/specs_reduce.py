"""Random-program operations, part 2: reductions (see specs.py)."""

from __future__ import annotations

import numpy as np

from .programs import Program, Step, Val, spec

# ============================================================ reductions


@spec("sum", weight=1.5)
def _sum(p: Program, h: Val):
    d, _ = p.dims(h)
    keep = p.chance(0.4)
    form = p.choice(["M.sum", "h.sum"]) if d is not None else p.choice(["h.sum()", "M.sum", "h.sum"])
    if form == "h.sum()":
        return Step(lambda S, h: h.sum(), (h,), "h.sum()")
    if form == "M.sum":
        return Step(lambda S, h: S.M.sum(h, d, keepdim=keep), (h,), f"sum(h, {d}, keepdim={keep})")
    return Step(lambda S, h: h.sum(dim=d, keepdim=keep), (h,), f"h.sum(dim={d}, keepdim={keep})")


@spec("mean")
def _mean(p: Program, h: Val):
    d, axes = p.dims(h)
    if p.reduced(h, axes) == 0:  # the mean of nothing is nan
        return None
    keep = p.chance(0.4)
    if d is None and p.chance(0.5):
        return Step(lambda S, h: h.mean(), (h,), "h.mean()")
    return Step(lambda S, h: S.M.mean(h, d, keepdim=keep), (h,), f"mean(h, {d}, keepdim={keep})")


@spec("var_std")
def _var(p: Program, h: Val):
    d, axes = p.dims(h)
    n = p.reduced(h, axes)
    corr = p.choice([0, 1, 1])
    if n <= corr or h.size == 0:  # torch: nan (division by n - correction <= 0), and a warning
        return None
    keep = p.chance(0.4)
    if p.chance(0.5):
        return Step(
            lambda S, h: h.var(dim=d, correction=corr, keepdim=keep), (h,), f"var({d}, correction={corr}, {keep})"
        )
    x = h.data.astype(np.float64)
    sd = np.std(x, axis=axes) if axes is not None else np.std(x)
    if p.near(sd):  # sqrt's kink at zero variance
        return None
    if d is None and corr == 1 and not keep and p.chance(0.5):
        return Step(lambda S, h: h.std(), (h,), "h.std()")
    return Step(
        lambda S, h: S.M.std(h, dim=d, correction=corr, keepdim=keep), (h,), f"std({d}, correction={corr}, {keep})"
    )


@spec("max_min", weight=1.5)
def _max(p: Program, h: Val):
    d, axes = p.dims(h)
    if p.reduced(h, axes) == 0 or p.tied(h.data, axes):  # max of nothing: an error in both
        return None
    keep = p.chance(0.4)
    if d is None:
        form = p.choice(["h.max()", "h.min()", "M.amax", "M.amin"])
        if form == "h.max()":
            return Step(lambda S, h: h.max(), (h,), "h.max()")
        if form == "h.min()":
            return Step(lambda S, h: S.M.min(h), (h,), "min(h)")
        # amax over every dim, named explicitly (torch's amax needs dims)
        all_dims = tuple(range(h.ndim)) or 0
        f = (
            (lambda S, h: S.M.amax(h, all_dims, keepdim=keep))
            if form == "M.amax"
            else (lambda S, h: h.amin(all_dims, keepdim=keep))
        )
        return Step(f, (h,), f"{form}(h, {all_dims}, keepdim={keep})")
    if isinstance(d, tuple):
        if p.chance(0.5):
            return Step(lambda S, h: S.M.amax(h, d, keepdim=keep), (h,), f"amax(h, {d}, keepdim={keep})")
        return Step(lambda S, h: h.amin(dim=d, keepdim=keep), (h,), f"h.amin({d}, keepdim={keep})")
    form = p.choice(["M.max", "h.min", "values", "amax"])
    if form == "M.max":  # (values, indices)
        return Step(lambda S, h: S.M.max(h, d, keepdim=keep), (h,), f"max(h, {d}, keepdim={keep})")
    if form == "h.min":
        return Step(lambda S, h: h.min(dim=d, keepdim=keep), (h,), f"h.min(dim={d}, keepdim={keep})")
    if form == "values":
        return Step(lambda S, h: h.max(d).values, (h,), f"h.max({d}).values")
    return Step(lambda S, h: S.M.amax(h, d, keepdim=keep), (h,), f"amax(h, {d}, keepdim={keep})")


@spec("argmax_argmin")
def _argmax(p: Program, h: Val):
    if h.size == 0:
        return None
    if h.ndim == 0 or p.chance(0.3):
        if p.tied(h.data, None):
            return None
        return Step(lambda S, h: (S.M.argmax(h), S.M.argmin(h)), (h,), "argmax(h), argmin(h)")
    d = p.ri(-h.ndim, h.ndim - 1)
    if h.shape[d] == 0 or p.tied(h.data, (d % h.ndim,)):
        return None
    keep = p.chance(0.5)
    return Step(
        lambda S, h: (S.M.argmax(h, d, keepdim=keep), h.argmin(dim=d, keepdim=keep)),
        (h,),
        f"argmax/argmin(h, {d}, keepdim={keep})",
    )


@spec("prod")
def _prod(p: Program, h: Val):
    # torch's prod takes one dim (or none)
    keep = p.chance(0.4)
    if h.ndim == 0 or p.chance(0.3):
        return Step(lambda S, h: h.prod(), (h,), "h.prod()")
    d = p.ri(-h.ndim, h.ndim - 1)
    return Step(lambda S, h: S.M.prod(h, d, keepdim=keep), (h,), f"prod(h, {d}, keepdim={keep})")


@spec("logsumexp")
def _logsumexp(p: Program, h: Val):
    d, axes = p.dims(h, none=False)
    if p.reduced(h, axes) == 0:
        return None
    keep = p.chance(0.4)
    if p.chance(0.5):
        return Step(lambda S, h: S.M.logsumexp(h, d, keepdim=keep), (h,), f"logsumexp(h, {d}, keepdim={keep})")
    return Step(lambda S, h: h.logsumexp(d, keepdim=keep), (h,), f"h.logsumexp({d}, keepdim={keep})")


@spec("softmax", weight=1.5)
def _softmax(p: Program, h: Val):
    d = p.ri(-h.ndim, h.ndim - 1) if h.ndim else p.choice([0, -1])
    fns = {
        "M.softmax": lambda S, h: S.M.softmax(h, d),
        "h.softmax": lambda S, h: h.softmax(d),
        "F.softmax": lambda S, h: S.F.softmax(h, dim=d),
        "M.log_softmax": lambda S, h: S.M.log_softmax(h, d),
        "h.log_softmax": lambda S, h: h.log_softmax(dim=d),
        "F.log_softmax": lambda S, h: S.F.log_softmax(h, dim=d),
    }
    label = p.choice(sorted(fns))
    return Step(fns[label], (h,), f"{label}(dim={d})")


@spec("cumsum")
def _cumsum(p: Program, h: Val):
    if h.ndim == 0:
        return None
    d = p.ri(-h.ndim, h.ndim - 1)
    if p.chance(0.5):
        return Step(lambda S, h: h.cumsum(d), (h,), f"h.cumsum({d})")
    return Step(lambda S, h: h.cumsum(dim=d), (h,), f"h.cumsum(dim={d})")


@spec("any_all")
def _any_all(p: Program, h: Val):
    k = p.choice([0.0, 0.5])
    if p.near(h.data, k):
        return None
    d, _ = p.dims(h, none=True)
    keep = p.chance(0.5)
    if d is None:
        return Step(lambda S, h: (S.M.any(h > k), S.M.all(h > k)), (h,), f"any/all(h > {k})")
    if p.chance(0.5):
        return Step(lambda S, h: (S.M.any(h > k, d, keepdim=keep), (h < k).all(d, keepdim=keep)), (h,), f"any/all({d})")
    return Step(
        lambda S, h: S.M.where(S.M.any(h > k, d, keepdim=True), h, -2.0 * h), (h,), f"where(any(h > {k}, {d}), h, -2h)"
    )


@spec("norm")
def _norm(p: Program, h: Val):
    d, axes = p.dims(h)
    keep = p.chance(0.4)
    x = h.data.astype(np.float64)
    if p.chance(0.5):
        if p.near(x):
            return None
        return Step(lambda S, h: S.M.norm(h, 1, d, keepdim=keep), (h,), f"norm(h, 1, {d}, keepdim={keep})")
    nrm = np.sqrt(np.sum(x * x, axis=axes))
    if p.near(nrm):
        return None
    return Step(lambda S, h: S.M.norm(h, 2, d, keepdim=keep), (h,), f"norm(h, 2, {d}, keepdim={keep})")
