"""scikit-learn estimators made of flowgrad networks: ``NeuralNetClassifier`` and
``NeuralNetRegressor`` fit, predict and score as scikit-learn's own ``MLPClassifier`` and
``MLPRegressor`` do, so they go into ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``.

This module needs scikit-learn (``pip install "flowgrad[sklearn]"``); flowgrad itself does not.
The networks are ``fg.nn`` modules trained with ``fg.optim``; a fitted estimator keeps its
network as ``module_``.

>>> from flowgrad.sklearn import NeuralNetClassifier
>>> NeuralNetClassifier(hidden_layer_sizes=(32,)).get_params()["hidden_layer_sizes"]
(32,)
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ImportError as _e:  # pragma: no cover - the test extra installs scikit-learn
    raise ImportError(
        'flowgrad.sklearn needs scikit-learn, which is optional: pip install "flowgrad[sklearn]" '
        "(or pip install scikit-learn)"
    ) from _e

from .estimators import EXPECTED_FAILED_CHECKS, NeuralNetClassifier, NeuralNetRegressor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "EXPECTED_FAILED_CHECKS"]
