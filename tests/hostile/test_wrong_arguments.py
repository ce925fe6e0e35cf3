"""Wrong arguments across the public API: each call is one clear error of flowgrad's hierarchy.

Every row of the table calls a public function, class or method with an argument of the
wrong type, shape, dtype or value, and says which error it must raise and which words its
message must hold: the function's name, and what was given or what was expected. Every
error must be a ``fg.FlowgradError`` that is also a ``ValueError`` or a ``TypeError``
(``fg.ShapeError``, ``fg.DTypeError``, ``fg.ArgumentError``, ``fg.DataError``,
``fg.CheckpointError``, ``flow.GraphError``), never a bare error from NumPy or Python, and no
warning may escape on the way.

Left out on purpose, because Python's protocols need the built-in type: an index past the
end of a map-style data set (``IndexError`` ends ``for item in ds``), a misspelt attribute
(``AttributeError``), a call with a wrong number of arguments (Python's ``TypeError``), and
``flowgrad.numpy`` called on plain NumPy arrays (it is NumPy then).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest

import flowgrad as fg
import flowgrad.flow as flow

from . import harness
from .wrong_argument_cases import CORE_CASES, Arg, Ckpt, Data, DType, Shape
from .wrong_argument_cases_library import LIBRARY_CASES

CASES = CORE_CASES + LIBRARY_CASES
AREAS = {"tensor", "factories", "ops", "methods", "grad", "nn", "losses", "optim", "schedulers", "data", "model", "io",
         "plot", "flow"}  # fmt: skip


def _run(call: Callable, folder) -> BaseException | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning on the way is a failure too
        try:
            call(folder)
        except Exception as e:  # noqa: BLE001 - judging the exception is the point
            return e
    return None


@pytest.mark.parametrize("c", CASES, ids=lambda c: f"{c.area}: {c.name}")
def test_a_wrong_argument_is_one_clear_error(c, tmp_path):
    harness.ARGUMENT_FIGURES["calls"] += 1
    harness.ARGUMENT_FIGURES["wrong"] += 1  # until the checks below pass
    e = _run(c.call, tmp_path)
    assert e is not None, "no error was raised"
    message = str(e)
    assert isinstance(e, fg.FlowgradError) and isinstance(e, (ValueError, TypeError)), (
        f"raised {type(e).__module__}.{type(e).__qualname__}, not one of flowgrad's errors: {message}"
    )
    assert isinstance(e, c.error), f"raised {type(e).__name__}, expected {c.error.__name__}: {message}"
    missing = [n for n in c.needles if n not in message]
    assert not missing, f"the message lacks {missing}: {message!r}"
    assert len(message) < 1000, f"a message of {len(message)} characters"
    harness.ARGUMENT_FIGURES["wrong"] -= 1
    harness.ARGUMENT_FIGURES["clear"] += 1


def test_the_table_walks_the_whole_public_api():
    counts = {area: sum(c.area == area for c in CASES) for area in AREAS}
    assert {c.area for c in CASES} == AREAS and min(counts.values()) >= 5, counts
    assert len({c.name for c in CASES}) == len(CASES), "two rows with the same name"
    for c in CASES:  # every row names the function it calls, in its message
        assert c.needles and c.error in (Shape, DType, Arg, Data, Ckpt, flow.GraphError), c.name
