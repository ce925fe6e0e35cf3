"""Running the cases: worker processes, interleaved timing rounds, import time and memory.

Every contender runs in a process of its own (``benchmarks.worker``), started with the thread
count fixed in its environment. The workers of one case are set up one after the other, then
timed in rounds: each round asks every worker for one block of steps, the order rotating from
round to round, while the others wait idle on their pipe.
"""

from __future__ import annotations

import json
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
LOSS_TOLERANCE = 1e-5
REFERENCES = ("numpy", "torch", "jax")  # the contenders others are compared with
QUIET_CORES = 0.1  # other programs' load (cores) above which a timing round is run again


def child_env(threads: int) -> dict:
    """The environment of every child: thread counts fixed before anything imports NumPy."""
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    env["JAX_PLATFORMS"] = "cpu"
    if threads == 1:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class WorkerError(RuntimeError):
    pass


class Worker:
    """A ``benchmarks.worker`` process and its line protocol."""

    def __init__(self, contender: str, problem: str, threads: int, *options: str, mode: str = "timed") -> None:
        self.contender = contender
        self.stderr = tempfile.TemporaryFile(mode="w+")
        command = [sys.executable, "-m", "benchmarks.worker", "--mode", mode, "--problem", problem]
        command += ["--contender", contender, "--threads", str(threads), *options]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=child_env(threads),
            cwd=ROOT,
        )

    def receive(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self._stop()
            why = "timed out" if not ready else f"exited with status {self.proc.returncode}"
            self.stderr.seek(0)
            tail = self.stderr.read().strip().splitlines()[-3:]
            self.close()
            raise WorkerError(f"{self.contender} {why}" + (": " + " | ".join(tail) if tail else ""))
        return json.loads(line)

    def request(self, command: str, timeout: float) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.receive(timeout)

    def _stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        self._stop()
        self.stderr.close()


def run_worker_once(contender: str, problem: str, threads: int, mode: str, *options: str, timeout: float = 900) -> dict:
    worker = Worker(contender, problem, threads, *options, mode=mode)
    try:
        return worker.receive(timeout)
    finally:
        worker.close()


def relative_difference(a: list, b: list) -> float:
    return max(abs(x - y) / max(abs(y), 1e-30) for x, y in zip(a, b))


def paired_ratio(result: dict, reference: dict) -> float:
    """The median over rounds of this contender's time per step over the reference's."""
    pairs = zip(result["block_times_s"], reference["block_times_s"])
    return statistics.median((a / result["steps_per_block"]) / (b / reference["steps_per_block"]) for a, b in pairs)


def _busy(meter: OtherLoad) -> float:
    load = meter.cores()
    return load["other_cores"] + load["steal_cores"] if load else 0.0


def quiet_rounds(n: int, run_round: Callable[[int], dict], pids: Callable[[], list], settings: dict) -> tuple:
    """``n`` rounds that other programs left alone. A round during which they kept more than
    QUIET_CORES busy is thrown away; then we wait, checking every ``settings["busy_pause"]``
    seconds, until they are quiet and run it again. After ``settings["max_wait"]`` seconds of
    that, rounds are kept as they come (and counted as disturbed). Returns the kept rounds'
    outcomes and a summary."""
    kept, loads, discarded = [], [], 0
    deadline = time.monotonic() + settings["max_wait"]
    while len(kept) < n:
        meter = OtherLoad(pids())
        outcome = run_round(len(kept) + discarded)
        busy = _busy(meter)
        if busy > QUIET_CORES and time.monotonic() < deadline:
            discarded += 1
            while time.monotonic() < deadline:
                meter = OtherLoad(pids())
                time.sleep(settings["busy_pause"])
                if _busy(meter) <= QUIET_CORES:
                    break
            continue
        kept.append(outcome)
        loads.append(busy)
    summary = {"kept": len(kept), "discarded": discarded, "disturbed_kept": sum(b > QUIET_CORES for b in loads)}
    summary["max_wait_s"] = settings["max_wait"]
    summary["mean_other_cores_kept"] = statistics.mean(loads) if loads else None
    return kept, summary


def time_case(problem: str, contenders: list, threads: int, settings: dict, gemm: int = 0) -> tuple:
    """Time one saved problem for each contender; returns ({name: result}, rounds summary).

    With ``gemm`` every worker also times an n x n float32 matmul after each of its blocks.
    """
    options = ["--warmup", str(settings["warmup"]), "--block", str(settings["block"]), "--gemm", str(gemm)]
    results, workers = {}, {}
    pause = settings["pause"] if threads == 1 else settings["pause_threaded"]

    def run_round(r: int) -> dict:
        names = list(workers)
        times = {}
        for name in names[r % len(names) :] + names[: r % len(names)]:
            try:
                times[name] = workers[name].request("block", timeout=300)["t"]
                if gemm:
                    times[f"{name} gemm"] = workers[name].request("gemm", timeout=300)["t"]
            except WorkerError as e:
                results[name] = {"status": "failed", "note": str(e)}
                del workers[name]
            time.sleep(pause)  # lets spinning BLAS/OpenMP threads of the last one go to sleep
        return times

    try:
        for name in contenders:  # set up one at a time, so no set-up disturbs another's calibration
            worker = Worker(name, problem, threads, *options)
            try:
                ready = worker.receive(timeout=900)
            except WorkerError as e:
                results[name] = {"status": "failed", "note": str(e)}
                continue
            workers[name] = worker
            results[name] = {"status": "ok", **{k: v for k, v in ready.items() if k != "ready"}}
        rounds, summary = [], {}
        if workers:

            def pids() -> list:
                return [w.proc.pid for w in workers.values()]

            rounds, summary = quiet_rounds(settings["rounds"], run_round, pids, settings)
    finally:
        for worker in workers.values():
            worker.close()
    for name, result in results.items():
        if result["status"] == "ok":
            result["block_times_s"] = [times[name] for times in rounds if name in times]
            if gemm:
                best = min(times[f"{name} gemm"] for times in rounds if name in times)
                result["gemm_peak_gflops"] = 2 * gemm**3 / best / 1e9
            per_step = [t / result["steps_per_block"] for t in result["block_times_s"]]
            result["time_per_step_s"] = statistics.median(per_step)
            q = statistics.quantiles(per_step, n=4) if len(per_step) > 1 else [per_step[0]] * 3
            result["iqr_fraction"] = (q[2] - q[0]) / result["time_per_step_s"]
    ok = {name: r for name, r in results.items() if r["status"] == "ok"}
    for result in ok.values():
        # Paired ratios: a round times every contender within a second or two, so a slow spell of the
        # machine weighs on both sides of a ratio taken within the round.
        result["ratios"] = {ref: paired_ratio(result, ok[ref]) for ref in REFERENCES if ref in ok}
    reference = results.get("numpy", {}).get("losses")
    for name, result in ok.items():
        if reference and name != "numpy":
            result["loss_rel_diff"] = relative_difference(result["losses"], reference)
            result["loss_ok"] = result["loss_rel_diff"] <= LOSS_TOLERANCE
    return results, summary


def time_imports(threads: int, settings: dict) -> tuple:
    """Medians of `python -c "import numpy"` and `python -c "import flowgrad"` in fresh processes."""
    env = child_env(threads)
    # Bytecode as an installed package has it (pip compiles at install time): where
    # PYTHONDONTWRITEBYTECODE is set, an editable checkout would otherwise compile every module
    # of flowgrad from source in every timed process, while NumPy's came compiled with its wheel.
    import compileall

    compileall.compile_dir(os.path.join(ROOT, "flowgrad"), quiet=1)  # the children import it from ROOT

    def run_round(_: int) -> dict:
        times = {}
        for module in ("numpy", "flowgrad"):  # interleaved
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=ROOT, check=True)
            times[module] = time.perf_counter() - t0
        return times

    rounds, summary = quiet_rounds(settings["imports"], run_round, list, settings)
    times = {m: [r[m] for r in rounds] for m in ("numpy", "flowgrad")}
    medians = {m: statistics.median(ts) for m, ts in times.items()}
    result = {"numpy_s": medians["numpy"], "flowgrad_s": medians["flowgrad"], "repeats": len(rounds), "times_s": times}
    result["difference_ms"] = 1000 * (medians["flowgrad"] - medians["numpy"])
    return result, summary


class OtherLoad:
    """How many cores other programs kept busy meanwhile: the machine's busy time (/proc/stat)
    less that of this process, its finished children and the live processes ``pids``. Zero on
    a quiet machine; None where /proc is missing."""

    def __init__(self, pids: list = ()) -> None:
        self.pids = list(pids)
        self.start = self._sample()

    def _sample(self) -> tuple | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        own = sum(
            getattr(resource.getrusage(who), f)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for f in ("ru_utime", "ru_stime")
        )
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                own += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            except (OSError, IndexError, ValueError):
                pass  # ended: counted with the finished children once waited for
        return (user + nice + system + irq + softirq) / tick, steal / tick, own, time.perf_counter()

    def cores(self) -> dict | None:
        end = self._sample()
        if self.start is None or end is None:
            return None
        busy, steal, own, wall = (b - a for a, b in zip(self.start, end))
        return {"other_cores": max(0.0, (busy - own) / wall), "steal_cores": steal / wall}
