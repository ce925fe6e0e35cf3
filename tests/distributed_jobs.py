"""Programs that tests/test_distributed.py runs on N processes: mpiexec -n N python tests/distributed_jobs.py CASE.

Each rank checks its own results with assertions (an AssertionError aborts the whole job, with the
rank named) and prints one "ok <case> rank <r>" line at the end.
"""

import os
import signal
import sys
from typing import Any

import numpy as np

import flowgrad as fg
import flowgrad.distributed as dist


def collectives() -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    ranks = np.arange(size, dtype=np.float64)
    t = fg.tensor([rank + 1.0, -2.0 * rank], dtype=fg.float64)
    dist.all_reduce(t)
    assert t.tolist() == [float((ranks + 1).sum()), float((-2.0 * ranks).sum())], t
    for op, expected in (
        (dist.ReduceOp.MAX, size - 1),
        (dist.ReduceOp.MIN, 0),
        (dist.ReduceOp.PRODUCT, 0),
        (dist.ReduceOp.AVG, ranks.mean()),  # exact: small integers and a power-of-two world size
    ):
        t = fg.tensor(float(rank), dtype=fg.float64)  # a 0-d tensor
        dist.all_reduce(t, op=op)
        assert t.item() == expected, (op, t)
    ints = fg.tensor([rank, 1], dtype=fg.int64)
    dist.all_reduce(ints)
    assert ints.tolist() == [int(ranks.sum()), size]
    # A non-contiguous view: reduced through a contiguous copy, written back into the base's memory.
    base = fg.zeros(3, 4, dtype=fg.float32) + rank
    view = base.T
    dist.all_reduce(view)
    assert np.all(base.numpy() == ranks.sum()), base
    flags = fg.tensor([rank == 0, True])
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    assert flags.tolist() == [True, True]
    # broadcast from the last rank
    b = fg.full((2, 2), float(rank))
    dist.broadcast(b, src=size - 1)
    assert np.all(b.numpy() == size - 1)
    # all_gather
    outs = [fg.zeros(2, dtype=fg.int64) for _ in range(size)]
    dist.all_gather(outs, fg.tensor([rank, 10 * rank], dtype=fg.int64))
    assert [o.tolist() for o in outs] == [[r, 10 * r] for r in range(size)]
    # reduce into rank 1; the others keep theirs
    r = fg.tensor([1.0 + rank], dtype=fg.float64)
    dist.reduce(r, dst=1)
    assert r.item() == (float((ranks + 1).sum()) if rank == 1 else 1.0 + rank)
    # async
    a = fg.ones(1000, dtype=fg.float64) * rank
    work = dist.all_reduce(a, async_op=True)
    work.wait()
    assert work.is_completed() and np.all(a.numpy() == ranks.sum())
    dist.barrier(group=dist.group.WORLD)
    assert dist.new_group() is dist.group.WORLD and dist.new_group(list(range(size))) is dist.group.WORLD


def _mlp(seed: int) -> fg.nn.Module:
    fg.manual_seed(seed)
    net = fg.nn.Sequential(fg.nn.Linear(5, 16), fg.nn.Tanh(), fg.nn.Linear(16, 3))
    return net.double()


def _data() -> tuple:
    rng = np.random.default_rng(123)
    x = rng.standard_normal((128, 5))
    y = np.tanh(x @ rng.standard_normal((5, 3)))
    return fg.from_numpy(x), fg.from_numpy(y)


def ddp_training() -> None:
    """DDP on N ranks with a DistributedSampler equals one process on the global batches."""
    rank, size = dist.get_rank(), dist.get_world_size()
    x, y = _data()
    reference = _mlp(0)
    ddp = fg.nn.parallel.DistributedDataParallel(_mlp(rank))  # rank 0's weights win
    for (k, a), b in zip(ddp.state_dict().items(), reference.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), k  # no "module." prefix, rank 0's values
    opt = fg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = fg.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    local = 32 // size  # the global batch is 32 on every world size
    sampler = fg.data.DistributedSampler(fg.data.TensorDataset(x, y), shuffle=True, seed=7)
    loader = fg.data.DataLoader(fg.data.TensorDataset(x, y), batch_size=local, sampler=sampler)
    steps, epoch = 0, 0
    while steps < 50:
        sampler.set_epoch(epoch)
        order = sampler.order()
        for k, (xb, yb) in enumerate(loader):
            opt.zero_grad()
            fg.nn.functional.mse_loss(ddp(xb), yb).backward()
            opt.step()
            chunk = order[k * 32 : (k + 1) * 32]  # the union of every rank's k-th batch
            ref_opt.zero_grad()
            fg.nn.functional.mse_loss(reference(x[chunk]), y[chunk]).backward()
            ref_opt.step()
            steps += 1
        epoch += 1
    # gradient accumulation: no_sync for the first micro-batch, averaging after the second
    for _ in range(3):
        opt.zero_grad()
        ref_opt.zero_grad()
        for m in range(2):
            rows = slice(m * 64 + rank * local, m * 64 + (rank + 1) * local)
            if m == 0:
                with ddp.no_sync():
                    fg.nn.functional.mse_loss(ddp(x[rows]), y[rows]).backward()
            else:
                fg.nn.functional.mse_loss(ddp(x[rows]), y[rows]).backward()
            ref_rows = slice(m * 64, m * 64 + 32)
            fg.nn.functional.mse_loss(reference(x[ref_rows]), y[ref_rows]).backward()
        opt.step()
        ref_opt.step()
    for (k, a), b in zip(ddp.state_dict().items(), reference.state_dict().values()):
        # rtol 1e-12: the same sums in another order (each rank's share, then across ranks), float64
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
        gathered = [fg.zeros_like(a) for _ in range(size)]
        dist.all_gather(gathered, a)
        assert all(np.array_equal(g.numpy(), a.numpy()) for g in gathered), f"{k} differs between ranks"


def ddp_overlap() -> None:
    """Buckets start during backward (each parameter its own bucket here) and the averages equal the
    plain all_reduce average of every rank's gradients."""
    rank = dist.get_rank()
    x, y = _data()
    ddp = fg.nn.parallel.DistributedDataParallel(_mlp(0), bucket_cap_mb=1e-6)
    plain = _mlp(0)
    rows = slice(rank * 16, (rank + 1) * 16)
    fg.nn.functional.mse_loss(ddp(x[rows]), y[rows]).backward()
    assert ddp._started_during_backward == len(ddp._buckets) == 4, ddp._started_during_backward
    fg.nn.functional.mse_loss(plain(x[rows]), y[rows]).backward()
    for p, q in zip(ddp.module.parameters(), plain.parameters()):
        dist.all_reduce(q.grad, op=dist.ReduceOp.AVG)
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())  # the same sums, the same division


class _FailOnce(fg.autograd.Function):
    """The identity, whose backward raises while ``armed`` is set."""

    armed = False

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad_output):
        if _FailOnce.armed:
            raise RuntimeError("a backward that fails on purpose")
        return grad_output


class _Probe(fg.autograd.Function):
    """The identity; its backward records how many of DDP's buckets had started by then."""

    ddp: Any = None
    seen: list = []

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad_output):
        _Probe.seen.append(_Probe.ddp._started)
        return grad_output


def ddp_starts_before_the_first_layer() -> None:
    """Communication overlaps computation: when backward reaches the first layer (a probe between it
    and the rest), the buckets of the last layer's gradients have already started."""
    rank = dist.get_rank()
    x, y = _data()
    fg.manual_seed(0)
    net = fg.nn.Sequential(fg.nn.Linear(5, 16), _ProbeLayer(), fg.nn.Tanh(), fg.nn.Linear(16, 3)).double()
    ddp = fg.nn.parallel.DistributedDataParallel(net, bucket_cap_mb=1e-6)  # one bucket per parameter
    _Probe.ddp, _Probe.seen = ddp, []
    rows = slice(rank * 16, (rank + 1) * 16)
    fg.nn.functional.mse_loss(ddp(x[rows]), y[rows]).backward()
    assert _Probe.seen == [2], _Probe.seen  # the last layer's bias and weight: buckets 0 and 1
    assert ddp._started == 0  # every bucket done and reset for the next step


class _ProbeLayer(fg.nn.Module):
    def forward(self, x):
        return _Probe.apply(x)


def _rank_average(module: fg.nn.Module) -> list:
    out = []
    for q in module.parameters():
        g = q.grad.clone()
        dist.all_reduce(g, op=dist.ReduceOp.AVG)
        out.append(g.numpy())
    return out


def ddp_backward_forms() -> None:
    """Several roots at once (fg.autograd.backward), and a backward that failed then a good one:
    DDP's averages equal the plain all_reduce average of every rank's gradients each time."""
    rank = dist.get_rank()
    x, y = _data()
    rows = slice(rank * 16, (rank + 1) * 16)
    ddp = fg.nn.parallel.DistributedDataParallel(_mlp(0), bucket_cap_mb=1e-6)
    plain = _mlp(0)
    # two roots sharing the network: every bucket must hold both roots' contributions
    out = ddp(x[rows])
    fg.autograd.backward([fg.nn.functional.mse_loss(out, y[rows]), (out**2).mean()])
    ref = plain(x[rows])
    fg.autograd.backward([fg.nn.functional.mse_loss(ref, y[rows]), (ref**2).mean()])
    for p, expected in zip(ddp.module.parameters(), _rank_average(plain)):
        # rtol 1e-13: the same sums, bucketed or not (one parameter per bucket here: in fact equal)
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-13, atol=1e-16)
    # a backward that raises (caught on every rank), then a good step: still averaged
    for module in (ddp, plain):
        module.zero_grad()
    _FailOnce.armed = True
    try:
        _FailOnce.apply(ddp(x[rows])).sum().backward()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the backward did not fail")
    _FailOnce.armed = False
    for module in (ddp, plain):
        module.zero_grad()
    fg.nn.functional.mse_loss(ddp(x[rows]), y[rows]).backward()
    fg.nn.functional.mse_loss(plain(x[rows]), y[rows]).backward()
    for p, expected in zip(ddp.module.parameters(), _rank_average(plain)):
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-13, atol=1e-16)


def fit() -> None:
    """Model.fit on N ranks equals one process on the same global batches; ranks end bit-identical."""
    from flowgrad.train import distributed_fit

    rank, size = dist.get_rank(), dist.get_world_size()
    x, y = _data()

    def build(seed: int) -> fg.Model:
        net = _mlp(seed)  # also seeds flowgrad's stream: the shuffles follow from it
        return fg.Model(net, "mse", fg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), metrics=["mae"])

    in_group = distributed_fit.process_group
    distributed_fit.process_group = lambda: None  # the reference: one process, the whole global batch
    try:
        reference = build(0)
        expected = reference.fit(x, y, batch_size=32, epochs=13, verbose=0).history  # 52 steps
    finally:
        distributed_fit.process_group = in_group
    model = build(rank)  # other weights and another stream on every rank: fit sends rank 0's
    got = model.fit(x, y, batch_size=32, epochs=13, verbose=0, validation_data=(x[:16], y[:16])).history
    for key in ("loss", "mae"):
        # rtol 1e-12: the same sums in another order (each rank's part, then across ranks), float64
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, err_msg=key)
    for (k, a), b in zip(model.network.state_dict().items(), reference.network.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
        gathered = [fg.zeros_like(a) for _ in range(size)]
        dist.all_gather(gathered, a)
        assert all(np.array_equal(g.numpy(), a.numpy()) for g in gathered), f"{k} differs between ranks"
    assert len(got["val_loss"]) == 13
    # 130 rows: each epoch ends with a batch of 2, cut into uneven parts (empty ones on 4 ranks),
    # weighted by their shares; 3 epochs of 5 steps
    x2, y2 = fg.cat([x, x[:2] * 0.5]), fg.cat([y, y[:2]])
    distributed_fit.process_group = lambda: None
    try:
        reference = build(1)
        expected = reference.fit(x2, y2, batch_size=32, epochs=3, verbose=0).history
    finally:
        distributed_fit.process_group = in_group
    model = build(1)
    got = model.fit(x2, y2, batch_size=32, epochs=3, verbose=0).history
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-12)  # the reason above
    hooks = [p.__dict__.get("_post_accumulate_grad_hooks") for p in model.network.parameters()]
    assert all(not h for h in hooks), hooks  # each fit's DDP leaves with it: none pile up
    for (k, a), b in zip(model.network.state_dict().items(), reference.network.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
    try:
        model.fit(x, y, batch_size=31, epochs=1, verbose=0)
        raise AssertionError("a global batch that does not split evenly was accepted")
    except fg.ArgumentError as e:
        assert f"multiple of {size}" in str(e), e


def groups() -> None:
    """new_group: collectives among some ranks, src/dst as global ranks, non-members refused."""
    rank, size = dist.get_rank(), dist.get_world_size()
    members = [0, size - 1] if size > 2 else [1]  # never every rank (that is group.WORLD)
    outsider = 1 if size > 2 else 0
    pair = dist.new_group(members)  # every rank calls it, member or not
    assert isinstance(pair, dist.ProcessGroup)
    if rank in members:
        assert dist.get_rank(pair) == members.index(rank) and dist.get_world_size(pair) == len(members)
        t = fg.tensor([float(rank)], dtype=fg.float64)
        dist.all_reduce(t, group=pair)
        assert t.item() == float(sum(members)), t
        b = fg.tensor([float(rank)], dtype=fg.float64)
        dist.broadcast(b, src=members[-1], group=pair)  # src: a global rank
        assert b.item() == float(members[-1]), b
        r = fg.tensor([1.0], dtype=fg.float64)
        dist.reduce(r, dst=members[-1], group=pair)
        assert r.item() == (float(len(members)) if rank == members[-1] else 1.0), r
        outs = [fg.zeros(1, dtype=fg.int64) for _ in members]
        dist.all_gather(outs, fg.tensor([rank], dtype=fg.int64), group=pair)
        assert [o.item() for o in outs] == members
        dist.barrier(group=pair)
        try:
            dist.broadcast(b, src=outsider, group=pair)
        except fg.ArgumentError as exc:
            assert "global rank of a member" in str(exc), exc
        else:
            raise AssertionError("a source outside the group was accepted")
    else:
        assert dist.get_rank(pair) == -1
        try:
            dist.all_reduce(fg.ones(1), group=pair)
        except dist.DistributedError as exc:
            assert f"rank {rank} is not a member of ProcessGroup(ranks={members})" in str(exc), exc
        else:
            raise AssertionError("a rank outside the group used it")
    dist.destroy_process_group(pair)
    dist.barrier()  # the default group goes on


def timeout() -> None:
    """init_process_group(timeout=3 s): rank 0 waits in an allreduce while rank 1 sleeps, and aborts."""
    import time

    t = fg.ones(3)
    dist.all_reduce(t)  # both ranks pass this one
    work = dist.all_reduce(t, async_op=True)
    work.wait()  # and this one (Work.wait is watched too)
    if dist.get_rank() == 1:
        time.sleep(60)
    dist.all_reduce(t)


class _TwoHeads(fg.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = fg.nn.Linear(3, 2)
        self.head = fg.nn.Linear(2, 1)  # used on rank 0 only
        self.spare = fg.nn.Linear(2, 1)  # used nowhere
        self.norm = fg.nn.BatchNorm1d(3)

    def forward(self, x, use_head):
        h = self.body(self.norm(x))
        return self.head(h).sum() if use_head else h.sum()


def ddp_edges() -> None:
    """Gradients missing on some ranks, buffers from rank 0, state dict keys, a model that differs."""
    rank, size = dist.get_rank(), dist.get_world_size()
    fg.manual_seed(0)
    net = _TwoHeads().double()
    ddp = fg.nn.parallel.DistributedDataParallel(net)
    x = fg.from_numpy(np.random.default_rng(rank).standard_normal((6, 3)))
    ddp(x, rank == 0).backward()
    assert net.spare.weight.grad is None  # no gradient on any rank: stays None
    # rank 0's head gradient, averaged with zeros from the other ranks
    mine = net.head.weight.grad.numpy().copy()
    everyone = [fg.zeros_like(net.head.weight.grad) for _ in range(size)]
    dist.all_gather(everyone, net.head.weight.grad)
    assert all(np.array_equal(e.numpy(), mine) for e in everyone)
    # buffers: each rank sets its own; a training-mode forward copies rank 0's to every rank
    net.norm.eval()  # BatchNorm reads its running statistics without updating them
    with fg.no_grad():
        net.norm.running_mean.copy_(fg.full((3,), float(rank), dtype=fg.float64))
    ddp(x, False).backward()
    stats = [fg.zeros_like(net.norm.running_mean) for _ in range(size)]
    dist.all_gather(stats, net.norm.running_mean)
    assert all(np.all(s.numpy() == 0.0) for s in stats), stats
    ddp.eval()
    saved = ddp.state_dict()
    assert "body.weight" in saved and not any(k.startswith("module.") for k in saved)
    ddp.load_state_dict({f"module.{k}": v for k, v in saved.items()})  # PyTorch DDP's keys load too
    try:
        fg.nn.parallel.DistributedDataParallel(fg.nn.Linear(3, 1 + (rank == 1)))
    except fg.ArgumentError as exc:
        assert "rank(s) [1]" in str(exc) or rank == 1, exc
    else:
        raise AssertionError("a model that differs between ranks was accepted")


def raises() -> None:
    t = fg.ones(3)
    for step in range(1000):
        if dist.get_rank() == 1 and step == 3:
            raise RuntimeError("boom on purpose")
        dist.all_reduce(t, op=dist.ReduceOp.AVG)


def killed() -> None:
    t = fg.ones(3)
    for step in range(1000):
        if dist.get_rank() == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)


if __name__ == "__main__":
    case = sys.argv[1]
    dist.init_process_group("mpi", timeout=3.0 if case == "timeout" else None)
    {
        "collectives": collectives,
        "ddp_training": ddp_training,
        "ddp_edges": ddp_edges,
        "fit": fit,
        "ddp_overlap": ddp_overlap,
        "ddp_backward_forms": ddp_backward_forms,
        "ddp_starts_before_the_first_layer": ddp_starts_before_the_first_layer,
        "raises": raises,
        "killed": killed,
        "groups": groups,
        "timeout": timeout,
    }[case]()
    print(f"ok {case} rank {dist.get_rank()}", flush=True)
    dist.destroy_process_group()
