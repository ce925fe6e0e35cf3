"""fg.datasets.load_housing: the Boston housing data shipped inside the package."""

import pathlib

import numpy as np
import tomllib

import flowgrad as fg
from flowgrad.datasets import load_housing

ROOT = pathlib.Path(__file__).resolve().parent.parent
FEATURES = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT"]


def test_return_X_y_gives_float64_arrays():
    X, y = load_housing(return_X_y=True)
    assert X.shape == (506, 13) and y.shape == (506,)
    assert X.dtype == np.float64 and y.dtype == np.float64


def test_the_numbers_are_the_published_ones():
    X, y = load_housing(return_X_y=True)
    assert X[0].tolist() == [0.00632, 18, 2.31, 0, 0.538, 6.575, 65.2, 4.09, 1, 296, 15.3, 396.9, 4.98]
    assert y[0] == 24.0 and y[-1] == 11.9
    assert round(float(y.mean()), 6) == 22.532806 and y.min() == 5.0 and y.max() == 50.0
    assert sorted(np.unique(X[:, 3]).tolist()) == [0.0, 1.0]  # CHAS is a dummy
    assert round(float(X.sum()), 4) == 460946.5552  # a checksum of every feature (as scikit-learn 1.1 parsed them)
    assert not np.isnan(X).any()


def test_bunch_works_like_scikit_learns():
    housing = load_housing()
    assert housing.data.shape == (506, 13) and housing["target"] is housing.target  # the tutorial reads data['data']
    assert housing.feature_names == FEATURES and housing.target_name == "MEDV"
    assert "data" in dir(housing)


def test_each_call_returns_new_arrays():
    first = load_housing()
    first.data[:] = 0
    assert load_housing().data[0, 0] == 0.00632


def test_description_says_where_the_data_comes_from_and_what_is_wrong_with_B():
    descr = " ".join(load_housing().DESCR.split())
    for words in ["Harrison", "Rubinfeld", "1978", "StatLib", "Hedonic prices and the demand for clean air"]:
        assert words in descr
    assert "B 1000 (Bk - 0.63)^2" in descr
    assert "race" in descr and "Black" in descr
    assert "scikit-learn deprecated" in descr and "removed it in 1.2" in descr
    assert "MiniFlow" in descr


def test_available_lazily_as_fg_datasets():
    assert fg.datasets.load_housing is load_housing


def test_the_csv_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["flowgrad.datasets"]
    shipped = ROOT / "flowgrad" / "datasets" / "data" / "housing.csv"
    assert shipped.exists() and any(shipped.match(p) for p in patterns)
    header = shipped.read_text().splitlines()[0]
    assert header == ",".join(FEATURES + ["MEDV"])
