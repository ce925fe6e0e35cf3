"""The same fit with torch.nn: Sequential(Linear, Flatten), MSELoss(reduction="sum") and RMSprop."""

import json
import math

import torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.2, -0.1, 0.05]]))
    model[0].bias.fill_(0.1)
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
losses = []
for t in range(200):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

linear_layer = model[0]
results = {
    "loss0": losses[0],
    "loss": losses[-1],
    "bias": linear_layer.bias.item(),
    "weight": linear_layer.weight[:, 0].item(),
    "w2": linear_layer.weight[:, 1].item(),
    "w3": linear_layer.weight[:, 2].item(),
}
print("RESULT", json.dumps(results))
