"""What the classifier and the regressor share: parameter checks, the network, the training loop.

The network is an ``fg.nn.Sequential`` of ``Linear`` layers with the activation between them,
initialised as scikit-learn's MLP is (Glorot uniform, from the estimator's own random stream, so
``random_state`` alone fixes a fit and flowgrad's global seed is left alone). Inputs are float64.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

import flowgrad as fg

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.3 to 1.5

    def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


ACTIVATIONS: dict[str, Callable[[], fg.nn.Module]] = {
    "relu": fg.nn.ReLU,
    "tanh": fg.nn.Tanh,
    "logistic": fg.nn.Sigmoid,
    "identity": fg.nn.Identity,
}
OPTIMIZERS: dict[str, type] = {
    "adam": fg.optim.Adam,
    "adamw": fg.optim.AdamW,
    "sgd": fg.optim.SGD,
    "rmsprop": fg.optim.RMSprop,
    "adagrad": fg.optim.Adagrad,
}


def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's input checks (finite numbers, 2-D, feature count and names), float64."""
    return _validate_data(estimator, *args, dtype=np.float64, **kwargs)


class NeuralNetBase(BaseEstimator):
    """The parameters, the network and the training loop of both estimators (not public)."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        optimizer: Any = "adam",
        lr: float = 1e-3,
        epochs: int = 200,
        batch_size: Any = "auto",
        shuffle: bool = True,
        optimizer_params: dict | None = None,
        random_state: Any = None,
    ) -> None:
        # scikit-learn's convention: __init__ stores the parameters as given; fit checks them.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.optimizer_params = optimizer_params
        self.random_state = random_state

    # --- what the subclasses provide -------------------------------------------------------
    def _loss(self, output: fg.Tensor, target: fg.Tensor) -> fg.Tensor:
        raise NotImplementedError

    # --- parameter checks ------------------------------------------------------------------
    def _where(self, name: str) -> str:
        return f"{type(self).__name__}: {name}"

    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
            raise ValueError(
                f"{self._where('hidden_layer_sizes')} expected an int or a tuple of ints (the width of each "
                f"hidden layer), got {self.hidden_layer_sizes!r}"
            )
        if any(s < 1 for s in sizes):
            raise ValueError(f"{self._where('hidden_layer_sizes')} expected widths of at least 1, got {sizes}")
        self._sizes = tuple(int(s) for s in sizes)
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"{self._where('activation')} expected one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )
        opt = self.optimizer
        if not (opt in OPTIMIZERS if isinstance(opt, str) else isinstance(opt, type)):
            raise ValueError(
                f"{self._where('optimizer')} expected one of {sorted(OPTIMIZERS)} or an fg.optim.Optimizer "
                f"class, got {opt!r}"
            )
        if isinstance(self.lr, bool) or not isinstance(self.lr, numbers.Real) or not self.lr > 0:
            raise ValueError(f"{self._where('lr')} expected a positive number, got {self.lr!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, numbers.Integral) or self.epochs < 1:
            raise ValueError(f"{self._where('epochs')} expected a positive int, got {self.epochs!r}")
        b = self.batch_size
        if b != "auto" and (isinstance(b, bool) or not isinstance(b, numbers.Integral) or b < 1):
            raise ValueError(f"{self._where('batch_size')} expected a positive int or 'auto', got {b!r}")
        if self.optimizer_params is not None and not isinstance(self.optimizer_params, dict):
            raise ValueError(
                f"{self._where('optimizer_params')} expected a dict of the optimizer's keyword arguments "
                f"or None, got {self.optimizer_params!r}"
            )

    # --- the network -----------------------------------------------------------------------
    def _initialize(self, n_features: int, n_outputs: int) -> None:
        """A new network and optimizer; the random stream starts from ``random_state``."""
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self._rng = np.random.default_rng(seed)
        widths = (n_features, *self._sizes, n_outputs)
        layers: list[fg.nn.Module] = []
        # Glorot uniform as scikit-learn's MLP: bound sqrt(6 / (fan_in + fan_out)), 2 for logistic.
        factor = 2.0 if self.activation == "logistic" else 6.0
        # Linear's own initialisation draws from flowgrad's global stream: put its state back after.
        stream = fg.default_generator().bit_generator
        state = stream.state
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layer = fg.nn.Linear(fan_in, fan_out, dtype=fg.float64)
            stream.state = state
            bound = np.sqrt(factor / (fan_in + fan_out))
            layer.weight = fg.nn.Parameter(fg.tensor(self._rng.uniform(-bound, bound, (fan_out, fan_in))))
            layer.bias = fg.nn.Parameter(fg.tensor(self._rng.uniform(-bound, bound, fan_out)))
            layers.append(layer)
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[self.activation]())
        self.module_ = fg.nn.Sequential(*layers)
        cls = OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str) else self.optimizer
        self.optimizer_ = cls(self.module_.parameters(), lr=self.lr, **(self.optimizer_params or {}))
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """The network's outputs for the checked inputs, without a graph."""
        with fg.no_grad():
            self.module_.eval()
            return self.module_(fg.tensor(X)).numpy()

    def _run_epochs(self, X: np.ndarray, target: np.ndarray, epochs: int) -> None:
        """``epochs`` passes over the data in mini-batches; appends each pass's mean loss."""
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        self.module_.train()
        for _ in range(epochs):
            order = self._rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                self.optimizer_.zero_grad()
                # Overflow is caught here as a non-finite loss, with the advice NumPy's warning lacks.
                with np.errstate(over="ignore", invalid="ignore"):
                    loss = self._loss(self.module_(fg.tensor(X[idx])), fg.tensor(target[idx]))
                    value = loss.item()
                    if not np.isfinite(value):
                        raise ValueError(
                            f"{type(self).__name__}: the training loss became {value} in pass {self.n_iter_ + 1}; "
                            f"lower lr (now {self.lr}) or scale the inputs (StandardScaler)"
                        )
                    loss.backward()
                    self.optimizer_.step()
                total += value * len(idx)
            self.loss_curve_.append(total / n)
            self.n_iter_ += 1
        if not all(np.isfinite(p.numpy()).all() for p in self.module_.parameters()):  # the last step's
            raise ValueError(
                f"{type(self).__name__}: the weights became infinite or NaN in pass {self.n_iter_}; "
                f"lower lr (now {self.lr}) or scale the inputs (StandardScaler)"
            )

    def _check_fitted(self) -> None:
        check_is_fitted(self, "module_")
