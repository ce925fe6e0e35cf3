"""A module whose forward reuses a parameter a varying number of times (Python control flow),
trained with SGD and momentum."""

import json
import math

import torch


class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.1))
        self.b = torch.nn.Parameter(torch.tensor(-0.3))
        self.c = torch.nn.Parameter(torch.tensor(0.02))
        self.d = torch.nn.Parameter(torch.tensor(0.05))
        self.e = torch.nn.Parameter(torch.tensor(0.01))

    def forward(self, x, extra):
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, extra):
            y = y + self.e * x**exp
        return y

    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"


x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
extras = [4, 5, 6, 4, 6, 5]  # the tutorial draws these at random
for t in range(300):
    y_pred = model(x, extras[t % len(extras)])
    loss = criterion(y_pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print("RESULT", json.dumps({"loss": loss.item(), "params": [p.item() for p in model.parameters()]}))
