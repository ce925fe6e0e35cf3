"""No code from files: flowgrad's source never unpickles, evals or execs anything.

Loading a file must never run code from it (docs/checkpoints.md, "Why no pickle"). This test
reads every ``flowgrad/**/*.py`` and fails on any line that mentions pickle, calls ``eval(``
or ``exec(``, passes ``allow_pickle=True`` or uses another way to turn bytes into code
(marshal, shelve, dill, ``__import__``, ``torch.load``, ``yaml.load``, ``np.load``), unless the
line is on the allow-list below, each entry with the reason it is safe. An allow-list entry
that no longer matches anything fails too, so the list stays exact.
"""

from __future__ import annotations

import re
from pathlib import Path

import flowgrad

from . import harness

PACKAGE = Path(flowgrad.__file__).resolve().parent

PATTERNS = {
    "pickle": re.compile(r"pickle", re.IGNORECASE),  # pickle, cPickle, unpickle, pickletools, allow_pickle
    "eval(": re.compile(r"(?<![\w.])(?<!def )eval\s*\("),  # the builtin; a method named eval (Module.eval()) is fine
    "exec(": re.compile(r"(?<![\w.])(?<!def )exec\s*\("),
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "marshal/shelve/dill": re.compile(r"\b(marshal|shelve|dill|cloudpickle|joblib)\b"),
    "__import__(": re.compile(r"__import__\s*\("),
    "loaders that unpickle": re.compile(r"\b(torch\.load|yaml\.load|yaml\.unsafe_load|np\.load|numpy\.load)\s*\("),
}
NEVER_ALLOWED = {"allow_pickle=True", "eval(", "exec("}

# (file under flowgrad/, a regex the whole line must match, why it is safe)
ALLOWED = [
    ("io/__init__.py", r'^""".*saving and loading state, safely \(safetensors, no pickle\) and atomically\.$',
     "the package docstring states the refusal"),
    ("io/checkpoint.py", r"^corruption\. Nothing is ever unpickled, and every write is atomic\.$",
     "the module docstring states the refusal"),
    ("io/checkpoint.py", r"^\s+``\{name: fg\.Tensor\}``\. Missing, truncated, corrupted or pickle files raise$",
     "fg.load's docstring: pickle files are refused"),
    ("io/safetensors_format.py", r"^import pickletools$",
     "pickletools.genops only lists a file's opcodes, to recognise a pickle and refuse it; it runs nothing"),
    ("io/safetensors_format.py", r"^\s+for opcode, _, _ in pickletools\.genops\(io\.BytesIO\(sample\)\):$",
     "the opcode listing (never unpickling) that recognises protocol 0/1 pickles"),
    ("io/safetensors_format.py", r"^\s+# Protocol 0/1 pickles have no magic number: parse \(never run\) their opcodes instead\.$",
     "a comment about the recognition"),
    ("io/safetensors_format.py", r'^\s+except Exception:  # noqa: BLE001 - any parse failure just means "not a pickle"$',
     "a comment about the recognition"),
    ("io/safetensors_format.py", r"^\s+# Running out of bytes after many good opcodes is a pickle longer than the sample\.$",
     "a comment about the recognition"),
    ("io/safetensors_format.py", r'^\s+return "a zip archive, as torch\.save writes \(it holds a pickle\)"$',
     "names what was recognised, for the refusal message"),
    ("io/safetensors_format.py", r'^\s+return (f"a Python pickle \(protocol \{prefix\[1\]\}\)"|"a Python pickle"( if count >= 2 else None)?)$',
     "names what was recognised, for the refusal message"),
    ("io/safetensors_format.py", r"^(def _pickle_refusal\(where: str, what: str\) -> CheckpointError:|\s+raise _pickle_refusal\(where, what\))$",
     "builds and raises the refusal"),
    ("io/safetensors_format.py", r'^\s+f"\{where\}: this looks like \{what\}, not a safetensors file\. flowgrad never unpickles: loading "$',
     "the refusal message"),
    ("io/safetensors_format.py", r'^\s+"a pickle can run any code the file\'s author wrote\. Convert it once, where you trust it "$',
     "the refusal message"),
    ("cli/__init__.py", r"^\s+module = __import__\(name\)$",
     "`flowgrad info` imports the fixed names in the literal tuple above it to print their versions"),
]  # fmt: skip


def test_the_package_never_turns_file_contents_into_code():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 40, f"found only {len(files)} source files under {PACKAGE}"
    used = [0] * len(ALLOWED)
    offending = []
    for path in files:
        rel = path.relative_to(PACKAGE).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hits = [name for name, pattern in PATTERNS.items() if pattern.search(line)]
            if not hits:
                continue
            entry = next(
                (i for i, (f, regex, _) in enumerate(ALLOWED) if f == rel and re.fullmatch(regex, line)),
                None,
            )
            if entry is None or NEVER_ALLOWED.intersection(hits):
                offending.append(f"flowgrad/{rel}:{number}: {', '.join(hits)}: {line.strip()}")
            else:
                used[entry] += 1
    stale = [f"flowgrad/{f}: {regex}" for (f, regex, _), n in zip(ALLOWED, used) if n == 0]
    harness.SOURCE_FIGURES.update(files=len(files), allowed=sum(used), wrong=len(offending) + len(stale))
    assert not offending, "code from files? these lines are not on the allow-list:\n" + "\n".join(offending)
    assert not stale, "allow-list entries that match no line any more (remove them):\n" + "\n".join(stale)


def test_the_patterns_catch_what_they_are_for():
    caught = {
        "pickle": ["import pickle", "from cPickle import loads", "x = pickle.loads(b)"],
        "eval(": ["eval(text)", "y = eval (s)"],
        "exec(": ["exec(code, {})"],
        "allow_pickle=True": ["np.load(f, allow_pickle=True)"],
        "marshal/shelve/dill": ["import marshal", "shelve.open(p)"],
        "__import__(": ["__import__(name)"],
        "loaders that unpickle": ["torch.load(path)", "np.load(path)", "yaml.load(s)"],
    }
    for name, lines in caught.items():
        assert all(PATTERNS[name].search(line) for line in lines), name
    for line in ["def eval(self) -> Module:", "self.network.eval()", "net.eval()", "np.loadtxt(f)", "evaluate(x)"]:
        assert not any(p.search(line) for p in PATTERNS.values()), line
