"""SGD, Momentum, Adam, AdamW, RMSprop and Adagrad against their torch.optim twins: 100 steps
from the same float64 weights on the same data, parameters agreeing to 1e-10 relative."""

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import optim

from .optim_cases import PROBLEMS, fg_leaves, rel_diff

pytestmark = pytest.mark.numeric  # rounding-dependent: run again on other kernels by make test

# (flowgrad optimizer, its arguments, torch.optim name, its arguments)
CASES = {
    "sgd": ("SGD", dict(lr=0.05), "SGD", dict(lr=0.05)),
    "sgd-momentum": ("SGD", dict(lr=0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    "sgd-dampening-wd": (
        "SGD",
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=1e-2),
        "SGD",
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=1e-2),
    ),
    "sgd-nesterov": (
        "SGD",
        dict(lr=0.05, momentum=0.9, nesterov=True),
        "SGD",
        dict(lr=0.05, momentum=0.9, nesterov=True),
    ),
    "sgd-maximize": (
        "SGD",
        dict(lr=0.01, momentum=0.5, maximize=True),
        "SGD",
        dict(lr=0.01, momentum=0.5, maximize=True),
    ),
    "momentum": ("Momentum", dict(learning_rate=0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    "momentum-nesterov-wd": (
        "Momentum",
        dict(learning_rate=0.05, momentum=0.9, weight_decay=1e-3, use_nesterov=True),
        "SGD",
        dict(lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=True),
    ),
    "adam": ("Adam", dict(lr=1e-2), "Adam", dict(lr=1e-2)),
    "adam-amsgrad-wd": (
        "Adam",
        dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2, amsgrad=True),
        "Adam",
        dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2, amsgrad=True),
    ),
    "adam-maximize": ("Adam", dict(lr=1e-3, maximize=True), "Adam", dict(lr=1e-3, maximize=True)),
    "adamw": ("AdamW", dict(lr=1e-2), "AdamW", dict(lr=1e-2)),
    "adamw-amsgrad": (
        "AdamW",
        dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
        "AdamW",
        dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
    ),
    "rmsprop": ("RMSprop", dict(lr=1e-3), "RMSprop", dict(lr=1e-3)),
    "rmsprop-centered-momentum-wd": (
        "RMSprop",
        dict(lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-2),
        "RMSprop",
        dict(lr=1e-3, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-2),
    ),
    "adagrad": ("Adagrad", dict(lr=0.1), "Adagrad", dict(lr=0.1)),
    "adagrad-decay-init-wd": (
        "Adagrad",
        dict(lr=0.1, lr_decay=1e-2, initial_accumulator_value=0.1, weight_decay=1e-2),
        "Adagrad",
        dict(lr=0.1, lr_decay=1e-2, initial_accumulator_value=0.1, weight_decay=1e-2),
    ),
}


def _run_twins(case, problem, steps=100):
    torch = pytest.importorskip("torch")
    ours_name, ours_kw, torch_name, torch_kw = CASES[case]
    make, loss_fn = PROBLEMS[problem]
    data, init = make()
    ours = fg_leaves(init)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, ours_name)(ours, **ours_kw)
    topt = getattr(torch.optim, torch_name)(theirs, **torch_kw)
    fdata, tdata = [fg.tensor(a) for a in data], [torch.tensor(a) for a in data]
    for step in range(steps):
        for o, params, d in ((opt, ours, fdata), (topt, theirs, tdata)):
            o.zero_grad()
            loss_fn(*d, *params).backward()
            o.step()
        yield step, ours, theirs


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_first_order_matches_torch_for_100_steps(case, problem):
    moved = False
    for step, ours, theirs in _run_twins(case, problem):
        assert rel_diff(ours, theirs) <= 1e-10, f"step {step}"
        moved = moved or any(np.any(p.data != 0) for p in ours[1::2])  # biases start at zero
    assert moved


def test_parameter_groups_with_their_own_lr_match_torch():
    torch = pytest.importorskip("torch")
    data, init = PROBLEMS["mlp"][0]()
    ours = fg_leaves(init)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.Adam([{"params": ours[:2]}, {"params": ours[2:], "lr": 3e-2}], lr=1e-2)
    topt = torch.optim.Adam([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 3e-2}], lr=1e-2)
    loss_fn = PROBLEMS["mlp"][1]
    for _ in range(100):
        for o, params, d in (
            (opt, ours, [fg.tensor(a) for a in data]),
            (topt, theirs, [torch.tensor(a) for a in data]),
        ):
            o.zero_grad()
            loss_fn(*d, *params).backward()
            o.step()
    assert rel_diff(ours, theirs) <= 1e-10
