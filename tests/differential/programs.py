"""Random programs run in flowgrad and in PyTorch, compared value by value and gradient by gradient.

A program is drawn from a seed: one to three input leaves of random broadcast-compatible shapes
(size-0 and size-1 dimensions included, float32 or float64), then 1-30 steps. Each step applies one
*spec* from :data:`SPECS` (one family of operations: an elementwise op, a reduction over random
axes, an indexing expression, a layer from ``nn.functional``, a loss...) to values already in the
program, or to new leaves and constants it creates (a Linear layer's weight, a target). A spec's
``fn(S, *args)`` is written once against a *side* ``S``: ``S.M`` is ``flowgrad`` or ``torch``,
``S.F`` is ``flowgrad.nn.functional`` or ``torch.nn.functional``, and ``S.T`` says which.

Values are kept inside each op's domain by construction (log and sqrt of softplus or exp
outputs, division by values bounded away from zero, arcsin of ``0.9 * tanh``) and away from
kinks and ties by a check on the actual values (relu and abs away from 0, max away from ties,
floor away from integers...): a step that would land too near one is rejected and another
drawn. Steps whose values overflow :data:`LIMIT` or grow past :data:`CAP` elements are
rejected too.

Every output of every step is compared with PyTorch's as it is made. At the end the loss
``sum(v * w_v)`` over every value of the program (random ``w_v``) is differentiated in both
frameworks: first order through ``.backward()`` and, when every step is twice differentiable,
again with ``create_graph=True`` and then the second derivatives, the gradient of
``sum(g * v)`` for random ``v``. Every leaf's gradients must agree: float64 to rtol 1e-9 and
atol 1e-12, float32 to rtol 1e-4 and atol 1e-5, atol scaled by the size of the numbers compared
(for gradients, the program's values and largest gradient). A float32 disagreement beyond that
goes to a referee, the same program in float64 (see ``Program.same``): float32 rounding in an
ill-conditioned program passes, a wrong rule does not.

The same seed always builds the same program, so a failure is replayed with
``FLOWGRAD_DIFF_SEED=<seed>`` (and cut to its first ``k`` steps with ``FLOWGRAD_DIFF_STEPS=k``).
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from typing import Any

import numpy as np
import torch

import flowgrad as fg

from .pieces import (  # noqa: F401  (the names specs import from here)
    CAP,
    DTYPES,
    FG,
    LIMIT,
    MAX_STEPS,
    SPECS,
    TORCH,
    WIDE,
    Const,
    Disagreement,
    Dtype,
    Side,
    Spec,
    Step,
    Val,
    Wide,
    _absmax,
    _flat,
    _np,
    _resolve,
    _widened,
    spec,
)  # fmt: skip


class Program:
    """One random program, built from ``seed`` and run step by step in both frameworks.

    ``dtype`` and ``length`` override what the seed draws (the other draws stay the same, so a
    program cut to ``length`` steps is the first ``length`` steps of the full one); ``force``
    names a spec tried first at every step (the coverage test).
    """

    def __init__(self, seed: int, dtype: str | None = None, length: int | None = None, force: str | None = None):
        self.seed = seed
        self.rng = np.random.default_rng([seed, 0xD1FF])
        drawn_dtype = ("float64", "float32")[int(self.rng.integers(2))]
        drawn_length = int(self.rng.integers(1, MAX_STEPS + 1))
        self.dt = DTYPES[dtype or drawn_dtype]
        self.length = drawn_length if length is None else min(length, drawn_length)
        self.force = force
        self.leaves: list[Val] = []
        self.pool: list[Val] = []  # values (float, requiring grad) later steps may use
        self.last: Val | None = None
        self.log: list[str] = []
        self.used: Counter = Counter()
        self.twice = True
        self.steps = 0
        self.second_checked = False
        self.refereed = 0
        self.trace: list[tuple[Step, list]] = []  # accepted steps and the Vals of their outputs
        self.ws: list[np.ndarray] = []  # the loss's weights, one per pool value
        self.vs: list[np.ndarray] = []  # the second derivatives' directions, one per leaf

    # ----- random draws -------------------------------------------------------------------
    def ri(self, lo: int, hi: int) -> int:
        """An int in [lo, hi]."""
        return int(self.rng.integers(lo, hi + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, seq: Any) -> Any:
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def arr(self, shape: tuple, kind: str | None = None) -> np.ndarray:
        kind = kind or self.choice("nnuuwp")
        r = self.rng
        if kind == "n":
            a = r.standard_normal(shape)
        elif kind == "u":
            a = r.uniform(-2.0, 2.0, shape)
        elif kind == "w":
            a = 3.0 * r.standard_normal(shape)
        else:  # positive
            a = r.uniform(0.5, 2.0, shape)
        return np.asarray(a, dtype=np.float64).astype(self.dt.np)

    # ----- values -------------------------------------------------------------------------
    def leaf(self, shape: tuple, kind: str | None = None, pool: bool = True, value: Any = None) -> Val:
        """A new input that requires grad: random numbers of ``kind``, or ``value``."""
        a = self.arr(tuple(shape), kind) if value is None else np.asarray(value, dtype=self.dt.np)
        v = Val(
            fg.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True), f"x{len(self.leaves)}"
        )
        assert v.f.dtype == self.dt.np
        self.leaves.append(v)
        if pool:
            self.pool.append(v)
        self.log.append(f"{v.name} = leaf {self.dt.name}{list(shape)}")
        return v

    def const(self, shape: tuple, kind: str | None = None) -> Const:
        return Const(self.arr(tuple(shape), kind))

    def fresh(self, shape: tuple, kind: str | None = None, grad: float = 0.7) -> Val | Const:
        return self.leaf(shape, kind) if self.chance(grad) else self.const(shape, kind)

    def bshape(self, shape: tuple, into: bool = False) -> tuple:
        """A random shape that broadcasts with ``shape`` (``into``: to exactly ``shape``)."""
        s = list(shape)
        if s and self.chance(0.4):
            s = s[self.ri(0, len(s)) :]
        s = [1 if self.chance(0.3) else d for d in s]
        if not into:
            if s and self.chance(0.15):  # grow one of shape's 1s
                ones = [i for i, d in enumerate(shape[len(shape) - len(s) :]) if d == 1]
                if ones:
                    s[self.choice(ones)] = self.ri(2, 3)
            if len(s) == len(shape) < 4 and self.chance(0.15):  # or add a leading dim
                s = [self.ri(1, 3)] + s
        return tuple(s)

    def partner(self, h: Val, same: bool = False, into: bool = False, grad: float = 0.7) -> Val | Const:
        """A second operand for ``h``: a value of the program or a new one, broadcast-compatible."""

        def fits(s: tuple) -> bool:
            if same:
                return s == h.shape
            try:
                b = np.broadcast_shapes(s, h.shape)
            except ValueError:
                return False
            return b == h.shape if into else math.prod(b) <= CAP

        cands = [v for v in self.pool if fits(v.shape)]
        if cands and self.chance(0.6):
            return self.choice(cands)
        return self.fresh(h.shape if same else self.bshape(h.shape, into), grad=grad)

    # ----- kinks and ties -----------------------------------------------------------------
    def near(self, x: Any, k: Any = 0.0) -> bool:
        """True if some element of ``x`` is within the margin of ``k`` (a kink, a jump)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # inf - inf (a -inf padded pooling window)
            return bool(np.any(np.abs(x - k) <= self.dt.margin * (1.0 + np.abs(x))))

    def near_int(self, x: Any, offset: float = 0.0) -> bool:
        """True if some element of ``x`` is near an integer (plus ``offset``)."""
        x = np.asarray(x, dtype=np.float64) - offset
        return self.near(x, np.round(x))

    def tied(self, x: np.ndarray, axes: tuple | None) -> bool:
        """True if the two largest values along ``axes`` (None: all) are nearly equal somewhere."""
        x = np.asarray(x, dtype=np.float64)
        if x.size == 0:
            return False
        if axes is None:
            flat = x.reshape(1, -1)
        else:
            moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
            flat = moved.reshape(moved.shape[: x.ndim - len(axes)] + (-1,))
        if flat.shape[-1] < 2:
            return False
        s = np.sort(flat, axis=-1)
        return self.near(s[..., -1], s[..., -2]) or self.near(-s[..., 0], -s[..., 1])

    def dims(self, h: Val, multi: bool = True, none: bool = True) -> tuple[Any, tuple | None]:
        """A random dim argument for a reduction of ``h`` and the axes it means (None: all)."""
        nd = h.ndim
        if nd == 0:
            d = self.choice([None, 0, -1] if none else [0, -1])
            return d, None
        r = self.rng.random()
        if none and r < 0.2:
            return None, None
        if multi and r < 0.45:
            k = self.ri(1, nd)
            axes = tuple(sorted(self.rng.choice(nd, k, replace=False).tolist()))
            d = tuple(a - nd if self.chance(0.3) else a for a in self.rng.permutation(axes).tolist())
            return d, axes
        a = self.ri(0, nd - 1)
        return (a - nd if self.chance(0.3) else a), (a,)

    @staticmethod
    def reduced(h: Val, axes: tuple | None) -> int:
        return h.size if axes is None else math.prod(h.shape[a] for a in axes)

    # ----- running ------------------------------------------------------------------------
    def apply(self, step: Step, sp: Spec) -> bool:
        """Run ``step`` in flowgrad; if it is acceptable, in torch too, and compare the outputs."""
        args_f = tuple(_resolve(a, FG) for a in step.args)
        with np.errstate(all="ignore"):  # a candidate may leave the domain: it is rejected below
            outs_f = _flat(step.fn(FG, *args_f))
        arrays = [_np(o) for o in outs_f]
        where = f"step {self.steps} ({sp.name}: {step.label})"
        args_t = tuple(_resolve(a, TORCH) for a in step.args)
        floats = [a for a in arrays if a.dtype.kind == "f"]
        if any(a.size > CAP for a in arrays) or any(np.abs(a).max(initial=0) > LIMIT for a in floats):
            return False
        if not all(np.isfinite(a).all() for a in floats):
            # Rejected, unless torch stays finite: then flowgrad overflowed (or lost its
            # domain) where torch did not, which is a disagreement, not a bad draw.
            try:
                outs_t = [_np(o) for o in _flat(step.fn(TORCH, *args_t))]
            except Exception:
                return False
            if len(outs_t) == len(arrays) and all(
                np.isfinite(b).all() for a, b in zip(arrays, outs_t) if a.dtype.kind == "f"
            ):
                raise Disagreement(f"{where}: flowgrad's output is not finite, torch's is")
            return False
        if step.check is not None and not step.check(arrays):
            return False
        outs_t = _flat(step.fn(TORCH, *args_t))
        if len(outs_t) != len(outs_f):
            raise Disagreement(f"{where}: flowgrad gives {len(outs_f)} outputs, torch {len(outs_t)}")
        names, vals = [], []
        self.trace.append((step, vals))
        scale = max((_absmax(a) for a in step.args if isinstance(a, (Val, Const))), default=1.0)
        for i, (a, b) in enumerate(zip(outs_f, outs_t)):
            name = f"v{len(self.log)}" + (f".{i}" if len(outs_f) > 1 else "")
            names.append(name)
            v = Val(a, b, name)
            vals.append(v)
            self.same(a, b, f"{where}: output {i}", ("out", id(v)), scale)
            if isinstance(a, fg.Tensor) and a.requires_grad and a.dtype.kind == "f":
                self.pool.append(v)
                self.last = v
        ins = ", ".join(a.name if isinstance(a, Val) else "const" for a in step.args if isinstance(a, (Val, Const)))
        self.log.append(f"{', '.join(names)} = {sp.name}: {step.label} ({ins}) -> {[tuple(o.shape) for o in outs_f]}")
        self.steps += 1
        self.used[sp.name] += 1
        self.twice = self.twice and sp.twice and step.twice
        return True

    def same(self, a: Any, b: Any, what: str, key: tuple | None = None, scale: float = 1.0) -> None:
        """Compare flowgrad's ``a`` with torch's ``b``: shape, dtype, then values.

        Floats agree when ``|a - b| <= atol * scale + rtol * |b|``, ``scale`` being the size of
        the numbers they were computed from (at least ``max|b|`` and 1). A float32 disagreement
        goes to a referee: torch in float64 on the same inputs. The disagreement is float32
        rounding in an ill-conditioned program (cos of 74, a layer_norm of nearly equal
        numbers), not a flowgrad error, and passes (counted in ``refereed``), where flowgrad
        is within twice the tolerance of that answer or at most 4 times as far from it as
        torch's float32 result; or where flowgrad run in float64 agrees with it to float64's
        tolerance (its rules are right) and its float32 result is within 100 times the
        tolerance. A wrong rule is off in float64 too.
        """
        an, bn = _np(a), _np(b)
        if an.shape != bn.shape:
            raise Disagreement(f"{what}: shape {an.shape}, torch {bn.shape}")
        if an.dtype != bn.dtype:
            raise Disagreement(f"{what}: dtype {an.dtype}, torch {bn.dtype}")
        if an.dtype.kind != "f":
            if not np.array_equal(an, bn):
                raise Disagreement(f"{what}: {an.tolist()} != torch {bn.tolist()}", key)
            return
        dt = DTYPES[str(an.dtype)]
        scale = max(1.0, scale, float(np.abs(bn).max(initial=0.0)))
        tol = dt.atol * scale + dt.rtol * np.abs(bn.astype(np.float64))
        err = np.abs(an.astype(np.float64) - bn.astype(np.float64))
        bad = ~(err <= tol)
        if not bad.any():
            return
        i = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), an.shape) if an.ndim else ()
        msg = (
            f"{what}: {int(bad.sum())} of {an.size} elements differ; worst at {i}: "
            f"flowgrad {an[i]!r}, torch {bn[i]!r} (rtol {dt.rtol}, atol {dt.atol} x {scale:.3g})"
        )
        if key is not None and an.dtype == np.float32:
            try:
                r = self.reference(key)
                r_fg = self.reference(key, "flowgrad")
            except Exception as exc:  # the report must not hide the mismatch
                raise Disagreement(f"{msg}\n  (float64 reference failed: {type(exc).__name__}: {exc})", key) from exc
            if r is not None and r.shape == an.shape == r_fg.shape:
                ef, et = np.abs(an - r), np.abs(bn - r)
                tol_r = dt.atol * scale + dt.rtol * np.abs(r)
                # (a) flowgrad's float32 is near the answer, or about as near as torch's
                near = ef <= np.maximum(4 * et, 2 * tol_r)
                # (b) or its rules are right (in float64 it agrees with torch) and the float32
                # gap is rounding its formula amplifies (prod's x / x cancelling near 0)
                f64 = DTYPES["float64"]
                rules = np.abs(r_fg - r) <= f64.atol * scale + f64.rtol * np.abs(r)
                rounding = rules & (ef <= 100 * tol_r)
                if np.all(~bad | near | rounding):
                    self.refereed += 1
                    self.log.append(
                        f"  (refereed: {what}: flowgrad off float64 by {ef.max():.3g}, torch by {et.max():.3g})"
                    )
                    return
                msg += (
                    f"\n  against torch float64 on the same inputs: flowgrad off by {ef.max():.3g}, torch by "
                    f"{et.max():.3g}; flowgrad float64 off by {np.abs(r_fg - r).max():.3g}"
                )
        raise Disagreement(msg, key)

    def make_inputs(self) -> None:
        nd = self.ri(0, 4)
        full = [self.choice([1, 2, 2, 3, 3, 4]) for _ in range(nd)]
        if nd and self.chance(0.1):
            full[self.ri(0, nd - 1)] = 0
        for i in range(self.ri(1, 3)):
            s = full[self.ri(0, nd) :] if i and self.chance(0.5) else list(full)
            s = [1 if self.chance(0.25) else d for d in s]
            self.leaf(tuple(s))
        self.last = self.leaves[0]

    def build(self) -> None:
        """Draw and run the steps (comparing outputs as they are made)."""
        self.make_inputs()
        weights = np.array([s.weight for s in SPECS])
        weights = weights / weights.sum()
        forced = [s for s in SPECS if s.name == self.force]
        tries = 0
        while self.steps < self.length and tries < 8 * self.length + 20:
            tries += 1
            h = self.last if self.chance(0.6) else self.choice(self.pool)
            sp = forced[0] if forced and tries % 2 else SPECS[int(self.rng.choice(len(SPECS), p=weights))]
            step = sp.gen(self, h)
            if step is not None:
                self.apply(step, sp)

    def gradients(self, second: bool = True) -> None:
        """Backward through ``sum(v * w_v)`` in both frameworks; compare gradients (and second ones)."""
        lf, lt = [], []
        for v in self.pool:
            w = self.rng.standard_normal(v.shape).astype(v.f.dtype)
            self.ws.append(w)
            lf.append((v.f * fg.from_numpy(w)).sum())
            lt.append((v.t * torch.from_numpy(w.copy())).sum())
        loss_f, loss_t = sum(lf[1:], lf[0]), sum(lt[1:], lt[0])
        values = max((_absmax(v) for v in self.pool), default=1.0)
        self.same(loss_f, loss_t, "loss", ("loss",), values)
        second = second and self.twice
        loss_f.backward(retain_graph=second)
        loss_t.backward(retain_graph=second)
        gfs = [np.zeros(x.shape, x.f.dtype) if x.f.grad is None else x.f.grad for x in self.leaves]
        gts = [torch.zeros_like(x.t) if x.t.grad is None else x.t.grad for x in self.leaves]
        # Gradients are compared on the scale of the numbers they come from: the program's
        # values and its largest gradient (a gradient that cancels to nearly 0 is not exact).
        grads = max([values] + [_absmax(g) for g in gts])
        for k, (x, gf, gt) in enumerate(zip(self.leaves, gfs, gts)):
            self.same(gf, gt, f"gradient of {x.name}", ("grad", k), grads)
        if not second:
            return
        self.second_checked = True
        xs_f, xs_t = [x.f for x in self.leaves], [x.t for x in self.leaves]
        gs_f = fg.autograd.grad(loss_f, xs_f, create_graph=True, allow_unused=True)
        gs_t = torch.autograd.grad(loss_t, xs_t, create_graph=True, allow_unused=True)
        sf, st = [], []
        for k, (x, gf, gt) in enumerate(zip(self.leaves, gs_f, gs_t)):
            gf_ = np.zeros(x.shape, x.f.dtype) if gf is None else gf
            gt_ = torch.zeros_like(x.t) if gt is None else gt
            self.same(gf_, gt_, f"create_graph gradient of {x.name}", ("grad", k), grads)
            v = self.rng.standard_normal(x.shape).astype(x.f.dtype)
            self.vs.append(v)
            if gf is not None and gf.requires_grad:
                sf.append((gf * fg.from_numpy(v)).sum())
            if gt is not None and gt.requires_grad:
                st.append((gt * torch.from_numpy(v.copy())).sum())
        hs_f = fg.autograd.grad(sum(sf[1:], sf[0]), xs_f, allow_unused=True) if sf else [None] * len(xs_f)
        hs_t = torch.autograd.grad(sum(st[1:], st[0]), xs_t, allow_unused=True) if st else [None] * len(xs_t)
        hfs = [np.zeros(x.shape, x.f.dtype) if hf is None else hf for x, hf in zip(self.leaves, hs_f)]
        hts = [torch.zeros_like(x.t) if ht is None else ht for x, ht in zip(self.leaves, hs_t)]
        seconds = max([grads] + [_absmax(h) for h in hts])
        for k, (x, hf, ht) in enumerate(zip(self.leaves, hfs, hts)):
            self.same(hf, ht, f"second derivative of {x.name}", ("second", k), seconds)

    def reference(self, key: tuple, framework: str = "torch") -> np.ndarray | None:
        """The quantity ``key`` recomputed in float64 (by torch or flowgrad) from the program's inputs."""
        S = WIDE[framework]
        lib = torch if S.T else fg
        ref: dict[int, Any] = {}
        xs = []
        for x in self.leaves:
            t = lib.tensor(x.f.numpy().astype(np.float64), requires_grad=True)
            ref[id(x)] = t
            xs.append(t)
        for step, vals in self.trace:
            outs = _flat(step.fn(S, *(_resolve(a, S, ref) for a in step.args)))
            for o, v in zip(outs, vals):
                ref[id(v)] = o = _widened(o)
                if key == ("out", id(v)):
                    return _np(o)
        if key[0] == "out":
            return None
        loss = sum((ref[id(v)] * S.c(w)).sum() for v, w in zip(self.pool, self.ws))
        if key == ("loss",):
            return _np(loss)
        gs = lib.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
        if key[0] == "grad":
            g = gs[key[1]]
            return np.zeros(self.leaves[key[1]].shape) if g is None else _np(g)
        terms = [(g * S.c(v)).sum() for g, v in zip(gs, self.vs) if g is not None and g.requires_grad]
        if not terms:
            return np.zeros(self.leaves[key[1]].shape)
        hs = lib.autograd.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
        h = hs[key[1]]
        return np.zeros(self.leaves[key[1]].shape) if h is None else _np(h)

    def run(self, second: bool = True) -> None:
        state = fg.get_rng_state()
        try:
            self.build()
            self.gradients(second)
        finally:
            fg.set_rng_state(state)

    def describe(self, last: int = 40) -> str:
        lines = self.log[-last:]
        more = [f"  ... {len(self.log) - last} lines before"] if len(self.log) > last else []
        return "\n".join(more + ["  " + s for s in lines])


def replay_hint(seed: int, steps: int | None = None) -> str:
    cut = f" FLOWGRAD_DIFF_STEPS={steps}" if steps is not None else ""
    return f"FLOWGRAD_DIFF_SEED={seed}{cut} python -m pytest tests/differential -k replay -s"


def run_seed(seed: int, length: int | None = None, second: bool = True) -> Program:
    """Build and run program ``seed``; raise (with the replay command and the program) if it disagrees."""
    p = Program(seed, length=length)
    try:
        p.run(second)
    except Exception as exc:
        raise Disagreement(
            f"differential program seed {seed} ({p.dt.name}, {p.steps} of {p.length} steps) failed:\n"
            f"  {type(exc).__name__}: {exc}\n{p.describe()}\n  replay: {replay_hint(seed)}"
        ) from exc
    return p


def first_failing_length(seed: int) -> int | None:
    """The fewest steps with which program ``seed`` still fails (its failing prefix), or None."""
    full = Program(seed).length
    for k in range(0, full + 1):
        try:
            Program(seed, length=k).run()
        except Exception:
            return k
    return None


# The families fill SPECS in this order, which a seed's program depends on (so not an import list
# that a formatter may sort).
for _family in ("specs", "specs_reduce", "specs_shapes", "specs_nn", "specs_layers", "specs_linalg"):
    importlib.import_module(f".{_family}", __package__)
