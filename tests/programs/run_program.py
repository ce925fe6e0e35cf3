"""Run one program of this folder with ``torch`` served by flowgrad or by PyTorch itself.

    python -m tests.programs.run_program flowgrad tests/programs/polynomial_autograd.py
    python -m tests.programs.run_program torch tests/programs/polynomial_autograd.py

With ``flowgrad`` the import mapping is the only change: ``torch`` and its submodules are
flowgrad's modules in ``sys.modules``; the program's text is run as it is.
"""

import importlib
import runpy
import sys

ALIASES = {
    "torch": "flowgrad",
    "torch.nn": "flowgrad.nn",
    "torch.nn.functional": "flowgrad.nn.functional",
    "torch.nn.init": "flowgrad.nn.init",
    "torch.nn.utils": "flowgrad.nn.utils",
    "torch.optim": "flowgrad.optim",
    "torch.optim.lr_scheduler": "flowgrad.optim.lr_scheduler",
    "torch.autograd": "flowgrad.autograd",
    "torch.utils": "flowgrad.utils",
    "torch.utils.data": "flowgrad.utils.data",
}


def serve_torch_with_flowgrad() -> None:
    for name, target in ALIASES.items():
        sys.modules[name] = importlib.import_module(target)


if __name__ == "__main__":
    library, path = sys.argv[1], sys.argv[2]
    if library == "flowgrad":
        serve_torch_with_flowgrad()
    runpy.run_path(path, run_name="__main__")
