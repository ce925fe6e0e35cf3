"""The ``time_to_accuracy`` case: wall time from process start (imports included) to the first
epoch whose test accuracy reaches 97%, for the default ``flowgrad train`` job (the digits MLP)
and the same network, optimizer and batch in plain PyTorch and in scikit-learn's MLPClassifier.

Every contender trains on the data the default job uses (flowgrad.cli's digits, its seeded 80/20
split and standardization, written once to a file the children read), with the job's defaults:
two hidden layers of 128 and 64 ReLUs, adam at lr 1e-3, batches of 32, a shuffle per epoch. After
each epoch a child prints its test accuracy; the parent stamps the line's arrival, so the time
counts the interpreter's start and every import. Contenders alternate, round after round, and
the median over rounds is reported.

    python -m benchmarks --cases time_to_accuracy
    python -m benchmarks.time_to_accuracy --contender torch --data digits.npz   # one child
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .report import format_rounds
from .runner import ROOT, child_env, quiet_rounds

CONTENDERS = {
    "flowgrad": "flowgrad (fg.Model.fit)",
    "torch": "PyTorch (plain loop)",
    "sklearn": "scikit-learn MLPClassifier",
}
TARGET = 0.97
MAX_EPOCHS = 60
HIDDEN = (128, 64)
LR, BATCH = 1e-3, 32


def write_data(path: Path) -> None:
    """The default job's data (flowgrad.cli's own loading, split and standardization) as a file."""
    import numpy as np

    from flowgrad.cli import config, sources

    cfg = config.defaults()
    seed = cfg["run"]["seed"]
    data = sources.load(cfg["data"], seed)
    train, test = sources.split(len(data.X), cfg["data"]["test_split"], seed)
    x_train, x_test = data.X[train], data.X[test]
    std = x_train.std(0)
    mean, std = x_train.mean(0), np.where(std > 0, std, 1.0)
    np.savez(path, x_train=((x_train - mean) / std).astype(np.float32), y_train=data.y[train],
             x_test=((x_test - mean) / std).astype(np.float32), y_test=data.y[test])  # fmt: skip


def _flowgrad(data: dict, seed: int) -> None:
    import flowgrad as fg
    from flowgrad import nn

    fg.manual_seed(seed)
    n_in, n_out = data["x_train"].shape[1], int(data["y_train"].max()) + 1
    net = nn.Sequential(
        nn.Linear(n_in, HIDDEN[0]), nn.ReLU(), nn.Linear(*HIDDEN), nn.ReLU(), nn.Linear(HIDDEN[1], n_out)
    )
    model = fg.Model(net, "cross_entropy", fg.optim.Adam(net.parameters(), lr=LR), metrics=["accuracy"])
    x_test, y_test = data["x_test"], data["y_test"]

    class Report(fg.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            with fg.no_grad():
                accuracy = float((net(fg.tensor(x_test)).numpy().argmax(1) == y_test).mean())
            _report(epoch, accuracy)
            if accuracy >= TARGET:
                self.model.stop_training = True

    model.fit(data["x_train"], data["y_train"], batch_size=BATCH, epochs=MAX_EPOCHS, shuffle=True,
              callbacks=[Report()], verbose=0)  # fmt: skip


def _torch(data: dict, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    x_train, y_train = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    x_test, y_test = torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"])
    n_in, n_out = x_train.shape[1], int(y_train.max()) + 1
    net = torch.nn.Sequential(torch.nn.Linear(n_in, HIDDEN[0]), torch.nn.ReLU(), torch.nn.Linear(*HIDDEN),
                              torch.nn.ReLU(), torch.nn.Linear(HIDDEN[1], n_out))  # fmt: skip
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(MAX_EPOCHS):
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_fn(net(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = float((net(x_test).argmax(1) == y_test).float().mean())
        _report(epoch, accuracy)
        if accuracy >= TARGET:
            return


def _sklearn(data: dict, seed: int) -> None:
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=LR, batch_size=BATCH,
                          alpha=0.0, shuffle=True, random_state=seed)  # fmt: skip
    classes = np.unique(data["y_train"])
    for epoch in range(MAX_EPOCHS):
        model.partial_fit(data["x_train"], data["y_train"], classes=classes)  # one pass, as an epoch
        accuracy = float(model.score(data["x_test"], data["y_test"]))
        _report(epoch, accuracy)
        if accuracy >= TARGET:
            return


def _report(epoch: int, accuracy: float) -> None:
    print(f"epoch {epoch + 1} accuracy {accuracy:.4f}", flush=True)


def run_child(contender: str, threads: int, data_path: Path, seed: int) -> dict:
    """Start one contender; the seconds from its start to the line that reports TARGET or more."""
    command = [sys.executable, "-m", "benchmarks.time_to_accuracy", "--contender", contender]
    command += ["--data", str(data_path), "--seed", str(seed)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=child_env(threads), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    reached = None
    assert proc.stdout is not None
    for line in proc.stdout:
        _, epoch, _, accuracy = line.split()
        if reached is None and float(accuracy) >= TARGET:
            reached = {"seconds": time.perf_counter() - started, "epoch": int(epoch), "accuracy": float(accuracy)}
    _, err = proc.communicate(timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{CONTENDERS[contender]} failed: {' | '.join(err.strip().splitlines()[-3:])}")
    return reached or {"seconds": None, "epoch": None, "accuracy": None}


def run_case(threads: int, settings: dict) -> dict:
    """The case's results and summary lines; contenders not installed are left out."""
    case: dict = {"name": "time_to_accuracy"}
    names = ["flowgrad"] + [
        n for n, module in (("torch", "torch"), ("sklearn", "sklearn")) if importlib.util.find_spec(module)
    ]
    with tempfile.TemporaryDirectory() as folder:
        data_path = Path(folder) / "digits.npz"
        write_data(data_path)

        def run_round(r: int) -> dict:
            order = names[r % len(names) :] + names[: r % len(names)]  # who goes first rotates
            return {name: run_child(name, threads, data_path, seed=r) for name in order}

        try:
            rounds, summary = quiet_rounds(settings["tta_rounds"], run_round, list, settings)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            case["summary"] = [f"FAILED: {e}"]
            return case
    results = {}
    for name in names:
        times = [r[name]["seconds"] for r in rounds if r[name]["seconds"] is not None]
        epochs = [r[name]["epoch"] for r in rounds if r[name]["epoch"] is not None]
        results[name] = {"seconds": statistics.median(times) if times else None, "times_s": times,
                         "epochs": epochs, "missed": len(rounds) - len(times)}  # fmt: skip
    case.update(results=results, rounds=summary, target=TARGET)
    lines = [
        f"digits, the default flowgrad train job: MLP {HIDDEN} ReLU, adam lr {LR}, batch {BATCH}; wall time from "
        f"process start to the first epoch with test accuracy >= {TARGET} (median of {len(rounds)} rounds, seed = round)"
    ]
    best = min((r["seconds"] for r in results.values() if r["seconds"] is not None), default=None)
    for name in names:
        res = results[name]
        if res["seconds"] is None:
            lines.append(f"{CONTENDERS[name]}: did not reach {TARGET} in {MAX_EPOCHS} epochs")
            continue
        ratio = f"{res['seconds'] / best:.2f}x the fastest" if best else ""
        lines.append(f"{CONTENDERS[name]}: {res['seconds']:.2f} s (epochs {sorted(res['epochs'])}; {ratio})"
                     + (f"; missed the target in {res['missed']} rounds" if res["missed"] else ""))  # fmt: skip
    lines.append(format_rounds(summary))
    case["summary"] = lines
    return case


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.time_to_accuracy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--contender", choices=sorted(CONTENDERS), required=True)
    parser.add_argument("--data", required=True, help="the .npz file run_case writes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import numpy as np

    with np.load(args.data) as f:
        data = {k: f[k] for k in f.files}
    {"flowgrad": _flowgrad, "torch": _torch, "sklearn": _sklearn}[args.contender](data, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
