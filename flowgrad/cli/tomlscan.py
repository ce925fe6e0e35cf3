"""Where each key of a TOML file is, and how deeply its values nest, before any parsing.

``tomllib`` gives values but no positions, and it recurses once per level of nested
arrays, so a few thousand ``[`` end in a ``RecursionError``. This scanner walks the text
once, knows strings (basic, literal, multi-line) and comments, and so never mistakes text
inside a string for a key. It never raises and always ends: on text it does not
understand it skips to the next line and leaves the verdict to the parser.

>>> lines, deep = scan('[run]\\nname = \"\"\"\\nseed = 3\\n\"\"\"\\nseed = 1\\n')
>>> lines[("run", "seed")], deep
(5, None)
>>> scan("a = " + "[" * 40 + "]" * 40)[1]
1
"""

from __future__ import annotations

import json

MAX_DEPTH = 32  # the schema needs 1; tomllib's recursion limit is near 1,000
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def scan(text: str, max_depth: int = MAX_DEPTH) -> tuple[dict[tuple[str, ...], int], int | None]:
    """``({key path: line of its first definition}, line where nesting passes max_depth or None)``."""
    lines: dict[tuple[str, ...], int] = {}
    deep: int | None = None
    table: tuple[str, ...] = ()
    i, n, line = 0, len(text), 1
    while i < n:
        while i < n and text[i] in " \t\r":
            i += 1
        if i >= n:
            break
        c = text[i]
        if c == "\n":
            i, line = i + 1, line + 1
            continue
        if c == "#":
            i = _line_end(text, i)
            continue
        if c == "[":
            i += 2 if text.startswith("[[", i) else 1
            keys, i = _key(text, i)
            table = tuple(keys)
            lines.setdefault(table, line)
            i = _line_end(text, i)
            continue
        keys, i = _key(text, i)
        while i < n and text[i] in " \t":
            i += 1
        if not keys or i >= n or text[i] != "=":
            i = _line_end(text, i)  # not a key: the parser will say what is wrong
            continue
        lines.setdefault(table + tuple(keys), line)
        i, line, first_deep = _value(text, i + 1, line, max_depth)
        deep = deep if deep is not None else first_deep
    return lines, deep


def _line_end(text: str, i: int) -> int:
    """The index of the next newline (or the end): the newline itself is counted by the caller."""
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _key(text: str, i: int) -> tuple[list[str], int]:
    """A dotted key starting at ``i``: its parts and the index after it."""
    keys: list[str] = []
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if quote == '"' and text[j] == "\\" else 1
            raw = text[i + 1 : min(j, n)]
            if quote == '"':
                try:
                    raw = json.loads(f'"{raw}"')  # TOML's basic-string escapes are JSON's (and \U, \e)
                except ValueError:
                    pass
            keys.append(raw)
            i = j + 1
        else:
            j = i
            while j < n and text[j] in _BARE:
                j += 1
            if j == i:
                return keys, i
            keys.append(text[i:j])
            i = j
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return keys, i
    return keys, i


def _value(text: str, i: int, line: int, max_depth: int) -> tuple[int, int, int | None]:
    """Skip one value (it may span lines inside brackets or strings): (index, line, deep line)."""
    n, depth, deep = len(text), 0, None
    while i < n:
        c = text[i]
        if c == "\n":
            if depth == 0:
                return i, line, deep
            line += 1
            i += 1
        elif c == "#":
            i = _line_end(text, i)
        elif text.startswith('"""', i) or text.startswith("'''", i):
            i, line = _multiline(text, i + 3, line, text[i])
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if c == '"' and text[j] == "\\" else 1
            i = j + 1 if j < n and text[j] == c else j
        elif c in "[{":
            depth += 1
            if depth > max_depth and deep is None:
                deep = line
            i += 1
        elif c in "]}":
            depth = max(depth - 1, 0)
            i += 1
        else:
            i += 1
    return i, line, deep


def _multiline(text: str, i: int, line: int, quote: str) -> tuple[int, int]:
    """Skip a multi-line string's body and closing delimiter, counting its newlines."""
    n, close = len(text), quote * 3
    while i < n:
        if quote == '"' and text[i] == "\\":
            line += text[i + 1 : i + 2] == "\n"
            i += 2
        elif text.startswith(close, i):
            i += 3
            for _ in range(2):  # up to two quotes may end the content right before the delimiter
                if i < n and text[i] == quote:
                    i += 1
            return i, line
        else:
            line += text[i] == "\n"
            i += 1
    return i, line
