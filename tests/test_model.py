"""fg.Model: fit / evaluate / predict, metrics, callbacks."""

import io

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn
from flowgrad.train import callbacks as cb
from flowgrad.train import metrics

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]])
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.standard_normal((n, 2)) * 0.6
    return x.astype(np.float32), y


def classifier():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_classifier_with_validation_and_metrics():
    fg.manual_seed(0)
    x, y = blobs()
    model = fg.Model(classifier(), "cross_entropy", "adam", metrics=["accuracy", "f1"], lr=0.05)
    history = model.fit(x, y, batch_size=32, epochs=15, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"}
    assert len(history.history["loss"]) == 15 and history.epoch == list(range(15))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    result = model.evaluate(x, y)
    assert set(result) == {"loss", "accuracy", "f1"} and result["accuracy"] > 0.9
    pred = model.predict(x, batch_size=50)
    assert pred.shape == (200, 3) and isinstance(pred, np.ndarray)
    assert model.network.training  # predict/evaluate put the mode back


def test_fit_is_reproducible_under_manual_seed():
    def run():
        fg.manual_seed(123)
        x, y = blobs()
        model = fg.Model(
            nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.2), nn.Linear(8, 3)), "cross_entropy", "sgd", lr=0.1
        )
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        return [p.numpy().copy() for p in model.network.parameters()]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_regression_targets_of_shape_n_fit_a_one_unit_network():
    fg.manual_seed(0)
    x = np.linspace(-1, 1, 50, dtype=np.float32)[:, None]
    y = (2 * x[:, 0] - 1).astype(np.float32)  # (N,), network outputs (N, 1)
    model = fg.Model(nn.Linear(1, 1), "mse", "sgd", metrics=["mae", "r2"], lr=0.2)
    history = model.fit(x, y, batch_size=10, epochs=40, verbose=0)
    assert history.history["r2"][-1] > 0.99


def test_callbacks_fire_in_order():
    events = []

    class Recorder(cb.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):
            events.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = blobs(20)
    fg.Model(classifier(), "cross_entropy", "sgd", lr=0.01).fit(
        x, y, batch_size=10, epochs=2, callbacks=[Recorder()], verbose=0, validation_data=(x, y)
    )
    assert events == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
        "epoch_end 0 ['loss', 'val_loss']",
        "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
        "epoch_end 1 ['loss', 'val_loss']",
        "train_end",
    ]  # fmt: skip


def test_early_stopping_restores_best_weights():
    fg.manual_seed(0)
    x, y = blobs(60)

    class Worsen(cb.Callback):  # from epoch 2 on, the monitored value only gets worse
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = -abs(epoch - 2)

    model = fg.Model(classifier(), "cross_entropy", "sgd", lr=0.05)
    snapshots = {}

    class Snap(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = [p.numpy().copy() for p in model.network.parameters()]

    stop = cb.EarlyStopping(monitor="score", mode="max", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, callbacks=[Worsen(), Snap(), stop], verbose=0)
    assert len(history.epoch) == 5 and stop.best_epoch == 2 and stop.stopped_epoch == 4
    for p, best in zip(model.network.parameters(), snapshots[2]):
        np.testing.assert_array_equal(p.numpy(), best)


def test_loss_monitor_prints_mindspore_lines():
    out = io.StringIO()
    x, y = blobs(8)
    fg.Model(classifier(), "cross_entropy", "sgd", lr=0.01).fit(
        x, y, batch_size=4, epochs=1, callbacks=[cb.LossMonitor(per_print_times=1, stream=out)], verbose=0
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch: 1 step: 1, loss is ")


def test_progress_bar_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    x, y = blobs(8)
    fg.Model(classifier(), "cross_entropy", "sgd", metrics=["accuracy"], lr=0.01).fit(
        x, y, batch_size=4, epochs=2, callbacks=[cb.ProgressBar(stream=out)], verbose=0
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2 - ") and " - accuracy 0." in lines[1]


class _NarrowTerminal(io.StringIO):
    """A terminal that says it is one, as tqdm's bar would see it (any width)."""

    def isatty(self):
        return True


def test_every_epoch_ends_with_its_full_line_even_under_a_bar():
    pytest.importorskip("tqdm")
    out = _NarrowTerminal()
    x, y = blobs(8)
    model = fg.Model(classifier(), "cross_entropy", "sgd", metrics=["accuracy"], lr=0.01)
    history = model.fit(
        x, y, batch_size=4, epochs=2, validation_data=(x, y), callbacks=[cb.ProgressBar(stream=out)], verbose=0
    )
    text = out.getvalue()
    last = history.history
    for epoch in (1, 2):
        line = next(ln for ln in text.replace("\r", "\n").splitlines() if ln.startswith(f"epoch {epoch}/2 - "))
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):  # nothing cut at any width
            value = last[key][epoch - 1]
            shown = f"{value:.4f}" if "acc" in key else f"{value:.4g}"
            assert f"{key} {shown}" in line, (key, line)


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    x, y = blobs(8)
    fg.Model(classifier(), "cross_entropy", "sgd", metrics=["accuracy"], lr=0.01).fit(
        x, y, epochs=3, callbacks=[cb.CSVLogger(str(path))], verbose=0
    )
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,loss,accuracy" and len(rows) == 4


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way to inf
def test_divergence_is_an_error_unless_terminate_on_nan():
    x, y = blobs(16)
    model = fg.Model(classifier(), "cross_entropy", "sgd", lr=1e30)
    with pytest.raises(fg.DivergedError, match=r"epoch 1, step \d+"):
        model.fit(x, y, batch_size=4, epochs=3, verbose=0)
    model = fg.Model(classifier(), "cross_entropy", "sgd", lr=1e30)
    history = model.fit(x, y, batch_size=4, epochs=3, callbacks=[cb.TerminateOnNaN()], verbose=0)
    assert model.diverged and len(history.epoch) == 1


def test_learning_rate_scheduler_callback():
    x, y = blobs(8)
    model = fg.Model(classifier(), "cross_entropy", "sgd", lr=1.0)
    history = model.fit(
        x, y, epochs=3, verbose=0, callbacks=[cb.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))]
    )
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_names_and_errors():
    with pytest.raises(ValueError, match="unknown loss"):
        fg.Model(classifier(), "msee")
    with pytest.raises(ValueError, match="did you mean 'accuracy'"):
        metrics.get("acuracy")
    with pytest.raises(fg.ShapeError, match="different lengths"):
        fg.Model(classifier(), "mse", "sgd").fit(np.zeros((3, 2)), np.zeros(4), verbose=0)
    m = fg.Model(fg.nn.Linear(1, 1), "mse", "momentum", lr=0.005, momentum=0.9)
    assert type(m.optimizer).__name__ == "Momentum" and m.optimizer.param_groups[0]["momentum"] == 0.9


def test_metrics_match_definitions():
    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_pred = np.array([0, 2, 2, 2, 1, 1])
    onehot = np.eye(3)[y_pred]
    assert metrics.accuracy(y_true, onehot) == pytest.approx(4 / 6)
    cm = metrics.confusion_matrix(y_true, onehot)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert metrics.precision(y_true, onehot) == pytest.approx(np.mean([1.0, 0.5, 2 / 3]))
    assert metrics.recall(y_true, onehot) == pytest.approx(np.mean([0.5, 0.5, 1.0]))
    p, r = np.array([1.0, 0.5, 2 / 3]), np.array([0.5, 0.5, 1.0])
    assert metrics.f1(y_true, onehot) == pytest.approx(np.mean(2 * p * r / (p + r)))
    assert metrics.top_k_accuracy(y_true, np.array([[0.1, 0.5, 0.4]] * 6), k=2) == pytest.approx(4 / 6)
    assert metrics.accuracy(np.array([1, 0]), np.array([[0.9], [0.2]])) == 1.0  # binary probabilities
    t, q = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    assert metrics.mae(t, q) == pytest.approx(0.5) and metrics.mse(t, q) == pytest.approx(1.25 / 3)
    assert metrics.rmse(t, q) == pytest.approx(np.sqrt(1.25 / 3))
    assert metrics.r2(t, q) == pytest.approx(1 - 1.25 / np.sum((t - t.mean()) ** 2))


def test_seed003_mindspore_pipeline_reaches_w3_b1():
    fg.manual_seed(0)
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(100):
        x = rng.standard_normal(1)
        rows.append((x.astype(np.float32), (3 * x + 1 + 0.1 * rng.standard_normal(1)).astype(np.float32)))
    ds = fg.data.GeneratorDataset(rows, column_names=["data", "label"]).batch(16).repeat(1)
    net = nn.Dense(1, 1)
    model = fg.Model(net, nn.MSELoss(), fg.optim.Momentum(net.trainable_params(), learning_rate=0.005, momentum=0.9))
    model.train(30, ds)
    assert net.weight.item() == pytest.approx(3.0, abs=0.05) and net.bias.item() == pytest.approx(1.0, abs=0.05)


def test_seed002_housing_through_fit_gets_under_25():
    fg.manual_seed(0)
    X, y = fg.datasets.load_housing(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    model = fg.Model(nn.Sequential(nn.Linear(13, 10), nn.Sigmoid(), nn.Linear(10, 1)), "mse", "sgd", lr=1e-2)
    history = model.fit(X, y.astype(np.float32), batch_size=11, epochs=20, verbose=0)
    assert history.history["loss"][0] > 50 and history.history["loss"][-1] < 25


def test_seed004_gender_through_fit():
    fg.manual_seed(0)
    X, y = fg.datasets.gender()
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    model = fg.Model(net, "mse", "sgd", metrics=["accuracy"], lr=0.1)
    history = model.fit(X, y[:, None], batch_size=1, epochs=300, shuffle=False, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    emily_frank = model.predict(np.array([[-7.0, -3.0], [20.0, 2.0]])).ravel()
    assert emily_frank[0] > 0.5 > emily_frank[1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_compiled_fit_matches_eager_fit_bit_for_bit(optimizer):
    def run(compile):
        fg.manual_seed(5)
        x, y = blobs(100)
        net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
        model = fg.Model(net, "cross_entropy", optimizer, metrics=["accuracy"], compile=compile, lr=0.05)
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)  # 100 = 3 x 32 + 4: two shapes
        return history.history, [p.numpy().copy() for p in net.parameters()], model

    (h_eager, w_eager, m_eager), (h_comp, w_comp, m_comp) = run(False), run(True)
    assert h_eager == h_comp
    for a, b in zip(w_eager, w_comp):
        np.testing.assert_array_equal(a, b)
    assert m_eager._compiled is None and m_comp._compiled.traces == 2
    assert run("auto")[2]._compiled is not None  # flowgrad's own layers: compiled automatically


def test_auto_compile_leaves_custom_modules_eager():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(x)

    x, y = blobs(16)
    model = fg.Model(Custom(), "cross_entropy", "sgd", lr=0.1)
    model.fit(x, y, epochs=1, verbose=0)
    assert model._compiled is None
    with pytest.raises(ValueError, match="compile must be"):
        fg.Model(Custom(), "mse", "sgd", compile="yes")
