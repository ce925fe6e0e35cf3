"""Seed 002: MiniFlow's SGD on the Boston housing data, in flowgrad's graph mode.

The tutorial builds MiniFlow (nodes, Kahn's topological sort, forward and
backward passes, SGD) and trains 13 features -> 10 sigmoid units -> 1 output
on the Boston housing prices: standardized features, batches of 11 drawn with
replacement, learning rate 1e-2, 100 epochs. Here the same program runs on
``flowgrad.flow`` with only its imports changed: ``load_boston`` is
``fg.datasets.load_housing`` (shipped with flowgrad) and sklearn's
``resample`` is a NumPy draw with replacement.

Run: python examples/miniflow_housing.py [--epochs 100] [--seed 0] [--plot loss.png | --no-plot]
"""

import argparse

import numpy as np

from flowgrad.datasets import load_housing
from flowgrad.flow import MSE, Input, Linear, Sigmoid, forward_and_backward, sgd_update, topological_sort

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--plot", default="miniflow_housing_loss.png", help="where to save the loss curve (PNG)")
parser.add_argument("--no-plot", action="store_true", help="do not draw the loss curve")
args = parser.parse_args()

rng = np.random.default_rng(args.seed)

# Load data
data = load_housing()
X_ = data["data"]
y_ = data["target"]

# Normalize data
X_ = (X_ - np.mean(X_, axis=0)) / np.std(X_, axis=0)

n_features = X_.shape[1]  # 13
n_hidden = 10
W1_ = rng.standard_normal((n_features, n_hidden))
b1_ = np.zeros(n_hidden)
W2_ = rng.standard_normal((n_hidden, 1))
b2_ = np.zeros(1)

# Neural network
X, y = Input("X"), Input("y")
W1, b1 = Input("W1"), Input("b1")
W2, b2 = Input("W2"), Input("b2")

l1 = Linear(X, W1, b1)
s1 = Sigmoid(l1)
l2 = Linear(s1, W2, b2)
cost = MSE(y, l2)

feed_dict = {X: X_, y: y_, W1: W1_, b1: b1_, W2: W2_, b2: b2_}

epochs = args.epochs
# Total number of examples
m = X_.shape[0]  # 506
batch_size = 11
steps_per_epoch = m // batch_size

graph = topological_sort(feed_dict)
trainables = [W1, b1, W2, b2]

print(f"Total number of examples = {m}")

total_loss = []
for i in range(epochs):
    loss = 0
    for j in range(steps_per_epoch):
        # Step 1: randomly sample a batch of examples (with replacement, as sklearn's resample)
        rows = rng.integers(0, m, size=batch_size)
        X_batch, y_batch = X_[rows], y_[rows]

        # Reset value of X and y Inputs
        X.value = X_batch
        y.value = y_batch

        # Step 2
        forward_and_backward(graph)

        # Step 3
        sgd_update(trainables)

        loss += graph[-1].value

    print(f"Epoch: {i + 1}, Loss: {loss / steps_per_epoch:.3f}")
    total_loss.append(loss / steps_per_epoch)

if not args.no_plot:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed, so no loss curve is drawn (pip install 'flowgrad[plot]')")
    else:
        matplotlib.use("Agg")  # draw to a file, no window needed
        import matplotlib.pyplot as plot

        plot.plot(range(1, len(total_loss) + 1), total_loss)
        plot.xlabel("epoch")
        plot.ylabel("mean batch loss (MSE)")
        plot.title("MiniFlow on the Boston housing data")
        plot.savefig(args.plot)
        print(f"Saved the loss curve to {args.plot}")
