"""Every bad ``flowgrad train`` config: exit 2, the file and line in the message, no traceback,
nothing written. The CLI runs in-process (as tests/test_cli.py does) to keep this fast."""

import os
import pathlib
import re

import pytest

from flowgrad.cli import config as cfg_lib
from flowgrad.cli import main

# (section, the line with the mistake, a piece of the message). Each becomes a file with a few
# comment lines, the section header, then the line: the error must name that line.
BAD_VALUES = [
    # run.name: a folder name, never a path
    ("run", 'name = ""', "it is empty"),
    ("run", 'name = "."', '"." or ".."'),
    ("run", 'name = ".."', '"." or ".."'),
    ("run", 'name = "../../escaped"', 'contains "/"'),
    ("run", 'name = "/tmp/abs"', 'contains "/"'),
    ("run", 'name = "a/b"', 'contains "/"'),
    ("run", 'name = "a\\\\b"', 'contains "\\\\"'),
    ("run", 'name = "a\\u0000b"', "contains"),
    ("run", 'name = "a\\nb"', "control character"),
    ("run", 'name = "a\\tb"', "control character"),
    ("run", 'name = "C:evil"', "drive letter"),
    ("run", f'name = "{"x" * 300}"', "longer than 255 bytes"),
    ("run", "name = 5", "run.name: expected a string"),
    ("run", "name = true", "run.name: expected a string"),
    ("run", 'name = ["a"]', "run.name: expected a string"),
    # run.seed, run.runs_dir
    ("run", "seed = -1", "run.seed: expected an integer >= 0, got -1"),
    ("run", "seed = 1.5", "run.seed: expected an integer"),
    ("run", 'seed = "1"', "run.seed: expected an integer"),
    ("run", "seed = true", "run.seed: expected an integer"),
    ("run", "seed = 18446744073709551616", "more than 64 bits"),
    ("run", "seed = [1]", "run.seed"),
    ("run", 'runs_dir = ""', "run.runs_dir"),
    ("run", "runs_dir = 1", "run.runs_dir"),
    ("run", 'runs_dir = "a\\u0000b"', "run.runs_dir"),
    # data
    ("data", 'source = ""', "data.source"),
    ("data", "source = 3", "data.source"),
    ("data", 'source = ["digits"]', "data.source"),
    ("data", 'label_columns = "y"', "data.label_columns"),
    ("data", "label_columns = [1]", "data.label_columns"),
    ("data", 'label_columns = ["a", "a"]', "named twice"),
    ("data", 'label_columns = [""]', "an empty name"),
    ("data", 'task = "clasification"', 'did you mean "classification"?'),
    ("data", "task = 1", "data.task"),
    ("data", "test_split = 1", "data.test_split: expected a number in [0, 1), got 1"),
    ("data", "test_split = 1.0", "data.test_split"),
    ("data", "test_split = -0.1", "data.test_split"),
    ("data", "test_split = nan", "got nan"),
    ("data", "test_split = inf", "got inf"),
    ("data", 'test_split = "0.2"', "data.test_split"),
    ("data", "test_split = true", "data.test_split"),
    ("data", "test_split = 0.9999", "leaves 0 for training"),  # checked against the data
    ("data", "test_split = 0.0001", "at least one sample"),  # 0.18 of a sample: an empty test split
    ("data", "validation_split = -1", "data.validation_split"),
    ("data", "validation_split = 1", "data.validation_split"),
    ("data", "validation_split = nan", "data.validation_split"),
    ("data", 'standardize = "yes"', "data.standardize: expected true or false"),
    ("data", "standardize = 1", "data.standardize"),
    # model
    ("model", "layers = [0]", "at least one unit"),
    ("model", "layers = [-5]", "at least one unit"),
    ("model", "layers = [64, 0, 3]", "at least one unit"),
    ("model", "layers = [4000000000000]", "memory"),
    ("model", "layers = [1000000, 1000000]", "memory"),
    ("model", "layers = 64", "model.layers: expected a list of integers"),
    ("model", "layers = [1.5]", "model.layers"),
    ("model", 'layers = ["a"]', "model.layers"),
    ("model", "layers = [true]", "model.layers"),
    ("model", "layers = [[1]]", "model.layers"),
    ("model", "layers = [" + ", ".join(["1"] * 1001) + "]", "1001 layers"),
    ("model", 'activation = "rleu"', 'did you mean "relu"?'),
    ("model", 'activation = ""', "model.activation"),
    ("model", "activation = 1", "model.activation"),
    ("model", 'output_activation = "softmx"', 'did you mean "softmax"?'),
    ("model", "output_activation = true", "model.output_activation"),
    ("model", "dropout = 1", "model.dropout"),
    ("model", "dropout = -0.5", "model.dropout"),
    ("model", "dropout = nan", "model.dropout"),
    ("model", "dropout = inf", "model.dropout"),
    ("model", 'dropout = "0.1"', "model.dropout"),
    # train
    ("train", "epochs = 0", "train.epochs: expected an integer in [1, 1000000000], got 0"),
    ("train", "epochs = -1", "train.epochs"),
    ("train", "epochs = 1e9", "train.epochs"),
    ("train", 'epochs = "10"', "train.epochs"),
    ("train", "epochs = 1000000001", "train.epochs"),
    ("train", "epochs = true", "train.epochs"),
    ("train", "batch_size = 0", "train.batch_size"),
    ("train", "batch_size = -32", "train.batch_size"),
    ("train", "batch_size = 2147483648", "train.batch_size"),
    ("train", "batch_size = 3.0", "train.batch_size"),
    ("train", 'batch_size = "32"', "train.batch_size"),
    ("train", 'loss = "nope"', "train.loss"),
    ("train", 'loss = "crossentropyy"', 'did you mean "crossentropy"?'),
    ("train", 'loss = ""', "train.loss"),
    ("train", "loss = 1", "train.loss"),
    ("train", 'loss = ["mse"]', "train.loss"),
    ("train", 'loss = "nll"', "train.loss"),  # wants log-probabilities, which no output gives
    ("train", 'loss = "bce_with_logits"', "train.loss"),  # one logit: no model here has one
    # ... and what fits the task, known once the data is read (the digits: 10 classes)
    ("train", 'loss = "mse"', '"mse" does not fit classification into 10 classes'),
    ("train", 'loss = "bce"', '"bce" does not fit classification into 10 classes'),
    ("train", 'metrics = ["r2"]', '"r2" does not fit classification'),
    ("train", 'metrics = ["accuracy", "mae"]', '"mae" does not fit classification'),
    ("model", 'output_activation = "sigmoid"', "for two classes; the data has 10"),
    ("model", 'output_activation = "softmax"', "applies softmax twice"),
    ("train", 'metrics = ["nope"]', '"nope" is not a metric'),
    ("train", 'metrics = ["acuracy"]', 'did you mean "accuracy"?'),
    ("train", 'metrics = "accuracy"', "train.metrics: expected a list of strings"),
    ("train", "metrics = [1]", "train.metrics"),
    ("train", 'metrics = ["mae", "mae"]', "named twice"),
    ("train", 'metrics = ["auto", "mae"]', "is not a metric"),
    ("train", "shuffle = 0", "train.shuffle"),
    ("train", 'shuffle = "true"', "train.shuffle"),
    # optimizer
    ("optimizer", 'name = "adamm"', 'did you mean "adam"?'),
    ("optimizer", 'name = "lbfgs"', "optimizer.name"),
    ("optimizer", "name = 1", "optimizer.name"),
    ("optimizer", "lr = 0", "optimizer.lr: expected a number > 0, got 0"),
    ("optimizer", "lr = -0.1", "optimizer.lr"),
    ("optimizer", "lr = nan", "optimizer.lr"),
    ("optimizer", "lr = inf", "optimizer.lr"),
    ("optimizer", "lr = -inf", "optimizer.lr"),
    ("optimizer", 'lr = "fast"', 'optimizer.lr: expected a number > 0, got "fast"'),
    ("optimizer", "lr = true", "optimizer.lr"),
    ("optimizer", "momentum = nan", "optimizer.momentum: expected a number in [0, 1], got nan"),
    ("optimizer", "momentum = -0.1", "optimizer.momentum"),
    ("optimizer", "momentum = 1.5", "optimizer.momentum"),
    ("optimizer", "momentum = inf", "optimizer.momentum"),
    ("optimizer", 'momentum = "0.9"', "optimizer.momentum"),
    ("optimizer", "weight_decay = -1", "optimizer.weight_decay: expected a number >= 0, got -1"),
    ("optimizer", "weight_decay = nan", "optimizer.weight_decay"),
    ("optimizer", "weight_decay = inf", "optimizer.weight_decay"),
    ("optimizer", 'weight_decay = "0"', "optimizer.weight_decay"),
    # schedule
    ("schedule", 'name = "cosin"', 'did you mean "cosine"?'),
    ("schedule", "name = 0", "schedule.name"),
    ("schedule", "step_size = 0", "schedule.step_size: expected an integer >= 1, got 0"),
    ("schedule", "step_size = -3", "schedule.step_size"),
    ("schedule", "step_size = 2.5", "schedule.step_size"),
    ("schedule", "gamma = 0", "schedule.gamma"),
    ("schedule", "gamma = -0.5", "schedule.gamma"),
    ("schedule", "gamma = nan", "schedule.gamma"),
    ("schedule", "gamma = inf", "schedule.gamma"),
    ("schedule", "t_max = -1", "schedule.t_max: expected an integer >= 0, got -1"),
    ("schedule", "t_max = 1.0", "schedule.t_max"),
    ("schedule", "max_lr = -1", "schedule.max_lr"),
    ("schedule", "max_lr = nan", "schedule.max_lr"),
    ("schedule", "max_lr = inf", "schedule.max_lr"),
    # the file's structure
    ("train", "epochz = 3", "unknown key train.epochz; did you mean train.epochs?"),
    ("train", "epochs = 3 3", "not valid TOML"),
    ("train", "epochs =", "not valid TOML"),
    ("train", 'epochs = "3', "not valid TOML"),
    ("train", 'metrics = ["a\x00"]', "not valid TOML"),  # a raw NUL byte
    ("train", "epochs = 3\x7f", "not valid TOML"),
    ("model", "layers = " + "[" * 5000 + "]" * 5000, "nested more than 32 deep"),  # was a RecursionError
    ("model", "layers = " + "[" * 40 + "]" * 40, "nested more than 32 deep"),
    ("model", "layers = [[[[]]]]", "model.layers"),
]

# Whole files: (text, the line the first error must name, a piece of the message).
BAD_FILES = [
    ("# x\n[trian]\nepochs = 3\n", 2, "unknown section [trian]; did you mean [train]?"),
    # A key repeated after a multi-line string: the repeated key's line, not the string's.
    ('[data]\nsource = """\ndigits"""\ntask = "auto"\ntask = "regression"\n', 5, "not valid TOML"),
    # Text inside a multi-line string that looks like a key is not the key.
    ('[run]\nname = """\nseed = 5\n"""\nseed = -1\n', 5, "run.seed: expected an integer >= 0, got -1"),
    ("[run]\nname = '''\nseed = 5\n'''\nseed = -1\n", 5, "run.seed"),
    ('[run]\nname = "x"\n[run]\nseed = 1\n', 3, "not valid TOML"),  # a table declared twice
    ("train.epochs = 0\n", 1, "train.epochs"),  # a dotted key
    ("\n\ntrain = {epochs = 0}\n", 3, "train.epochs"),  # an inline table: its line
    ("run = 5\n", 1, "expected a table [run]"),
    ('[data]\nsource = "housing"\n[train]\nloss = "cross_entropy"\n', 4, "does not fit regression"),
    ('[data]\nsource = "housing"\n\n[train]\nmetrics = ["accuracy"]\n', 5, "does not fit regression"),
    ('[data]\nsource = "housing"\n[model]\noutput_activation = "softmax"\n', 4, "over one output is always 1"),
    ('[data]\nsource = "iris"\n[train]\nmetrics = ["top_k_accuracy"]\n', 4, "top 5 of 3 classes"),
    ('[data]\nsource = "iris"\n[model]\noutput_activation = "sigmoid"\n', 4, "the data has 3"),
    ("[model]\nlayers = [\n  64,\n  0,\n]\n\n[train]\nepochs = 0\n", 2, "model.layers"),
    ('[train]\nmetrics = [\n  "accuracy", # a comment with a ] bracket\n  "nope",\n]\nepochs = 0\n', 2, "nope"),
    ("[train]\nepochs = 5\n" + "# padding\n" * 50 + "batch_size = 0\n", 53, "train.batch_size"),
]

CASES = [
    pytest.param("# case\n" * (k % 5) + f"[{section}]\n{line}\n", k % 5 + 2, message, id=f"{section}:{line[:40]}")
    for k, (section, line, message) in enumerate(BAD_VALUES)
] + [pytest.param(text, line, message, id=f"file:{text[:40]}") for text, line, message in BAD_FILES]


def run_config(tmp_path, monkeypatch, capsys, text, *extra):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_bytes(text.encode("utf-8"))
    code = main(["train", "c.toml", "--epochs", "1", "--runs-dir", str(tmp_path / "runs"), *extra])
    return code, capsys.readouterr().err


def test_at_least_100_bad_configs():
    assert len(CASES) >= 100


@pytest.mark.parametrize(("text", "line", "message"), CASES)
def test_bad_config_exits_2_naming_its_line_and_writes_nothing(tmp_path, monkeypatch, capsys, text, line, message):
    code, err = run_config(tmp_path, monkeypatch, capsys, text)
    assert code == 2, err
    assert f"c.toml:{line}: " in err, err
    assert message in err, err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["c.toml"], "something was written"


def test_every_error_is_reported_at_once(tmp_path, monkeypatch, capsys):
    text = '[run]\nseed = -1\nname = "../x"\n\n[train]\nepochs = 0\nmetrics = ["nope"]\n\n[optimizer]\nlr = nan\n'
    code, err = run_config(tmp_path, monkeypatch, capsys, text, "--batch-size", "0")
    assert code == 2
    for where in ("c.toml:2: run.seed", "c.toml:3: run.name", "c.toml:6: train.epochs", "c.toml:7: train.metrics",
                  "c.toml:10: optimizer.lr", "--batch-size: train.batch_size"):  # fmt: skip
        assert f"flowgrad: {where}" in err, err
    assert sorted(os.listdir(tmp_path)) == ["c.toml"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--name", "../../escaped"], "--name: run.name"),
        (["--name", ""], "it is empty"),
        (["--epochs", "0"], "--epochs: train.epochs"),
        (["--lr", "nan"], "--lr: optimizer.lr"),
        (["--lr", "-1"], "--lr: optimizer.lr"),
        (["--seed", "-1"], "--seed: run.seed"),
        (["--batch-size", "0"], "--batch-size: train.batch_size"),
        (["--runs-dir", ""], "--runs-dir: run.runs_dir"),
    ],
)
def test_bad_flags_name_the_flag(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--example", "and", *flags]) == 2
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_a_huge_or_binary_file_is_not_a_config(tmp_path, capsys):
    (tmp_path / "big.toml").write_text("# x\n" * 300_000)
    assert main(["train", str(tmp_path / "big.toml")]) == 2
    assert "not a config file" in capsys.readouterr().err
    (tmp_path / "bin.toml").write_bytes(b"[run]\nname = \xff\xfe\n")
    assert main(["train", str(tmp_path / "bin.toml")]) == 2
    assert "bin.toml:2: not UTF-8 text" in capsys.readouterr().err


def test_the_schema_is_documented_key_by_key():
    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    for section, keys in cfg_lib.SCHEMA.items():
        for key in keys:
            assert re.search(rf"^\| `{section}\.{key}` \|", page, re.M), f"{section}.{key} missing from docs/cli.md"


def test_the_loss_and_metric_names_are_the_models():
    from flowgrad.train import metrics, model

    assert set(cfg_lib.LOSSES) - {"auto"} <= set(model._LOSSES)
    assert set(cfg_lib.METRICS) <= set(metrics._NAMES)


def test_the_resolved_config_reads_back_the_same(tmp_path):
    config = cfg_lib.resolve({"data": {"source": 'odd "name"\\ with\x7f'}}, "t")
    (tmp_path / "c.toml").write_text(cfg_lib.dumps(config), encoding="utf-8")
    assert cfg_lib.load(tmp_path / "c.toml") == config


def test_the_documented_defaults_are_the_defaults():
    page = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    assert cfg_lib.tomllib.loads(block) == cfg_lib.defaults()
