"""A training loop with the everyday extras: weight decay, gradient clipping, StepLR, a running
average of the loss, and the learning rate read back from the optimizer."""

import json

import numpy as np
import torch
from torch import nn

rng = np.random.default_rng(8)
X = torch.tensor(rng.normal(size=(64, 5)), dtype=torch.float64)
true_w = torch.tensor(rng.normal(size=(5, 1)), dtype=torch.float64)
Y = X @ true_w + 0.1 * torch.tensor(rng.normal(size=(64, 1)), dtype=torch.float64)

model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1)).double()
init = np.random.default_rng(9)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(init.uniform(-0.5, 0.5, size=tuple(p.shape))))

optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5, weight_decay=1e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
norms, lrs, running = [], [], 0.0
for epoch in range(8):
    for i in range(0, 64, 16):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X[i : i + 16]), Y[i : i + 16])
        loss.backward()
        norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)))
        optimizer.step()
        running = 0.9 * running + 0.1 * loss.item()
    scheduler.step()
    lrs.append(optimizer.param_groups[0]["lr"])

print("RESULT", json.dumps({"running": running, "norms": norms[:6], "lrs": lrs, "last_lr": scheduler.get_last_lr()}))
