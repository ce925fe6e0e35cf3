"""Seed 002's network through ``fg.Model.fit``: Boston housing, 13 -> 10 sigmoid -> 1.

The MiniFlow tutorial builds this network node by node (see miniflow_housing.py);
here it is ``nn.Sequential`` trained with ``Model.fit``: standardized features,
batches of 11, SGD with learning rate 1e-2, mean squared error, 100 epochs, with
a held-out fifth of the towns for validation. The training loss falls from
over 100 in the first epoch to under 10 ($1000s squared), and R^2 on the
held-out towns passes 0.9.

Run: python examples/housing_regression.py [--epochs 100]
"""

import argparse

import numpy as np

import flowgrad as fg
from flowgrad import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()

fg.manual_seed(0)
X, y = fg.datasets.load_housing(return_X_y=True)
order = np.random.default_rng(0).permutation(len(X))
test, train = order[:101], order[101:]
X = ((X - X[train].mean(0)) / X[train].std(0)).astype(np.float32)
y = y.astype(np.float32)

model = fg.Model(
    nn.Sequential(nn.Linear(13, 10), nn.Sigmoid(), nn.Linear(10, 1)), "mse", "sgd", metrics=["mae", "r2"], lr=1e-2
)
history = model.fit(
    X[train], y[train], batch_size=11, epochs=args.epochs, validation_data=(X[test], y[test]), verbose=0
)
for epoch in sorted({0, args.epochs // 4, args.epochs // 2, args.epochs - 1}):
    h = history.history
    print(
        f"epoch {epoch + 1:3d}: loss {h['loss'][epoch]:8.3f}  val_loss {h['val_loss'][epoch]:8.3f}  val_r2 {h['val_r2'][epoch]:.3f}"
    )
print("test:", {k: round(v, 3) for k, v in model.evaluate(X[test], y[test]).items()})
