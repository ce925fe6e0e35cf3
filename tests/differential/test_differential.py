"""Differential testing against PyTorch: random programs, values and first and second derivatives.

``tests/differential/programs.py`` builds a program from a seed and runs it in both frameworks;
``specs.py`` holds the operations programs are made of. CI runs seeds ``0..499``;
``FLOWGRAD_VERIFY=1`` (``make verify``) runs ``0..19999``. Either prints a figure at the end.

Replay one program, printing it step by step::

    FLOWGRAD_DIFF_SEED=1234 python -m pytest tests/differential -k replay -s

``FLOWGRAD_DIFF_STEPS=k`` cuts it to its first ``k`` steps, ``FLOWGRAD_DIFF_DTYPE=float32``
overrides its dtype (both as the Hypothesis test reports them).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flowgrad.core.ops import REGISTRY  # noqa: E402

from .programs import SPECS, Disagreement, Program, first_failing_length, replay_hint, run_seed  # noqa: E402
from .tally import TALLY  # noqa: E402

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

VERIFY = os.environ.get("FLOWGRAD_VERIFY") == "1"
PROGRAMS = int(os.environ.get("FLOWGRAD_DIFF_PROGRAMS", 20_000 if VERIFY else 500))
BLOCK = 250  # seeds per test case
SHOWN = 3  # failures shown in full per block; the others by seed
FORCED_RUNS = 8  # programs per spec in the coverage test

# Registry ops with no differential case, and why. Five primitives with no torch twin are
# reached through public functions that use them, which the coverage test checks by watching
# every op's forward run:
#   sum_to         undoes broadcasting in every create_graph backward (second derivatives)
#   index_scatter  the gradient of getitem, run as an op by getitem's second derivatives
#   unfold2d       F.conv2d, F.max_pool2d, F.avg_pool2d
#   fold2d         the gradient of unfold2d, run as an op by conv2d's second derivatives
#   uniform        F.dropout in training (torch's side replays flowgrad's mask)
# SciPy's special functions below have no torch function with a gradient (torch.special's
# bessel_j0/j1/y0/y1 give none); the op table checks them against SciPy's values and central
# differences to second order, and tests/test_scipy_special_more.py against HIPS autograd.
_NO_TORCH_GRADIENT = "scipy.special function with no differentiable torch twin"
# The fft family and the complex-valued ops follow autograd's convention for complex gradients
# (the conjugate of torch's); the op table checks them with central differences over real and
# imaginary parts, and tests/test_complex_grad.py against HIPS autograd itself.
_COMPLEX_CONVENTION = "complex values in autograd's convention: checked against HIPS autograd instead"
EXEMPT: dict[str, str] = {
    **{name: _NO_TORCH_GRADIENT for name in ["betainc", "gammasgn", "j0", "j1", "y0", "y1", "jn", "yn"]},
    **{
        name: _COMPLEX_CONVENTION
        for name in ["fftn", "ifftn", "rfftn", "irfftn", "real", "imag", "conj", "angle", "abs_complex"]
    },
}


def programs() -> st.SearchStrategy[Program]:
    """Hypothesis strategy: random programs (seed, dtype, length; shrinking shortens them)."""
    return st.builds(
        Program,
        seed=st.integers(0, 2**32 - 1),
        dtype=st.sampled_from(["float64", "float32"]),
        length=st.integers(1, 30),
    )


@pytest.mark.parametrize("start", range(0, PROGRAMS, BLOCK), ids=lambda s: f"seeds{s}-{min(s + BLOCK, PROGRAMS) - 1}")
def test_random_programs(start: int) -> None:
    TALLY["verify"] = VERIFY
    failures: list[tuple[int, str]] = []
    for seed in range(start, min(start + BLOCK, PROGRAMS)):
        TALLY["run"] += 1
        try:
            p = run_seed(seed)
        except Disagreement as exc:
            TALLY["failed"] += 1
            failures.append((seed, str(exc)))
        else:
            TALLY["passed"] += 1
            TALLY["second"] += p.second_checked
            TALLY["refereed"] += p.refereed
    if failures:
        shown = "\n\n".join(msg for _, msg in failures[:SHOWN])
        seeds = [s for s, _ in failures]
        cut = first_failing_length(seeds[0])
        pytest.fail(
            f"{len(failures)} differential programs disagree with torch; seeds {seeds}\n"
            f"the first fails from its first {cut} steps on: {replay_hint(seeds[0], cut)}\n\n{shown}",
            pytrace=False,
        )


def test_replay() -> None:
    """Replay one program (``FLOWGRAD_DIFF_SEED``) and print it."""
    if "FLOWGRAD_DIFF_SEED" not in os.environ:
        pytest.skip("set FLOWGRAD_DIFF_SEED=<seed> to replay one differential program")
    seed = int(os.environ["FLOWGRAD_DIFF_SEED"])
    steps = os.environ.get("FLOWGRAD_DIFF_STEPS")
    p = Program(seed, dtype=os.environ.get("FLOWGRAD_DIFF_DTYPE"), length=None if steps is None else int(steps))
    try:
        p.run()
    finally:
        print(f"\nprogram {seed} ({p.dt.name}, {p.steps} steps, second derivatives: {p.second_checked}):")
        print(p.describe(last=10_000))


@settings(derandomize=True, max_examples=25, deadline=None)
@given(programs())
def test_hypothesis_programs(p: Program) -> None:
    note(f"replay: FLOWGRAD_DIFF_SEED={p.seed} FLOWGRAD_DIFF_DTYPE={p.dt.name} FLOWGRAD_DIFF_STEPS={p.length}")
    try:
        p.run()
    finally:
        note(p.describe())


@contextlib.contextmanager
def watching_every_op() -> Iterator[set]:
    """Record the name of every registry op whose forward runs."""
    seen: set = set()
    originals = {name: op.forward for name, op in REGISTRY.items()}

    def spy(name, forward):
        def run(*args, **kwargs):
            seen.add(name)
            return forward(*args, **kwargs)

        return run

    for name, op in REGISTRY.items():
        op.forward = spy(name, op.forward)
    try:
        yield seen
    finally:
        for name, op in REGISTRY.items():
            op.forward = originals[name]


def test_every_registry_op_is_covered() -> None:
    """Every primitive runs in some differential program (or is exempt, with the reason)."""
    unknown = sorted(set(EXEMPT) - set(REGISTRY))
    assert not unknown, f"EXEMPT names ops that are not in the registry: {unknown}"
    never = []
    with watching_every_op() as seen:
        for sp in SPECS:
            # Short programs with this spec tried first at every step, until it has run in
            # FORCED_RUNS programs (its variants draw different ops) and, if it has second
            # derivatives, in one that compared them.
            runs, second = 0, not sp.twice
            for seed in range(100):
                p = Program(seed, length=3, force=sp.name)
                p.run()
                if p.used[sp.name]:
                    runs += 1
                    second = second or p.second_checked
                if runs >= FORCED_RUNS and second:
                    break
            else:
                never.append(sp.name)
    assert not never, f"specs that never ran (in a program with second derivatives, if they have them): {never}"
    missing = sorted(set(REGISTRY) - seen - set(EXEMPT))
    assert not missing, (
        f"registry ops with no differential case: {missing}. Add a spec to tests/differential/specs*.py "
        "that runs them (through a public function if torch has no twin), or an EXEMPT entry saying why."
    )
