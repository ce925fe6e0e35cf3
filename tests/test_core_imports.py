"""The core's modules import each other in one direction: no import cycle among them at module
level. ``mode`` holds the state they all read (grad mode, the in-place clock, the tracer), the
tensor class needs nothing that records ops, ops need tensors, and the engine needs both. A
function-level import (``Tensor.backward`` loading the engine on first use) is not a cycle at
import time and is allowed."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "flowgrad" / "core"


def _module_level_imports(path: Path) -> set[str]:
    """Sibling core modules imported at the top level of ``path`` (not inside functions or
    ``if TYPE_CHECKING:``)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return {name for name in found if (CORE / f"{name}.py").exists()}


def test_core_modules_import_each_other_without_cycles():
    graph = {path.stem: _module_level_imports(path) for path in CORE.glob("*.py") if path.stem != "__init__"}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", f"import cycle in flowgrad/core: {' -> '.join(trail + [name])}"
        state[name] = "open"
        for dep in sorted(graph.get(name, ())):
            visit(dep, trail + [name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])
    assert graph["mode"] == set() and "ops" not in graph["tensor"] and "engine" not in graph["tensor"]
