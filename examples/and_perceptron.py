"""Seed 001: learn the AND gate with a one-neuron perceptron.

The tutorial updates w1, w2 and b by hand with the gradient of the squared
error, one sample at a time, learning rate 0.01, 20 epochs, from
(0.666, 0.333, 0.233). The same with ``nn.Linear(2, 1)``, ``loss.backward()``
and ``optim.SGD`` gives the tutorial's numbers to the last digit:
0.4514297388906616 0.2369025056182418 -0.611635769357402

Run: python examples/and_perceptron.py [--epochs 20]
"""

import argparse

import numpy as np

import flowgrad as fg
from flowgrad import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

# rows: x1, x2, g(x1, x2) with -1 for false and 1 for true
data = np.array([[1, 0, -1], [0, 1, -1], [0, 0, -1], [1, 1, 1]], dtype=np.float64)

neuron = nn.Linear(2, 1).double()
with fg.no_grad():
    neuron.weight.copy_(np.array([[0.666, 0.333]]))
    neuron.bias.fill_(0.233)
optimizer = fg.optim.SGD(neuron.parameters(), lr=0.01)

for _ in range(args.epochs):
    for row in data:
        optimizer.zero_grad()
        loss = ((neuron(row[None, :2]) - row[2]) ** 2).sum()
        loss.backward()
        optimizer.step()

w1, w2 = neuron.weight.numpy()[0]
b = neuron.bias.item()
print(w1, w2, b)


def f(x1, x2):
    """1 if w1*x1 + w2*x2 + b > 0 else 0: the learned AND."""
    return 1 if w1 * x1 + w2 * x2 + b > 0 else 0


print("0&1", f(0, 1))
print("1&0", f(1, 0))
print("0&0", f(0, 0))
print("1&1", f(1, 1))
