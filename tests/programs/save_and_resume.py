"""Saving and loading as the tutorials do: state_dict of a model and an optimizer, a whole model,
a checkpoint dict; training resumes and gives the same numbers as without the interruption."""

import io
import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class TheModelClass(nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.fc1 = nn.Linear(3, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


rng = np.random.default_rng(5)
X = torch.tensor(rng.normal(size=(20, 3)))
Y = torch.tensor(rng.normal(size=(20, 1)))


def fresh():
    model = TheModelClass().double()
    init = np.random.default_rng(6)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(init.uniform(-0.5, 0.5, size=tuple(p.shape))))
    return model, optim.Adam(model.parameters(), lr=0.01)


def train(model, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
    return loss.item()


model, optimizer = fresh()
straight = train(model, optimizer, 20)

model, optimizer = fresh()
train(model, optimizer, 10)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "checkpoint.tar")
    torch.save(
        {"epoch": 10, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}, path
    )
    model, optimizer = fresh()
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    epoch = checkpoint["epoch"]
    model.train()
    resumed = train(model, optimizer, 20 - epoch)

    whole = os.path.join(d, "model.pt")
    torch.save(model, whole)
    again = torch.load(whole, weights_only=False)
    again.eval()
    same = bool(torch.equal(again(X), model(X)))

buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
state = torch.load(buffer)
print("RESULT", json.dumps({"straight": straight, "resumed": resumed, "whole_model_same": same, "keys": list(state)}))
