"""The default ``flowgrad train`` job with scikit-learn's MLPClassifier: hidden (128, 64), ReLU, adam.

Learning rate 1e-3, batch 32, no L2 penalty (alpha=0, as the job has no weight decay), one
``partial_fit`` pass over the shuffled training set per epoch. Run by
benchmarks/time_to_accuracy.py: ``python sklearn_mlp.py DATA.npz THREADS MAX_EPOCHS``.
"""

import sys

import numpy as np
from sklearn.neural_network import MLPClassifier

path, max_epochs = sys.argv[1], int(sys.argv[3])  # threads: set through the environment
with np.load(path, allow_pickle=False) as f:
    x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
model = MLPClassifier(
    hidden_layer_sizes=(128, 64),
    activation="relu",
    solver="adam",
    learning_rate_init=1e-3,
    batch_size=32,
    alpha=0.0,
    shuffle=True,
    random_state=0,
)
classes = np.arange(10)
for epoch in range(1, max_epochs + 1):
    model.partial_fit(x_train, y_train, classes=classes)
    accuracy = float((model.predict(x_test) == y_test).mean())
    print(f"epoch {epoch} test_accuracy {accuracy:.4f}", flush=True)
