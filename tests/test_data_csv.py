"""fg.data.CSVDataset: streaming in bounded memory, batching, and errors that say where."""

import os
import tracemalloc

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.data import CSVDataset, DataLoader

HOUSING = (
    "CRIM,RM,AGE,MEDV\n0.1,6.5,65.2,24.0\n0.2,6.4,78.9,21.6\n0.3,7.1,61.1,34.7\n0.4,7.0,45.8,33.4\n0.5,7.1,54.2,36.2\n"
)


def write(tmp_path, text, name="housing.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_batches_and_len(tmp_path):
    ds = CSVDataset(write(tmp_path, HOUSING), label_columns="MEDV")
    assert len(ds) == 5 and ds.get_dataset_size() == 5 and ds.get_col_names() == ["features", "labels"]
    x, y = next(iter(ds))
    assert x.dtype == np.float32 and x.tolist() == pytest.approx([0.1, 6.5, 65.2]) and y.tolist() == [24.0]
    batches = list(ds.batch(2))
    assert [b[0].shape for b in batches] == [(2, 3), (2, 3), (1, 3)] and batches[2][1].shape == (1, 1)
    assert ds.batch(2).get_dataset_size() == 3 and ds.batch(2, drop_remainder=True).get_dataset_size() == 2
    assert len(list(ds.batch(2, drop_remainder=True))) == 2


def test_batches_cut_across_chunks_equal_row_stacking(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(103, 4)).round(4)
    path = tmp_path / "d.csv"
    np.savetxt(path, data, delimiter=",", header="a,b,c,y", comments="", fmt="%.4f")
    ds = CSVDataset(path, label_columns=["y"], chunk_size=10, dtype=fg.float64)
    fast = list(ds.batch(7))  # cut out of 10-row blocks
    slow = list(ds.map(lambda x, y: (x, y)).batch(7))  # stacked row by row
    assert len(fast) == len(slow) == 15
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
    whole = np.concatenate([np.hstack([x.numpy(), y.numpy()]) for x, y in fast])
    np.testing.assert_array_equal(whole, data)
    loader = DataLoader(ds, batch_size=7)
    assert len(loader) == 15 and sum(x.shape[0] for x, _ in loader) == 103


def test_pipeline_stages_on_a_csv(tmp_path):
    ds = CSVDataset(write(tmp_path, HOUSING), label_columns="MEDV")
    fg.manual_seed(0)
    order = [round(float(y.item()), 1) for _, y in ds.shuffle(10)]
    assert sorted(order) == [21.6, 24.0, 33.4, 34.7, 36.2]
    assert len(list(ds.repeat(3).batch(4))) == 4
    scaled = ds.map(lambda y: y / 10, input_columns="labels").take(2)
    assert [round(float(y.item()), 2) for _, y in scaled] == [2.4, 2.16]


def test_columns_by_number_no_header_and_int_labels(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,1\n\n5,6,2.0\n", name="nohead.csv")
    ds = CSVDataset(path, label_columns=2, header=False, label_dtype=fg.int64)
    x, y = next(iter(ds.batch(3)))
    assert x.tolist() == [[1, 2], [3, 4], [5, 6]] and y.dtype == np.int64 and y.ravel().tolist() == [0, 1, 2]
    assert len(ds) == 3  # the blank line is not a row
    only = CSVDataset(path, header=False)
    assert only.get_col_names() == ["features"] and next(iter(only))[0].shape == (3,)


def test_unused_columns_are_not_parsed(tmp_path):
    path = write(tmp_path, "id,x,y\nab,1,2\ncd,3,4\n", name="ids.csv")
    ds = CSVDataset(path, label_columns="y", feature_columns=["x"])
    assert [(x.tolist(), y.tolist()) for x, y in ds] == [([1.0], [2.0]), ([3.0], [4.0])]


def test_quoted_fields_and_line_numbers(tmp_path):
    path = write(tmp_path, 'a,"b\nstill b",y\n1,2,3\n"4",x5,6\n', name="quoted.csv")
    with pytest.raises(fg.DataError, match=r"quoted.csv:4: column 'b\\nstill b': could not convert 'x5' to float"):
        list(CSVDataset(path, label_columns="y"))


# -- errors ----------------------------------------------------------------------------------


def test_bad_value_names_file_line_and_column(tmp_path):
    lines = HOUSING.splitlines()
    rows = [lines[0]] + [lines[1 + k % 5] for k in range(60)]
    rows[56] = "0.1,abc,65.2,24.0"  # line 57 of the file
    path = write(tmp_path, "\n".join(rows) + "\n")
    ds = CSVDataset(path, label_columns="MEDV", chunk_size=16)
    with pytest.raises(fg.DataError) as info:
        list(ds.batch(8))
    assert str(info.value) == f"{path}:57: column 'RM': could not convert 'abc' to float"
    assert isinstance(info.value, ValueError)
    with pytest.raises(fg.DataError, match=r"housing.csv:57: column 'RM'"):
        list(ds)


def test_bad_label_value_and_empty_field(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n3,\n")
    with pytest.raises(fg.DataError, match=r"housing.csv:3: column 'y': could not convert '' to float"):
        list(CSVDataset(path, label_columns="y"))


def test_missing_label_column_lists_the_columns(tmp_path):
    path = write(tmp_path, HOUSING)
    with pytest.raises(fg.DataError) as info:
        CSVDataset(path, label_columns="PRICE")
    assert str(info.value) == f"{path}: no label column 'PRICE'; the columns are 'CRIM', 'RM', 'AGE', 'MEDV'"
    with pytest.raises(fg.DataError, match="no label column 7; the columns are 0 to 2"):
        CSVDataset(write(tmp_path, "1,2,3\n", name="n.csv"), label_columns=7, header=False)


def test_wrong_number_of_fields_names_line_and_counts(tmp_path):
    path = write(tmp_path, HOUSING + "0.6,6.0,50.0\n")  # line 7 has 3 fields
    with pytest.raises(fg.DataError) as info:
        list(CSVDataset(path, label_columns="MEDV").batch(4))
    assert str(info.value) == f"{path}:7: expected 4 fields (as in the header), found 3"
    path = write(tmp_path, "1,2\n3,4,5\n", name="n.csv")
    with pytest.raises(fg.DataError, match=r"n.csv:2: expected 2 fields \(as in line 1\), found 3"):
        list(CSVDataset(path, header=False))


def test_the_first_problem_in_the_file_is_reported(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n1,x,3\n1,2\n", name="two.csv")
    with pytest.raises(fg.DataError, match=r"two.csv:3: column 'b': could not convert 'x'"):
        list(CSVDataset(path, label_columns="y"))
    path = write(tmp_path, "a,b,y\n1,2,3\n1,2\n1,x,3\n", name="two.csv")
    with pytest.raises(fg.DataError, match=r"two.csv:3: expected 3 fields"):
        list(CSVDataset(path, label_columns="y"))


def test_not_utf8_names_the_line_and_a_bom_is_ignored(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,y\n1,2\n3,4\n5,\xe9\n")
    with pytest.raises(fg.DataError, match=r"latin.csv:4: not UTF-8 text"):
        list(CSVDataset(path, label_columns="y"))
    bom = tmp_path / "excel.csv"
    bom.write_bytes(b"\xef\xbb\xbfCRIM,MEDV\n1,2\n")
    assert [y.item() for _, y in CSVDataset(bom, label_columns="CRIM")] == [1.0]


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(fg.DataError, match=r"empty.csv: the file is empty"):
        CSVDataset(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(fg.DataError, match=r"blank.csv: the file is empty"):
        CSVDataset(write(tmp_path, "\n\n", name="blank.csv"))
    with pytest.raises(fg.DataError, match=r"head.csv: the file has a header line but no data rows"):
        CSVDataset(write(tmp_path, "a,b\n", name="head.csv"))
    with pytest.raises(fg.DataError, match=r"nofile.csv: cannot open the file"):
        CSVDataset(tmp_path / "nofile.csv")


def test_streams_a_large_file_in_bounded_memory(tmp_path):
    n = 200_000
    path = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write("x1,x2,y\n")
        np.savetxt(f, rng.normal(size=(n, 3)), delimiter=",", fmt="%.5f")
    file_size = os.path.getsize(path)  # ~5 MB of text; read whole into Python lists ~10x that
    ds = CSVDataset(path, label_columns="y", chunk_size=256)
    tracemalloc.start()
    try:
        rows, total = 0, 0.0
        for x, y in ds.batch(64):
            rows += x.shape[0]
            total += float(y.numpy().sum())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == n
    assert peak < file_size / 8, f"peak {peak} bytes while streaming a {file_size}-byte file"
