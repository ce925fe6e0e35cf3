"""High-level training: ``fg.Model``, metrics and callbacks."""

from . import callbacks, metrics
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    LossMonitor,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .model import History, Model

__all__ = [
    "Model", "History", "metrics", "callbacks", "Callback", "ProgressBar", "LossMonitor", "EarlyStopping",
    "ModelCheckpoint", "CSVLogger", "TerminateOnNaN", "LearningRateScheduler", "ReduceLROnPlateau",
]  # fmt: skip
