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
