"""Seed 001: the classic PyTorch two-layer ReLU network, five ways, on flowgrad.

The same network (N=64 samples, D_in=1000 -> H=100 -> D_out=10, squared error)
trained as the PyTorch tutorials teach it, each with ``import flowgrad as torch``:
  1. tensors and hand-written backward,
  2. autograd (``requires_grad=True``, ``loss.backward()``),
  3. a custom autograd Function (``MyReLU``),
  4. ``nn.Sequential`` + ``nn.MSELoss`` and a manual update,
  5. ``optim.Adam`` with a custom ``nn.Module``, and a dynamic graph whose depth changes each step.

Run: python examples/two_layer_relu.py [--steps 500]
"""

import argparse
import random

import flowgrad as torch  # the only change from the PyTorch original

parser = argparse.ArgumentParser(description="Seed 001's two-layer ReLU network, five ways")
parser.add_argument("--steps", type=int, default=500)
args = parser.parse_args()
STEPS = args.steps

N, D_in, H, D_out = 64, 1000, 100, 10
torch.manual_seed(0)
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)


def report(title, losses):
    print(f"{title:<38} loss {losses[0]:12.2f} -> {losses[-1]:10.4f}")


# 1. Tensors, gradients written by hand
w1, w2 = torch.randn(D_in, H), torch.randn(H, D_out)
losses = []
for t in range(STEPS):
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - y).pow(2).sum().item()
    losses.append(loss)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h = grad_y_pred.mm(w2.t())
    grad_h[h < 0] = 0
    grad_w1 = x.t().mm(grad_h)
    w1 -= 1e-6 * grad_w1
    w2 -= 1e-6 * grad_w2
report("1. tensors, hand-written backward", losses)

# 2. Autograd
w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)
losses = []
for t in range(STEPS):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= 1e-6 * w1.grad
        w2 -= 1e-6 * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
report("2. autograd", losses)


# 3. A custom autograd Function
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)
losses = []
for t in range(STEPS):
    y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= 1e-6 * w1.grad
        w2 -= 1e-6 * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
report("3. custom autograd Function", losses)

# 4. nn
model = torch.nn.Sequential(torch.nn.Linear(D_in, H), torch.nn.ReLU(), torch.nn.Linear(H, D_out))
loss_fn = torch.nn.MSELoss(reduction="sum")
losses = []
for t in range(STEPS):
    loss = loss_fn(model(x), y)
    losses.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= 1e-4 * param.grad
report("4. nn.Sequential, manual update", losses)


# 5. optim + a custom Module with a dynamic graph
class DynamicNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.input_linear = torch.nn.Linear(D_in, H)
        self.middle_linear = torch.nn.Linear(H, H)
        self.output_linear = torch.nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.input_linear(x).clamp(min=0)
        for _ in range(random.randint(0, 3)):  # a different depth each call
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        return self.output_linear(h_relu)


random.seed(0)
model = DynamicNet(D_in, H, D_out)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
losses = []
for t in range(STEPS):
    loss = torch.nn.functional.mse_loss(model(x), y, reduction="sum")
    losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
report("5. optim.Adam, dynamic custom Module", losses)
