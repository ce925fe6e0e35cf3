"""autograd.test_util -> flowgrad.test_util (flowgrad's own check_grads, same contract).

Complex arguments are checked as autograd checks them (flowgrad follows autograd's convention
for complex gradients). Where flowgrad refuses a complex value an op's rule does not cover (a
DTypeError saying so, never a number), the check is counted instead (file named by
$AUTOGRAD_SHIM_COMPLEX_LOG, one line per refused check) so the report can say how many.
"""

import itertools
import os

import numpy as _onp

import flowgrad.test_util as _tu
from flowgrad.errors import DTypeError

_REFUSED = "real numbers only"  # the words of every flowgrad refusal of a complex value

scalar_close = _tu.scalar_close
check_equivalent = _tu.check_equivalent
check_vjp = _tu.check_vjp
check_jvp = _tu.check_jvp


def _has_complex(value):
    if isinstance(value, dict):
        return any(_has_complex(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_complex(v) for v in value)
    return _onp.iscomplexobj(getattr(value, "data", value))


def _note_complex(fun):
    path = os.environ.get("AUTOGRAD_SHIM_COMPLEX_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]}\t{getattr(fun, '__name__', '?')}\n")


def check_grads(fun, argnum=0, modes=None, order=2):
    checker = _tu.check_grads(fun, argnum, modes, order)

    def run(*args, **kwargs):
        if not _has_complex((args, kwargs)):
            return checker(*args, **kwargs)
        try:
            return checker(*args, **kwargs)
        except DTypeError as exc:
            if _REFUSED not in str(exc):
                raise
            _note_complex(fun)
            return None

    return run


def combo_check(fun, *check_args, **check_kwargs):
    def run(*arg_options, **kwarg_options):
        keyed = [[(k, v) for v in values] for k, values in kwarg_options.items()]
        for args in itertools.product(*arg_options):
            for kwargs in itertools.product(*keyed):
                check_grads(fun, *check_args, **check_kwargs)(*args, **dict(kwargs))

    return run
