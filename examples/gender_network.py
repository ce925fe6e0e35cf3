"""Seed 004: predict gender from weight and height with a 2-2-1 sigmoid network.

The Russian tutorial writes every partial derivative by hand; here the same
network is ``nn.Sequential(Linear(2, 2), Sigmoid(), Linear(2, 1), Sigmoid())``,
the same training (SGD, learning rate 0.1, 1000 epochs, one sample at a time,
mean squared error) is ``fg.optim.SGD`` and ``loss.backward()``.
Features are the tutorial's: weight - 135 lb and height - 66 in.

Run: python examples/gender_network.py [--epochs 1000]
"""

import argparse

import numpy as np

import flowgrad as fg
from flowgrad import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=1000)
args = parser.parse_args()

data = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float64)  # Alice, Bob, Charlie, Diana
all_y_trues = np.array([[1], [0], [0], [1]], dtype=np.float64)

# First the tutorial's worked example: all weights 1, biases 0, Alice's prediction and dL/dw1.
net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
with fg.no_grad():
    for p in net.parameters():
        p.fill_(1.0 if p.ndim == 2 else 0.0)
y_pred = net(data[:1])
loss = nn.MSELoss()(y_pred, all_y_trues[:1])
loss.backward()
print(f"Alice: y_pred = {y_pred.item():.3f}, dL/dw1 = {net[0].weight.grad[0, 0].item():.4f}")

# Then training from random weights.
fg.manual_seed(0)
network = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
optimizer = fg.optim.SGD(network.parameters(), lr=0.1)
mse_loss = nn.MSELoss()
for epoch in range(args.epochs):
    for x, y_true in zip(data, all_y_trues):
        optimizer.zero_grad()
        mse_loss(network(x[None]), y_true[None]).backward()
        optimizer.step()
    if epoch % 10 == 0:
        with fg.no_grad():
            print("Epoch %d loss: %.3f" % (epoch, mse_loss(network(data), all_y_trues).item()))

emily = np.array([[-7, -3]], dtype=np.float64)  # 128 pounds, 63 inches
frank = np.array([[20, 2]], dtype=np.float64)  # 155 pounds, 68 inches
with fg.no_grad():
    print("Emily: %.3f" % network(emily).item())  # the tutorial: 0.951 - F
    print("Frank: %.3f" % network(frank).item())  # the tutorial: 0.039 - M
