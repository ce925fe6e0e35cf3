"""The hostile-file harness catches what it is there to catch: hangs, memory, wrong errors, wrong data.

If these fail, a clean run of the mutated-file tests would prove nothing.
"""

from __future__ import annotations

import time

import numpy as np

import flowgrad as fg

from . import harness
from . import mutate_checkpoint as mc
from . import mutate_csv as mcsv
from .oracle import difference, malformed


def test_a_load_past_its_budget_is_stopped_and_reported():
    out = harness.attempt(lambda: time.sleep(5), budget=0.2)
    assert isinstance(out.error, harness.Hang) and out.seconds < 2
    assert harness.judge_cost(out, 100, budget=0.2) and harness.judge_error(out, fg.CheckpointError, "f", 100)


def test_an_allocation_the_file_does_not_justify_is_reported():
    with harness.metered():
        out = harness.attempt(lambda: np.ones(8 << 20, np.uint8).sum())  # 8 MiB for a 100-byte file
    assert out.peak >= 8 << 20 and "allocated" in harness.judge_cost(out, 100)


def test_refusals_are_judged_strictly():
    def refused(e):
        return harness.Outcome(error=e)

    path = "/tmp/x.safetensors"
    assert (
        harness.judge_error(refused(fg.CheckpointError(f"{path}: truncated: 3 bytes")), fg.CheckpointError, path, 3)
        is None
    )
    assert "ValueError" in harness.judge_error(refused(ValueError(f"{path}: bad")), fg.CheckpointError, path, 3)
    assert "DataError" in harness.judge_error(refused(fg.DataError(f"{path}: bad file")), fg.CheckpointError, path, 3)
    assert "path" in harness.judge_error(refused(fg.CheckpointError("truncated: 3 bytes")), fg.CheckpointError, path, 3)
    assert "what is wrong" in harness.judge_error(refused(fg.CheckpointError(f"{path}: ")), fg.CheckpointError, path, 3)


def test_a_warning_on_the_way_is_an_error():
    import warnings

    out = harness.attempt(lambda: warnings.warn("overflow encountered in cast", RuntimeWarning, stacklevel=1))
    assert isinstance(out.error, RuntimeWarning)


def test_the_oracle_sees_every_difference():
    a = {"w": fg.tensor([1.0, 2.0]), "n": (1, [np.float32(0.5)]), 0: None}
    assert difference(a, {"w": fg.tensor([1.0, 2.0]), "n": (1, [np.float32(0.5)]), 0: None}) is None
    assert difference(a, {"w": fg.tensor([1.0, 2.5]), "n": (1, [np.float32(0.5)]), 0: None})  # a value
    assert difference(a, {"w": fg.tensor([1.0, 2.0]), "n": [1, [np.float32(0.5)]], 0: None})  # tuple -> list
    assert difference(a, {"w": fg.tensor([1.0, 2.0]), "n": (1, [np.float64(0.5)]), 0: None})  # a dtype
    assert difference(a, {"w": fg.tensor([1.0, 2.0]), "n": (1, [np.float32(0.5)]), "0": None})  # a key's type
    assert difference([-0.0], [0.0]) and difference([float("nan")], [float("nan")]) is None
    assert malformed({"ok": [1, "a", np.zeros(2)]}) is None and malformed({"s": {1}}) and malformed([object()])


def test_the_checkpoint_mutants_cover_every_kind_of_damage_even_in_ci():
    kinds = {mc.mutant(i).kind for i in range(600)}
    for prefix in ["truncate-header", "truncate-data", "bitflip-header", "bitflip-anywhere", "bytes", "length-",
                   "entry-data_offsets", "entry-shape", "entry-dtype", "names-duplicate", "names-metadata-name",
                   "metadata-non-utf8", "metadata-nan", "metadata-deep", "metadata-drop-both", "tree-node",
                   "tree-version", "resigned-", "foreign-pickle-", "foreign-zip", "foreign-npy", "foreign-garbage",
                   "foreign-empty", "splice-", "harmless-"]:  # fmt: skip
        assert any(k.startswith(prefix) for k in kinds), prefix


def test_the_csv_mutants_cover_every_kind_of_damage_even_in_ci():
    kinds = {mcsv.mutant(i).kind for i in range(250)}
    for prefix in ["truncate", "bitflip", "insert", "number", "ragged-", "nul", "huge-", "encoding-utf-16", "encoding-",
                   "bom-utf8", "bom-", "endings-", "quotes-", "degenerate-empty", "degenerate-", "header-"]:  # fmt: skip
        assert any(k.startswith(prefix) for k in kinds), prefix


def test_mutants_are_the_same_in_every_run():
    assert mc.mutant(123).data == mc.mutant(123).data and mcsv.mutant(45).data == mcsv.mutant(45).data
