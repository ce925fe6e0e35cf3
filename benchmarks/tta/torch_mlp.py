"""The default ``flowgrad train`` job in plain PyTorch: 64-128-64-10 ReLU, Adam(lr 1e-3), batch 32.

Run by benchmarks/time_to_accuracy.py: ``python torch_mlp.py DATA.npz THREADS MAX_EPOCHS``.
"""

import sys

import numpy as np
import torch
from torch import nn

path, threads, max_epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
with np.load(path, allow_pickle=False) as f:
    x_train, y_train = torch.from_numpy(f["x_train"]), torch.from_numpy(f["y_train"])
    x_test, y_test = torch.from_numpy(f["x_test"]), torch.from_numpy(f["y_test"])
net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(1, max_epochs + 1):
    net.train()
    order = torch.randperm(len(x_train))
    for start in range(0, len(x_train), 32):
        idx = order[start : start + 32]
        opt.zero_grad()
        loss_fn(net(x_train[idx]), y_train[idx]).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test).argmax(1) == y_test).float().mean().item()
    print(f"epoch {epoch} test_accuracy {accuracy:.4f}", flush=True)
