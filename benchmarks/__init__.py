"""flowgrad's benchmark suite: ``python -m benchmarks`` (or ``make bench``).

Each case runs once per installed contender, each contender in a process of its own,
timed in interleaved rounds; see docs/performance.md. Nothing here is imported by flowgrad.
"""
