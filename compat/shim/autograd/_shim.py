"""Shim helpers: `import autograd` served by flowgrad (renames only).

Modes (environment variables):
  AUTOGRAD_SHIM_IMPORTS=strict (default): a name/module flowgrad lacks fails at import
      (ImportError), exactly as a missing feature would.
  AUTOGRAD_SHIM_IMPORTS=lenient: a missing name imports as a stub that raises
      NotImplementedError("[shim] flowgrad has no equivalent of <name>") when used, so a
      test file still collects and each test fails on its own.
  AUTOGRAD_SHIM_FWD=strict (default) | skip: see autograd/test_util.py (forward mode).
  AUTOGRAD_SHIM_CONTAINERS=none (default) | flatten: diagnostic only, see autograd/test_util.py.
Nothing here implements a missing feature.
"""

import os

LENIENT = os.environ.get("AUTOGRAD_SHIM_IMPORTS", "strict") == "lenient"


def _msg(qualname):
    return f"[shim] flowgrad has no equivalent of {qualname}"


class _MissingMeta(type):
    def __new__(mcs, name, bases, ns, **kw):
        for b in bases:
            if isinstance(b, _MissingMeta):
                raise NotImplementedError(_msg(b._qualname) + " (subclassed)")
        return super().__new__(mcs, name, bases, ns)

    def __call__(cls, *a, **k):
        raise NotImplementedError(_msg(cls._qualname))

    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return missing(f"{cls._qualname}.{attr}")

    def __instancecheck__(cls, inst):
        raise NotImplementedError(_msg(cls._qualname) + " (isinstance)")

    def __subclasscheck__(cls, sub):
        raise NotImplementedError(_msg(cls._qualname) + " (issubclass)")

    def __repr__(cls):
        return f"<missing {cls._qualname}>"


def missing(qualname):
    """A stand-in for a name flowgrad lacks (lenient mode only)."""
    return type.__new__(_MissingMeta, qualname.rsplit(".", 1)[-1], (), {"_qualname": qualname})


def missing_names(g):
    """Module __getattr__ for a module that exists but lacks some names."""
    modname = g["__name__"]

    def __getattr__(attr):
        if LENIENT and not attr.startswith("__"):
            return missing(f"{modname}.{attr}")
        raise AttributeError(f"module {modname!r} has no attribute {attr!r}")

    return __getattr__


def missing_module(g):
    """Body of a module that flowgrad has no equivalent for."""
    modname = g["__name__"]
    if not LENIENT:
        raise ImportError(f"[shim] flowgrad has no equivalent of module {modname}")
    g["__getattr__"] = missing_names(g)


def forward_module(g, target):
    """Make module `g` a re-export of module `target` (public names + __getattr__)."""
    for k in dir(target):
        if not k.startswith("_"):
            g[k] = getattr(target, k)
    g["__getattr__"] = lambda attr: getattr(target, attr)


def forward_names(g, target, names):
    """Module `g` re-exports `names` from module `target`; any other name is missing
    (strict: AttributeError, so `from ... import X` is an ImportError; lenient: a stub)."""
    for k in names:
        g[k] = getattr(target, k)
    g["__getattr__"] = missing_names(g)
