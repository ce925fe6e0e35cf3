"""Keras users' habits: module imports of callbacks and metrics, warnings for a monitored number
that is never logged, verbose callbacks, close-name suggestions, and predict_proba."""

import warnings

import numpy as np
import pytest

import flowgrad as fg


def _line_model():
    fg.manual_seed(0)
    return fg.Model(fg.nn.Linear(1, 1), "mse", "sgd", lr=0.1)


X = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]


def test_callbacks_and_metrics_import_as_modules():
    from flowgrad.callbacks import EarlyStopping, ModelCheckpoint
    from flowgrad.metrics import accuracy

    assert EarlyStopping is fg.train.EarlyStopping and ModelCheckpoint is fg.callbacks.ModelCheckpoint
    assert accuracy is fg.train.metrics.accuracy and fg.callbacks.EarlyStopping is EarlyStopping


@pytest.mark.parametrize(
    "callback, fit_kwargs",
    [
        (lambda: fg.callbacks.EarlyStopping(monitor="val_acc"), {"validation_split": 0.25}),  # misspelt
        (lambda: fg.callbacks.EarlyStopping(), {}),  # val_loss without validation data
        (lambda: fg.callbacks.ReduceLROnPlateau(monitor="val_loss"), {}),
        (lambda: fg.callbacks.ModelCheckpoint("unused.safetensors", save_best_only=True), {}),
    ],
)
def test_a_number_never_logged_warns_once_naming_the_logged_ones(callback, fit_kwargs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="is not among the logged numbers") as caught:
        _line_model().fit(X, 3 * X + 1, epochs=3, callbacks=[callback()], verbose=0, **fit_kwargs)
    mine = [w for w in caught if "is not among the logged numbers" in str(w.message)]
    assert len(mine) == 1 and "logged: loss" in str(mine[0].message)


def test_verbose_callbacks_say_what_they_did(tmp_path, capsys):
    stop = fg.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0, verbose=1)
    save = fg.callbacks.ModelCheckpoint(
        str(tmp_path / "best.safetensors"), monitor="loss", save_best_only=True, verbose=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _line_model().fit(X, 3 * X + 1, epochs=5, callbacks=[stop, save], verbose=0)
    out = capsys.readouterr().out
    assert "Epoch 1: loss improved from inf to" in out and "saving the model to" in out
    assert "Epoch 2: early stopping: loss has not improved by more than 10" in out and "best" in out


def test_misspelt_names_get_the_close_one():
    with pytest.raises(fg.ArgumentError, match="did you mean 'adam'"):
        fg.Model(fg.nn.Linear(1, 1), "mse", "adamm")
    with pytest.raises(fg.ArgumentError, match="did you mean .crossentropy."):
        fg.Model(fg.nn.Linear(1, 1), "crossentropi", "sgd")


def test_predict_proba_from_logits():
    fg.manual_seed(0)
    model = fg.Model(fg.nn.Linear(2, 3), "cross_entropy", "sgd", lr=0.1)
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    logits = model.predict(x).astype(np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(x), expected, rtol=1e-12)
    binary = fg.Model(fg.nn.Linear(2, 1), "bce_with_logits", "sgd", lr=0.1)
    np.testing.assert_allclose(binary.predict_proba(x), 1 / (1 + np.exp(-binary.predict(x).astype(np.float64))))


def test_summary_lists_layers_shapes_and_counts(capsys):
    net = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.BatchNorm1d(8), fg.nn.ReLU(), fg.nn.Linear(8, 2))
    model = fg.Model(net, "mse", "sgd", lr=0.1)
    model.summary()  # before fit and without a shape: "?"
    before = capsys.readouterr().out
    assert "0 (Linear)" in before and "?" in before and "Total params: 91" in before
    # running mean and variance (8 each) and the batch count are not trained, as Keras counts them
    assert "Trainable params: 74" in before and "Non-trainable params: 17" in before
    model.fit(np.ones((8, 4), np.float32), np.ones((8, 2), np.float32), epochs=1, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 8)" in lines[0] and "(None, 2)" in lines[0] and "forward" not in vars(net[0])
    assert net.training  # restored after the shape pass
