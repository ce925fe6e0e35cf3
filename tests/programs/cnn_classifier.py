"""A small LeNet-style network on 12x12 images: Conv2d, max_pool2d, F.relu, view, SGD with momentum."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc1 = nn.Linear(8 * 1 * 1, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


rng = np.random.default_rng(3)
images = rng.normal(size=(32, 1, 12, 12))
labels = (images[:, 0, :6].mean(axis=(1, 2)) > images[:, 0, 6:].mean(axis=(1, 2))).astype(np.int64)
inputs, targets = torch.tensor(images, dtype=torch.float64), torch.from_numpy(labels)

net = Net().double()
init = np.random.default_rng(4)
with torch.no_grad():
    for name, p in net.named_parameters():
        p.copy_(torch.from_numpy(init.uniform(-0.4, 0.4, size=tuple(p.shape))))

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(4):
    for i in range(0, 32, 8):
        optimizer.zero_grad()
        outputs = net(inputs[i : i + 8])
        loss = criterion(outputs, targets[i : i + 8])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

with torch.no_grad():
    _, predicted = torch.max(net(inputs), 1)
print("RESULT", json.dumps({"losses": losses, "correct": (predicted == targets).sum().item()}))
