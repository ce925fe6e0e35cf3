"""``NeuralNetClassifier`` and ``NeuralNetRegressor``: flowgrad networks as scikit-learn estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets

import flowgrad as fg
import flowgrad.nn.functional as F

from ._base import NeuralNetBase, validate_data

# Checks of scikit-learn's estimator suite these estimators do not pass, with the reason, per
# estimator (as skorch documents its own); pass it as ``expected_failed_checks`` to
# ``parametrize_with_checks`` / ``check_estimator``. Empty: every check passes.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {"NeuralNetClassifier": {}, "NeuralNetRegressor": {}}


class NeuralNetClassifier(ClassifierMixin, NeuralNetBase):
    """A multi-layer perceptron classifier trained with flowgrad: softmax outputs, cross-entropy loss.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_`` (when ``X`` has
    string column names, as a DataFrame's), ``loss_curve_`` (the mean loss of each pass),
    ``n_iter_``, ``module_`` (the ``fg.nn.Sequential``) and ``optimizer_``.

    :param hidden_layer_sizes: the width of each hidden layer, as in ``MLPClassifier`` (default ``(100,)``).
    :param activation: between the hidden layers: ``"relu"`` (default), ``"tanh"``, ``"logistic"``
        or ``"identity"``.
    :param optimizer: ``"adam"`` (default), ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``,
        or an ``fg.optim.Optimizer`` class.
    :param lr: the optimizer's learning rate (default 1e-3, as ``MLPClassifier``'s adam).
    :param epochs: passes over the data in ``fit`` (default 200); ``partial_fit`` makes one.
    :param batch_size: samples per step; ``"auto"`` (default) is ``min(200, n_samples)``.
    :param shuffle: shuffle the samples before each pass (default True).
    :param optimizer_params: other keyword arguments of the optimizer, e.g. ``{"momentum": 0.9}``.
    :param random_state: seeds the weights and the shuffling (an int, a RandomState or None).

    >>> import numpy as np
    >>> from flowgrad.sklearn import NeuralNetClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(8,), lr=0.05, epochs=100, random_state=0)
    >>> clf.fit(X, ["a", "a", "b", "b"]).predict([[0.0], [3.0]]).tolist()
    ['a', 'b']
    >>> clf.predict_proba(X).shape
    (4, 2)
    """

    def _loss(self, output: fg.Tensor, target: fg.Tensor) -> fg.Tensor:
        return F.cross_entropy(output, target)

    def _set_classes(self, classes: Any) -> None:
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__}: a classifier needs at least 2 classes, got only one class, {classes.tolist()[0]!r}"
            )
        self.classes_ = classes

    def fit(self, X: Any, y: Any) -> NeuralNetClassifier:
        """A new network trained for ``epochs`` passes over ``(X, y)``; returns the estimator.

        >>> clf = NeuralNetClassifier(hidden_layer_sizes=4, epochs=2).fit([[0.0], [1.0]], [0, 1])
        >>> clf.classes_.tolist(), clf.n_features_in_, len(clf.loss_curve_)
        ([0, 1], 1, 2)
        """
        self._check_params()
        X, y = validate_data(self, X, y, reset=True)
        check_classification_targets(y)
        classes, labels = np.unique(y, return_inverse=True)
        self._set_classes(classes)
        self._initialize(X.shape[1], len(classes))
        self._run_epochs(X, labels.astype(np.int64), self.epochs)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> NeuralNetClassifier:
        """One pass over ``(X, y)``, continuing from the current weights; the first call needs
        ``classes``, every label there will be.

        >>> clf = NeuralNetClassifier(hidden_layer_sizes=4)
        >>> clf.partial_fit([[0.0], [1.0]], [0, 0], classes=[0, 1]).partial_fit([[2.0]], [1]).n_iter_
        2
        """
        first = not hasattr(self, "module_")
        self._check_params()
        X, y = validate_data(self, X, y, reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError(
                    f"{type(self).__name__}.partial_fit: the first call needs classes= (every label the "
                    "data will have), as scikit-learn's partial_fit does"
                )
            self._set_classes(np.unique(classes))
            self._initialize(X.shape[1], len(self.classes_))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"{type(self).__name__}.partial_fit: classes={np.unique(classes).tolist()} differ from those "
                f"of the first call, {self.classes_.tolist()}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"{type(self).__name__}.partial_fit: labels {unknown.tolist()} are not among classes_ "
                f"{self.classes_.tolist()}"
            )
        self._run_epochs(X, np.searchsorted(self.classes_, y).astype(np.int64), 1)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class (columns in the order of ``classes_``), rows summing to 1.

        >>> clf = NeuralNetClassifier(hidden_layer_sizes=4, epochs=1).fit([[0.0], [1.0]], [0, 1])
        >>> float(clf.predict_proba([[0.5]]).sum())
        1.0
        """
        self._check_fitted()
        X = validate_data(self, X, reset=False)
        logits = self._forward(X)
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X``.

        >>> clf = NeuralNetClassifier(hidden_layer_sizes=4, epochs=1).fit([[0.0], [1.0]], ["x", "y"])
        >>> clf.predict([[0.5]]).shape
        (1,)
        """
        self._check_fitted()
        X = validate_data(self, X, reset=False)
        return self.classes_[np.argmax(self._forward(X), axis=1)]


class NeuralNetRegressor(RegressorMixin, NeuralNetBase):
    """A multi-layer perceptron regressor trained with flowgrad: linear outputs, mean squared error;
    ``y`` may have several columns.

    Fitted attributes: ``n_features_in_``, ``feature_names_in_`` (when ``X`` has string column
    names), ``n_outputs_``, ``loss_curve_``, ``n_iter_``, ``module_`` and ``optimizer_``.

    :param hidden_layer_sizes: the width of each hidden layer, as in ``MLPClassifier`` (default ``(100,)``).
    :param activation: between the hidden layers: ``"relu"`` (default), ``"tanh"``, ``"logistic"``
        or ``"identity"``.
    :param optimizer: ``"adam"`` (default), ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"adagrad"``,
        or an ``fg.optim.Optimizer`` class.
    :param lr: the optimizer's learning rate (default 1e-3, as ``MLPClassifier``'s adam).
    :param epochs: passes over the data in ``fit`` (default 200); ``partial_fit`` makes one.
    :param batch_size: samples per step; ``"auto"`` (default) is ``min(200, n_samples)``.
    :param shuffle: shuffle the samples before each pass (default True).
    :param optimizer_params: other keyword arguments of the optimizer, e.g. ``{"momentum": 0.9}``.
    :param random_state: seeds the weights and the shuffling (an int, a RandomState or None).

    >>> import numpy as np
    >>> from flowgrad.sklearn import NeuralNetRegressor
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> reg = NeuralNetRegressor(hidden_layer_sizes=(16,), lr=0.01, epochs=300, random_state=0)
    >>> reg.fit(X, 2 * X[:, 0] + 1).score(X, 2 * X[:, 0] + 1) > 0.99
    True
    """

    def _loss(self, output: fg.Tensor, target: fg.Tensor) -> fg.Tensor:
        return F.mse_loss(output, target)

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{type(self).__name__}: y expected numbers (the targets), got an array of {y.dtype}")
        return y.astype(np.float64, copy=False).reshape(len(y), -1)

    def fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """A new network trained for ``epochs`` passes over ``(X, y)``; returns the estimator.

        >>> reg = NeuralNetRegressor(hidden_layer_sizes=4, epochs=2).fit([[0.0], [1.0]], [[0.0, 1.0], [1.0, 0.0]])
        >>> reg.n_outputs_, reg.predict([[0.5]]).shape
        (2, (1, 2))
        """
        self._check_params()
        X, y = validate_data(self, X, y, reset=True, y_numeric=True, multi_output=True)
        target = self._targets(y)
        self.n_outputs_ = target.shape[1]
        self._initialize(X.shape[1], self.n_outputs_)
        self._run_epochs(X, target, self.epochs)
        return self

    def partial_fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """One pass over ``(X, y)``, continuing from the current weights (a new network on the first call).

        >>> NeuralNetRegressor(hidden_layer_sizes=4).partial_fit([[0.0], [1.0]], [0.0, 1.0]).n_iter_
        1
        """
        first = not hasattr(self, "module_")
        self._check_params()
        X, y = validate_data(self, X, y, reset=first, y_numeric=True, multi_output=True)
        target = self._targets(y)
        if first:
            self.n_outputs_ = target.shape[1]
            self._initialize(X.shape[1], self.n_outputs_)
        elif target.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{type(self).__name__}.partial_fit: y has {target.shape[1]} output(s), the network was "
                f"made for {self.n_outputs_}"
            )
        self._run_epochs(X, target, 1)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets: shape ``(n_samples,)`` for one output, else ``(n_samples, n_outputs_)``.

        >>> reg = NeuralNetRegressor(hidden_layer_sizes=4, epochs=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> reg.predict([[0.5], [2.0]]).shape
        (2,)
        """
        self._check_fitted()
        X = validate_data(self, X, reset=False)
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"multioutput": True}
