"""Shared pytest set-up: skip doctests of modules whose optional dependency is missing."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("matplotlib") is None:
    collect_ignore.append("flowgrad/plot.py")
if importlib.util.find_spec("scipy") is None:  # flowgrad.scipy is the optional extra [scipy]
    collect_ignore.append("flowgrad/scipy")
if importlib.util.find_spec("sklearn") is None:  # flowgrad.sklearn is the optional extra [sklearn]
    collect_ignore.append("flowgrad/sklearn")
if importlib.util.find_spec("onnx") is None:  # flowgrad.onnx is the optional extra [onnx]
    collect_ignore.append("flowgrad/onnx")


def pytest_report_header(config):
    # A failure that depends on the machine's arithmetic names its machine: CPU, SIMD, BLAS kernel.
    from tests.cpu_kernels import describe

    return describe()
