"""``flowgrad.io``: saving and loading state, safely (safetensors, no pickle) and atomically.

``fg.save`` / ``fg.load`` take any state dict (tensors, arrays, nested dicts and lists, JSON
data); ``fg.save_checkpoint`` / ``fg.load_checkpoint`` add the model, optimizer, epoch and RNG
state of a training run. See docs/checkpoints.md.

>>> import os, tempfile, flowgrad as fg
>>> with tempfile.TemporaryDirectory() as d:
...     fg.io.save({"epoch": 2, "w": fg.zeros(3)}, os.path.join(d, "s.safetensors"))
...     fg.io.load(os.path.join(d, "s.safetensors"))["epoch"]
2
"""

from .checkpoint import load, load_checkpoint, save, save_checkpoint

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint"]
