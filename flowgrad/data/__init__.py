"""``flowgrad.data``: data sets, loaders and pipelines.

Two ways in, one set of tensors out:

- PyTorch's: ``Dataset`` / ``ArrayDataset`` (``TensorDataset``) / ``Subset`` /
  ``random_split`` read by index, batched by ``DataLoader``;
- MindSpore's: ``GeneratorDataset`` and ``CSVDataset`` sources with lazy, chainable
  ``.shuffle .map .batch .repeat .take`` stages, read with ``create_tuple_iterator``.

>>> import numpy as np, flowgrad as fg
>>> x, y = np.ones((10, 3), np.float32), np.zeros((10, 1), np.float32)
>>> [xb.shape for xb, yb in fg.data.DataLoader(fg.data.ArrayDataset(x, y), batch_size=4)]
[(4, 3), (4, 3), (2, 3)]
"""

from .collate import default_collate
from .csvdata import CSVDataset
from .dataset import ArrayDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed_sampler import DistributedSampler
from .generator import GeneratorDataset
from .loader import DataLoader
from .pipeline import Pipeline
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import WorkerError, WorkerInfo, get_worker_info

__all__ = [
    "ArrayDataset",
    "BatchSampler",
    "CSVDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "GeneratorDataset",
    "IterableDataset",
    "Pipeline",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "WorkerError",
    "WorkerInfo",
    "default_collate",
    "get_worker_info",
    "random_split",
]
