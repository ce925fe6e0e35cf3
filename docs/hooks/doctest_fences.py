"""A Griffe extension for the API reference (mkdocs.yml loads it).

flowgrad's docstrings hold bare doctest examples (``>>>`` lines and the output under them, run by
the test suite), not Google-style ``Examples:`` sections. Markdown would read them as paragraphs
(and ``[0, 1][...]`` as a link), so each example is put in a ``pycon`` code block first.
"""

from __future__ import annotations

from typing import Any

import griffe


class DoctestFences(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)


def fence_doctests(text: str) -> str:
    """Wrap each run of doctest lines (from a ``>>>`` line up to the next blank line) in a code fence."""
    out: list[str] = []
    in_example = in_fence = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_example and not stripped:
            out.append("```")
            in_example = False
        elif not in_example and not in_fence and stripped.startswith(">>>"):
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            in_example = True
        elif stripped.startswith("```"):
            in_fence = not in_fence
        out.append(line)
    if in_example:
        out.append("```")
    return "\n".join(out)
