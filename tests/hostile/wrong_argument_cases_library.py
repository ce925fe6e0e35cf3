"""The wrong-argument table's rows for the layers above the core: nn, losses, optim, schedulers,
data, Model, files, plots and graph mode (see tests/hostile/test_wrong_arguments.py)."""

from __future__ import annotations

import numpy as np

import flowgrad as fg
import flowgrad.flow as flow
from flowgrad import nn
from flowgrad.data import (
    ArrayDataset,
    CSVDataset,
    DataLoader,
    GeneratorDataset,
    Subset,
    default_collate,
    random_split,
)
from flowgrad.nn import functional as F
from flowgrad.optim import lr_scheduler as S

from .wrong_argument_cases import Arg, Ckpt, Data, DType, Shape, X, case, csv, fit, graph, model, net, opt

LIBRARY_CASES = [
    # ----- fg.nn: layers' constructors and forwards ---------------------------------------------------
    case("nn", "Linear(-1, 3)", lambda: nn.Linear(-1, 3), Arg, "Linear", "in_features", "-1"),
    case("nn", "Linear('3', 4)", lambda: nn.Linear("3", 4), DType, "Linear", "in_features", "'3'"),
    case("nn", "Linear(2.5, 4)", lambda: nn.Linear(2.5, 4), DType, "Linear", "2.5"),
    case("nn", "Linear(3, None)", lambda: nn.Linear(3, None), DType, "Linear", "out_features", "None"),
    case("nn", "Linear forward of 5 features", lambda: nn.Linear(3, 4)(fg.ones(2, 5)), Shape, "linear", "5 features", "expects 3"),  # fmt: skip
    case("nn", "Linear forward of a string", lambda: nn.Linear(3, 4)("abc"), DType, "tensor", "str"),
    case("nn", "Linear forward of a 0-d tensor", lambda: nn.Linear(3, 4)(fg.tensor(1.0)), Shape, "linear", "no features"),  # fmt: skip
    case("nn", "Dense with an unknown activation", lambda: nn.Dense(3, 4, activation="bogus"), Arg, "Dense", "'bogus'"),
    case("nn", "Dense with activation 5", lambda: nn.Dense(3, 4, activation=5), DType, "Dense", "activation", "5 (int)"),
    case("nn", "Dropout(p=2)", lambda: nn.Dropout(2), Arg, "Dropout", "[0, 1]", "2"),
    case("nn", "Dropout(p='a')", lambda: nn.Dropout("a"), DType, "Dropout", "'a'"),
    case("nn", "LeakyReLU('a')", lambda: nn.LeakyReLU("a"), DType, "LeakyReLU", "negative_slope", "'a'"),
    case("nn", "GELU('fast')", lambda: nn.GELU("fast"), Arg, "GELU", "'fast'"),
    case("nn", "Softplus(beta='a')", lambda: nn.Softplus(beta="a"), DType, "Softplus", "beta", "'a'"),
    case("nn", "Softmax(dim='a')", lambda: nn.Softmax(dim="a"), DType, "Softmax", "dim", "'a'"),
    case("nn", "Softmax(dim=5) forward", lambda: nn.Softmax(dim=5)(X), Shape, "softmax", "axis 5"),
    case("nn", "BatchNorm1d(-3)", lambda: nn.BatchNorm1d(-3), Arg, "BatchNorm1d", "num_features", "-3"),
    case("nn", "BatchNorm1d('4')", lambda: nn.BatchNorm1d("4"), DType, "BatchNorm1d", "'4'"),
    case("nn", "BatchNorm1d(4) forward of 3 channels", lambda: nn.BatchNorm1d(4)(X), Shape, "BatchNorm1d", "3 channels"),  # fmt: skip
    case("nn", "BatchNorm1d forward of a vector", lambda: nn.BatchNorm1d(3)(fg.ones(3)), Shape, "BatchNorm1d", "(3,)"),
    case("nn", "BatchNorm2d forward of a matrix", lambda: nn.BatchNorm2d(3)(X), Shape, "BatchNorm2d", "(2, 3)"),
    case("nn", "LayerNorm(-2)", lambda: nn.LayerNorm(-2), Arg, "LayerNorm", "-2"),
    case("nn", "LayerNorm('a')", lambda: nn.LayerNorm("a"), DType, "LayerNorm", "'a'"),
    case("nn", "LayerNorm(4) forward of (2, 3)", lambda: nn.LayerNorm(4)(X), Shape, "layer_norm", "(4,)"),
    case("nn", "Embedding(-1, 3)", lambda: nn.Embedding(-1, 3), Arg, "Embedding", "num_embeddings", "-1"),
    case("nn", "Embedding('10', 3)", lambda: nn.Embedding("10", 3), DType, "Embedding", "'10'"),
    case("nn", "Embedding padding_idx 20 of 10", lambda: nn.Embedding(10, 3, padding_idx=20), Arg, "Embedding", "padding_idx", "20"),  # fmt: skip
    case("nn", "Embedding forward of floats", lambda: nn.Embedding(10, 3)(fg.ones(2)), DType, "embedding", "integers", "float32"),  # fmt: skip
    case("nn", "Embedding forward of index 11", lambda: nn.Embedding(10, 3)(fg.tensor([11])), Shape, "embedding", "[0, 10)", "11"),  # fmt: skip
    case("nn", "Conv2d groups not dividing", lambda: nn.Conv2d(3, 4, 3, groups=2), Arg, "Conv2d", "groups=2"),
    case("nn", "Conv2d groups 0", lambda: nn.Conv2d(3, 4, 3, groups=0), Arg, "Conv2d", "groups", "0"),
    case("nn", "Conv2d kernel 0", lambda: nn.Conv2d(3, 4, 0), Arg, "Conv2d", "kernel_size", "0"),
    case("nn", "Conv2d kernel 'a'", lambda: nn.Conv2d(3, 4, "a"), DType, "Conv2d", "kernel_size", "'a'"),
    case("nn", "Conv2d kernel (3, 3, 3)", lambda: nn.Conv2d(3, 4, (3, 3, 3)), Shape, "Conv2d", "(3, 3, 3)"),
    case("nn", "Conv2d in_channels -3", lambda: nn.Conv2d(-3, 4, 3), Arg, "Conv2d", "in_channels", "-3"),
    case("nn", "Conv2d stride 0", lambda: nn.Conv2d(3, 4, 3, stride=0), Arg, "Conv2d", "stride", "0"),
    case("nn", "Conv2d padding -1", lambda: nn.Conv2d(3, 4, 3, padding=-1), Arg, "Conv2d", "padding", "-1"),
    case("nn", "Conv2d forward of 3 dims", lambda: nn.Conv2d(3, 4, 3)(fg.ones(3, 8, 8)), Shape, "conv2d", "(3, 8, 8)"),
    case("nn", "Conv2d forward of 2 channels", lambda: nn.Conv2d(3, 4, 3)(fg.ones(1, 2, 8, 8)), Shape, "conv2d", "2 channels"),  # fmt: skip
    case("nn", "Conv2d kernel larger than the input", lambda: nn.Conv2d(3, 4, 5)(fg.ones(1, 3, 2, 2)), Shape, "5x5 kernel", "2x2"),  # fmt: skip
    case("nn", "MaxPool2d(0)", lambda: nn.MaxPool2d(0), Arg, "MaxPool2d", "kernel_size", "0"),
    case("nn", "MaxPool2d('a')", lambda: nn.MaxPool2d("a"), DType, "MaxPool2d", "'a'"),
    case("nn", "MaxPool2d forward of a matrix", lambda: nn.MaxPool2d(2)(X), Shape, "max_pool2d", "(2, 3)"),
    case("nn", "AvgPool2d(2, stride=0)", lambda: nn.AvgPool2d(2, stride=0), Arg, "AvgPool2d", "stride", "0"),
    case("nn", "AvgPool2d kernel larger than the input", lambda: nn.AvgPool2d(8)(fg.ones(1, 1, 4, 4)), Shape, "8x8 kernel", "4x4"),  # fmt: skip
    case("nn", "Flatten(3) forward", lambda: nn.Flatten(3)(X), Shape, "flatten", "start_dim 3"),
    case("nn", "Sequential('x')", lambda: nn.Sequential("x"), DType, "Sequential", "Module", "'x'"),
    case("nn", "Sequential(ReLU(), 5)", lambda: nn.Sequential(nn.ReLU(), 5), DType, "Sequential", "5 (int)"),
    case("nn", "Sequential of misfitting layers", lambda: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 1))(X), Shape, "linear", "4 features"),  # fmt: skip
    case("nn", "ModuleList([1])", lambda: nn.ModuleList([1]), DType, "ModuleList", "1 (int)"),
    case("nn", "ModuleDict({'a': 1})", lambda: nn.ModuleDict({"a": 1}), DType, "ModuleDict", "'a'", "1 (int)"),
    case("nn", "load_state_dict of a wrong shape", lambda: nn.Linear(3, 2).load_state_dict({"weight": fg.ones(3, 3), "bias": fg.ones(2)}), Shape, "load_state_dict", "(3, 3)"),  # fmt: skip
    case("nn", "load_state_dict of nothing", lambda: nn.Linear(3, 2).load_state_dict({}), Shape, "load_state_dict", "missing keys"),  # fmt: skip
    case("nn", "Parameter of ints", lambda: nn.Parameter(fg.arange(3)), DType, "int64"),
    case("nn", "F.linear with a string weight", lambda: F.linear(X, "w"), DType, "linear", "weight", "'w'"),
    case("nn", "F.dropout p=-1", lambda: F.dropout(X, p=-1), Arg, "dropout", "-1"),
    case("nn", "F.gelu approximate 'x'", lambda: F.gelu(X, approximate="x"), Arg, "gelu", "'x'"),
    case("nn", "F.one_hot of floats", lambda: F.one_hot(fg.ones(3)), DType, "one_hot", "float32"),
    case("nn", "F.one_hot label 5 of 3", lambda: F.one_hot(fg.tensor([5]), num_classes=3), Shape, "one_hot", "[0, 3)", "5"),  # fmt: skip
    case("nn", "F.pad of 3 sizes", lambda: F.pad(X, (1, 1, 1)), Arg, "pad", "even", "3"),
    case("nn", "init.calculate_gain('bogus')", lambda: nn.init.calculate_gain("bogus"), Arg, "calculate_gain", "'bogus'"),
    case("nn", "init.kaiming_uniform_ mode 'x'", lambda: nn.init.kaiming_uniform_(fg.ones(2, 2), mode="x"), Arg, "kaiming", "'x'"),  # fmt: skip
    case("nn", "init.xavier_uniform_ of a vector", lambda: nn.init.xavier_uniform_(fg.ones(3)), Shape, "fan", "(3,)"),
    case("nn", "init.uniform_ of a string", lambda: nn.init.uniform_("a"), DType, "uniform_", "'a'"),
    case("nn", "init.constant_ of a list", lambda: nn.init.constant_([1.0], 0.0), DType, "constant_", "list"),
    case("nn", "clip_grad_norm_ max_norm 'a'", lambda: nn.utils.clip_grad_norm_(net().parameters(), "a"), DType, "clip_grad_norm_", "'a'"),  # fmt: skip
    case("nn", "vector_to_parameters of a short vector", lambda: nn.utils.vector_to_parameters(fg.ones(3), net().parameters()), Shape, "vector_to_parameters", "3"),  # fmt: skip
    # ----- losses ---------------------------------------------------------------------------------
    case("losses", "mse_loss of (3,) and (4,)", lambda: F.mse_loss(fg.ones(3), fg.ones(4)), Shape, "mse_loss", "(3,)", "(4,)"),  # fmt: skip
    case("losses", "mse_loss of a string", lambda: F.mse_loss("a", fg.ones(4)), DType, "mse_loss", "'a'"),
    case("losses", "mse_loss reduction 'avg'", lambda: F.mse_loss(fg.ones(3), fg.ones(3), reduction="avg"), Arg, "mse_loss", "'avg'"),  # fmt: skip
    case("losses", "l1_loss of (3,) and (4,)", lambda: F.l1_loss(fg.ones(3), fg.ones(4)), Shape, "l1_loss", "(4,)"),
    case("losses", "huber_loss delta -1", lambda: F.huber_loss(fg.ones(3), fg.ones(3), delta=-1), Arg, "huber_loss", "delta", "-1"),  # fmt: skip
    case("losses", "smooth_l1_loss beta -1", lambda: F.smooth_l1_loss(fg.ones(3), fg.ones(3), beta=-1), Arg, "smooth_l1_loss", "beta", "-1"),  # fmt: skip
    case("losses", "binary_cross_entropy of 2.0", lambda: F.binary_cross_entropy(fg.tensor([2.0]), fg.tensor([1.0])), Arg, "binary_cross_entropy", "[0, 1]", "2.0"),  # fmt: skip
    case("losses", "binary_cross_entropy of (1,) and (2,)", lambda: F.binary_cross_entropy(fg.tensor([0.5]), fg.tensor([1.0, 0.0])), Shape, "binary_cross_entropy", "(2,)"),  # fmt: skip
    case("losses", "bce_with_logits of (3,) and (2,)", lambda: F.binary_cross_entropy_with_logits(fg.ones(3), fg.ones(2)), Shape, "binary_cross_entropy_with_logits", "(2,)"),  # fmt: skip
    case("losses", "cross_entropy of fractional labels", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0.5, 1.0])), Shape, "cross_entropy", "(2,)"),  # fmt: skip
    case("losses", "cross_entropy label 3 of 3", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, 3])), Shape, "cross_entropy", "[0, 3)"),  # fmt: skip
    case("losses", "cross_entropy label -2", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, -2])), Shape, "cross_entropy", "-2"),  # fmt: skip
    case("losses", "cross_entropy of 3 labels for 2 rows", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, 1, 2])), Shape, "cross_entropy", "(3,)"),  # fmt: skip
    case("losses", "cross_entropy of a string", lambda: F.cross_entropy("a", fg.tensor([0])), DType, "tensor", "str"),
    case("losses", "cross_entropy weight of 5 for 3 classes", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, 1]), weight=fg.ones(5)), Shape, "cross_entropy", "weight", "(5,)"),  # fmt: skip
    case("losses", "cross_entropy reduction 'x'", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, 1]), reduction="x"), Arg, "cross_entropy", "'x'"),  # fmt: skip
    case("losses", "cross_entropy label_smoothing 2", lambda: F.cross_entropy(fg.ones(2, 3), fg.tensor([0, 1]), label_smoothing=2.0), Arg, "cross_entropy", "label_smoothing", "2.0"),  # fmt: skip
    case("losses", "nll_loss label 7 of 3", lambda: F.nll_loss(fg.ones(2, 3), fg.tensor([0, 7])), Shape, "nll_loss", "[0, 3)"),  # fmt: skip
    case("losses", "MSELoss reduction 'x'", lambda: nn.MSELoss(reduction="x"), Arg, "MSELoss", "'x'"),
    case("losses", "CrossEntropyLoss label 9 of 3", lambda: nn.CrossEntropyLoss()(fg.ones(2, 3), fg.tensor([0, 9])), Shape, "cross_entropy", "0..9"),  # fmt: skip
    case("losses", "BCELoss of (2,) and (3,)", lambda: nn.BCELoss()(fg.ones(2), fg.ones(3)), Shape, "binary_cross_entropy", "(3,)"),  # fmt: skip
    # ----- fg.optim ---------------------------------------------------------------------------------
    case("optim", "SGD lr -0.1", lambda: fg.optim.SGD(net().parameters(), lr=-0.1), Arg, "SGD", "lr", "-0.1"),
    case("optim", "SGD lr 'a'", lambda: fg.optim.SGD(net().parameters(), lr="a"), DType, "SGD", "lr", "'a'"),
    case("optim", "SGD of no parameters", lambda: fg.optim.SGD([], lr=0.1), Arg, "SGD", "empty"),
    case("optim", "SGD of an exhausted generator", lambda: fg.optim.SGD(iter([]), lr=0.1), Arg, "SGD", "empty"),
    case("optim", "SGD of one tensor", lambda: fg.optim.SGD(fg.ones(2, requires_grad=True), lr=0.1), DType, "SGD", "one tensor"),  # fmt: skip
    case("optim", "SGD of numbers", lambda: fg.optim.SGD([1, 2], lr=0.1), DType, "SGD", "int"),
    case("optim", "SGD of strings", lambda: fg.optim.SGD(["abc"], lr=0.1), DType, "SGD", "str"),
    case("optim", "SGD of None", lambda: fg.optim.SGD(None, lr=0.1), DType, "SGD", "None"),
    case("optim", "SGD momentum -1", lambda: fg.optim.SGD(net().parameters(), lr=0.1, momentum=-1), Arg, "SGD", "momentum", "-1"),  # fmt: skip
    case("optim", "SGD weight_decay -1", lambda: fg.optim.SGD(net().parameters(), lr=0.1, weight_decay=-1), Arg, "SGD", "weight_decay", "-1"),  # fmt: skip
    case("optim", "SGD nesterov without momentum", lambda: fg.optim.SGD(net().parameters(), lr=0.1, nesterov=True), Arg, "SGD", "Nesterov"),  # fmt: skip
    case("optim", "SGD of a non-leaf tensor", lambda: fg.optim.SGD([fg.ones(2, requires_grad=True) * 2], lr=0.1), Arg, "SGD", "non-leaf"),  # fmt: skip
    case("optim", "Adam betas (1.5, 0.9)", lambda: fg.optim.Adam(net().parameters(), betas=(1.5, 0.9)), Arg, "Adam", "betas", "(1.5, 0.9)"),  # fmt: skip
    case("optim", "Adam betas (-0.1, 0.9)", lambda: fg.optim.Adam(net().parameters(), betas=(-0.1, 0.9)), Arg, "Adam", "betas", "-0.1"),  # fmt: skip
    case("optim", "Adam betas (0.9,)", lambda: fg.optim.Adam(net().parameters(), betas=(0.9,)), DType, "Adam", "betas", "(0.9,)"),  # fmt: skip
    case("optim", "Adam betas 'ab'", lambda: fg.optim.Adam(net().parameters(), betas="ab"), DType, "Adam", "betas", "'ab'"),  # fmt: skip
    case("optim", "Adam betas None", lambda: fg.optim.Adam(net().parameters(), betas=None), DType, "Adam", "betas", "None"),  # fmt: skip
    case("optim", "Adam betas ('a', 0.9)", lambda: fg.optim.Adam(net().parameters(), betas=("a", 0.9)), DType, "Adam", "betas", "'a'"),  # fmt: skip
    case("optim", "Adam eps -1", lambda: fg.optim.Adam(net().parameters(), eps=-1), Arg, "Adam", "eps", "-1"),
    case("optim", "Adam lr nan", lambda: fg.optim.Adam(net().parameters(), lr=float("nan")), Arg, "Adam", "lr", "nan"),
    case("optim", "Adam lr None", lambda: fg.optim.Adam(net().parameters(), lr=None), DType, "Adam", "lr", "None"),
    case("optim", "AdamW weight_decay -1", lambda: fg.optim.AdamW(net().parameters(), weight_decay=-1), Arg, "AdamW", "weight_decay"),  # fmt: skip
    case("optim", "RMSprop alpha -1", lambda: fg.optim.RMSprop(net().parameters(), alpha=-1), Arg, "RMSprop", "alpha", "-1"),  # fmt: skip
    case("optim", "Adagrad lr -1", lambda: fg.optim.Adagrad(net().parameters(), lr=-1), Arg, "Adagrad", "lr", "-1"),
    case("optim", "Momentum without its arguments", lambda: fg.optim.Momentum(net().parameters()), DType, "Momentum", "required"),  # fmt: skip
    case("optim", "LBFGS lr -1", lambda: fg.optim.LBFGS(net().parameters(), lr=-1), Arg, "LBFGS", "learning rate", "-1"),
    case("optim", "LBFGS lr 'a'", lambda: fg.optim.LBFGS(net().parameters(), lr="a"), DType, "LBFGS", "lr", "'a'"),
    case("optim", "LBFGS history_size 0", lambda: fg.optim.LBFGS(net().parameters(), history_size=0), Arg, "LBFGS", "history_size", "0"),  # fmt: skip
    case("optim", "LBFGS line_search_fn 'x'", lambda: fg.optim.LBFGS(net().parameters(), line_search_fn="x"), Arg, "LBFGS", "'x'"),  # fmt: skip
    case("optim", "LBFGS step without a closure", lambda: fg.optim.LBFGS(net().parameters()).step(), DType, "LBFGS.step", "closure"),  # fmt: skip
    case("optim", "ConjugateGradient method 'x'", lambda: fg.optim.ConjugateGradient(net().parameters(), method="x"), Arg, "ConjugateGradient", "'x'"),  # fmt: skip
    case("optim", "step with a string closure", lambda: opt().step("x"), DType, "SGD.step", "closure", "'x'"),
    case("optim", "load_state_dict of a string", lambda: opt().load_state_dict("x"), DType, "SGD.load_state_dict", "'x'"),  # fmt: skip
    case("optim", "load_state_dict of no groups", lambda: opt().load_state_dict({"state": {}, "param_groups": []}), Arg, "SGD.load_state_dict", "0 parameter groups"),  # fmt: skip
    case("optim", "add_param_group of a list", lambda: opt().add_param_group([fg.ones(2, requires_grad=True)]), DType, "SGD", "parameter group", "list"),  # fmt: skip
    # ----- learning-rate schedulers -----------------------------------------------------------------
    case("schedulers", "StepLR of a string", lambda: S.StepLR("x", 1), DType, "StepLR", "'x'", "Optimizer"),
    case("schedulers", "StepLR step_size 0", lambda: S.StepLR(opt(), step_size=0), Arg, "StepLR", "step_size", "0"),
    case("schedulers", "StepLR step_size 'a'", lambda: S.StepLR(opt(), step_size="a"), DType, "StepLR", "step_size", "'a'"),  # fmt: skip
    case("schedulers", "StepLR gamma 'a'", lambda: S.StepLR(opt(), 1, gamma="a"), DType, "StepLR", "gamma", "'a'"),
    case("schedulers", "StepLR last_epoch -5", lambda: S.StepLR(opt(), 1, last_epoch=-5), Arg, "StepLR", "last_epoch", "-5"),  # fmt: skip
    case("schedulers", "MultiStepLR milestones 'ab'", lambda: S.MultiStepLR(opt(), milestones="ab"), DType, "MultiStepLR", "milestones", "'ab'"),  # fmt: skip
    case("schedulers", "MultiStepLR milestone 1.5", lambda: S.MultiStepLR(opt(), milestones=[1.5]), DType, "MultiStepLR", "1.5"),  # fmt: skip
    case("schedulers", "ExponentialLR gamma 'a'", lambda: S.ExponentialLR(opt(), gamma="a"), DType, "ExponentialLR", "gamma", "'a'"),  # fmt: skip
    case("schedulers", "CosineAnnealingLR T_max 0", lambda: S.CosineAnnealingLR(opt(), T_max=0), Arg, "CosineAnnealingLR", "T_max", "0"),  # fmt: skip
    case("schedulers", "CosineAnnealingLR T_max 'a'", lambda: S.CosineAnnealingLR(opt(), T_max="a"), DType, "CosineAnnealingLR", "'a'"),  # fmt: skip
    case("schedulers", "LambdaLR of a number", lambda: S.LambdaLR(opt(), lr_lambda=5), DType, "LambdaLR", "5 (int)"),
    case("schedulers", "LambdaLR of two functions for one group", lambda: S.LambdaLR(opt(), lr_lambda=[lambda e: 1, lambda e: 1]), Arg, "LambdaLR", "lr_lambdas", "2"),  # fmt: skip
    case("schedulers", "OneCycleLR without a length", lambda: S.OneCycleLR(opt(), max_lr=0.1), Arg, "OneCycleLR", "total_steps"),  # fmt: skip
    case("schedulers", "OneCycleLR total_steps 0", lambda: S.OneCycleLR(opt(), max_lr=0.1, total_steps=0), Arg, "OneCycleLR", "total_steps", "0"),  # fmt: skip
    case("schedulers", "OneCycleLR pct_start 2", lambda: S.OneCycleLR(opt(), max_lr=0.1, total_steps=10, pct_start=2), Arg, "OneCycleLR", "pct_start", "2"),  # fmt: skip
    case("schedulers", "OneCycleLR anneal_strategy 'x'", lambda: S.OneCycleLR(opt(), max_lr=0.1, total_steps=10, anneal_strategy="x"), Arg, "OneCycleLR", "'x'"),  # fmt: skip
    case("schedulers", "OneCycleLR without momentum", lambda: S.OneCycleLR(fg.optim.Adagrad(net().parameters()), max_lr=0.1, total_steps=10), Arg, "OneCycleLR", "momentum", "Adagrad"),  # fmt: skip
    case("schedulers", "ReduceLROnPlateau factor 2", lambda: S.ReduceLROnPlateau(opt(), factor=2), Arg, "ReduceLROnPlateau", "Factor", "2"),  # fmt: skip
    case("schedulers", "ReduceLROnPlateau mode 'x'", lambda: S.ReduceLROnPlateau(opt(), mode="x"), Arg, "ReduceLROnPlateau", "mode x"),  # fmt: skip
    case("schedulers", "ReduceLROnPlateau threshold_mode 'x'", lambda: S.ReduceLROnPlateau(opt(), threshold_mode="x"), Arg, "ReduceLROnPlateau", "threshold mode x"),  # fmt: skip
    case("schedulers", "ReduceLROnPlateau two min_lrs for one group", lambda: S.ReduceLROnPlateau(opt(), min_lr=[0, 0]), Arg, "ReduceLROnPlateau", "min_lrs", "2"),  # fmt: skip
    case("schedulers", "ReduceLROnPlateau step of a string", lambda: S.ReduceLROnPlateau(opt()).step("a"), DType, "ReduceLROnPlateau.step", "'a'"),  # fmt: skip
    case("schedulers", "scheduler load_state_dict of a string", lambda: S.StepLR(opt(), 1).load_state_dict("x"), DType, "StepLR.load_state_dict", "'x'"),  # fmt: skip
    # ----- fg.data ----------------------------------------------------------------------------------
    case("data", "DataLoader batch_size 0", lambda: DataLoader(ArrayDataset(np.ones(3)), batch_size=0), Data, "DataLoader", "batch_size", "0"),  # fmt: skip
    case("data", "DataLoader batch_size 'a'", lambda: DataLoader(ArrayDataset(np.ones(3)), batch_size="a"), Data, "DataLoader", "'a'"),  # fmt: skip
    case("data", "DataLoader of a number", lambda: DataLoader(5), Data, "DataLoader", "int", "data set"),
    case("data", "DataLoader shuffling an iterable", lambda: DataLoader(GeneratorDataset([1, 2], "a"), shuffle=True), Data, "DataLoader", "shuffle"),  # fmt: skip
    case("data", "DataLoader collate_fn 5", lambda: DataLoader(ArrayDataset(np.ones(3)), collate_fn=5), Data, "DataLoader", "collate_fn", "5 (int)"),  # fmt: skip
    case("data", "DataLoader seed 'a'", lambda: DataLoader(ArrayDataset(np.ones(3)), seed="a"), Data, "DataLoader", "seed", "'a'"),  # fmt: skip
    case("data", "len() of a DataLoader over a generator", lambda: len(DataLoader(GeneratorDataset(lambda: iter([1]), "a"))), DType, "DataLoader", "no len()"),  # fmt: skip
    case("data", "ArrayDataset of different lengths", lambda: ArrayDataset(np.ones(3), np.ones(4)), Data, "ArrayDataset", "3 (array 0)", "4 (array 1)"),  # fmt: skip
    case("data", "ArrayDataset of nothing", lambda: ArrayDataset(), Data, "ArrayDataset", "at least one"),
    case("data", "ArrayDataset of a scalar", lambda: ArrayDataset(np.float32(1)), Data, "ArrayDataset", "scalar"),
    case("data", "Subset of string indices", lambda: Subset(ArrayDataset(np.ones(3)), ["a"]), Data, "Subset", "['a']"),
    case("data", "random_split lengths that do not add up", lambda: random_split(ArrayDataset(np.ones(10)), [3, 3]), Data, "random_split", "sum to 6"),  # fmt: skip
    case("data", "random_split length -1", lambda: random_split(ArrayDataset(np.ones(10)), [-1, 11]), Data, "random_split", "negative"),  # fmt: skip
    case("data", "random_split fractions over 1", lambda: random_split(ArrayDataset(np.ones(10)), [0.5, 0.6]), Data, "random_split", "sum to 1"),  # fmt: skip
    case("data", "random_split lengths 'ab'", lambda: random_split(ArrayDataset(np.ones(10)), "ab"), Data, "random_split", "'ab'"),  # fmt: skip
    case("data", "random_split lengths 5", lambda: random_split(ArrayDataset(np.ones(10)), 5), Data, "random_split", "5 (int)"),  # fmt: skip
    case("data", "GeneratorDataset of a number", lambda: GeneratorDataset(5, "a"), Data, "GeneratorDataset", "int"),
    case("data", "GeneratorDataset column names [1]", lambda: GeneratorDataset([1, 2], [1]), Data, "GeneratorDataset", "column_names", "[1]"),  # fmt: skip
    case("data", "GeneratorDataset duplicate columns", lambda: GeneratorDataset([1, 2], ["a", "a"]), Data, "GeneratorDataset", "duplicates"),  # fmt: skip
    case("data", "GeneratorDataset rows wider than the columns", lambda: list(GeneratorDataset([(1, 2)], ["a"])), Data, "GeneratorDataset", "2 fields"),  # fmt: skip
    case("data", ".batch(0)", lambda: GeneratorDataset([1, 2], "a").batch(0), Data, "batch", "batch_size", "0"),
    case("data", ".repeat(0)", lambda: GeneratorDataset([1, 2], "a").repeat(0), Data, "repeat", "count", "0"),
    case("data", ".shuffle(0)", lambda: GeneratorDataset([1, 2], "a").shuffle(0), Data, "shuffle", "buffer_size", "0"),
    case("data", ".take(-5)", lambda: GeneratorDataset([1, 2], "a").take(-5), Data, "take", "-5"),
    case("data", ".map(5)", lambda: list(GeneratorDataset([1, 2], "a").map(5)), Data, "map", "5"),
    case("data", ".map of a missing column", lambda: GeneratorDataset([1, 2], "a").map(lambda v: v, input_columns="b"), Data, "map", "'b'"),  # fmt: skip
    case("data", ".batch of ragged rows", lambda: list(GeneratorDataset([np.ones(2), np.ones(3)], "a").batch(2)), Data, "batch", "(2,), (3,)"),  # fmt: skip
    case("data", "CSVDataset of a missing file", lambda d: CSVDataset(d / "none.csv"), Data, "none.csv", "cannot open"),
    case("data", "CSVDataset of a folder", lambda d: CSVDataset(d), Data, "cannot open"),
    case("data", "CSVDataset path 5", lambda: CSVDataset(5), Data, "CSVDataset", "path", "5 (int)"),
    case("data", "CSVDataset path None", lambda: CSVDataset(None), Data, "CSVDataset", "path", "None"),
    case("data", "CSVDataset chunk_size 0", lambda d: CSVDataset(csv(d), chunk_size=0), Data, "CSVDataset", "chunk_size", "0"),  # fmt: skip
    case("data", "CSVDataset delimiter ',,'", lambda d: CSVDataset(csv(d), delimiter=",,"), Data, "CSVDataset", "delimiter", "',,'"),  # fmt: skip
    case("data", "CSVDataset delimiter 5", lambda d: CSVDataset(csv(d), delimiter=5), Data, "CSVDataset", "delimiter", "5 (int)"),  # fmt: skip
    case("data", "CSVDataset dtype 'bogus'", lambda d: CSVDataset(csv(d), dtype="bogus"), Data, "CSVDataset", "'bogus'"),  # fmt: skip
    case("data", "CSVDataset dtype str", lambda d: CSVDataset(csv(d), dtype=str), Data, "CSVDataset", "numeric", "<U"),
    case("data", "CSVDataset label column 'z'", lambda d: CSVDataset(csv(d), label_columns="z"), Data, "a.csv", "'z'", "'a', 'b', 'y'"),  # fmt: skip
    case("data", "CSVDataset label column 1.5", lambda d: CSVDataset(csv(d), label_columns=1.5), Data, "a.csv", "label_columns", "1.5"),  # fmt: skip
    case("data", "CSVDataset label column 7 of 3", lambda d: CSVDataset(csv(d), label_columns=7), Data, "a.csv", "7"),
    case("data", "default_collate of an int and a string", lambda: default_collate([1, "a"]), Data, "default_collate", "str"),  # fmt: skip
    case("data", "default_collate of ragged arrays", lambda: default_collate([np.ones(2), np.ones(3)]), Data, "default_collate", "(2,), (3,)"),  # fmt: skip
    case("data", "default_collate of nothing", lambda: default_collate([]), Data, "default_collate", "empty"),
    # ----- fg.Model ---------------------------------------------------------------------------------
    case("model", "Model of a string", lambda: fg.Model("net", "mse", "sgd", lr=0.1), DType, "Model", "network", "'net'"),  # fmt: skip
    case("model", "Model with an unknown loss", lambda: fg.Model(net(), "bogus", "sgd"), Arg, "Model", "'bogus'", "known"),  # fmt: skip
    case("model", "Model with an unknown optimizer", lambda: fg.Model(net(), "mse", "bogus"), Arg, "Model", "'bogus'", "known"),  # fmt: skip
    case("model", "Model with loss 5", lambda: fg.Model(net(), 5, "sgd"), DType, "Model", "loss_fn", "5 (int)"),
    case("model", "Model with optimizer 5", lambda: fg.Model(net(), "mse", 5), DType, "Model", "optimizer", "5 (int)"),
    case("model", "Model compile 'x'", lambda: fg.Model(net(), "mse", "sgd", compile="x"), Arg, "Model", "compile", "'x'"),  # fmt: skip
    case("model", "Model metric 'bogus'", lambda: fg.Model(net(), "mse", "sgd", metrics=["bogus"]), Arg, "metric", "'bogus'"),  # fmt: skip
    case("model", "Model options for an existing optimizer", lambda: fg.Model(net(), "mse", opt(), lr=0.1), DType, "Model", "['lr']"),  # fmt: skip
    case("model", "fit of 4 inputs and 5 targets", lambda: fit(y=np.ones((5, 2))), Shape, "fit", "[4, 5]"),
    case("model", "fit without targets", lambda: fit(y=None), Arg, "fit", "no targets"),
    case("model", "fit of nothing", lambda: model().fit(verbose=0), Arg, "fit", "no data"),
    case("model", "fit batch_size 0", lambda: fit(batch_size=0), Arg, "fit", "batch_size", "0"),
    case("model", "fit batch_size 'a'", lambda: fit(batch_size="a"), DType, "fit", "batch_size", "'a'"),
    case("model", "fit epochs -1", lambda: fit(epochs=-1), Arg, "fit", "epochs", "-1"),
    case("model", "fit epochs 'a'", lambda: fit(epochs="a"), DType, "fit", "epochs", "'a'"),
    case("model", "fit of 5 features into 3", lambda: fit(x=np.ones((4, 5))), Shape, "linear", "5 features"),
    case("model", "fit x 'abc'", lambda: fit(x="abc"), DType, "fit", "x", "<U3"),
    case("model", "fit x 5 without y", lambda: model().fit(5, verbose=0), DType, "fit", "int"),
    case("model", "fit validation_split 2", lambda: fit(validation_split=2), Arg, "fit", "validation_split", "2"),
    case("model", "fit validation_data 5", lambda: fit(validation_data=5), DType, "fit validation_data", "int"),
    case("model", "fit callbacks [5]", lambda: fit(callbacks=[5]), DType, "fit", "callbacks", "5 (int)"),
    case("model", "fit without a loss", lambda: fg.Model(net(), optimizer="sgd", lr=0.1).fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0), Arg, "Model", "no loss_fn"),  # fmt: skip
    case("model", "fit without an optimizer", lambda: fg.Model(net(), "mse").fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0), Arg, "Model", "no optimizer"),  # fmt: skip
    case("model", "evaluate of 4 inputs and 5 targets", lambda: model().evaluate(np.ones((4, 3)), np.ones((5, 2)), verbose=0), Shape, "evaluate", "[4, 5]"),  # fmt: skip
    case("model", "train on a number", lambda: model().train(1, 5), DType, "train", "int"),
    case("model", "train epoch 'a'", lambda: model().train("a", [(np.ones((1, 3)), np.ones((1, 2)))]), DType, "train", "epoch", "'a'"),  # fmt: skip
    case("model", "EarlyStopping mode 'x'", lambda: fg.train.EarlyStopping(mode="x"), Arg, "EarlyStopping", "'x'"),
    case("model", "LossMonitor(0)", lambda: fg.train.LossMonitor(0), Arg, "LossMonitor", "per_print_times", "0"),
    case("model", "LossMonitor('a')", lambda: fg.train.LossMonitor("a"), DType, "LossMonitor", "'a'"),
    case("model", "ModelCheckpoint mode 'x'", lambda d: fg.train.ModelCheckpoint(d / "m.safetensors", mode="x"), Arg, "ModelCheckpoint", "'x'"),  # fmt: skip
    # ----- fg.save / fg.load ------------------------------------------------------------------------
    case("io", "save to path 5", lambda: fg.save({"a": 1}, 5), DType, "fg.save", "path", "5 (int)"),
    case("io", "save to path None", lambda: fg.save({"a": 1}, None), DType, "fg.save", "None"),
    case("io", "save of a set", lambda d: fg.save({"a": {1}}, d / "s.safetensors"), Ckpt, "s.safetensors", "set"),
    case("io", "save with backend 'pickle'", lambda d: fg.save({}, d / "s.safetensors", backend="pickle"), Arg, "fg.save", "backend", "'pickle'"),  # fmt: skip
    case("io", "save into a missing folder", lambda d: fg.save({}, d / "nope" / "s.safetensors"), Ckpt, "s.safetensors", "does not exist"),  # fmt: skip
    case("io", "save onto a folder", lambda d: fg.save({}, d), Ckpt, "cannot save", "folder"),
    case("io", "load path 5", lambda: fg.load(5), DType, "fg.load", "path", "5 (int)"),
    case("io", "load path None", lambda: fg.load(None), DType, "fg.load", "None"),
    case("io", "load of a missing file", lambda d: fg.load(d / "missing.safetensors"), Ckpt, "missing.safetensors", "no such file"),  # fmt: skip
    case("io", "load of a folder", lambda d: fg.load(d), Ckpt, "cannot open"),
    case("io", "save_checkpoint of a string model", lambda d: fg.save_checkpoint(d / "c.safetensors", model="x"), DType, "save_checkpoint", "model", "'x'"),  # fmt: skip
    case("io", "save_checkpoint of optimizer 5", lambda d: fg.save_checkpoint(d / "c.safetensors", optimizer=5), DType, "save_checkpoint", "optimizer", "5 (int)"),  # fmt: skip
    case("io", "save_checkpoint with an rng_state extra", lambda d: fg.save_checkpoint(d / "c.safetensors", rng_state=1), Arg, "save_checkpoint", "rng_state"),  # fmt: skip
    case("io", "load_checkpoint into a string model", lambda d: (fg.save_checkpoint(d / "c.safetensors", net()), fg.load_checkpoint(d / "c.safetensors", model="x")), DType, "load_checkpoint", "model", "'x'"),  # fmt: skip
    case("io", "load_checkpoint path 5", lambda: fg.load_checkpoint(5), DType, "fg.load_checkpoint", "5 (int)"),
    case("io", "load_checkpoint of a plain state", lambda d: (fg.save({"a": 1}, d / "p.safetensors"), fg.load_checkpoint(d / "p.safetensors")), Ckpt, "p.safetensors", "not a checkpoint"),  # fmt: skip
    case("io", "load_checkpoint into a smaller model", lambda d: (fg.save_checkpoint(d / "c.safetensors", net()), fg.load_checkpoint(d / "c.safetensors", nn.Linear(3, 5))), Ckpt, "c.safetensors", "cannot restore model"),  # fmt: skip
    # ----- fg.plot ----------------------------------------------------------------------------------
    case("plot", "loss_curve of 5", lambda: fg.plot.loss_curve(5), DType, "loss_curve", "5 (int)"),
    case("plot", "loss_curve of an empty history", lambda: fg.plot.loss_curve({}), Arg, "loss_curve", "no 'loss'"),
    case("plot", "loss_curve of a missing key", lambda: fg.plot.loss_curve({"loss": [1, 2]}, keys=["acc"]), Arg, "loss_curve", "['acc']"),  # fmt: skip
    case("plot", "fit_line with predict_fn 5", lambda: fg.plot.fit_line(np.ones(3), np.ones(3), 5), DType, "fit_line", "predict_fn", "5 (int)"),  # fmt: skip
    case("plot", "fit_line of strings", lambda: fg.plot.fit_line("a", "b", lambda x: x), DType, "fit_line", "'a'"),
    case("plot", "fit_line of 6 and 4 points", lambda: fg.plot.fit_line(np.ones((3, 2)), np.ones(4), lambda x: x), Shape, "fit_line", "6 and 4"),  # fmt: skip
    case("plot", "decision_boundary of 3 features", lambda: fg.plot.decision_boundary(net(), np.ones((4, 3)), np.zeros(4)), Shape, "decision_boundary", "(4, 3)"),  # fmt: skip
    case("plot", "decision_boundary of a string model", lambda: fg.plot.decision_boundary("m", np.ones((4, 2)), np.zeros(4)), DType, "decision_boundary", "'m'"),  # fmt: skip
    case("plot", "confusion_matrix of 2 labels and 3 predictions", lambda: fg.plot.confusion_matrix([0, 1], [0, 1, 1]), Shape, "confusion_matrix", "2 labels", "3 predictions"),  # fmt: skip
    case("plot", "confusion_matrix of fractional labels", lambda: fg.plot.confusion_matrix([0.5, 1.2], [0, 1]), Arg, "confusion_matrix", "0.5"),  # fmt: skip
    case("plot", "confusion_matrix of label -1", lambda: fg.plot.confusion_matrix([-1, 1], [0, 1]), Arg, "confusion_matrix", "-1"),  # fmt: skip
    case("plot", "weights_histogram of a layer without weights", lambda: fg.plot.weights_histogram(nn.ReLU()), Arg, "weights_histogram", "ReLU", "no parameters"),  # fmt: skip
    case("plot", "weights_histogram of a string", lambda: fg.plot.weights_histogram("x"), DType, "weights_histogram", "'x'"),  # fmt: skip
    case("plot", "weights_histogram bins 0", lambda: fg.plot.weights_histogram(net(), bins=0), Arg, "weights_histogram", "bins", "0"),  # fmt: skip
    # ----- fg.flow ----------------------------------------------------------------------------------
    case("flow", "Input named 5", lambda: flow.Input(5), DType, "Input", "name", "int"),
    case("flow", "Add of nothing", lambda: flow.Add(), DType, "Add", "at least one"),
    case("flow", "Add of numbers", lambda: flow.Add(1, 2), DType, "Add", "int", "Node"),
    case("flow", "Linear of strings", lambda: flow.Linear("X", "W", "b"), DType, "Linear", "str", "Node"),
    case("flow", "Sigmoid of a number", lambda: flow.Sigmoid(5), DType, "Sigmoid", "int"),
    case("flow", "topological_sort of a string", lambda: flow.topological_sort("x"), DType, "topological_sort", "'x'"),
    case("flow", "topological_sort of a list", lambda: flow.topological_sort([1]), DType, "topological_sort", "[1]"),
    case("flow", "topological_sort with number keys", lambda: flow.topological_sort({5: np.ones(2)}), DType, "feed_dict", "Input"),  # fmt: skip
    case("flow", "topological_sort feeding a string", lambda: flow.topological_sort({flow.Input("a"): "abc"}), DType, "a was fed a str"),  # fmt: skip
    case("flow", "forward_pass of a string", lambda: flow.forward_pass("x", []), DType, "forward_pass", "'x'"),
    case("flow", "forward_and_backward of a string", lambda: flow.forward_and_backward("x"), DType, "forward_and_backward", "'x'"),  # fmt: skip
    case("flow", "forward_and_backward of numbers", lambda: flow.forward_and_backward([1, 2]), DType, "forward_and_backward", "1 (int)"),  # fmt: skip
    case("flow", "sgd_update of a number", lambda: flow.sgd_update([1]), DType, "sgd_update", "1 (int)"),
    case("flow", "sgd_update learning_rate 'a'", lambda: flow.sgd_update([flow.Input()], learning_rate="a"), DType, "sgd_update", "learning_rate", "'a'"),  # fmt: skip
    case("flow", "sgd_update before a backward pass", lambda: flow.sgd_update([flow.Input("w")]), flow.GraphError, "sgd_update", "w", "no gradient"),  # fmt: skip
    case("flow", "to_dot of a string", lambda: flow.to_dot("x"), DType, "to_dot", "'x'"),
    case("flow", "Linear of mismatched shapes", lambda: (lambda X, W, b: (flow.Linear(X, W, b, name="layer"), graph({X: np.ones((2, 3)), W: np.ones((2, 1)), b: np.ones(1)})))(flow.Input("X"), flow.Input("W"), flow.Input("b")), Shape, "layer", "(2, 3)", "(2, 1)"),  # fmt: skip
    case("flow", "MSE of (3,) and (4,)", lambda: (lambda y, a: (flow.MSE(y, a, name="cost"), graph({y: np.ones(3), a: np.ones(4)})))(flow.Input("y"), flow.Input("a")), Shape, "cost", "(3,)", "(4,)"),  # fmt: skip
    case("flow", "an input never fed", lambda: (lambda X, W, b: (flow.Linear(X, W, b, name="layer"), graph({X: np.ones((2, 2)), W: np.ones((2, 1))})))(flow.Input("X"), flow.Input("W"), flow.Input("b")), flow.GraphError, "b", "never fed"),  # fmt: skip
    case("flow", "viz.graph of a string", lambda: fg.viz.graph("x"), DType, "viz.graph", "str"),
]  # fmt: skip
