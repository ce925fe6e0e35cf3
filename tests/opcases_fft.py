"""The op table, part 6: ``flowgrad.numpy.fft`` and the complex-valued ops (real, imag, conj,
angle, abs of complex values).

The table differentiates real inputs into real outputs, so complex values are made and read
inside each case: a complex input is ``a + 1j * b`` of two real inputs (central differences then
perturb its real and imaginary parts separately), and a complex result is read as
``real(y) + 0.3 * imag(y)`` (both parts reach the loss, with different weights)."""

from __future__ import annotations

from typing import Any

import numpy as np

import flowgrad.numpy as fnp

from .opcases import OpCase, each, signed, unif


def _mix(lib: Any, y: Any) -> Any:
    return lib.real(y) + 0.3 * lib.imag(y)


def real_to_complex(name: str, call: Any, shapes: list, label: str) -> OpCase:
    """A case of ``call(lib, x)`` for a real ``x``, its complex result mixed to a real one."""
    return OpCase(
        name, lambda x: _mix(fnp, call(fnp, x)), lambda x: _mix(np, call(np, x)), [(s,) for s in shapes], label=label
    )


def complex_in(name: str, call: Any, shapes: list, label: str, sample: Any = None, mix: bool = True) -> OpCase:
    """A case of ``call(lib, a + 1j * b)``: two real inputs, the real and imaginary parts."""

    def run(lib: Any, a: Any, b: Any) -> Any:
        y = call(lib, a + 1j * b)
        return _mix(lib, y) if mix else y

    return OpCase(
        name,
        lambda a, b: run(fnp, a, b),
        lambda a, b: run(np, a, b),
        [(s, s) for s in shapes],
        sample or each(unif()),
        label=label,
    )


ROW = [(4,), (5,), (2, 3)]
GRID = [(3, 4), (2, 5), (2, 3, 4)]
MORE = [(3,), (2, 2), (4,), (1, 3), (2,)]

CASES = [
    real_to_complex("fftn", lambda lib, x: lib.fft.fft(x), ROW + [(1,)], "fft"),
    real_to_complex("fftn", lambda lib, x: lib.fft.fft(x, n=7, axis=0), [(4, 2), (9, 1)], "fft-n-axis"),
    real_to_complex("fftn", lambda lib, x: lib.fft.fft2(x, norm="ortho"), GRID, "fft2-ortho"),
    complex_in("fftn", lambda lib, z: lib.fft.fftn(z, s=(3, 6), axes=(0, 1), norm="forward"), [(2, 4), (4, 5)], "fftn-s-complex"),
    real_to_complex("ifftn", lambda lib, x: lib.fft.ifft(x), ROW + [(1,)], "ifft"),
    real_to_complex("ifftn", lambda lib, x: lib.fft.ifft(x, n=3, norm="ortho"), [(5,), (2, 6)], "ifft-n"),
    complex_in("ifftn", lambda lib, z: lib.fft.ifft2(z), GRID[:2], "ifft2-complex"),
    complex_in("ifftn", lambda lib, z: lib.fft.ifftn(z, axes=(0,), norm="forward"), [(3, 2), (4,)], "ifftn-axes"),
    real_to_complex("rfftn", lambda lib, x: lib.fft.rfft(x), ROW + [(1,), (6, 1)], "rfft"),
    real_to_complex("rfftn", lambda lib, x: lib.fft.rfft(x, n=7, axis=0, norm="ortho"), [(4, 2), (8,)], "rfft-n"),
    real_to_complex("rfftn", lambda lib, x: lib.fft.rfft2(x, norm="forward"), GRID[:2], "rfft2"),
    real_to_complex("rfftn", lambda lib, x: lib.fft.rfftn(x, s=(3, 5), axes=(0, 2)), [(2, 3, 4)], "rfftn-s"),
    complex_in("irfftn", lambda lib, z: lib.fft.irfft(z), ROW + [(2,)], "irfft", mix=False),
    complex_in("irfftn", lambda lib, z: lib.fft.irfft(z, n=7, norm="ortho"), [(3,), (5,)], "irfft-odd", mix=False),
    complex_in("irfftn", lambda lib, z: lib.fft.irfft2(z, s=(3, 4)), [(2, 3), (4, 2)], "irfft2-s", mix=False),
    complex_in("irfftn", lambda lib, z: lib.fft.hfft(z, norm="forward"), [(4,), (2, 3)], "hfft", mix=False),
    real_to_complex("rfftn", lambda lib, x: lib.fft.ihfft(x, norm="ortho"), [(6,), (5,)], "ihfft"),
    complex_in("real", lambda lib, z: lib.real(z * z), ROW + [(), (1,)], "real", mix=False),
    complex_in("real", lambda lib, z: lib.real(z) * lib.real(lib.conj(z) * 2j), [(3,), (2, 2)], "real-conj", mix=False),
    complex_in("real", lambda lib, z: lib.real(lib.exp(z) / (z + 3.0)), MORE, "holomorphic", mix=False),
    complex_in("imag", lambda lib, z: lib.imag(z * z), ROW + [(), (1,)], "imag", mix=False),
    complex_in("imag", lambda lib, z: lib.imag(lib.sin(z) * lib.log(z + 3.0)), MORE, "sin-log", mix=False),
    complex_in("conj", lambda lib, z: lib.conj(z) * z, ROW + [(), (1,)], "conj"),
    complex_in("conj", lambda lib, z: lib.conj(lib.sqrt(z + 3.0)) * z, MORE, "conj-sqrt"),
    complex_in("angle", lambda lib, z: lib.angle(z), ROW + [(), (1,)], "angle", each(unif(), signed(0.3, 2.0)), False),
    complex_in("angle", lambda lib, z: lib.angle(z * z, deg=True), MORE, "deg", each(signed(0.4, 1.0), unif(0.4, 1.0)), False),
    complex_in("abs_complex", lambda lib, z: lib.abs(z), ROW + [(), (1,)], "abs", each(signed(0.3, 2.0)), False),
    complex_in("abs_complex", lambda lib, z: lib.abs(z * z) ** 3, MORE, "cubed", each(signed(0.3, 2.0)), False),
]  # fmt: skip
