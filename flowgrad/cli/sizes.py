"""Memory sizes for the config checks: what a model needs, what the machine has.

>>> model_bytes([10], n_in=13, n_out=1)  # 13*10+10 + 10*1+1 = 151 parameters, 4 copies of 4 bytes
2416
>>> human_bytes(2416), human_bytes(192 * 10**12)
('2.4 KB', '192.0 TB')
"""

from __future__ import annotations

import os


def model_bytes(widths: list[int], n_in: int, n_out: int, batch: int = 0, itemsize: int = 4) -> int:
    """Bytes an MLP needs: weights, gradients and two optimizer moments, and a batch's activations."""
    sizes = [n_in, *widths, n_out]
    params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    activations = batch * (n_in + 3 * sum(widths) + 2 * n_out) * 2  # forward values and their gradients
    return (4 * params + activations) * itemsize


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable, else physical memory), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for row in f:
                if row.startswith("MemAvailable:"):
                    return int(row.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def human_bytes(n: int) -> str:
    """``n`` bytes in decimal units, for messages."""
    if n < 1000:
        return f"{n} bytes"
    k = min(len(str(n)) - 1, 15) // 3  # 1 for thousands ... 5 for 10**15 and more
    return f"{n / 1000**k:.1f} {('KB', 'MB', 'GB', 'TB', 'PB')[k - 1]}"
