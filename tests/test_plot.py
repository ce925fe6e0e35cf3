"""fg.plot: every function writes a non-empty PNG of the expected size."""

import struct

import numpy as np
import pytest

import flowgrad as fg

pytest.importorskip("matplotlib")


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    return struct.unpack(">II", data[16:24])


def test_loss_curve(tmp_path):
    fig = fg.plot.loss_curve({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 1.8]}, tmp_path / "loss.png")
    assert png_size(tmp_path / "loss.png") == (640, 480)
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss", "val_loss"]


def test_fit_line(tmp_path):
    x = np.linspace(-5, 5, 30)
    fg.plot.fit_line(x, 3 * x + 1, lambda g: 3 * g + 1, tmp_path / "fit.png")
    assert png_size(tmp_path / "fit.png") == (640, 480)


def test_decision_boundary_and_confusion_and_weights(tmp_path):
    fg.manual_seed(0)
    net = fg.nn.Sequential(fg.nn.Linear(2, 4), fg.nn.ReLU(), fg.nn.Linear(4, 3))
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = np.random.default_rng(1).integers(0, 3, 40)
    fg.plot.decision_boundary(net, X, y, tmp_path / "db.png", resolution=50)
    fg.plot.confusion_matrix(y, np.eye(3)[y[::-1]], tmp_path / "cm.png")
    fig = fg.plot.weights_histogram(net, tmp_path / "w.png")
    assert png_size(tmp_path / "db.png") == (640, 480)
    assert png_size(tmp_path / "cm.png") == (550, 480)
    assert png_size(tmp_path / "w.png")[0] == 1200 and len(fig.axes) == 4
    with pytest.raises(fg.ShapeError):
        fg.plot.decision_boundary(net, np.zeros((3, 3)), np.zeros(3))


def test_loss_curve_with_accuracy_has_two_panels_whole_epochs_and_a_title(tmp_path):
    hist = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.7, 0.5, 0.45], "accuracy": [0.5, 0.7, 0.8, 0.9]}
    fig = fg.plot.loss_curve(hist, tmp_path / "l.png", title="digits-mlp: test accuracy 0.9800")
    loss_ax, acc_ax = fig.axes
    assert [ln.get_label() for ln in acc_ax.lines] == ["accuracy"] and acc_ax.get_ylabel() == "accuracy"
    fig.canvas.draw()
    ticks = [t for t in loss_ax.get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)  # epochs 1, 2, 3: never 2.5
    assert fig._suptitle.get_text() == "digits-mlp: test accuracy 0.9800"


def test_confusion_matrix_colour_bar_is_as_tall_as_the_matrix(tmp_path):
    y = np.arange(12) % 4
    fig = fg.plot.confusion_matrix(y, np.eye(4)[y], tmp_path / "cm.png", title="run: test accuracy 1.0000")
    fig.canvas.draw()
    matrix, bar = fig.axes
    m, b = matrix.get_position(), bar.get_position()
    assert abs(m.height - b.height) < 1e-6 and abs(m.y0 - b.y0) < 1e-6
    assert matrix.get_title() == "run: test accuracy 1.0000"


def test_fit_line_names_the_fitted_line_and_takes_a_title(tmp_path):
    x = np.linspace(-5, 5, 30)
    fig = fg.plot.fit_line(
        x, 3 * x + 1, lambda g: 3 * g + 1, tmp_path / "f.png", title="y = 3x + 1", label="w=3.00 b=1.00"
    )
    ax = fig.axes[0]
    assert ax.get_title() == "y = 3x + 1" and "w=3.00 b=1.00" in [ln.get_label() for ln in ax.lines]
