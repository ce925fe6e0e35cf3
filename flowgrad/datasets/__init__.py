"""``fg.datasets``: small data sets shipped inside the package, so examples and tests run offline.

>>> import flowgrad as fg
>>> fg.datasets.load_housing().data.shape
(506, 13)
"""

from ._bundled import load_diabetes, load_digits, load_iris
from ._housing import Bunch, load_housing
from .toy import and_gate, gender, make_blobs, make_linear, make_moons

__all__ = [
    "Bunch",
    "load_housing",
    "load_digits",
    "load_iris",
    "load_diabetes",
    "and_gate",
    "gender",
    "make_linear",
    "make_moons",
    "make_blobs",
]
