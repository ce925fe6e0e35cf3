"""Run folders: names that are not paths, one `flowgrad train` per folder, no clobbered runs,
and clear exit codes for files and folders the system refuses."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from flowgrad.cli import main
from flowgrad.cli.runs import LOCK, RunLock


def train_and(tmp_path, *extra):
    return main(["train", "--example", "and", "--epochs", "2", "--runs-dir", str(tmp_path / "runs"), *extra])


@pytest.mark.parametrize(
    "name", ["../../escaped", "../escaped", "ABSOLUTE", "", ".", "..", "a/b", "a\\b", "a\0b", "x\ny"]
)
def test_a_run_name_is_a_name_not_a_path(tmp_path, capsys, name):
    outside = tmp_path.parent / f"{tmp_path.name}-absolute"
    name = str(outside) if name == "ABSOLUTE" else name
    assert train_and(tmp_path, "--name", name) == 2
    err = capsys.readouterr().err
    assert "--name: run.name: expected a string: a folder name" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []  # nothing written, inside runs_dir or out of it
    assert not outside.exists()


def test_a_second_train_on_a_locked_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "runs" / "and"
    with RunLock(folder):  # this process holds the lock, as a running `flowgrad train` would
        assert train_and(tmp_path) == 2
        err = capsys.readouterr().err
        assert "another flowgrad train is using this run folder" in err and f"process {os.getpid()}" in err
        assert sorted(os.listdir(folder)) == [LOCK]  # it wrote nothing
    assert not (folder / LOCK).exists()
    assert train_and(tmp_path) == 0  # released: the next one runs
    assert not (folder / LOCK).exists()


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "runs" / "and"
    folder.mkdir(parents=True)
    (folder / LOCK).write_text(f"{dead.pid} {socket.gethostname()}\n")
    assert train_and(tmp_path) == 0, capsys.readouterr().err
    assert (folder / "checkpoint.safetensors").exists() and not (folder / LOCK).exists()
    assert [p.name for p in folder.iterdir() if p.name.startswith(LOCK)] == []


def test_a_lock_written_on_another_machine_is_respected(tmp_path, capsys):
    folder = tmp_path / "runs" / "and"
    folder.mkdir(parents=True)
    (folder / LOCK).write_text("1 some-other-host\n")
    assert train_and(tmp_path) == 2
    assert "process 1 on some-other-host" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="pid liveness is checked on POSIX")
def test_two_processes_racing_for_one_run_name(tmp_path):
    command = [sys.executable, "-m", "flowgrad", "train", "--example", "and", "--epochs", "300", "--name", "same"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "another flowgrad train is using" in refused or "already holds a run" in refused
    rows = (tmp_path / "runs" / "same" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 301  # a header and one row per epoch: nothing interleaved
    assert not (tmp_path / "runs" / "same" / LOCK).exists()


def test_a_finished_run_is_never_replaced_without_overwrite(tmp_path, capsys):
    folder = tmp_path / "runs" / "and"
    assert train_and(tmp_path) == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nname = "and"\n[train]\nmetrics = ["nope"]\n')
    assert main(["train", str(bad), "--runs-dir", str(tmp_path / "runs")]) == 2  # validated first
    assert "bad.toml:4: train.metrics" in capsys.readouterr().err
    assert train_and(tmp_path, "--epochs", "3") == 2  # a good config: refused all the same
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--overwrite" in err and "--resume" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    (folder / "interrupted.safetensors").write_bytes(b"old")
    assert train_and(tmp_path, "--epochs", "3", "--overwrite") == 0
    assert "epochs = 3" in (folder / "config.toml").read_text()
    assert len((folder / "metrics.csv").read_text().splitlines()) == 4
    assert not (folder / "interrupted.safetensors").exists()  # the old run's leftovers are gone
    assert main(["train", "--resume", str(folder), "--overwrite"]) == 2


def test_file_and_folder_problems_exit_3_with_a_message(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "and").write_text("a file where the run folder should be")
    assert train_and(tmp_path) == 3
    assert "runs/and as the run folder: it is a file" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")
    assert main(["train", "--example", "and", "--epochs", "1", "--runs-dir", str(tmp_path / "afile")]) == 3
    assert "a part of the path is a file" in capsys.readouterr().err
    if os.path.isdir("/sys") and not os.access("/sys", os.W_OK | os.X_OK):
        assert main(["train", "--example", "and", "--epochs", "1", "--runs-dir", "/sys"]) == 3
        assert "cannot create the run folder /sys/and" in capsys.readouterr().err


def test_sys_is_refused_even_for_root(tmp_path, capsys):
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys")
    code = main(["train", "--example", "and", "--epochs", "1", "--runs-dir", "/sys/kernel"])
    err = capsys.readouterr().err
    assert code == 3 and "cannot create the run folder /sys/kernel/and" in err and "Traceback" not in err


def test_predict_output_problems_exit_3(tmp_path, capsys):
    assert train_and(tmp_path) == 0
    (tmp_path / "in.csv").write_text("x1,x2\n1,0\n")
    run = str(tmp_path / "runs" / "and")
    args = ["predict", run, "--input", str(tmp_path / "in.csv"), "--output"]
    capsys.readouterr()
    assert main([*args, str(tmp_path / "missing" / "preds.csv")]) == 3
    assert f"the folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err
    assert main([*args, str(tmp_path)]) == 3  # a folder where the output file should be
    assert "cannot write" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "ok.csv")]) == 0


def test_evaluate_names_a_label_the_model_never_saw(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(a > 0)}" for a, b in X)
    (tmp_path / "train.csv").write_text("a,b,label\n" + rows + "\n")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[run]\nruns_dir = "{tmp_path / "runs"}"\nname = "csv"\n'
        f'[data]\nsource = "{tmp_path / "train.csv"}"\nlabel_columns = ["label"]\ntask = "classification"\n'
        "[train]\nepochs = 1\n"
    )
    assert main(["train", str(config)]) == 0
    (tmp_path / "eval.csv").write_text("a,b,label\n0.1,0.2,1\n0.3,0.1,0\n-1,2,7\n0.5,0.5,1\n")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "runs" / "csv"), "--data", str(tmp_path / "eval.csv")]) == 3
    err = capsys.readouterr().err
    assert f"{tmp_path / 'eval.csv'}:4: label 7 is not a class the model was trained on" in err
    assert "its classes are 0, 1" in err and "Traceback" not in err
    (tmp_path / "wide.csv").write_text("a,b,c,label\n0.1,0.2,0.3,1\n")
    assert main(["evaluate", str(tmp_path / "runs" / "csv"), "--data", str(tmp_path / "wide.csv")]) == 3
    assert "rows have 3 feature columns but the model takes 2" in capsys.readouterr().err
