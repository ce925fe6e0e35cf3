"""The Boston housing data (506 towns, 13 features, median house prices), shipped as a small CSV.

>>> from flowgrad.datasets import load_housing
>>> X, y = load_housing(return_X_y=True)
>>> X.shape, y.shape, X.dtype
((506, 13), (506,), dtype('float64'))
>>> housing = load_housing()
>>> housing.feature_names[:3], housing["target"][:3].tolist()
(['CRIM', 'ZN', 'INDUS'], [24.0, 21.6, 34.7])
"""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["Bunch", "load_housing", "HOUSING_DESCR"]

_CSV = "data/housing.csv"

HOUSING_DESCR = """\
Boston housing data
===================

506 census tracts of the Boston area in 1970, 13 features each, and the median
value of owner-occupied homes (MEDV, in $1000s) as the target.

Features, in column order:
  CRIM     per capita crime rate by town
  ZN       proportion of residential land zoned for lots over 25,000 sq.ft.
  INDUS    proportion of non-retail business acres per town
  CHAS     1 if the tract bounds the Charles River, else 0
  NOX      nitric oxides concentration (parts per 10 million)
  RM       average number of rooms per dwelling
  AGE      proportion of owner-occupied units built before 1940
  DIS      weighted distances to five Boston employment centres
  RAD      index of accessibility to radial highways
  TAX      full-value property-tax rate per $10,000
  PTRATIO  pupil-teacher ratio by town
  B        1000 (Bk - 0.63)^2, where Bk is the proportion of Black residents by town
  LSTAT    percentage of lower-status population
Target:
  MEDV     median value of owner-occupied homes in $1000s (censored at 50.0)

Source: D. Harrison and D. L. Rubinfeld, "Hedonic prices and the demand for
clean air", Journal of Environmental Economics and Management 5, 81-102
(1978); distributed through the StatLib library at Carnegie Mellon University
and the UCI Machine Learning Repository. This copy is the CSV that
scikit-learn shipped (BSD licence) until version 1.1.

A warning about the B column: it was derived from the race of the residents,
and the model it came from assumed that racial self-segregation had a
positive effect on house prices. Because of that, scikit-learn deprecated its
load_boston in version 1.0 and removed it in 1.2. flowgrad keeps the data
unchanged because the MiniFlow tutorial (and many courses) train on it, so
their programs can be run as written. For new work, drop the B column or use
another data set.
"""


class Bunch(dict):
    """A dict whose keys are also attributes, as scikit-learn's loaders return.

    >>> b = Bunch(data=[1, 2])
    >>> b.data is b["data"]
    True
    """

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __dir__(self) -> list[str]:
        return list(self.keys())


def load_housing(return_X_y: bool = False) -> Bunch | tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """The Boston housing data: ``(X, y)`` float64 arrays, or a Bunch with ``.data``,
    ``.target``, ``.feature_names`` and ``.DESCR`` (read the DESCR: one column is
    derived from race).

    Read from the CSV inside the package, so it works offline; each call
    returns new arrays.

    >>> X, y = load_housing(return_X_y=True)
    >>> round(float(y.mean()), 4), float(X[:, 3].max())
    (22.5328, 1.0)
    """
    text = resources.files(__package__).joinpath(_CSV).read_text(encoding="utf-8")
    header, _, body = text.partition("\n")
    columns = header.split(",")
    table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    data, target = table[:, :-1].copy(), table[:, -1].copy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=columns[:-1],
        target_name=columns[-1],
        DESCR=HOUSING_DESCR,
        filename=_CSV.rsplit("/", 1)[-1],
    )
