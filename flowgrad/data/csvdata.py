"""``CSVDataset``: a numeric CSV file streamed a block of lines at a time, in bounded memory.

>>> import os, tempfile, flowgrad as fg
>>> path = os.path.join(tempfile.mkdtemp(), "xor.csv")
>>> _ = open(path, "w").write("a,b,y\\n0,0,0\\n0,1,1\\n1,0,1\\n1,1,0\\n")
>>> ds = fg.data.CSVDataset(path, label_columns="y")
>>> len(ds), [(x.shape, y.tolist()) for x, y in ds.batch(3)]
(4, [((3, 2), [[0.0], [1.0], [1.0]]), ((1, 2), [[0.0]])])
"""

from __future__ import annotations

import codecs
import csv
import itertools
import operator
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import given
from flowgrad.io.safetensors_format import open_regular

from .pipeline import Pipeline, Row

__all__ = ["CSVDataset", "MAX_LINE_LENGTH", "MAX_FIELDS"]

MAX_LINE_LENGTH = 1 << 20  # characters in one line, by default (CSVDataset's max_line_length)
MAX_FIELDS = 1 << 16  # fields in one line, by default (CSVDataset's max_fields)
_BLOCK_CHARS = 1 << 20  # a block of rows holds about this much text at most (plus one line)


class CSVDataset(Pipeline):
    """Rows ``(features, labels)`` of a numeric CSV file, read lazily ``chunk_size`` lines at a time.

    Only one block of lines is in memory at once, so a file larger than memory trains with
    memory bounded by ``chunk_size``. It is a pipeline source: iterate it for rows of
    tensors, chain ``.batch(n)`` (which stacks a block at a time), ``.shuffle(buffer_size)``,
    ``.map``, ``.repeat``..., or hand it to ``DataLoader(ds, batch_size=n)``.

    - ``label_columns``: a name (or list of names) of the header, or column numbers; those
      columns form the ``labels`` column, the others ``features`` (or give
      ``feature_columns``). Without labels the rows are ``(features,)``.
    - ``header``: whether the first line names the columns. Without a header, name
      columns by number.
    - ``dtype``: of the features; ``label_dtype`` defaults to ``dtype`` (use ``fg.int64``
      for class indices).
    - ``len(ds)`` counts the rows with one pass over the file the first time (cached until
      the file changes).
    - ``max_line_length`` (characters, default 1 MiB) and ``max_fields`` (default 65,536)
      bound one line: a longer line is refused as soon as its first ``max_line_length``
      characters have been read, before it is held whole, so a hostile file cannot take
      more memory than a small multiple of these. Raise them for wider files.
    - ``allow_non_finite``: NaN and infinities in the file are a ``DataError`` (they would
      only show up later as a diverged training run); ``True`` reads them as floats.

    Problems are ``fg.DataError``s that name the file, the line and the column, e.g.
    ``housing.csv:57: column 'RM': could not convert 'abc' to float``.

    >>> import os, tempfile, flowgrad as fg
    >>> path = os.path.join(tempfile.mkdtemp(), "h.csv")
    >>> _ = open(path, "w").write("RM,AGE,MEDV\\n6.5,65.2,24.0\\n6.4,78.9,21.6\\n")
    >>> x, y = next(iter(fg.data.CSVDataset(path, label_columns=["MEDV"])))
    >>> x, y
    (tensor([ 6.5, 65.2]), tensor([24.]))
    """

    def __init__(
        self,
        path: str | os.PathLike,
        label_columns: str | int | Sequence[str | int] | None = None,
        feature_columns: Sequence[str | int] | None = None,
        header: bool = True,
        dtype: Any = np.float32,
        label_dtype: Any = None,
        chunk_size: int = 1024,
        delimiter: str = ",",
        *,
        max_line_length: int = MAX_LINE_LENGTH,
        max_fields: int = MAX_FIELDS,
        allow_non_finite: bool = False,
    ) -> None:
        # Arguments checked up front: os.fspath, np.dtype and the csv module raise bare errors.
        if not isinstance(path, (str, os.PathLike)):
            raise fg.DataError(f"CSVDataset: path must be a str or os.PathLike, got {given(path)}")
        self.path = os.fspath(path)
        self.header = bool(header)
        self.dtype, self.label_dtype = (
            _numeric_dtype(dtype, "dtype"),
            _numeric_dtype(dtype if label_dtype is None else label_dtype, "label_dtype"),
        )
        if not (isinstance(delimiter, str) and len(delimiter) == 1 and delimiter not in '"\r\n'):
            raise fg.DataError(
                f"CSVDataset: delimiter must be one character (not a quote or newline), got {given(delimiter)}"
            )
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise fg.DataError(f"CSVDataset: chunk_size must be a positive integer, got {chunk_size!r}")
        self.chunk_size = chunk_size
        self.delimiter = delimiter
        for name, value in (("max_line_length", max_line_length), ("max_fields", max_fields)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fg.DataError(f"CSVDataset: {name} must be a positive integer, got {value!r}")
        self.max_line_length, self.max_fields = max_line_length, max_fields
        self.allow_non_finite = bool(allow_non_finite)
        self._count: tuple | None = None  # (file size, mtime, rows): len() without re-reading

        first, first_line = self._first_row()
        if self.header:
            self.columns: list[str | int] = [c.strip() for c in first]
            self._width_source = "the header"
        else:
            self.columns = list(range(len(first)))
            self._width_source = f"line {first_line}"
        labels = [] if label_columns is None else self._resolve(label_columns, "label")
        if feature_columns is None:
            features = [k for k in range(len(self.columns)) if k not in labels]
        else:
            features = self._resolve(feature_columns, "feature")
        if not features:
            raise fg.DataError(f"{self.path}: no feature columns left after taking the label columns")
        self.feature_idx, self.label_idx = features, labels
        self.column_names = ["features", "labels"] if labels else ["features"]

    # -- reading the file --------------------------------------------------------------
    def _open(self) -> Any:
        # A FIFO or a device (/dev/zero) would block or never end: only regular files are read.
        # -sig: drop the BOM spreadsheets write.
        text = {"newline": "", "encoding": "utf-8-sig"}
        cannot = "cannot open the file"
        return open_regular(self.path, fg.DataError, text, cannot, f"{cannot}: No such file or directory")

    def _reader(self, f: Any) -> Any:
        """A csv reader over ``f``'s lines, each bounded by max_line_length and max_fields."""
        return csv.reader(_Lines(f, self), delimiter=self.delimiter)

    def _first_row(self) -> tuple[list[str], int]:
        with self._open() as f:
            reader = self._reader(f)
            try:
                first = next((r for r in reader if r), None)
                line = reader.line_num
                if first is None:
                    raise fg.DataError(f"{self.path}: the file is empty")
                if self.header and next((r for r in reader if r), None) is None:
                    raise fg.DataError(f"{self.path}: the file has a header line but no data rows")
            except (csv.Error, UnicodeDecodeError) as e:
                raise self._unreadable(e, reader) from None
        return first, line

    def _unreadable(self, e: Exception, reader: Any) -> fg.DataError:
        # Not CSV text at all (binary data, another encoding): say where, as for values.
        if isinstance(e, UnicodeDecodeError):
            # The text decoder reads ahead in blocks, so find the line from the bytes, read in
            # bounded pieces (a line may be huge) through one incremental decoder.
            return fg.DataError(f"{self.path}:{self._first_bad_utf8_line()}: not UTF-8 text ({e.reason})")
        return fg.DataError(f"{self.path}:{reader.line_num}: not readable as CSV: {e}")

    def _first_bad_utf8_line(self) -> int | str:
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        with open_regular(self.path, fg.DataError) as f:
            while piece := f.read(1 << 16):
                try:
                    decoder.decode(piece)
                except UnicodeDecodeError as e:
                    return line + piece[: max(e.start, 0)].count(b"\n")
                line += piece.count(b"\n")
        return "?"

    def _resolve(self, columns: Any, kind: str) -> list[int]:
        if not isinstance(columns, (str, int, list, tuple)):  # list(1.5): a bare TypeError
            raise fg.DataError(
                f"{self.path}: {kind}_columns must be a name, a number or a list of them, got {given(columns)}"
            )
        wanted = [columns] if isinstance(columns, (str, int)) else list(columns)
        out = []
        for c in wanted:
            if isinstance(c, int) and not isinstance(c, bool) and 0 <= c < len(self.columns):
                out.append(c)
            elif isinstance(c, str) and c in self.columns:
                out.append(self.columns.index(c))
            else:
                # Names shortened and the list cut: a hostile header must not make a huge message.
                names = ", ".join(_shown(n) for n in self.columns[:20])
                names += f", ... ({len(self.columns)} in all)" if len(self.columns) > 20 else ""
                shown = names if self.header else f"0 to {len(self.columns) - 1}"
                raise fg.DataError(f"{self.path}: no {kind} column {_shown(c)}; the columns are {shown}")
        return out

    def _name(self, k: int) -> str:
        return f"column {_shown(self.columns[k])}" if self.header else f"column {k}"

    def chunks(self) -> Iterator[tuple[np.ndarray, ...]]:
        """The file as blocks of up to ``chunk_size`` rows: ``(features, labels)`` arrays each."""
        width = len(self.columns)
        with self._open() as f:
            lines = _Lines(f, self)
            reader = csv.reader(lines, delimiter=self.delimiter)
            if self.header:
                next(r for r in reader if r)
            seen = 0  # data rows before this block: enough to find a bad row's line again
            while True:
                # A block ends at chunk_size rows or _BLOCK_CHARS characters, whichever comes
                # first: long lines make smaller blocks, so a block's memory stays bounded.
                rows: list[list[str]] = []
                start = lines.chars
                try:
                    for row in reader:
                        rows.append(row)
                        if len(rows) >= self.chunk_size or lines.chars - start >= _BLOCK_CHARS:
                            break
                except (csv.Error, UnicodeDecodeError) as e:
                    raise self._unreadable(e, reader) from None
                if not rows:
                    return
                # Checks over the whole block run at C speed; per-row Python runs only on errors.
                widths = set(map(len, rows))
                if 0 in widths:  # csv gives [] for a blank line
                    rows = [r for r in rows if r]
                    widths.discard(0)
                if widths - {width}:
                    k = next(i for i, r in enumerate(rows) if len(r) != width)
                    self._convert(rows[:k], seen)  # a bad value on an earlier line is reported first
                    raise fg.DataError(
                        f"{self.path}:{self._line_of(seen + k)}: expected {width} fields "
                        f"(as in {self._width_source}), found {len(rows[k])}"
                    )
                if rows:
                    yield self._convert(rows, seen)
                    seen += len(rows)

    def _convert(self, rows: list[list[str]], seen: int) -> tuple[np.ndarray, ...]:
        used = sorted(set(self.feature_idx) | set(self.label_idx))
        if used == list(range(len(self.columns))):
            text: Any = rows
        else:  # leave unused (perhaps non-numeric) columns unparsed
            text = list(map(operator.itemgetter(*used), rows))
        try:
            # Through float64 so that integer labels may be written "3" or "3.0".
            values = np.array(text, dtype=np.float64).reshape(len(rows), len(used))
        except ValueError:
            self._raise_bad_value(rows, seen, used)
        if not self.allow_non_finite:
            self._refuse_non_finite(values, rows, seen, used)
        position = {k: i for i, k in enumerate(used)}  # not used.index: quadratic for wide files
        groups = [(self.feature_idx, self.dtype)] + ([(self.label_idx, self.label_dtype)] if self.label_idx else [])
        out, unfit = [], []
        for columns, dtype in groups:
            part = values[:, [position[k] for k in columns]]
            converted, bad = _cast(part, dtype)
            out.append(converted)
            # An infinity written as such is a float like any other; any other misfit is an error.
            unfit += [
                (i, columns[j], dtype) for i, j in bad if dtype.kind != "f" or not _spells_infinity(rows[i][columns[j]])
            ]
        if unfit:  # report the first one in the file
            i, k, dtype = min(unfit, key=lambda u: (u[0], u[1]))
            what = "is out of range for" if dtype.kind == "f" else "is not an integer that fits"
            raise fg.DataError(
                f"{self.path}:{self._line_of(seen + i)}: {self._name(k)}: {_shown(rows[i][k])} {what} {dtype}"
            )
        return tuple(out)

    def _refuse_non_finite(self, values: np.ndarray, rows: list[list[str]], seen: int, used: list[int]) -> None:
        # NaN or an infinity in the data is refused before training sees it: it would surface
        # as "training diverged, lower the learning rate", which sends the user the wrong way.
        finite = np.isfinite(values)
        if finite.all():
            return
        for i, j in np.argwhere(~finite).tolist():  # in the file's order (row-major)
            k = used[j]
            integral = self.dtype.kind != "f" if k in self.feature_idx else self.label_dtype.kind != "f"
            if integral or not (values[i, j] != values[i, j] or _spells_infinity(rows[i][k])):
                return  # reported by _convert: "not an integer that fits" or "out of range" (1e400)
            break
        raise fg.DataError(
            f"{self.path}:{self._line_of(seen + i)}: {self._name(k)}: {_shown(rows[i][k])} is not a finite number; "
            "fill in or drop missing values, or pass allow_non_finite=True to read NaN and infinities"
        )

    def _raise_bad_value(self, rows: list[list[str]], seen: int, used: list[int]) -> None:
        for i, row in enumerate(rows):
            for k in used:
                try:
                    float(row[k])
                except ValueError:
                    raise fg.DataError(
                        f"{self.path}:{self._line_of(seen + i)}: {self._name(k)}: could not convert {_shown(row[k])} to float"
                    ) from None
        raise fg.DataError(f"{self.path}: a value after data row {seen} could not be converted to float")

    def _line_of(self, row: int) -> int | str:
        """The line number of data row ``row`` (from 0), found by reading the file again.

        Only error paths call this; quoted fields may span lines, so the line cannot be
        computed from the row number.
        """
        with self._open() as f:
            reader = self._reader(f)
            rows = (reader.line_num for r in reader if r)
            return next(itertools.islice(rows, row + self.header, None), "?")

    # -- the pipeline interface --------------------------------------------------------
    def _iter_rows(self) -> Iterator[Row]:
        for block in self.chunks():
            yield from zip(*block)

    def _iter_batches(self, batch_size: int, drop_remainder: bool) -> Iterator[Row]:
        # Cut batches out of whole blocks instead of stacking rows one by one.
        pending: list[tuple[np.ndarray, ...]] = []
        count = 0
        for block in self.chunks():
            n, start = len(block[0]), 0
            while start < n:
                take = min(batch_size - count, n - start)
                pending.append(tuple(a[start : start + take] for a in block))
                count, start = count + take, start + take
                if count == batch_size:
                    yield _join(pending)
                    pending, count = [], 0
        if count and not drop_remainder:
            yield _join(pending)

    def _num_rows(self) -> int:
        return len(self)

    def __len__(self) -> int:
        stat = os.stat(self.path)
        key = (stat.st_size, stat.st_mtime_ns)
        if self._count is None or self._count[:2] != key:
            with self._open() as f:
                reader = self._reader(f)
                try:
                    rows = sum(1 for r in reader if r)
                except (csv.Error, UnicodeDecodeError) as e:
                    raise self._unreadable(e, reader) from None
            self._count = (*key, rows - self.header)
        return self._count[2]

    def __repr__(self) -> str:
        labels = [self.columns[k] for k in self.label_idx]
        return f"CSVDataset({self.path!r}, label_columns={labels}, features={len(self.feature_idx)})"


class _Lines:
    """A text file's physical lines for ``csv.reader``, each refused as soon as it is longer
    than ``max_line_length`` characters or has more than ``max_fields`` fields.

    ``readline`` with a size reads at most that much, so a line of a gigabyte is refused after
    its first ``max_line_length`` characters, never held whole (csv's own field limit comes
    only after the line is in memory, and a line of short fields has no limit at all).
    """

    def __init__(self, f: Any, ds: CSVDataset) -> None:
        self.f, self.ds = f, ds
        self.number = 0  # physical lines read: the same count as csv's line_num
        self.chars = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        limit = self.ds.max_line_length
        line = self.f.readline(limit + 2)  # + 2: room for "\r\n" after a line of exactly `limit`
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > limit and len(line.rstrip("\r\n")) > limit:
            raise fg.DataError(
                f"{self.ds.path}:{self.number}: the line is longer than {limit} characters (max_line_length); "
                "pass a larger max_line_length to CSVDataset if the file really has such lines"
            )
        if line.count(self.ds.delimiter) >= self.ds.max_fields:
            raise fg.DataError(
                f"{self.ds.path}:{self.number}: the line has more than {self.ds.max_fields} fields (max_fields); "
                "pass a larger max_fields to CSVDataset if the file really is that wide"
            )
        self.chars += len(line)
        return line


def _join(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(cols) for cols in zip(*parts))


def _numeric_dtype(dtype: Any, name: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise fg.DataError(f"CSVDataset: {name} {dtype!r} is not a dtype") from None
    if dt.kind not in "biuf":  # str or object would keep the text unparsed
        raise fg.DataError(f"CSVDataset: {name} must be a numeric dtype such as fg.float32, got {dt}")
    return dt


def _cast(values: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, list[list[int]]]:
    """``values`` (float64) in ``dtype``, and the (row, column) positions of values it cannot hold.

    Hardening against hostile files: NumPy's cast would turn 1e39 into a float32 inf, 2.5 into
    the label 2 and NaN into an arbitrary integer (with a RuntimeWarning at best). For floats,
    every infinity is returned; the caller lets through those whose text spells infinity.
    """
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        with np.errstate(invalid="ignore"):
            fits = np.isfinite(values) & (values == np.floor(values))
            fits &= (values >= info.min) & (values < float(info.max) + 1)
        bad = np.argwhere(~fits)
        return (values.astype(dtype) if not len(bad) else np.zeros(values.shape, dtype)), bad.tolist()
    if dtype.kind != "f":
        return values.astype(dtype), []
    with np.errstate(over="ignore"):
        out = values.astype(dtype)
    return out, np.argwhere(np.isinf(out)).tolist()


def _spells_infinity(text: str) -> bool:
    return text.strip().lower().lstrip("+-") in ("inf", "infinity")


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened: a value or name from a hostile file can be megabytes long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
