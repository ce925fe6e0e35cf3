"""Three classic small data sets, shipped inside the package: digits, iris, diabetes.

The files are the ones scikit-learn ships (BSD 3-clause licence, copyright the
scikit-learn developers); each loader's ``DESCR`` says where the data comes from.

>>> from flowgrad import datasets
>>> digits = datasets.load_digits()
>>> digits.data.shape, digits.images.shape, sorted(set(digits.target.tolist())) == list(range(10))
((1797, 64), (1797, 8, 8), True)
>>> X, y = datasets.load_iris(return_X_y=True); X.shape, y.shape
((150, 4), (150,))
>>> X, y = datasets.load_diabetes(return_X_y=True); X.shape, round(float(y.mean()), 3)
((442, 10), 152.133)
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np

from ._housing import Bunch

__all__ = ["load_digits", "load_iris", "load_diabetes"]

_LICENCE = (
    "The file is the copy shipped with scikit-learn (BSD 3-clause licence, Copyright (c) the scikit-learn developers)."
)

DIGITS_DESCR = f"""\
Optical recognition of handwritten digits
=========================================

1,797 images of handwritten digits 0-9, 8 x 8 pixels of 17 grey levels (0-16),
about 180 per class. Each row is the 64 pixels of one image, read row by row,
followed by its label.

Source: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, "Optical
Recognition of Handwritten Digits" (1998): 32 x 32 bitmaps from 43 people,
divided into non-overlapping 4 x 4 blocks whose set pixels were counted. This
is the test part of that data set. {_LICENCE}
"""

IRIS_DESCR = f"""\
Iris plants
===========

150 iris flowers, 50 of each of three species (setosa, versicolor, virginica),
with four measurements in cm: sepal length, sepal width, petal length, petal
width.

Source: R. A. Fisher, "The use of multiple measurements in taxonomic
problems", Annals of Eugenics 7 (1936), from E. Anderson's measurements;
UCI Machine Learning Repository. {_LICENCE}
"""

DIABETES_DESCR = f"""\
Diabetes
========

442 diabetes patients: ten baseline variables (age, sex, body mass index,
average blood pressure and six blood serum measurements s1-s6) and, as the
target, a quantitative measure of disease progression one year later.
``load_diabetes`` returns the features mean-centred and scaled so that each
column's sum of squares is 1 (as scikit-learn does); ``scaled=False`` gives
the raw values.

Source: B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least Angle
Regression", Annals of Statistics 32 (2004), 407-499. {_LICENCE}
"""


def _read(name: str) -> bytes:
    data = resources.files(__package__).joinpath(f"data/{name}").read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def load_digits(n_class: int = 10, return_X_y: bool = False) -> Bunch | tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """8 x 8 handwritten digits: ``data`` (n, 64) float64 in 0..16, ``images`` (n, 8, 8),
    ``target`` int64; ``n_class`` keeps only the digits below it."""
    table = np.loadtxt(io.BytesIO(_read("digits.csv.gz")), delimiter=",", dtype=np.float64)
    data, target = table[:, :-1], table[:, -1].astype(np.int64)
    keep = target < n_class
    data, target = data[keep].copy(), target[keep].copy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 8, 8),
        target_names=np.arange(n_class),
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        DESCR=DIGITS_DESCR,
    )


def load_iris(return_X_y: bool = False) -> Bunch | tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """Fisher's iris flowers: ``data`` (150, 4) float64, ``target`` 0/1/2."""
    text = _read("iris.csv").decode("utf-8")
    header, _, body = text.partition("\n")
    table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    data, target = table[:, :4].copy(), table[:, 4].astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        target_names=header.strip().split(",")[2:],
        feature_names=["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
        DESCR=IRIS_DESCR,
    )


def load_diabetes(return_X_y: bool = False, scaled: bool = True) -> Bunch | tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """Diabetes progression: ``data`` (442, 10) float64, ``target`` float64."""
    data = np.loadtxt(io.BytesIO(_read("diabetes_data_raw.csv.gz")), dtype=np.float64)
    target = np.loadtxt(io.BytesIO(_read("diabetes_target.csv.gz")), dtype=np.float64)
    if scaled:
        data = data - data.mean(0)
        data /= np.sqrt((data**2).sum(0))
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
        DESCR=DIABETES_DESCR,
    )
