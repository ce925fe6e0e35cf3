"""Seed 001: a two-layer ReLU network written with eager tensors, PyTorch style.

This is the Japanese tutorial's PyTorch program with one change: the import
line. ``import torch`` became ``import flowgrad as torch``; everything else
(``torch.randn(..., dtype=torch.float, requires_grad=True)``, ``.mm``,
``.clamp(min=0)``, ``.pow(2).sum()``, ``.backward()``, ``torch.no_grad()``,
``w1 -= learning_rate * w1.grad``, ``w1.grad.zero_()``) is PyTorch's API.
The tutorial took a single step; here the same step runs in a loop so the
loss can be seen to fall.

Run: python examples/torch_style_two_layer.py [--steps 200]
"""

import argparse

import flowgrad as torch  # the only change from the PyTorch original

parser = argparse.ArgumentParser(description="Seed 001's two-layer network")
parser.add_argument("--steps", type=int, default=200)
args = parser.parse_args()

torch.manual_seed(0)
# data
data_num = 233
data_dim = 10
data = torch.randn(data_num, data_dim, dtype=torch.float)
label = torch.randn(data_num, data_dim, dtype=torch.float)

# a 2-layer network
layer1_in = data_dim
layer1_out = layer2_in = 7
layer2_out = 10

# weights, which need gradients
w1 = torch.randn(layer1_in, layer1_out, dtype=torch.float, requires_grad=True)
w2 = torch.randn(layer2_in, layer2_out, dtype=torch.float, requires_grad=True)

learning_rate = 1e-4
for step in range(args.steps):
    # forward pass
    output1 = data.mm(w1)
    output2 = output1.clamp(min=0).mm(w2)

    # squared-error loss
    loss = (output2 - label).pow(2).sum()
    if step % 20 == 0 or step == args.steps - 1:
        print("step", step, "loss", loss.item())

    # gradients of the loss with respect to w1 and w2
    loss.backward()

    # gradient descent step, outside the graph
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        # zero the gradients, or the next backward would add to them
        w1.grad.zero_()
        w2.grad.zero_()
