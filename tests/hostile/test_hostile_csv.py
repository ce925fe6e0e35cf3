"""Mutated CSV files: CSVDataset refuses each with one clear fg.DataError, or reads exactly what it holds.

The mutants (see mutate_csv.py) have malformed numbers, ragged rows, NUL bytes, huge lines
and fields, other encodings, BOMs, stray quotes, other line endings, and degenerate files
(empty, header only, binary). A CSV file has no checksums, so a mutant that is still a valid
file (a truncated number is a number) must read as what it now holds: the oracle is
``mutate_csv.reference``, an independent reading of docs/data.md's rules. Every read is
construction, one full pass (by batches, by rows, or through a DataLoader) and ``len()``,
within the time budget and a memory bound. CI runs 250; ``make verify`` 2,500.
"""

from __future__ import annotations

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.data import CSVDataset, DataLoader

from . import harness
from . import mutate_csv as mcsv

FILES = 2500 if harness.VERIFY else 250
CHUNK = 50


def _read(path, kwargs: dict, way: int, batch_size: int) -> tuple[np.ndarray, ...]:
    ds = CSVDataset(path, **kwargs)
    if way == 0:
        parts = [tuple(t.numpy() for t in b) for b in ds.batch(batch_size)]
    elif way == 1:
        parts = [tuple(t.numpy()[None] for t in row) for row in ds]
    else:
        parts = [tuple(t.numpy() for t in b) for b in DataLoader(ds, batch_size=batch_size)]
    columns = tuple(np.concatenate(col) for col in zip(*parts))
    if len(ds) != len(columns[0]):
        raise AssertionError(f"len(ds) is {len(ds)} but a pass gave {len(columns[0])} rows")
    return columns


def _difference(got: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...]) -> str | None:
    if len(got) != len(expected):
        return f"{len(got)} columns, expected {len(expected)}"
    for name, a, b in zip(("features", "labels"), got, expected):
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{name}: {a.dtype}{a.shape}, expected {b.dtype}{b.shape}"
        if a.tobytes() != b.tobytes():
            row = int(np.argmax((a != b).any(axis=1) & ~(np.isnan(a) & np.isnan(b)).all(axis=1)))
            return f"{name}: row {row} is {a[row].tolist()!r:.80}, expected {b[row].tolist()!r:.80}"
    return None


@pytest.mark.parametrize("chunk", harness.chunks(FILES, CHUNK), ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_mutated_csv_files_are_refused_clearly_or_read_exactly(chunk, tmp_path):
    tally = harness.tally("CSVDataset")
    wrong = []
    with harness.metered():
        for index in chunk:
            m = mcsv.mutant(index)
            path = tmp_path / f"m{index:05d}-{m.base.name}-{m.kind}.csv"
            path.write_bytes(m.data)
            try:
                expected = mcsv.reference(m.data, m.base.kwargs)
            except mcsv.RefusedError as e:
                expected = e
            out = harness.attempt(lambda: _read(path, m.base.kwargs, index % 3, 1 + index % 8))
            if out.error is not None:
                problem = harness.judge_error(out, fg.DataError, str(path), len(m.data))
                if problem is None and not isinstance(expected, mcsv.RefusedError):
                    problem = f"refused a file the reference reads: {out.error}"
            elif isinstance(expected, mcsv.RefusedError):
                problem = f"read a file the reference refuses ({expected})"
            else:
                problem = _difference(out.value, expected)
            problem = problem or harness.judge_cost(out, len(m.data))
            tally.count(m.kind, out, len(m.data), problem and f"{path.name}: {problem}", loaded=out.error is None)
            if problem:
                wrong.append(f"{path.name}: {problem}")
            path.unlink()
    assert not wrong, f"{len(wrong)} of {len(chunk)} mutated CSV files handled wrongly:\n" + "\n".join(wrong[:25])


# ----- the fixes the mutants led to, pinned down one by one ------------------------------------
@pytest.mark.parametrize(
    "label, options, message",
    [
        ("2.5", {"label_dtype": fg.int64}, "column 'y': '2.5' is not an integer that fits int64"),
        ("nan", {"label_dtype": fg.int64}, "column 'y': 'nan' is not an integer that fits int64"),
        ("inf", {"label_dtype": fg.int64}, "column 'y': 'inf' is not an integer that fits int64"),
        (
            "9223372036854775808",
            {"label_dtype": fg.int64},
            "column 'y': '9223372036854775808' is not an integer that fits int64",
        ),
        ("256", {"label_dtype": fg.uint8}, "column 'y': '256' is not an integer that fits uint8"),
        ("-1", {"label_dtype": fg.uint8}, "column 'y': '-1' is not an integer that fits uint8"),
        ("1e39", {}, "column 'y': '1e39' is out of range for float32"),
        ("-1e400", {"dtype": fg.float64}, "column 'y': '-1e400' is out of range for float64"),
        ("70000", {"dtype": fg.float16}, "column 'y': '70000' is out of range for float16"),
    ],
)
def test_a_value_its_dtype_cannot_hold_is_a_data_error(label, options, message, tmp_path):
    path = tmp_path / "fit.csv"
    path.write_text(f"x,y\n1,2\n3,4\n5,{label}\n")
    with pytest.raises(fg.DataError) as info:
        list(CSVDataset(path, label_columns="y", **options).batch(2))
    assert str(info.value) == f"{path}:4: {message}"


def test_infinities_written_as_such_and_integral_labels_still_load(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("x,y\ninf,3.0\n-Infinity,-0\n 1e-400 ,7\n")
    ds = CSVDataset(path, label_columns="y", label_dtype=fg.int64, allow_non_finite=True)
    x, y = next(iter(ds.batch(3)))
    assert x.numpy().ravel().tolist() == [float("inf"), float("-inf"), 0.0] and y.numpy().ravel().tolist() == [3, 0, 7]


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "inf", "-Infinity"])
def test_non_finite_values_are_a_data_error_naming_line_and_column(value, tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text(f"a,b,y\n1,2,0\n3,{value},1\n")
    with pytest.raises(fg.DataError) as info:
        list(CSVDataset(path, label_columns="y").batch(2))
    assert str(info.value).startswith(f"{path}:3: column 'b': '{value}' is not a finite number")
    assert "allow_non_finite=True" in str(info.value)


def test_messages_stay_short_when_the_file_has_huge_names_or_values(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("x" * 100_000 + "," + ",".join(f"c{k}" for k in range(5000)) + "\n" + "abc" + ",1" * 5000 + "\n")
    with pytest.raises(fg.DataError) as info:
        CSVDataset(path, label_columns="y")
    assert len(str(info.value)) < 500 + len(str(path)) and "(5001 in all)" in str(info.value)
    with pytest.raises(fg.DataError) as info:
        list(CSVDataset(path))
    assert len(str(info.value)) < 500 + len(str(path)) and str(info.value).startswith(f"{path}:2: column 'xxxx")
