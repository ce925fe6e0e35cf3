"""Every Python code block in docs/ and README.md runs."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = sorted(ROOT.glob("docs/**/*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


# Pages whose blocks train or compare computed numbers: run again on other kernels by make test.
NUMERIC = {"docs/data.md", "docs/graph-mode.md", "docs/checkpoints.md", "docs/training.md"}
# Pages whose blocks use optional packages: skipped, as their tests are, where one is missing.
REQUIRES = {"docs/interop.md": ("torch", "sklearn"), "docs/onnx.md": ("onnx", "onnxruntime")}
PARAMS = [
    pytest.param(
        p, marks=[pytest.mark.numeric] if str(p.relative_to(ROOT)) in NUMERIC else [], id=str(p.relative_to(ROOT))
    )
    for p in PAGES
]


# Pages about an optional extra: skipped where it is not installed.


@pytest.mark.parametrize("page", PARAMS)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    for module in REQUIRES.get(str(page.relative_to(ROOT)), ()):
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__docs__"}
    for code in blocks:  # blocks on one page share a namespace, as a reader's session would
        exec(compile(code, str(page), "exec"), namespace)
