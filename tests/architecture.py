"""flowgrad's layers and what each may import: the table behind tests/test_architecture.py and
the layer picture in docs/architecture.md (drawn at docs build time by docs/hooks/layers.py).

Modules are read with ``ast`` (imports inside functions count too); nothing is imported.
"""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1] / "flowgrad"

# (layer, what it is, module prefixes), bottom first. A module belongs to the layer of its longest
# matching prefix; a module may import its own layer and the layers below, never one above.
LAYERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("base", "errors, dtypes and the array backend", ("flowgrad.errors", "flowgrad.dtypes", "flowgrad.backend")),
    (
        "core",
        "tensors, the op registry, the backward engine, compile",
        ("flowgrad.core",),
    ),
    (
        "ops",
        "the primitives: each op's forward and gradient, declared once",
        ("flowgrad.ops", "flowgrad.extend"),
    ),
    (
        "namespaces",
        "transforms (grad, jacobian, vjp), flowgrad.numpy/scipy and the tensor methods",
        (
            "flowgrad.core.transforms",
            "flowgrad.core.functional",
            "flowgrad.core.methods",
            "flowgrad.numpy",
            "flowgrad.scipy",
            "flowgrad.misc",
            "flowgrad.func",
            "flowgrad.autograd",
            "flowgrad.builtins",
            "flowgrad.cuda",
            "flowgrad.threads",
            "flowgrad.testing",
            "flowgrad.test_util",
            "flowgrad",
        ),
    ),  # fmt: skip
    (
        "library",
        "built only on the public API: nn, optim, data, training, graph mode, files, pictures, CLI",
        ("flowgrad.",),
    ),
]
# What the top layer may not import: flowgrad's internals (it uses `import flowgrad as fg`).
PRIVATE = ("flowgrad.core", "flowgrad.ops")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (for `from X import name`, X.name when that is a module)
    line: int


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = pathlib.Path(*name.split("."))
    return (ROOT.parent / rel).with_suffix(".py").is_file() or (ROOT.parent / rel / "__init__.py").is_file()


def imports() -> list[Import]:
    """Every import of a flowgrad module by a flowgrad module."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if _is_module(f"{source}.{a.name}") else source for a in node.names]
            else:
                continue
            found.extend(Import(module, t, node.lineno) for t in targets if t.split(".")[0] == "flowgrad")
    return found


def layer_of(module: str) -> int:
    best, best_len = len(LAYERS) - 1, -1
    for index, (_, _, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix if prefix.endswith(".") else prefix + ".")
            if matches and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def violations() -> list[str]:
    """Imports that break the rules, as 'module:line imports target (why)'."""
    out = []
    for imp in imports():
        mine, theirs = layer_of(imp.module), layer_of(imp.target)
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        if imp.module == "flowgrad":
            continue  # the public namespace gathers names from every layer (fg.Model, fg.save, ...)
        if imp.target == "flowgrad" and mine < len(LAYERS) - 2:
            out.append(f"{where} (the public namespace, from the {LAYERS[mine][0]} layer)")
        elif imp.target != "flowgrad" and theirs > mine:
            out.append(f"{where} ({LAYERS[theirs][0]} is above {LAYERS[mine][0]})")
        elif mine == len(LAYERS) - 1 and imp.target.startswith(PRIVATE):
            out.append(f"{where} (a library module reaching into flowgrad's internals)")
    return out
