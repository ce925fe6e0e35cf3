"""``flowgrad.nn``: modules, layers, losses, initialisers - PyTorch's names, with MindSpore aliases.

>>> import flowgrad as fg
>>> net = fg.nn.Sequential(fg.nn.Linear(2, 2), fg.nn.Sigmoid(), fg.nn.Linear(2, 1), fg.nn.Sigmoid())
>>> net(fg.ones(5, 2)).shape
(5, 1)
"""

from . import functional, init, parallel, utils
from .attention import MultiheadAttention
from .cells import GRUCell, LSTMCell, RNNCell
from .dropout import Dropout1d, Dropout2d, Dropout3d
from .embedding import Embedding
from .layers import (
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .loss_modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    SoftmaxCrossEntropyWithLogits,
)
from .module import Cell, CellList, Module, ModuleDict, ModuleList, Sequential, SequentialCell
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN, RNNBase
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "functional", "init", "parallel", "utils", "Module", "Cell", "Parameter", "Sequential", "SequentialCell",
    "ModuleList", "CellList", "ModuleDict", "Linear", "Dense", "Identity", "Flatten", "Dropout",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "Conv2d", "MaxPool2d", "AvgPool2d",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "SoftmaxCrossEntropyWithLogits", "Dropout1d", "Dropout2d", "Dropout3d",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
    "TransformerDecoderLayer",
]  # fmt: skip
