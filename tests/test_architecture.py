"""The layers hold: each module imports only its own layer and those below (tests/architecture.py)."""

from __future__ import annotations

import re

from .architecture import LAYERS, imports, layer_of, violations

# Imports still to be routed through public names, each with what replaces it. The list may only
# shrink: an entry that no longer happens fails the test, so it is removed when fixed.
NOT_YET: dict[str, str] = {}  # "module imports target": why it is allowed for now (none today)


def test_imports_follow_the_layers():
    found = {re.sub(r":\d+ ", " ", v.split(" (")[0]): v for v in violations()}  # keyed without line numbers
    new = [v for key, v in found.items() if key not in NOT_YET]
    assert not new, "imports that cross the layers the wrong way:\n" + "\n".join(new)
    stale = [key for key in NOT_YET if key not in found]
    assert not stale, f"fixed, so remove from NOT_YET: {stale}"


def test_the_scan_sees_the_imports_it_checks():
    seen = imports()
    assert len(seen) > 300  # relative, absolute and function-level imports across the package
    pairs = {(i.module, i.target) for i in seen}
    assert ("flowgrad.core.sampling", "flowgrad.backend") in pairs  # `from .. import backend`
    assert ("flowgrad.core.factories", "flowgrad.core.tensor") in pairs  # `from .tensor import ...`
    assert layer_of("flowgrad.core.engine") == 1 and layer_of("flowgrad.core.transforms") == 3
    assert layer_of("flowgrad.nn.module") == len(LAYERS) - 1 and layer_of("flowgrad.backend") == 0
