"""Learning-rate schedulers: 100 steps against their torch twins, state dicts, bad arguments."""

import math

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.optim import lr_scheduler as sch

GROUP_LRS = (0.1, 0.02)  # two parameter groups, so per-group handling is exercised


def _fg_optimizer(kind="SGD", **kwargs):
    groups = [{"params": [fg.tensor([1.0], requires_grad=True)], "lr": lr} for lr in GROUP_LRS]
    if kind == "SGD":
        return fg.optim.SGD(groups, lr=1.0, momentum=kwargs.pop("momentum", 0.9), **kwargs)
    return getattr(fg.optim, kind)(groups, lr=1.0, **kwargs)


def _torch_optimizer(torch, kind="SGD", **kwargs):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in GROUP_LRS]
    if kind == "SGD":
        return torch.optim.SGD(groups, lr=1.0, momentum=kwargs.pop("momentum", 0.9), **kwargs)
    return getattr(torch.optim, kind)(groups, lr=1.0, **kwargs)


class Warmup:
    """A callable object: LambdaLR saves its attributes in state dicts."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.steps)


# name -> (scheduler class name, its arguments, optimizer kind)
CASES = {
    "step": ("StepLR", dict(step_size=7, gamma=0.3), "SGD"),
    "step-default-gamma": ("StepLR", dict(step_size=10), "SGD"),
    "multistep": ("MultiStepLR", dict(milestones=[10, 30, 30, 75], gamma=0.5), "SGD"),
    "exponential": ("ExponentialLR", dict(gamma=0.97), "SGD"),
    "cosine": ("CosineAnnealingLR", dict(T_max=100), "SGD"),
    "cosine-restarting": ("CosineAnnealingLR", dict(T_max=17, eta_min=1e-3), "SGD"),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda e: 0.95**e), "SGD"),
    "lambda-per-group": ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (1 + e), Warmup(10)]), "SGD"),
    "onecycle-cos": ("OneCycleLR", dict(max_lr=0.5, total_steps=100), "SGD"),
    "onecycle-linear-three-phase": (
        "OneCycleLR",
        dict(max_lr=[0.5, 0.2], total_steps=100, anneal_strategy="linear", three_phase=True, pct_start=0.25),
        "SGD",
    ),
    "onecycle-epochs-divs": (
        "OneCycleLR",
        dict(max_lr=1.0, epochs=10, steps_per_epoch=10, div_factor=10.0, final_div_factor=100.0),
        "SGD",
    ),
    "onecycle-adam-betas": (
        "OneCycleLR",
        dict(max_lr=0.01, total_steps=100, base_momentum=[0.8, 0.7], max_momentum=0.9),
        "Adam",
    ),
    "onecycle-no-momentum": ("OneCycleLR", dict(max_lr=0.3, total_steps=100, cycle_momentum=False), "Adagrad"),
}


def _lrs_and_momenta(opt):
    out = []
    for g in opt.param_groups:
        out.append(float(g["lr"]))
        if "betas" in g:
            out.append(float(g["betas"][0]))
        elif "momentum" in g:
            out.append(float(g["momentum"]))
    return out


def _run(sched, opt, steps=100):
    seen = [list(sched.get_last_lr()) + _lrs_and_momenta(opt)]
    for _ in range(steps):
        opt.step()  # PyTorch warns if the scheduler steps before the optimizer
        sched.step()
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        seen.append(list(sched.get_last_lr()) + _lrs_and_momenta(opt))
    return np.array(seen)


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
@pytest.mark.parametrize("case", sorted(CASES))
def test_scheduler_matches_torch_for_100_steps(case):
    torch = pytest.importorskip("torch")
    name, kwargs, kind = CASES[case]
    ours_opt, torch_opt = _fg_optimizer(kind), _torch_optimizer(torch, kind)
    ours = _run(getattr(sch, name)(ours_opt, **kwargs), ours_opt)
    theirs = _run(getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs), torch_opt)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(np.unique(ours[:, 0])) > 2  # the schedule did something


PLATEAU_CASES = {
    "default": dict(),
    "patience-cooldown-abs": dict(patience=3, cooldown=2, factor=0.5, threshold=0.01, threshold_mode="abs"),
    "max-rel": dict(mode="max", patience=2, factor=0.7, threshold=0.05),
    "max-abs-min-lrs": dict(mode="max", patience=1, threshold_mode="abs", min_lr=[1e-3, 1e-2]),
    "eps-blocks": dict(patience=0, factor=0.5, min_lr=0.05, eps=1e-2),
}


def _metrics(mode):
    rng = np.random.default_rng(0)
    loss = np.concatenate([np.linspace(1.0, 0.5, 30), np.full(70, 0.5)]) + 0.01 * rng.normal(size=100)
    return 2.0 - loss if mode == "max" else loss  # "max": an accuracy-like metric


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
@pytest.mark.parametrize("case", sorted(PLATEAU_CASES))
def test_reduce_lr_on_plateau_matches_torch_for_100_steps(case):
    torch = pytest.importorskip("torch")
    kwargs = PLATEAU_CASES[case]
    runs = []
    for opt, make in (
        (_fg_optimizer(), sch.ReduceLROnPlateau),
        (_torch_optimizer(torch), torch.optim.lr_scheduler.ReduceLROnPlateau),
    ):
        sched = make(opt, **kwargs)
        lrs = []
        for m in _metrics(kwargs.get("mode", "min")):
            opt.step()
            sched.step(m)
            lrs.append(sched.get_last_lr() + [sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        runs.append(np.array(lrs, dtype=float))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)
    assert len(np.unique(runs[0][:, 0])) >= 2


def test_reduce_lr_on_plateau_accepts_a_tensor_metric_and_reduces():
    opt = _fg_optimizer()
    sched = sch.ReduceLROnPlateau(opt, patience=0)
    for v in [1.0, 1.0]:
        sched.step(fg.tensor(v))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.002]) and sched.last_epoch == 2


# ----- closed-form targets, without torch ------------------------------------------------------
def test_cosine_recursion_stays_on_the_closed_form():
    opt = _fg_optimizer()
    sched = sch.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for epoch in range(1, 45):
        sched.step()
        want = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(want, rel=1e-12)


def test_onecycle_shape_and_momentum():
    opt = _fg_optimizer()
    sched = sch.OneCycleLR(opt, max_lr=1.0, total_steps=100)
    lrs = _run(sched, opt, 99)[:, 2:4]  # group 0: lr, momentum
    assert lrs[0, 0] == pytest.approx(1.0 / 25) and lrs[0, 1] == 0.95  # start: lr low, momentum high
    assert lrs[29, 0] == pytest.approx(1.0) and lrs[29, 1] == pytest.approx(0.85)  # the peak
    assert lrs[-1, 0] == pytest.approx(1.0 / 25 / 1e4)
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 101 times"):
        sched.step()


def test_epoch_argument_uses_the_closed_form():
    opt = _fg_optimizer()
    sched = sch.StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.last_epoch == 7 and sched.get_last_lr() == pytest.approx([0.025, 0.005])


def test_drives_a_torch_optimizer_too():
    torch = pytest.importorskip("torch")
    opt = _torch_optimizer(torch)
    sched = sch.MultiStepLR(opt, milestones=[2])
    for _ in range(2):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.002])


def test_works_with_closure_driven_optimizers():
    w = fg.tensor([1.0], requires_grad=True)
    opt = fg.optim.LBFGS([w], lr=1.0)
    sched = sch.ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.5 and sched.base_lrs == [1.0]


# ----- state dicts ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_state_dict_round_trip_resumes_the_same_schedule(case):
    name, kwargs, kind = CASES[case]
    opt = _fg_optimizer(kind)
    reference = _run(getattr(sch, name)(opt, **kwargs), opt)

    opt = _fg_optimizer(kind)
    sched = getattr(sch, name)(opt, **kwargs)
    first = _run(sched, opt, 40)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 40
    if isinstance(kwargs.get("lr_lambda"), list):
        assert saved_sched["lr_lambdas"] == [None, {"steps": 10}]  # functions are not saved

    opt2 = _fg_optimizer(kind)
    opt2.load_state_dict(saved_opt)
    sched2 = getattr(sch, name)(opt2, **kwargs)
    sched2.load_state_dict(saved_sched)
    rest = _run(sched2, opt2, 60)
    np.testing.assert_allclose(np.concatenate([first, rest[1:]]), reference, rtol=1e-12)


def test_plateau_state_dict_round_trip():
    opt = _fg_optimizer()
    sched = sch.ReduceLROnPlateau(opt, patience=2, mode="max", threshold_mode="abs")
    for m in [1.0, 2.0, 2.0, 2.0]:
        sched.step(m)
    saved = sched.state_dict()
    sched2 = sch.ReduceLROnPlateau(_fg_optimizer())
    sched2.load_state_dict(saved)
    assert (sched2.mode, sched2.best, sched2.num_bad_epochs, sched2.mode_worse) == ("max", 2.0, 2, -math.inf)
    assert sched2.is_better(3.0, 2.0) and not sched2.is_better(2.0, 2.0)


def test_resuming_needs_initial_lr():
    opt = _fg_optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        sch.StepLR(opt, step_size=2, last_epoch=5)
    sch.StepLR(opt, step_size=2)  # records initial_lr ...
    sched = sch.StepLR(opt, step_size=2, last_epoch=5)  # ... so resuming works
    assert sched.last_epoch == 6


# ----- arguments -----------------------------------------------------------------------------
def test_bad_arguments():
    opt = _fg_optimizer()
    with pytest.raises(TypeError, match="not an Optimizer"):
        sch.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="lr_lambdas"):
        sch.LambdaLR(opt, lr_lambda=[lambda e: 1.0])
    with pytest.raises(ValueError, match="total_steps OR"):
        sch.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        sch.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="positive integer epochs"):
        sch.OneCycleLR(opt, max_lr=1.0, epochs=0, steps_per_epoch=3)
    with pytest.raises(ValueError, match="pct_start"):
        sch.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sch.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="same length"):
        sch.OneCycleLR(opt, max_lr=[1.0, 2.0, 3.0], total_steps=10)
    with pytest.raises(ValueError, match="momentum"):
        sch.OneCycleLR(_fg_optimizer("Adagrad"), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="Factor"):
        sch.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        sch.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode"):
        sch.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="min_lrs"):
        sch.ReduceLROnPlateau(opt, min_lr=[0.1])
