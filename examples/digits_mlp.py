"""Handwritten digits with an MLP, Keras style: the same job as ``flowgrad train``, in code.

1,797 8x8 images (shipped with flowgrad), 80/20 split, standardized pixels,
64 -> 128 -> 64 -> 10 ReLU network, Adam, cross-entropy, accuracy each epoch;
then the test accuracy, a confusion matrix and (with matplotlib) two pictures.

Run: python examples/digits_mlp.py [--epochs 20] [--plots]
"""

import argparse

import numpy as np

import flowgrad as fg
from flowgrad import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--plots", action="store_true", help="save digits_loss.png and digits_confusion.png")
args = parser.parse_args()

fg.manual_seed(0)
digits = fg.datasets.load_digits()
X, y = digits.data.astype(np.float32), digits.target
order = np.random.default_rng(0).permutation(len(X))
test, train = order[:360], order[360:]
mean, std = X[train].mean(0), X[train].std(0) + 1e-6
X = (X - mean) / std

model = fg.Model(
    nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)),
    loss_fn=nn.CrossEntropyLoss(),
    optimizer=fg.optim.Adam,
    metrics=["accuracy"],
    lr=1e-3,
)
history = model.fit(X[train], y[train], batch_size=32, epochs=args.epochs, validation_data=(X[test], y[test]))
result = model.evaluate(X[test], y[test])
print(f"test accuracy {result['accuracy']:.4f}")
predicted = model.predict(X[test]).argmax(1)
print("confusion matrix (rows: true digit, columns: predicted):")
print(fg.metrics.confusion_matrix(y[test], predicted, num_classes=10))
if args.plots:
    title = f"8x8 digits, MLP: test accuracy {result['accuracy']:.4f}"
    fg.plot.loss_curve(history, "digits_loss.png", title=title)
    fg.plot.confusion_matrix(y[test], np.eye(10)[predicted], "digits_confusion.png", title=f"Confusion matrix, {title}")
    print("saved digits_loss.png and digits_confusion.png")
