"""Which SIMD and BLAS kernels this process computes with, and an environment that picks others.

CPUs differ: NumPy dispatches its loops (exp, log, tanh, sums) to the widest SIMD group the CPU
has, and OpenBLAS picks a GEMM kernel per CPU family, so the last bits of a result depend on the
machine. ``make test`` therefore runs the tests marked ``numeric`` a second time with the
environment printed by ``python -m tests.cpu_kernels``: NumPy's highest dispatch groups switched
off (``NPY_DISABLE_CPU_FEATURES``) and OpenBLAS (or MKL) told to use an older core's kernels. A
test that passes only on the kernels of the machine it was written on fails there, before it
lands.

    python -m tests.cpu_kernels            # the environment, as NAME=value words for `env`
    python -m tests.cpu_kernels --describe # CPU model, NumPy's SIMD groups, the BLAS kernel
"""

from __future__ import annotations

import os
import platform
import sys

# Features NumPy dispatches to that are AVX-512 (NumPy 2.4 groups them as X86_V4 and AVX512_*;
# older NumPy names AVX512F, AVX512_SKX, ...) and AVX2-level (X86_V3; AVX2 and FMA3 before 2.4).
_AVX512 = ("X86_V4", "AVX512")
_AVX2 = ("X86_V3", "AVX2", "FMA3")


def cpu_model() -> str:
    """The CPU's marketing name (``model name`` in /proc/cpuinfo), or what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_simd() -> tuple[list[str], list[str]]:
    """(dispatch targets the CPU supports, those of them enabled in this process)."""
    try:
        from numpy._core import _multiarray_umath as umath  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    dispatch = list(getattr(umath, "__cpu_dispatch__", []))
    features = getattr(umath, "__cpu_features__", {})
    disabled = {f.strip() for f in os.environ.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split()}
    supported = [d for d in dispatch if features.get(d)]
    return supported, [d for d in supported if d not in disabled]


def blas_kernel() -> str:
    """The BLAS library and the kernel it chose (threadpoolctl's view), e.g. 'openblas 0.3.31 SkylakeX'."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    import numpy  # noqa: F401 - loads the BLAS that threadpoolctl inspects

    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return "none found"
    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '?')} ({i.get('num_threads')} threads)"
        for i in infos
    )


def describe() -> str:
    """One line naming the machine's arithmetic: CPU, NumPy SIMD groups in use, BLAS kernel."""
    _, enabled = _numpy_simd()
    off = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split()
    simd = " ".join(enabled) or "baseline only"
    if off:
        simd += f" (switched off: {' '.join(off)})"
    return f"CPU: {cpu_model()}; NumPy SIMD: {simd}; BLAS: {blas_kernel()}"


def alternative_environment() -> dict[str, str]:
    """Variables that move NumPy and the BLAS off this CPU's fastest kernels onto older ones."""
    supported, _ = _numpy_simd()
    wide = [d for d in supported if d.startswith(_AVX512)]
    if wide:  # an AVX-512 machine: compute as an AVX2 one does
        return {
            "NPY_DISABLE_CPU_FEATURES": ",".join(wide),
            "OPENBLAS_CORETYPE": "Haswell",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        }
    avx2 = [d for d in supported if d.startswith(_AVX2)]
    if avx2:  # an AVX2 machine: compute as an older AVX one does
        return {
            "NPY_DISABLE_CPU_FEATURES": ",".join(avx2),
            "OPENBLAS_CORETYPE": "Sandybridge",
            "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
        }
    return {"OPENBLAS_CORETYPE": "Prescott"}  # no wide SIMD to switch off: at least another GEMM kernel


if __name__ == "__main__":
    if "--describe" in sys.argv[1:]:
        print(describe())
    else:
        print(" ".join(f"{k}={v}" for k, v in alternative_environment().items()))
