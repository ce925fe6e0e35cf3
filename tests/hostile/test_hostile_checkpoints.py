"""Mutated checkpoint files: each is refused with one clear fg.CheckpointError, or loads correctly.

The mutants (see mutate_checkpoint.py) are truncated, bit-flipped, spliced, given headers
with huge sizes, negative or overlapping offsets, bad dtypes and shapes, duplicate names,
non-UTF-8 or non-strict JSON, hostile flowgrad trees with recomputed checksums, or replaced
by pickles, zips, .npy files and garbage. For every one, fg.load (or fg.load_checkpoint)
must either

- raise exactly a ``fg.CheckpointError`` whose message starts with the file's path and says
  what is wrong, and (load_checkpoint) leave the model, the optimizer and the RNG untouched;
- or load, and give what the file really holds: the original state when the change was
  harmless, what its bytes say for plain files, well-formed state when the checksums were
  recomputed;

within the time budget and allocating no more than a small multiple of the file's size.
CI runs 750 of them; ``make verify`` (FLOWGRAD_VERIFY=1) runs 7,500.
"""

from __future__ import annotations

from functools import cache

import pytest

import flowgrad as fg

from . import harness, oracle
from . import mutate_checkpoint as mc

LOADS = 6000 if harness.VERIFY else 600
CHECKPOINTS = 1500 if harness.VERIFY else 150
CHUNK = 50


def _judge_loaded(m: mc.Mutant, value, tmp_path) -> str | None:
    base = next(b for b in mc.bases() if b.name == m.base)
    if m.oracle == "same":
        if oracle.difference(base.state, value) is None:
            return None
        if not mc.has_flowgrad_metadata(m.data):  # the change left a plain safetensors file
            return _judge_plain(m, value)
        return f"loaded without an error but not the original state ({oracle.difference(base.state, value)})"
    if m.oracle == "plain":
        return _judge_plain(m, value)
    # Resigned: the checksums match the change, so other content is fine; it must be sane state.
    problem = oracle.malformed(value)
    if problem:
        return f"loaded malformed state: {problem}"
    again = tmp_path / "again.safetensors"
    try:
        fg.save(value, again, backend="builtin")
        back = fg.load(again)
    except fg.CheckpointError as e:
        return f"loaded a state that does not save and load again: {e}"
    problem = oracle.difference(value, back)
    return None if problem is None else f"loaded a state that does not round-trip: {problem}"


def _judge_plain(m: mc.Mutant, value) -> str | None:
    try:
        expected = {name: fg.from_numpy(arr) for name, arr in mc.decode_plain(m.data).items()}
    except Exception as e:  # noqa: BLE001 - the independent reader refuses what flowgrad accepted
        return f"loaded a file the reference reader cannot read ({type(e).__name__}: {e})"
    problem = oracle.difference(expected, value)
    return None if problem is None else f"loaded a plain file wrongly: {problem}"


@pytest.mark.parametrize("chunk", harness.chunks(LOADS, CHUNK), ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_mutated_files_are_refused_clearly_or_load_correctly(chunk, tmp_path):
    tally = harness.tally("fg.load")
    wrong = []
    with harness.metered():
        for index in chunk:
            m = mc.mutant(index)
            path = tmp_path / f"m{index:05d}-{m.base}-{m.kind}.safetensors"
            path.write_bytes(m.data)
            out = harness.attempt(lambda: fg.load(path))
            if out.error is not None:
                problem = harness.judge_error(out, fg.CheckpointError, str(path), len(m.data))
            else:
                problem = _judge_loaded(m, out.value, tmp_path)
            problem = problem or harness.judge_cost(out, len(m.data))
            tally.count(m.kind, out, len(m.data), problem and f"{path.name}: {problem}", loaded=out.error is None)
            if problem:
                wrong.append(f"{path.name}: {problem}")
            path.unlink()
    assert not wrong, f"{len(wrong)} of {len(chunk)} mutated files handled wrongly:\n" + "\n".join(wrong[:20])


@cache
def _checkpoint():
    data, net, opt = mc.checkpoint_base()
    return data, oracle.freeze(net.state_dict()), oracle.freeze(opt.state_dict())


@pytest.mark.parametrize("chunk", harness.chunks(CHECKPOINTS, CHUNK), ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_mutated_checkpoints_restore_all_or_nothing(chunk, tmp_path):
    data, saved_model, saved_optimizer = _checkpoint()
    saved_rng = fg.load(_write(tmp_path / "base.safetensors", data))["rng_state"]
    tally = harness.tally("fg.load_checkpoint")
    wrong = []
    with harness.metered():
        for index in chunk:
            m = mc.mutant(10**6 + index, data, "checkpoint")
            path = _write(tmp_path / f"c{index:05d}-{m.kind}.safetensors", m.data)
            net, opt = mc.make_training(1 + index % 3)  # other weights, another RNG state
            model_before, optimizer_before = oracle.freeze(net.state_dict()), oracle.freeze(opt.state_dict())
            rng_before = fg.get_rng_state()
            out = harness.attempt(lambda: fg.load_checkpoint(path, model=net, optimizer=opt))
            if out.error is not None:
                problem = harness.judge_error(out, fg.CheckpointError, str(path), len(m.data)) or _first(
                    oracle.difference(model_before, net.state_dict(), "model after a refused load"),
                    oracle.difference(optimizer_before, opt.state_dict(), "optimizer after a refused load"),
                    None if fg.get_rng_state() == rng_before else "the RNG state changed on a refused load",
                )
            elif m.oracle == "same":
                info = out.value
                problem = _first(
                    oracle.difference(saved_model, net.state_dict(), "model"),
                    oracle.difference(saved_optimizer, opt.state_dict(), "optimizer"),
                    None if fg.get_rng_state() == saved_rng else "the RNG state was not restored",
                    None
                    if (info["epoch"], info["best"], info["notes"]) == (3, 0.25, ["warm-up"])
                    else f"extras {info!r:.200}",
                )
            else:
                problem = None  # resigned: other content may load; the restore itself must not fail badly
            problem = problem or harness.judge_cost(out, len(m.data))
            tally.count(m.kind, out, len(m.data), problem and f"{path.name}: {problem}", loaded=out.error is None)
            if problem:
                wrong.append(f"{path.name}: {problem}")
            path.unlink()
    assert not wrong, f"{len(wrong)} of {len(chunk)} mutated checkpoints handled wrongly:\n" + "\n".join(wrong[:20])


def _write(path, data):
    path.write_bytes(data)
    return path


def _first(*problems):
    return next((p for p in problems if p), None)
