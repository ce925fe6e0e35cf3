"""The flowgrad command: the default job, examples, config errors, exit codes, resume, Ctrl-C."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.cli import main


def flowgrad(tmp_path, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "flowgrad", *args], cwd=tmp_path, capture_output=True, text=True, timeout=timeout
    )


def weights(path):
    state = fg.load(path)
    return {k: np.asarray(v.numpy() if isinstance(v, fg.Tensor) else v) for k, v in _flat(state["model"]).items()}


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@pytest.mark.numeric  # rounding-dependent: run again on other kernels
def test_default_job_reaches_95_percent_and_writes_the_run_folder(tmp_path):
    result = flowgrad(tmp_path, "train")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "runs" / "digits-mlp"
    for name in ("config.toml", "metrics.csv", "checkpoint.safetensors", "loss.png", "confusion.png"):
        assert (folder / name).stat().st_size > 0, name
    rows = list(csv.DictReader((folder / "metrics.csv").open()))
    assert len(rows) == 20 and float(rows[-1]["val_accuracy"]) >= 0.95
    assert "test loss" in result.stdout and "accuracy" in result.stdout
    assert 'source = "digits"' in (folder / "config.toml").read_text()
    ev = flowgrad(tmp_path, "evaluate", str(folder))
    assert ev.returncode == 0 and float(ev.stdout.split("accuracy ")[1]) >= 0.95
    X = fg.datasets.load_digits().data[:4]
    np.savetxt(tmp_path / "rows.csv", X, delimiter=",", header=",".join(f"p{i}" for i in range(64)), comments="")
    pred = flowgrad(tmp_path, "predict", str(folder), "--input", "rows.csv", "--output", "preds.csv")
    assert pred.returncode == 0, pred.stderr
    lines = (tmp_path / "preds.csv").read_text().splitlines()
    assert lines[0].startswith("prediction,p_0") and len(lines) == 5
    assert [int(line.split(",")[0]) for line in lines[1:]] == fg.datasets.load_digits().target[:4].tolist()
    np.savetxt(tmp_path / "bare.csv", X, delimiter=",")  # no header: the first row is data
    taken = flowgrad(tmp_path, "predict", str(folder), "--input", "bare.csv")
    assert taken.returncode == 0 and "is all numbers but was read as the header" in taken.stderr
    assert "--no-header" in taken.stderr and len(taken.stdout.splitlines()) == 4  # one row lost: hence the warning
    bare = flowgrad(tmp_path, "predict", str(folder), "--input", "bare.csv", "--no-header")
    assert bare.returncode == 0 and not bare.stderr and bare.stdout.splitlines()[1:] == lines[1:]


@pytest.mark.parametrize("name", ["housing", "linear", "gender", "and"])
def test_examples_run(tmp_path, name):
    assert main(["train", "--example", name, "--epochs", "2", "--runs-dir", str(tmp_path)]) == 0
    assert (tmp_path / name / "checkpoint.safetensors").exists()


def test_config_errors_name_file_line_and_key(tmp_path, capsys):
    (tmp_path / "config.toml").write_text('[run]\nname = "x"\n\n[optimizer]\nname = "adam"\n\nlr = "fast"\n')
    assert main(["train", str(tmp_path / "config.toml")]) == 2
    assert 'config.toml:7: optimizer.lr: expected a number > 0, got "fast"' in capsys.readouterr().err
    (tmp_path / "config.toml").write_text("[train]\nepochz = 3\n")
    assert main(["train", str(tmp_path / "config.toml")]) == 2
    assert "config.toml:2: unknown key train.epochz; did you mean train.epochs?" in capsys.readouterr().err
    (tmp_path / "config.toml").write_text("[trian]\n")
    assert main(["train", str(tmp_path / "config.toml")]) == 2
    assert "config.toml:1: unknown section [trian]; did you mean [train]?" in capsys.readouterr().err
    (tmp_path / "config.toml").write_text('[optimizer]\nname = "adamm"\n')
    assert main(["train", str(tmp_path / "config.toml")]) == 2
    assert 'did you mean "adam"?' in capsys.readouterr().err
    (tmp_path / "config.toml").write_text("[train\n")
    assert main(["train", str(tmp_path / "config.toml")]) == 2
    assert "config.toml:1: not valid TOML" in capsys.readouterr().err


def test_exit_codes(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.toml")]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["train", "--epochs", "many"])
    assert usage.value.code == 2
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,0\n3,abc,1\n")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[run]\nruns_dir = "{tmp_path}"\n[data]\nsource = "{tmp_path / "bad.csv"}"\nlabel_columns = ["label"]\n'
    )
    assert main(["train", str(config)]) == 3
    assert "bad.csv:3: column 'b': could not convert 'abc' to float" in capsys.readouterr().err
    with np.errstate(all="ignore"):
        code = main(["train", "--example", "housing", "--lr", "10", "--epochs", "3", "--runs-dir", str(tmp_path)])
    assert code == 4
    assert "training diverged at epoch 1, step" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    common = ["--runs-dir", str(tmp_path), "--seed", "3"]
    assert main(["train", "--example", "housing", "--epochs", "6", "--name", "full", *common]) == 0
    assert main(["train", "--example", "housing", "--epochs", "3", "--name", "part", *common]) == 0
    assert main(["train", "--resume", str(tmp_path / "part"), "--epochs", "6"]) == 0
    full, part = (
        weights(tmp_path / "full" / "checkpoint.safetensors"),
        weights(tmp_path / "part" / "checkpoint.safetensors"),
    )
    assert full.keys() == part.keys()
    for key in full:
        np.testing.assert_array_equal(full[key], part[key])
    rows = list(csv.DictReader((tmp_path / "part" / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == [str(e) for e in range(6)]


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowgrad", "train", "--example", "housing", "--epochs", "100000", "--name", "long"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    metrics = tmp_path / "runs" / "long" / "metrics.csv"
    deadline = time.time() + 60
    while time.time() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "resume with: flowgrad train --resume" in err
    folder = tmp_path / "runs" / "long"
    assert (folder / "interrupted.safetensors").exists()
    done = fg.load(folder / "checkpoint.safetensors")["epoch"]
    assert done >= 2
    resumed = flowgrad(tmp_path, "train", "--resume", str(folder), "--epochs", str(done + 2))
    assert resumed.returncode == 0, resumed.stderr
    assert fg.load(folder / "checkpoint.safetensors")["epoch"] == done + 2


def test_info_prints_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowgrad ") and "numpy " in out and "default dtype float32" in out


def test_python_dash_m_and_console_script_agree(tmp_path):
    result = flowgrad(tmp_path, "info")
    assert result.returncode == 0 and "flowgrad" in result.stdout
    assert Path(sys.executable).exists()


def test_bare_flowgrad_prints_help_and_version_is_there(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: flowgrad") and "train" in out and "predict" in out
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"flowgrad {fg.__version__}"
