"""Attacks that are not mutated bytes: special files, JSON bombs, huge lines, failing writes.

Each load runs under the harness's time budget and memory meter (16 x the file + 1 MiB at
most, and far less for the huge-line files, which must be refused before a line is held
whole). A FIFO or a device used to block ``fg.load`` and ``CSVDataset`` forever; a full disk
or a missing folder escaped as a bare OSError or SafetensorError.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flowgrad as fg
from flowgrad.cli import config as cli_config
from flowgrad.data import CSVDataset
from flowgrad.io import checkpoint as ck
from flowgrad.io import safetensors_format as st

from . import harness

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]
LOADERS = {
    "fg.load": (lambda p: fg.load(p), fg.CheckpointError),
    "fg.load_checkpoint": (lambda p: fg.load_checkpoint(p), fg.CheckpointError),
    "CSVDataset": (lambda p: list(CSVDataset(p)), fg.DataError),
    "flowgrad train's config": (lambda p: cli_config.read(p), cli_config.ConfigError),
}


def special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    found = {"FIFO": (fifo, "FIFO"), "folder": (tmp_path, "folder")}
    if os.path.exists("/dev/zero"):
        found["/dev/zero"] = (Path("/dev/zero"), "device")
    return found


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_fifos_devices_and_folders_are_refused_at_once(loader, tmp_path):
    load, error = LOADERS[loader]
    wrong = []
    with harness.metered():
        for name, (path, word) in special_files(tmp_path).items():
            out = harness.attempt(lambda: load(path))
            problem = harness.judge_error(out, error, str(path), 0) or harness.judge_cost(out, 0)
            if problem is None and word not in str(out.error):
                problem = f"the message does not say it is a {word}: {out.error}"
            if problem:
                wrong.append(f"{loader} on a {name}: {problem}")
    assert not wrong, "\n".join(wrong)


def metadata_file(tmp_path, tree_text: str) -> Path:
    meta = '{"version":1,"tree":' + tree_text + ',"sha256":{}}'
    metadata = {ck.META_KEY: meta}
    metadata[ck.DIGEST_KEY] = ck._header_digest(metadata, {})  # a valid file, checksums and all
    path = tmp_path / "bomb.safetensors"
    with open(path, "wb") as f:
        st.write(f, {}, metadata)
    return path


@pytest.mark.parametrize(
    "tree, message",
    [
        ("[" + ",".join(["[]"] * 1_000_000) + "]", "lists and objects"),  # was +776 MiB and 9-20 s at 5 million
        ("[" * 300 + "]" * 300, "nested 301 levels deep"),
        ('{"a":' * 300 + "1" + "}" * 300, "nested 301 levels deep"),
        (json.dumps({"s": "[" * 100_000}), None),  # brackets inside a string are text: it loads
    ],
    ids=["million-empty-lists", "deep-lists", "deep-objects", "brackets-in-a-string"],
)
def test_json_bombs_are_refused_before_parsing(tree, message, tmp_path):
    path = metadata_file(tmp_path, tree)
    size = path.stat().st_size
    with harness.metered():
        out = harness.attempt(lambda: fg.load(path))
    if message is None:
        assert out.error is None and out.value == {"s": "[" * 100_000}
    else:
        assert harness.judge_error(out, fg.CheckpointError, str(path), size) is None, out.error
        assert message in str(out.error)
    assert harness.judge_cost(out, size) is None, harness.judge_cost(out, size)


@pytest.mark.parametrize(
    "content",
    [
        lambda n: "a,b\n1,2\n" + "1," * (n // 2) + "1\n",  # a line of numbers: was +288 MiB at 32 MiB
        lambda n: ",".join(f"c{i}" for i in range(n // 8)) + "\n1\n",  # a header: was +930 MiB
        lambda n: "a\n" + "7" * n,  # no commas and no newline: was +2 GiB at 1 GiB
    ],
    ids=["numbers", "header", "no-commas"],
)
def test_a_huge_line_is_refused_before_it_is_held(content, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(content(32 * MiB))
    with harness.metered():
        out = harness.attempt(lambda: list(CSVDataset(path)), budget=5.0)
    assert harness.judge_error(out, fg.DataError, str(path), 0) is None, out.error
    assert "max_line_length" in str(out.error)
    assert out.peak < 4 * MiB + 4 * CSVDataset.__init__.__kwdefaults__["max_line_length"], out.peak


def test_line_and_field_limits_can_be_raised(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(70_000)) + "\n" + ",".join(["1"] * 70_000) + "\n")
    with pytest.raises(fg.DataError, match=r"wide.csv:1: the line has more than 65536 fields \(max_fields\)"):
        CSVDataset(path)
    (x,) = next(iter(CSVDataset(path, max_fields=100_000).batch(1)))
    assert x.shape == (1, 70_000)


CHILD = """
import resource, signal, sys
import numpy as np, flowgrad as fg
from flowgrad.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
if sys.argv[1] == "cli":
    sys.exit(main(["train", "--resume", sys.argv[3], "--epochs", "3"]))
try:
    fg.save({"w": np.ones(100_000)}, sys.argv[3], backend=sys.argv[1])
except fg.CheckpointError as e:
    print(type(e).__name__, isinstance(e, OSError), e)
"""


def child(*args):
    # Not measured by coverage: its data file, written at exit, would meet the same size limit.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE_", "COVERAGE_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True, env=env)


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("backend", ["builtin", "safetensors"])
def test_a_full_disk_is_a_clear_error_and_the_old_file_stays(backend, tmp_path):
    if backend == "safetensors":
        pytest.importorskip("safetensors")
    path = tmp_path / "c.safetensors"
    fg.save({"w": np.zeros(3)}, path)
    result = child(backend, 65536, path)
    assert result.stdout.startswith("CheckpointWriteError True"), result.stdout + result.stderr
    assert "File too large" in result.stdout and "previous file" in result.stdout
    assert fg.load(path)["w"].tolist() == [0, 0, 0] and os.listdir(tmp_path) == ["c.safetensors"]


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_the_cli_on_a_full_disk_exits_3_and_keeps_the_last_checkpoint(tmp_path):
    from flowgrad.cli import main

    assert main(["train", "--example", "housing", "--epochs", "1", "--runs-dir", str(tmp_path)]) == 0
    folder = tmp_path / "housing"
    before = (folder / "checkpoint.safetensors").read_bytes()
    result = child("cli", len(before) - 1, folder)
    assert result.returncode == 3, result.stderr
    assert "File too large" in result.stderr and "Traceback" not in result.stderr
    assert (folder / "checkpoint.safetensors").read_bytes() == before


def test_a_file_where_the_folder_should_be(tmp_path, capsys):
    from flowgrad.cli import main

    (tmp_path / "runs").write_text("not a folder")
    assert main(["train", "--example", "and", "--epochs", "1", "--runs-dir", str(tmp_path / "runs")]) == 3
    assert "runs" in capsys.readouterr().err
    model = fg.Model(fg.nn.Linear(1, 1), "mse", "sgd", lr=0.1)
    save = fg.callbacks.ModelCheckpoint(str(tmp_path / "runs" / "c.safetensors"), monitor="loss")
    with pytest.raises(fg.errors.CheckpointWriteError, match="cannot make the folder"):
        model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=1, callbacks=[save], verbose=0)
    with pytest.raises(fg.errors.CheckpointWriteError, match="is not a folder"):
        fg.save({"a": 1}, tmp_path / "runs" / "c.safetensors")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_permission_denied_is_a_clear_error(tmp_path):
    path = tmp_path / "ro" / "c.safetensors"
    path.parent.mkdir()
    fg.save({"v": 1}, path)
    path.parent.chmod(0o500)
    try:
        with pytest.raises(fg.errors.CheckpointWriteError, match="Permission denied"):
            fg.save({"v": 2}, path)
        assert fg.load(path)["v"] == 1
    finally:
        path.parent.chmod(0o700)
