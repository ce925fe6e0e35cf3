"""Tensors the way the 60-minute blitz shows them: creation, indexing, broadcasting, reductions."""

import json

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
x_np = torch.from_numpy(np.array(data))
x_ones = torch.ones_like(x_data)
x_rand = torch.tensor(np.linspace(0, 1, 4).reshape(2, 2), dtype=torch.float)

shape = (2, 3)
zeros = torch.zeros(shape)
tensor = torch.ones(4, 4)
tensor[:, 1] = 0
t1 = torch.cat([tensor, tensor, tensor], dim=1)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
z1 = tensor * tensor
agg = tensor.sum()
agg_item = agg.item()
tensor.add_(5)

a = torch.arange(12, dtype=torch.float32).view(3, 4)
b = a.permute(1, 0).contiguous().reshape(2, 6)
c = torch.stack([a[0], a[2]], dim=0)
d = a.unsqueeze(0).expand(2, 3, 4)
m, idx = a.max(dim=1)
results = {
    "x_data": x_data.tolist(),
    "x_np_dtype": str(x_np.dtype).replace("torch.", ""),
    "ones": x_ones.sum().item(),
    "rand_mean": x_rand.mean().item(),
    "zeros": zeros.shape[1],
    "t1": list(t1.shape),
    "y_equal": bool(torch.equal(y1, y2)),
    "z1": z1.sum().item(),
    "agg": agg_item,
    "after_add": tensor[0].tolist(),
    "b": b[1].tolist(),
    "c": c.sum().item(),
    "d": list(d.shape),
    "max": m.tolist(),
    "argmax": idx.tolist(),
    "std": a.std().item(),
    "where": torch.where(a > 5, a, torch.zeros_like(a)).sum().item(),
    "clamp": a.clamp(min=2, max=9).mean().item(),
    "numel": a.numel(),
}
print("RESULT", json.dumps(results))
