"""A classifier the way the quickstart trains one: Dataset, DataLoader, CrossEntropyLoss, Adam,
train and test loops with model.train()/model.eval() and torch.no_grad()."""

import json

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
centers = rng.normal(size=(3, 4)) * 3
X = np.concatenate([c + rng.normal(size=(40, 4)) for c in centers]).astype(np.float32)
Y = np.repeat(np.arange(3), 40)
train_data = TensorDataset(torch.from_numpy(X[::2]), torch.from_numpy(Y[::2]))
test_data = TensorDataset(torch.from_numpy(X[1::2]), torch.from_numpy(Y[1::2]))
train_dataloader = DataLoader(train_data, batch_size=16)
test_dataloader = DataLoader(test_data, batch_size=16)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork()
weights = np.random.default_rng(1)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(weights.uniform(-0.5, 0.5, size=tuple(p.shape)), dtype=torch.float32))

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return loss.item()


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


history = []
for t in range(5):
    last = train(train_dataloader, model, loss_fn, optimizer)
    history.append([last, *test(test_dataloader, model, loss_fn)])

print("RESULT", json.dumps({"history": history}))
