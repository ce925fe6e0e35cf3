"""Tables and targets: times per step with their ratios to hand NumPy and to PyTorch eager.

The targets are printed next to the measurements, PASS or MISS; they are goals for flowgrad,
never something the benchmark is tuned to.
"""

from __future__ import annotations

from .contenders import CONTENDERS


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _time(case: dict, name: str) -> float | None:
    result = case["contenders"].get(name, {})
    return result.get("time_per_step_s") if result.get("status") == "ok" else None


def _ratio(case: dict, name: str, reference: str) -> float | None:
    """time(name) / time(reference), paired round by round (see runner.paired_ratio)."""
    result = case["contenders"].get(name, {})
    return result.get("ratios", {}).get(reference) if result.get("status") == "ok" else None


def _shown(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _loss_column(name: str, result: dict) -> str:
    if name == "numpy":
        return "reference"
    if "loss_rel_diff" not in result:
        return "-"
    return ("ok" if result["loss_ok"] else "MISMATCH") + f" ({result['loss_rel_diff']:.0e})"


HEADER = ["contender", "time/step", "IQR", "x hand NumPy", "x PyTorch", "losses vs NumPy", ""]


def _rows(case: dict) -> tuple[list, list]:
    """The table's rows, one per contender that ran, and the lines saying what did not and why."""
    rows, skipped = [], []
    for name, result in case["contenders"].items():
        if result["status"] != "ok":
            skipped.append(f"{result['status']}: {CONTENDERS[name].label}: {result['note']}")
            continue
        extra = ""
        if "samples_per_s" in result:
            extra = f"{result['samples_per_s']:,.0f} samples/s"
            if "peak_fraction" in result:
                extra += f", {result['gflops']:.0f} GFLOP/s, {100 * result['peak_fraction']:.0f}% of GEMM peak"
        rows.append(
            [
                CONTENDERS[name].label,
                format_time(result["time_per_step_s"]),
                f"{100 * result['iqr_fraction']:.0f}%",
                _shown(_ratio(case, name, "numpy")),
                _shown(_ratio(case, name, "torch")),
                _loss_column(name, result),
                extra,
            ]
        )
    return rows, skipped


def _remarks(case: dict) -> list:
    lines = []
    if case.get("rounds"):
        lines.append(format_rounds(case["rounds"]))
    lines += [f"note: {n}" for n in case.get("notes", [])]
    for name, result in case["contenders"].items():
        if result.get("loss_ok") is False:
            lines.append(
                f"WARNING: {CONTENDERS[name].label}'s losses of the first two steps differ from hand NumPy's "
                f"by {result['loss_rel_diff']:.1e} (relative; tolerance 1e-5)"
            )
    return lines


def case_table(case: dict) -> str:
    """The case's table: one row per contender that ran, then what was skipped and why."""
    rows, skipped = _rows(case)
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = [f"== {case['name']}: {case['title']}"]
    for r in [HEADER, *rows]:
        cells = [str(c).ljust(w) if i in (0, 5, 6) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  " + "  ".join(cells).rstrip())
    lines += [f"  {line}" for line in skipped + _remarks(case)]
    return "\n".join(lines)


def markdown(report: dict) -> str:
    """The run as Markdown: a table per timed case, the other cases' summaries, the targets."""
    m = report["machine"]
    out = [
        f"{m['cpu']}, {m['logical_cores']} logical cores; {report['threads']} thread(s) per process; "
        f"run of {report['started']}" + (" (--quick)" if report["quick"] else ""),
        "",
    ]
    for case in report["cases"].values():
        if "contenders" not in case:
            out += [f"**{case['name']}**", ""] + [f"- {line}" for line in case["summary"]] + [""]
            continue
        rows, skipped = _rows(case)
        header = HEADER[:-1] + (["throughput"] if any(r[-1] for r in rows) else [])
        out += [f"**{case['name']}**: {case['title']}", ""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join("---" if i in (0, 5, 6) else "---:" for i in range(len(header))) + "|")
        out += ["| " + " | ".join(r[: len(header)]) + " |" for r in rows]
        out += [""] + [f"- {line}" for line in skipped + _remarks(case)] + [""]
    out += ["| target | measured | verdict |", "|---|---:|---|"]
    # Judged again from the measurements, so a run is read against today's targets.
    for t in [row for case in report["cases"].values() for row in targets(case)]:
        out.append(f"| {t['case']}: {t['target']} | {t['measured'] or t['why']} | {t['verdict']} |")
    return "\n".join(out)


def format_rounds(rounds: dict) -> str:
    line = f"rounds: {rounds['kept']} kept"
    if rounds["mean_other_cores_kept"] is not None:
        line += f" (other programs busy {rounds['mean_other_cores_kept']:.2f} cores on average meanwhile)"
    if rounds["discarded"]:
        line += f", {rounds['discarded']} run again because other programs kept > 0.1 core busy"
    if rounds["disturbed_kept"]:
        why = "no quiet spell came in time" if rounds.get("max_wait_s") else "--quick does not wait for one"
        line += f"; WARNING: {rounds['disturbed_kept']} kept rounds ran while other programs were busy ({why})"
    return line


def _row(case: str, target: str, measured: str | None, passed: bool, why: str = "") -> dict:
    if measured is None:
        return {"case": case, "target": target, "measured": None, "verdict": "n/a", "why": why or "not measured"}
    return {"case": case, "target": target, "measured": measured, "verdict": "PASS" if passed else "MISS"}


def _missing(case: dict, *names: str) -> str:
    gone = [n for n in names if _time(case, n) is None]
    return "; ".join(f"{CONTENDERS[n].label}: {case['contenders'].get(n, {}).get('note', 'not run')}" for n in gone)


def _speed_target(case: dict, target: str, name: str, reference: str, limit: float, throughput: bool = False) -> dict:
    """time(name) / time(reference) <= limit, or for throughput time(reference) / time(name) >= limit."""
    ratio = _ratio(case, name, reference)
    if ratio is None:
        return _row(case["name"], target, None, False, _missing(case, name, reference))
    value = 1 / ratio if throughput else ratio
    return _row(case["name"], target, f"{value:.2f}x", value >= limit if throughput else value <= limit)


def targets(case: dict) -> list:
    name = case["name"]
    if name in ("tiny", "medium"):
        return [
            _speed_target(case, "flowgrad eager time <= 0.5 x PyTorch eager's", "flowgrad", "torch", 0.5),
            _speed_target(case, "flowgrad compiled time <= 1.0 x hand NumPy's", "flowgrad-compiled", "numpy", 1.0),
            _speed_target(case, "flowgrad compiled faster than JAX jit", "flowgrad-compiled", "jax", 1 - 1e-9),
        ]
    if name == "large":
        fg = case["contenders"].get("flowgrad", {})
        fraction = fg.get("peak_fraction") if fg.get("status") == "ok" else None
        shown = None if fraction is None else f"{100 * fraction:.0f}%"
        return [
            _speed_target(case, "flowgrad eager throughput >= 0.95 x hand NumPy's", "flowgrad", "numpy", 0.95, True),
            _speed_target(case, "flowgrad eager throughput >= 0.9 x PyTorch eager's", "flowgrad", "torch", 0.9, True),
            _speed_target(case, "flowgrad eager time <= 1.0 x PyTorch eager's", "flowgrad", "torch", 1.0),
            _speed_target(case, "flowgrad compiled time <= 1.0 x PyTorch eager's", "flowgrad-compiled", "torch", 1.0),
            _row(
                name,
                "flowgrad eager >= 70% of the float32 GEMM peak",
                shown,
                (fraction or 0) >= 0.7,
                _missing(case, "flowgrad"),
            ),
        ]
    if name == "deep":
        depth = case.get("depth_10000")
        shown = None if depth is None else ("yes" if depth.get("ok") else "no")
        return [
            _row(name, "flowgrad eager works at depth 10,000", shown, bool(depth and depth.get("ok")), "not run"),
            _speed_target(case, "flowgrad eager time <= 0.5 x PyTorch eager's", "flowgrad", "torch", 0.5),
        ]
    if name in ("conv", "lenet"):
        return [
            _speed_target(case, "flowgrad eager time <= 1.2 x PyTorch eager's", "flowgrad", "torch", 1.2),
            _speed_target(case, "flowgrad compiled time <= 0.8 x PyTorch eager's", "flowgrad-compiled", "torch", 0.8),
            _speed_target(case, "flowgrad compiled time <= 1.2 x hand NumPy's", "flowgrad-compiled", "numpy", 1.2),
        ]
    if name == "lstm":
        return [
            _speed_target(case, "flowgrad eager time <= 1.0 x PyTorch eager's", "flowgrad", "torch", 1.0),
            _speed_target(case, "flowgrad compiled time <= 0.6 x PyTorch eager's", "flowgrad-compiled", "torch", 0.6),
        ]
    if name == "time_to_accuracy":
        reached = {n: r["seconds"] for n, r in case.get("results", {}).items() if r.get("seconds") is not None}
        first = min(reached, key=reached.__getitem__) if reached else None
        shown = None if first is None or len(reached) < 2 else f"{first} first, of {', '.join(sorted(reached))}"
        return [_row(name, "flowgrad train reaches 97% test accuracy first", shown, first == "flowgrad",
                     "fewer than two contenders reached the accuracy")]  # fmt: skip
    if name == "import":
        ms = case.get("difference_ms")
        return [
            _row(
                name,
                "import flowgrad adds <= 40 ms to import numpy",
                None if ms is None else f"{ms:.1f} ms",
                ms is not None and ms <= 40,
            )
        ]
    if name == "memory":
        ratio, growth = case.get("peak_rss_ratio"), case.get("growth_mb")
        return [
            _row(
                name,
                "peak RSS of 20 large steps <= 1.25 x hand NumPy's",
                None if ratio is None else f"{ratio:.2f}x",
                ratio is not None and ratio <= 1.25,
                case.get("peak_rss_why", ""),
            ),
            _row(
                name,
                "RSS growth over 10,000 tiny steps (flowgrad eager) < 5 MB",
                None if growth is None else f"{growth:.2f} MB",
                growth is not None and growth < 5,
                case.get("growth_why", ""),
            ),
        ]
    return []


def format_targets(rows: list) -> str:
    lines = []
    for t in rows:
        measured = t["measured"] if t["measured"] is not None else f"({t['why']})"
        lines.append(f"  target [{t['verdict']:>4}] {t['target']}: {measured}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m benchmarks.report results.json ...: the runs as Markdown
    import json
    import sys

    for path in sys.argv[1:]:
        with open(path) as f:
            print(markdown(json.load(f)), end="\n\n")
