"""Old-style code: autograd.Variable, w.data -= lr * w.grad.data, w.grad.data.zero_(),
out.data.max(1), and the legacy FloatTensor constructor."""

import json

import numpy as np
import torch
from torch.autograd import Variable

rng = np.random.default_rng(7)
x_np = rng.normal(size=(30, 2))
labels = (x_np[:, 0] + 2 * x_np[:, 1] > 0).astype(np.int64)
x = Variable(torch.from_numpy(x_np).float())
y = Variable(torch.from_numpy(labels))
w = Variable(torch.FloatTensor([[0.1, -0.2], [0.3, 0.05]]), requires_grad=True)
b = Variable(torch.zeros(2), requires_grad=True)

lr = 0.5
for epoch in range(30):
    out = x.mm(w) + b
    loss = torch.nn.functional.cross_entropy(out, y)
    loss.backward()
    w.data -= lr * w.grad.data
    b.data -= lr * b.grad.data
    w.grad.data.zero_()
    b.grad.data.zero_()

_, pred = out.data.max(1)
accuracy = (pred == y.data).sum().item() / len(labels)
print(
    "RESULT",
    json.dumps({"loss": loss.item(), "accuracy": accuracy, "w": w.data.tolist(), "norm": w.data.norm().item()}),
)
