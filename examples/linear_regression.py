"""Seed 003: fit y = 3x + 1 three ways - by hand, MindSpore style, and a picture of the fit.

1. The Chinese tutorial's NumPy program: a per-sample loop updating w and b with
   the squared-error gradient (learning rate 1e-4, 30 epochs), printing train
   and validation loss.
2. The MindSpore program on flowgrad: ``GeneratorDataset(...).batch(16)``,
   ``nn.Dense(1, 1)``, ``nn.MSELoss()``, ``nn.Momentum(learning_rate=0.005,
   momentum=0.9)``, ``Model(net, loss, opt).train(epoch, ds, callbacks=[LossMonitor()])``.
   w ends near 3 and b near 1.
3. The fitted line over the data, saved as ``linear_fit.png`` (with matplotlib).

Run: python examples/linear_regression.py [--epochs 10] [--plot linear_fit.png]
"""

import argparse

import numpy as np

import flowgrad as fg
from flowgrad import nn
from flowgrad.data import GeneratorDataset
from flowgrad.train import LossMonitor, Model

parser = argparse.ArgumentParser(description="Seed 003's linear regression")
parser.add_argument("--epochs", type=int, default=10, help="epochs of the MindSpore-style training")
parser.add_argument("--numpy-epochs", type=int, default=30, help="epochs of the hand-written NumPy loop")
parser.add_argument("--plot", default="linear_fit.png", help="where to save the picture ('' for none)")
args = parser.parse_args()

# ----- 1. by hand, as the tutorial's NumPy program ------------------------------------------
rng = np.random.default_rng(0)
a, b = 3, 1
data_size = 1000
train_x = rng.standard_normal((1, data_size))
train_y = a * train_x + b + 0.1 * rng.standard_normal((1, data_size))
valid_x = rng.standard_normal((1, data_size // 3))
valid_y = a * valid_x + b + 0.1 * rng.standard_normal((1, data_size // 3))


class Network:
    def __init__(self, size, learning_rate):
        self.w = rng.standard_normal(size)
        self.b = rng.standard_normal(1)
        self.learning_rate = learning_rate

    def y_hat(self, x):
        return np.dot(self.w, x) + self.b

    def loss(self, x, y):
        return np.square(self.y_hat(x) - y)

    def update(self, x, y):
        gradient = 2 * (self.y_hat(x) - y)
        self.w -= gradient * self.learning_rate * x
        self.b -= gradient * self.learning_rate

    def train(self, x, y):
        for index in range(y.shape[1]):
            self.update(x[:, index], y[:, index])


network = Network(1, 1e-4)
for i in range(args.numpy_epochs):
    network.train(train_x, train_y)
    if i % 10 == 9 or i == args.numpy_epochs - 1:
        train_loss = np.sum(network.loss(train_x, train_y)) / data_size
        valid_loss = np.sum(network.loss(valid_x, valid_y)) / (data_size // 3)
        print(
            f"epoch:{i + 1}/{args.numpy_epochs} w:{network.w}, b:{network.b}, train_loss:{train_loss:.4f}, valid_loss:{valid_loss:.4f}"
        )


# ----- 2. MindSpore style ---------------------------------------------------------------------------
def generate_data(data_size, w=3.0, b=1.0):
    for _ in range(data_size):
        x = rng.standard_normal(1)
        y = w * x + b + 0.1 * rng.standard_normal(1)
        yield x.astype(np.float32), y.astype(np.float32)


def create_dataset(data_size, batch_size=16, repeat_size=1):
    input_data = GeneratorDataset(list(generate_data(data_size)), column_names=["data", "label"])
    input_data = input_data.batch(batch_size)
    input_data = input_data.repeat(repeat_size)
    return input_data


class LinearNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = nn.Dense(1, 1)

    def construct(self, x):
        return self.fc(x)


fg.manual_seed(0)
data_number, batch_number, repeat_number = 100, 16, 1
ds_train = create_dataset(data_number, batch_size=batch_number, repeat_size=repeat_number)
net = LinearNet()
net_loss = nn.MSELoss()
opt = fg.optim.Momentum(net.trainable_params(), learning_rate=0.005, momentum=0.9)
model = Model(net, net_loss, opt)
model.train(args.epochs, ds_train, callbacks=[LossMonitor(per_print_times=7)], dataset_sink_mode=False)
w, bias = net.fc.weight.item(), net.fc.bias.item()
print(f"MindSpore style: w = {w:.4f}, b = {bias:.4f} (data from w = 3, b = 1)")

# ----- 3. the picture ----------------------------------------------------------------------------------
if args.plot:
    try:
        xs, ys = zip(*generate_data(data_number))
        fg.plot.fit_line(
            np.concatenate(xs),
            np.concatenate(ys),
            model.predict,
            args.plot,
            title="Linear regression: the data (w = 3, b = 1, with noise) and the fitted line",
            label=f"fitted: y = {w:.3f} x + {bias:.3f}",
        )
        print(f"saved the fitted line to {args.plot}")
    except ImportError as e:
        print(f"no picture: {e}")
