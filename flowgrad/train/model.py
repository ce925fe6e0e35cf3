"""``fg.Model``: train, evaluate and predict with Keras's and MindSpore's signatures.

>>> import numpy as np, flowgrad as fg
>>> _ = fg.manual_seed(0)
>>> x = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
>>> y = 3 * x + 1
>>> model = fg.Model(fg.nn.Linear(1, 1), "mse", fg.optim.SGD, metrics=["mae"], lr=0.1)
>>> history = model.fit(x, y, batch_size=16, epochs=60, verbose=0)
>>> round(float(model.network.weight.item()), 2), round(float(model.network.bias.item()), 2)
(3.0, 1.0)
>>> sorted(history.history)
['loss', 'mae']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import flowgrad as fg
from flowgrad.errors import ArgumentError, DTypeError, check_int, check_number, given

from . import distributed_fit
from . import metrics as metric_lib
from .batches import ArrayBatches, as_array, batches, count, split_batch
from .callbacks import Callback, CallbackList, ProgressBar, format_logs

_LOSSES = {
    "mse": "MSELoss", "mean_squared_error": "MSELoss", "mae": "L1Loss", "l1": "L1Loss",
    "mean_absolute_error": "L1Loss", "huber": "HuberLoss", "smooth_l1": "SmoothL1Loss",
    "cross_entropy": "CrossEntropyLoss", "crossentropy": "CrossEntropyLoss",
    "sparse_categorical_crossentropy": "CrossEntropyLoss", "nll": "NLLLoss",
    "bce": "BCELoss", "binary_crossentropy": "BCELoss", "bce_with_logits": "BCEWithLogitsLoss",
}  # fmt: skip
_OPTIMIZERS = {
    "sgd": "SGD", "momentum": "Momentum", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
    "adagrad": "Adagrad", "lbfgs": "LBFGS", "cg": "ConjugateGradient", "conjugate_gradient": "ConjugateGradient",
}  # fmt: skip


def checked_epoch(value: Any, where: str) -> int:
    """A checkpoint's ``epoch``, checked: a count of epochs, or a CheckpointError naming the file.

    >>> checked_epoch(3, "c.safetensors")
    3
    >>> checked_epoch("three", "c.safetensors")
    Traceback (most recent call last):
    flowgrad.errors.CheckpointError: c.safetensors: the checkpoint's epoch must be a count of epochs (an integer >= 0), got 'three'
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise fg.CheckpointError(
            f"{where}: the checkpoint's epoch must be a count of epochs (an integer >= 0), got {value!r:.40}"
        )
    return int(value)


def _keyed(callbacks: list) -> dict:
    """The callbacks that may hold state, by class name (``#2``, ``#3`` for repeats)."""
    out: dict = {}
    for c in callbacks:
        if isinstance(c, (ProgressBar, History)):
            continue
        name = type(c).__name__
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name}#{n}"
        out[key] = c
    return out


class History(Callback):
    """What ``fit`` returns: ``.history`` maps each logged name to its per-epoch values."""

    def __init__(self) -> None:
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.params: dict = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _resolve_loss(loss_fn: Any) -> Any:
    if isinstance(loss_fn, str):
        key = loss_fn.lower()
        if key not in _LOSSES:
            raise ArgumentError(
                f"Model: unknown loss {loss_fn!r}{_close(key, _LOSSES)} (known: {', '.join(sorted(_LOSSES))})"
            )
        return getattr(fg.nn, _LOSSES[key])()
    if isinstance(loss_fn, type):
        return loss_fn()
    if not callable(loss_fn):  # was "'int' object is not callable" at the first step
        raise DTypeError(f"Model: loss_fn must be a loss name, class or function, got {given(loss_fn)}")
    return loss_fn


def _close(name: str, known: Any) -> str:
    """ ", did you mean 'adam'?" for a name one or two typos from a known one (as the CLI says)."""
    import difflib

    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    return f", did you mean {match[0]!r}?" if match else ""


def _resolve_optimizer(optimizer: Any, network: Any, options: dict) -> Any:
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in _OPTIMIZERS:
            raise ArgumentError(
                f"Model: unknown optimizer {optimizer!r}{_close(key, _OPTIMIZERS)} (known: {', '.join(sorted(_OPTIMIZERS))})"
            )
        optimizer = getattr(fg.optim, _OPTIMIZERS[key])
    if isinstance(optimizer, type):
        if optimizer.__name__ == "Momentum":
            options = {"learning_rate": options.pop("lr", 0.01), "momentum": options.pop("momentum", 0.9), **options}
        return optimizer(network.parameters(), **options)
    if options:
        raise DTypeError(f"Model: optimizer options {sorted(options)} given for an optimizer that already exists")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise DTypeError(f"Model: optimizer must be an optimizer, its class or its name, got {given(optimizer)}")
    return optimizer


class Model:
    """A network with its loss, optimizer and metrics, trained with ``fit`` or ``train``.

    ``loss_fn`` and ``optimizer`` may be objects, classes or names (``'mse'``,
    ``'cross_entropy'``, ``'adam'``, ...); extra keyword arguments (``lr=0.01``)
    configure an optimizer given by class or name.
    """

    def __init__(
        self,
        network: Any,
        loss_fn: Any = None,
        optimizer: Any = None,
        metrics: Any = None,
        compile: bool | str = "auto",  # noqa: A002 - the option's natural name
        **optimizer_options: Any,
    ) -> None:
        if compile not in ("auto", True, False):
            raise ArgumentError(f"Model: compile must be 'auto', True or False, got {compile!r}")
        if not (callable(network) and callable(getattr(network, "parameters", None))):  # else an AttributeError
            raise DTypeError(f"Model: network must be a module (with parameters()), got {given(network)}")
        self.compile = compile
        self._compiled: Any = None
        self.network = network
        self.loss_fn = _resolve_loss(loss_fn) if loss_fn is not None else None
        self.optimizer: Any = (
            _resolve_optimizer(optimizer, network, dict(optimizer_options)) if optimizer is not None else None
        )
        self.metrics = [metric_lib.get(m) for m in (metrics or [])]
        self.stop_training = False
        self._input_shape: tuple | None = None  # one example's shape, seen by fit (for summary)
        self.diverged = False
        self._stateful: dict = {}  # fit's callbacks that may hold state, by name (callback_states)
        self._resume_callbacks: dict = {}  # their states from fit(resume_from=...), restored at the start
        self.params: dict = {}

    # ----- one step -------------------------------------------------------------------------------
    def _loss(self, out: fg.Tensor, y: Any) -> fg.Tensor:
        if self.loss_fn is None:
            raise ArgumentError("Model: no loss_fn given; pass one to Model(network, loss_fn, optimizer)")
        if isinstance(y, fg.Tensor) and y.dtype.kind == "f" and out.shape == y.shape + (1,):
            y = y.reshape(out.shape)  # targets (N,) for a network ending in one unit (N, 1)
        return self.loss_fn(out, y)

    def _can_compile(self) -> bool:
        """``compile='auto'``: only when nothing in the step can hide Python control flow that
        depends on values - flowgrad's own layers and losses, and an optimizer without closures."""
        if self.compile is not True and self.compile != "auto":
            return False
        if self.compile is True:
            return True
        from flowgrad.optim import Optimizer

        own = all(type(m).__module__.startswith("flowgrad.") for m in self.network.modules())
        loss_own = type(self.loss_fn).__module__.startswith("flowgrad.")
        return own and loss_own and type(self.optimizer).step is Optimizer.step

    def _step(self, x: Any, y: Any, training: bool) -> tuple:
        # ``training`` is part of the compiled step's cache key: train and eval trace apart.
        self.optimizer.zero_grad()
        out = self.network(x)
        loss = self._loss(out, y)
        loss.backward()
        self.optimizer.step()
        return loss, out

    def train_step(self, x: Any, y: Any) -> tuple[float, fg.Tensor]:
        """One optimisation step on a batch; returns (loss, outputs).

        With ``compile`` ('auto': for networks made of flowgrad's layers), the step is traced
        once per batch shape and replayed after (``fg.compile``): the same numbers, faster.
        """
        if self.optimizer is None:
            raise ArgumentError("Model: no optimizer given; pass one to Model(network, loss_fn, optimizer)")
        if self._can_compile():
            if self._compiled is None:
                self._compiled = fg.compile(self._step)
            x = x if isinstance(x, fg.Tensor) else fg.from_numpy(np.asarray(x))
            y = y if isinstance(y, fg.Tensor) else fg.from_numpy(np.asarray(y))
            loss, out = self._compiled(x, y, self.network.training)
            return float(loss.item()), out.detach()
        seen: dict = {}

        def closure() -> fg.Tensor:
            self.optimizer.zero_grad()
            out = self.network(x)
            loss = self._loss(out, y)
            loss.backward()
            seen.setdefault("out", out)
            seen.setdefault("loss", loss)
            return loss

        self.optimizer.step(closure)
        return float(seen["loss"].item()), seen["out"].detach()

    # ----- fit / train ----------------------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        epochs: int = 1,
        validation_data: Any = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: list | None = None,
        verbose: Any = "auto",
        initial_epoch: int = 0,
        resume_from: str | None = None,
    ) -> History:
        """Train for ``epochs`` (Keras's signature). ``x`` may be arrays (with ``y``), a
        ``Dataset``, a ``DataLoader`` or a ``GeneratorDataset``. ``resume_from`` continues a run
        from a checkpoint written by ``ModelCheckpoint`` (weights, optimizer, epoch and RNG),
        giving the same weights as an uninterrupted run."""
        epochs = check_int(epochs, "fit", "epochs")  # "a" and -1 failed, or trained nothing, silently
        initial_epoch = check_int(initial_epoch, "fit", "initial_epoch")
        if not 0 <= check_number(validation_split, "fit", "validation_split") < 1:
            raise ArgumentError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        for c in callbacks or []:
            if not isinstance(c, Callback):  # otherwise an AttributeError on c.set_model
                raise DTypeError(f"fit: callbacks must be fg.train.Callback objects, got {given(c)}")
        if validation_split and validation_data is None:
            if y is None:
                raise ArgumentError("fit: validation_split needs arrays x and y")
            xa, ya = as_array(x), as_array(y)
            cut = int(len(xa) * (1 - validation_split))  # the last fraction, before shuffling (Keras)
            x, y, validation_data = xa[:cut], ya[:cut], (xa[cut:], ya[cut:])
        train_data = batches(x, y, batch_size, shuffle, "fit")
        val_data = None
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) == 2:
                val_data = batches(validation_data[0], validation_data[1], batch_size, False, "fit validation_data")
            else:
                val_data = batches(validation_data, None, batch_size, False, "fit validation_data")
        self._resume_callbacks = {}
        if resume_from is not None:
            info = fg.load_checkpoint(resume_from, model=self.network, optimizer=self.optimizer)
            initial_epoch = checked_epoch(info.get("epoch", initial_epoch), str(resume_from))
            saved = info.get("callbacks", {})
            if not isinstance(saved, dict):
                raise fg.CheckpointError(f"{resume_from}: 'callbacks' must map names to states, got {given(saved)}")
            self._resume_callbacks = saved
        if verbose == "auto":
            verbose = 1
        every = [ProgressBar()] if verbose else []
        every += list(callbacks or [])
        group = distributed_fit.process_group()  # several processes: each trains on its part of a batch
        if group is not None:
            if not isinstance(train_data, ArrayBatches):
                raise ArgumentError("fit: on several processes, pass arrays x and y (each rank takes its part)")
            train_data = distributed_fit.ShardedBatches(x, y, batch_size, shuffle, *group)
            distributed_fit.start(self)
            every = distributed_fit.rank_callbacks(every, group[0])
        return self._run(train_data, val_data, epochs, initial_epoch, every)

    def train(self, epoch: int, train_dataset: Any, callbacks: Any = None, dataset_sink_mode: bool = False) -> History:
        """MindSpore's ``Model.train(epoch, train_dataset, callbacks)``: ``train_dataset`` is any
        re-iterable of (data, label) batches, such as ``GeneratorDataset(...).batch(16)``."""
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        epoch = check_int(epoch, "train", "epoch")
        for c in callbacks or []:
            if not isinstance(c, Callback):  # otherwise an AttributeError on c.set_model
                raise DTypeError(f"train: callbacks must be fg.train.Callback objects, got {given(c)}")
        return self._run(batches(train_dataset, None, 1, False, "train"), None, epoch, 0, list(callbacks or []))

    def _run(self, train_data: Any, val_data: Any, epochs: int, initial_epoch: int, callbacks: list) -> History:
        history = History()
        cbs = CallbackList([*callbacks, history])
        self.params = {"epochs": epochs, "steps": count(train_data), "initial_epoch": initial_epoch}
        history.params = dict(self.params)
        cbs.set_model(self)
        self.stop_training = False
        self._stateful = _keyed(callbacks)
        cbs.on_train_begin({})
        resumed, self._resume_callbacks = getattr(self, "_resume_callbacks", {}), {}
        for key, state in resumed.items():  # after on_train_begin, which starts each one afresh
            if key in self._stateful:
                self._stateful[key].load_state_dict(state)
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch, {})
            logs = self._train_epoch(train_data, epoch, cbs)
            if val_data is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(val_data).items()})
            # Checked before on_epoch_end, where checkpoints are written: the loss is checked
            # before each step, so an overflow in an epoch's last update would otherwise be
            # saved over the last good checkpoint.
            bad = self._non_finite_parameter()
            if bad is not None:
                self.diverged = True
                if self.stop_training:  # TerminateOnNaN stopped quietly: end the epoch, saving nothing
                    cbs.on_epoch_end(epoch, logs, checkpoints=False)
                    break
                raise fg.DivergedError(
                    f"training diverged at epoch {epoch + 1}: after its last step, parameter {bad} is not finite "
                    "(no checkpoint of this epoch was written); lower the learning rate, scale the inputs, "
                    "or clip gradients"
                )
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return history

    def _non_finite_parameter(self) -> str | None:
        """The name of the first parameter holding NaN or an infinity, and what it holds."""
        named = getattr(self.network, "named_parameters", None)
        pairs = named() if callable(named) else enumerate(self.network.parameters())
        for name, p in pairs:
            values = np.asarray(p.detach())
            if values.dtype.kind in "fc" and not np.isfinite(values).all():
                what = "NaN" if np.isnan(values).any() else "an infinity"
                return f"{name!r} (it holds {what})"
        return None

    def callback_states(self) -> dict:
        """The state of each stateful callback of the ``fit`` under way, by a stable name
        (``'EarlyStopping'``, ``'EarlyStopping#2'``...): what ``ModelCheckpoint`` saves so that
        ``fit(resume_from=...)`` continues them where they were."""
        states = {key: c.state_dict() for key, c in getattr(self, "_stateful", {}).items()}
        return {key: state for key, state in states.items() if state}

    def _train_epoch(self, data: Any, epoch: int, cbs: CallbackList) -> dict:
        if isinstance(data, distributed_fit.ShardedBatches):
            return distributed_fit.train_epoch(self, data, epoch, cbs)
        self.network.train()
        total, seen = 0.0, 0
        outs, targets = [], []
        for step, batch in enumerate(data):
            xb, yb = split_batch(batch, "fit")
            if self._input_shape is None and hasattr(xb, "shape"):
                self._input_shape = tuple(xb.shape[1:])  # for summary()
            cbs.on_batch_begin(step, {})
            loss, out = self.train_step(xb, yb)
            n = len(out) if out.ndim else 1
            if not math.isfinite(loss) and self._stops_on_non_finite(cbs, epoch, step, loss, n):
                break
            total, seen = total + loss * n, seen + n
            if self.metrics:
                outs.append(out.numpy())
                targets.append(as_array(yb))
            cbs.on_batch_end(step, {"loss": loss, "size": n})
            if self.stop_training:
                break
        logs = {"loss": total / max(seen, 1)}
        logs.update(self._metric_values(outs, targets))
        return logs

    def _stops_on_non_finite(self, cbs: CallbackList, epoch: int, step: int, loss: float, size: int) -> bool:
        """After a step whose loss is NaN or infinite: True when a callback (TerminateOnNaN) stopped
        training quietly; otherwise the run has diverged, which is an error."""
        cbs.on_batch_end(step, {"loss": loss, "size": size})
        if self.stop_training:
            return True
        self.diverged = True
        raise fg.DivergedError(
            f"training diverged at epoch {epoch + 1}, step {step + 1}: the loss is {loss}; lower the "
            "learning rate, scale the inputs, or clip gradients"
        )

    def _metric_values(self, outs: list, targets: list) -> dict:
        if not self.metrics or not outs:
            return {}
        out, target = np.concatenate(outs), np.concatenate(targets)
        return {name: float(fn(target, out)) for name, fn in self.metrics}

    # ----- evaluate / predict --------------------------------------------------------------------------------
    def _evaluate(self, data: Any) -> dict:
        was_training = self.network.training
        self.network.eval()
        total, seen, outs, targets = 0.0, 0, [], []
        try:
            with fg.no_grad():
                for batch in data:
                    xb, yb = split_batch(batch, "evaluate")
                    out = self.network(xb)
                    n = len(out) if out.ndim else 1
                    if self.loss_fn is not None:
                        total += float(self._loss(out, yb).item()) * n
                    seen += n
                    outs.append(out.numpy())
                    targets.append(as_array(yb))
        finally:
            self.network.train(was_training)
        logs = {"loss": total / max(seen, 1)} if self.loss_fn is not None else {}
        logs.update(self._metric_values(outs, targets))
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int = 32, verbose: int = 0) -> dict:
        """Loss and metrics on data, in eval mode and without recording gradients."""
        result = self._evaluate(batches(x, y, batch_size, False, "evaluate"))
        if verbose:
            print(format_logs(result))
        return result

    def summary(self, input_shape: Any = None, print_fn: Any = print) -> None:
        """Print the layers, their output shapes and parameter counts, as Keras does.

        Output shapes come from one example of ``input_shape`` (without the batch axis); after
        ``fit`` the shape of the data it saw is used, and before, without one, they are "?".
        """
        from .summary import summary

        print_fn(summary(self.network, input_shape if input_shape is not None else self._input_shape))

    def predict_proba(self, x: Any, batch_size: int = 32) -> np.ndarray:
        """Class probabilities from a classifier's logits: the softmax over the last axis, or,
        for one output per example, the sigmoid (the probability of the positive class).

        >>> import flowgrad as fg, numpy as np
        >>> model = fg.Model(fg.nn.Linear(2, 3), "cross_entropy", "sgd", lr=0.1)
        >>> model.predict_proba(np.ones((4, 2), np.float32)).sum(axis=1).round(6).tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        logits = self.predict(x, batch_size).astype(np.float64)
        if logits.ndim >= 2 and logits.shape[-1] > 1:
            shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
            return shifted / shifted.sum(axis=-1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-logits))

    def predict(self, x: Any, batch_size: int = 32) -> np.ndarray:
        """The network's outputs as one ndarray (logits for a classifier: see
        :meth:`predict_proba`), in eval mode and without recording gradients."""
        was_training = self.network.training
        self.network.eval()
        outs = []
        try:
            with fg.no_grad():
                if isinstance(x, (np.ndarray, fg.Tensor, list)):
                    arr = as_array(x)
                    for start in range(0, len(arr), batch_size):
                        outs.append(self.network(fg.from_numpy(arr[start : start + batch_size])).numpy())
                else:
                    for batch in x:
                        xb = batch[0] if isinstance(batch, (tuple, list)) else batch
                        outs.append(self.network(xb).numpy())
        finally:
            self.network.train(was_training)
        return np.concatenate(outs) if outs else np.zeros((0,))

    # ----- checkpoints ---------------------------------------------------------------------------------------------
    def save_checkpoint(self, path: str, epoch: int, **extra: Any) -> None:
        """Save network, optimizer, epoch, RNG state, the states of ``fit``'s stateful callbacks
        (EarlyStopping, ReduceLROnPlateau...) and ``extra`` (atomically)."""
        extra.setdefault("callbacks", self.callback_states())
        fg.save_checkpoint(path, model=self.network, optimizer=self.optimizer, epoch=epoch, **extra)

    def load_checkpoint(self, path: str) -> dict:
        """Restore network and optimizer from ``path``; returns the saved epoch and extras."""
        return fg.load_checkpoint(path, model=self.network, optimizer=self.optimizer)
