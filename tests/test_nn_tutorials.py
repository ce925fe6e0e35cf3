"""The tutorials' networks through fg.nn and fg.optim."""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test


def gender_net():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    with fg.no_grad():
        for p in net.parameters():
            p.fill_(1.0 if p.ndim == 2 else 0.0)
    return net


def test_seed004_alice_with_nn_sequential():
    net = gender_net()
    y_pred = net(fg.tensor([[-2.0, -1.0]], dtype=fg.float64))
    assert round(y_pred.item(), 3) == 0.524
    loss = nn.MSELoss()(y_pred, fg.tensor([[1.0]], dtype=fg.float64))
    loss.backward()
    w1_grad = net[0].weight.grad[0, 0].item()  # w1: weight from x[0] into h1
    assert w1_grad == pytest.approx(0.0214695, abs=5e-8)


def test_seed004_training_learns_the_four_people():
    fg.manual_seed(0)
    X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)
    y = np.array([[1], [0], [0], [1]], dtype=np.float64)
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    opt = fg.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    for _ in range(1000):
        for xi, yi in zip(X, y):
            opt.zero_grad()
            loss_fn(net(xi[None]), yi[None]).backward()
            opt.step()
    preds = net(np.array([[-7.0, -3.0], [20.0, 2.0]])).numpy().ravel()  # Emily, Frank
    assert preds[0] > 0.9 and preds[1] < 0.1


def test_seed001_and_perceptron_exact_numbers():
    layer = nn.Linear(2, 1).double()
    with fg.no_grad():
        layer.weight.copy_(np.array([[0.666, 0.333]]))
        layer.bias.fill_(0.233)
    opt = fg.optim.SGD(layer.parameters(), lr=0.01)
    data = np.array([[1, 0, -1], [0, 1, -1], [0, 0, -1], [1, 1, 1]], dtype=np.float64)
    for _ in range(20):
        for row in data:
            opt.zero_grad()
            loss = ((layer(row[None, :2]) - row[2]) ** 2).sum()
            loss.backward()
            opt.step()
    w1, w2 = layer.weight.numpy()[0]
    b = layer.bias.item()
    assert (w1, w2, b) == (0.4514297388906616, 0.2369025056182418, -0.611635769357402)
    predict = (data[:, :2] @ layer.weight.numpy().T + b > 0).astype(int).ravel()
    assert predict.tolist() == [0, 0, 0, 1]
