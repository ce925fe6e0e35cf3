"""The ``flowgrad`` command (also ``python -m flowgrad``).

    flowgrad train                      the default job: an MLP on the 8x8 digits
    flowgrad train CONFIG.toml          a job described by a config file
    flowgrad train --example housing    a tutorial's job (housing, linear, gender, and)
    flowgrad train --resume RUN_DIR     continue a run from its last complete epoch
    flowgrad train --nproc 4            the same job on 4 processes (mpiexec; flowgrad[mpi])
    flowgrad evaluate RUN_DIR [--data rows.csv]
    flowgrad predict RUN_DIR --input rows.csv [--output preds.csv]
    flowgrad export RUN_DIR --format onnx [--output PATH]
    flowgrad info                       versions, BLAS, threads, default dtype
    flowgrad explain [--example gender]  an HTML page stepping through a graph's two passes

Exit codes: 0 done, 2 usage or config error (also: the run folder is in use, or holds a
run and --overwrite was not given), 3 data or file error (unreadable data, a checkpoint that
cannot be read or written, a full disk), 4 training diverged, 130 interrupted (after saving a
checkpoint and saying how to resume).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

import flowgrad as fg

from . import config as cfg_lib
from . import explain_cmd, export_cmd

EXIT_OK, EXIT_USAGE, EXIT_DATA, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 4, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowgrad", description="Train, evaluate and use flowgrad models.")
    parser.add_argument("--version", action="version", version=f"flowgrad {fg.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,predict,export,info,explain}")  # none: help
    t = sub.add_parser("train", help="train a model (the default job on built-in data, or a config)")
    t.add_argument("config", nargs="?", help="a TOML config file (see docs/cli.md)")
    t.add_argument("--example", choices=sorted(_examples()), help="run one of the tutorials' jobs")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    t.add_argument("--epochs", type=int, help="override train.epochs")
    t.add_argument("--lr", type=float, help="override optimizer.lr")
    t.add_argument("--batch-size", type=int, help="override train.batch_size")
    t.add_argument("--seed", type=int, help="override run.seed")
    t.add_argument("--name", help="override run.name (the run folder's name)")
    t.add_argument("--runs-dir", help="override run.runs_dir (default: runs)")
    t.add_argument("--overwrite", action="store_true", help="replace the run already in the run folder")
    t.add_argument("--nproc", type=int, help="train on N processes (starts mpiexec -n N; needs flowgrad[mpi])")
    e = sub.add_parser("evaluate", help="evaluate a trained run on its test split or on a CSV file")
    e.add_argument("run_dir")
    e.add_argument("--data", help="a CSV file with the run's feature and label columns")
    p = sub.add_parser("predict", help="predict for the rows of a CSV file")
    p.add_argument("run_dir")
    p.add_argument("--input", required=True, help="a CSV file of feature columns, with a header (or --no-header)")
    p.add_argument("--output", help="where to write the predictions (default: standard output)")
    p.add_argument("--no-header", action="store_true", help="the CSV file's first line is data, not column names")
    export_cmd.add_parser(sub)
    sub.add_parser("info", help="versions, BLAS, threads, default dtype")
    explain_cmd.add_parser(sub)
    return parser


def _examples() -> dict:
    from .jobs import EXAMPLES

    return EXAMPLES


def _train(args: argparse.Namespace) -> int:
    from . import jobs, ranks

    if args.nproc is not None and ranks.launched_size() == 1:
        if args.nproc < 1:
            raise cfg_lib.ConfigError(f"train: --nproc must be at least 1, got {args.nproc}")
        if args.nproc > 1:
            return ranks.launch(args.nproc, args.argv)

    if args.resume and (args.config or args.example):
        raise cfg_lib.ConfigError(
            "train: --resume continues a run with its own config; do not give a config or --example too"
        )
    if args.resume and (args.name is not None or args.runs_dir is not None or args.overwrite):
        raise cfg_lib.ConfigError("train: --resume continues the run in its own folder; --name, --runs-dir and "
                                  "--overwrite do not apply")  # fmt: skip
    if args.config and args.example:
        raise cfg_lib.ConfigError("train: give a config file or --example, not both")
    overrides: dict = {}
    for flag, section, key in (
        ("epochs", "train", "epochs"), ("lr", "optimizer", "lr"), ("batch_size", "train", "batch_size"),
        ("seed", "run", "seed"), ("name", "run", "name"), ("runs_dir", "run", "runs_dir"),
    ):  # fmt: skip
        value = getattr(args, flag)
        if value is not None:
            overrides[(section, key)] = (value, "--" + flag.replace("_", "-"))
    # One check of everything (file, example, flags) against the schema, before anything runs.
    if args.resume:
        folder = Path(args.resume)
        if not (folder / "config.toml").is_file():
            raise cfg_lib.ConfigError(f"{folder}: not a run folder (no config.toml)")
        config = cfg_lib.load(folder / "config.toml", overrides)
    elif args.config:
        config = cfg_lib.load(args.config, overrides)
    elif args.example:
        config = cfg_lib.resolve(jobs.EXAMPLES[args.example], f"--example {args.example}", None, overrides)
    else:
        config = cfg_lib.resolve({}, "defaults", None, overrides)
    return jobs.train(config, Path(args.resume) if args.resume else None, overwrite=args.overwrite)


def info() -> int:
    """Print versions, the BLAS NumPy uses, thread settings and the default dtype."""
    print(f"flowgrad {fg.__version__}")
    print(f"python {platform.python_version()} ({platform.python_implementation()}, {platform.machine()})")
    print(f"numpy {np.__version__}")
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        print(f"blas {blas.get('name')} {blas.get('version', '')}".rstrip())
    except Exception:  # older NumPy: no dict form
        print("blas (see numpy.show_config())")
    threads = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ
    }
    print(f"threads {threads or 'not set (the BLAS decides)'}; cpus {os.cpu_count()}")
    print(f"default dtype {fg.get_default_dtype()}")
    for name in ("matplotlib", "tqdm", "safetensors", "torch"):
        try:
            module = __import__(name)
            print(f"{name} {getattr(module, '__version__', 'installed')}")
        except ImportError:
            print(f"{name} not installed")
    return EXIT_OK


# What each kind of failure exits with; the first matching row wins (see the module docstring).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (cfg_lib.ConfigError, EXIT_USAGE),
    (fg.CheckpointError, EXIT_DATA),
    (fg.DataError, EXIT_DATA),
    (fg.DivergedError, EXIT_DIVERGED),
    (KeyboardInterrupt, EXIT_INTERRUPTED),
    (OSError, EXIT_DATA),  # a file or folder the system refused, where no clearer message was given
)


def _message(error: BaseException) -> list[str]:
    """The lines to print for a failure, without the ``flowgrad:`` prefix."""
    if isinstance(error, KeyboardInterrupt):
        return ["interrupted"]
    if isinstance(error, cfg_lib.ConfigError):
        return str(error).splitlines()  # a config error lists every problem, one a line
    if isinstance(error, OSError) and not isinstance(error, (fg.CheckpointError, fg.DataError)):
        where = f"{error.filename}: " if error.filename is not None else ""
        return [f"{where}{error.strerror or error}"]
    return [str(error)]


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "train":
        return _train(args)
    if args.command == "evaluate":
        from .jobs import evaluate

        return evaluate(Path(args.run_dir), args.data)
    if args.command == "predict":
        from .jobs import predict

        return predict(Path(args.run_dir), args.input, args.output, has_header=not args.no_header)
    if args.command == "export":
        return export_cmd.run(args)
    if args.command == "explain":
        return explain_cmd.run(args)
    return info()


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for --nproc, which runs it again
    if args.command is None:  # bare `flowgrad`: say what it can do
        parser.print_help()
        return EXIT_OK
    try:
        return _dispatch(args)
    except (Exception, KeyboardInterrupt) as error:
        code = next((code for kind, code in EXIT_CODES if isinstance(error, kind)), None)
        if code is None:
            raise  # a bug: the traceback is the useful report
        for line in _message(error):
            print(f"flowgrad: {line}", file=sys.stderr)
        if args.command == "train":
            from . import ranks

            sys.stderr.flush()
            ranks.abort_if_training_together(code)  # on several processes: every rank ends with us
        return code


def entry_point() -> None:
    """The console script."""
    sys.exit(main())
