"""How much memory this process uses and the machine has left, per stage of a command.

The pipeline's big steps (dbt, training, scoring, materialization) are bounded by memory long
before time: one that outgrows the machine is killed by the kernel with no word of why. So
each step logs, per stage, its wall seconds and its resident memory (`Stages`), and a step
that can estimate its need from row counts compares it with `available_bytes()` before it
starts (`modeling.training_set` for training).

Peak RSS is the process's high-water mark (getrusage's ru_maxrss), which never goes down: the
stage whose peak is higher than the previous stage's is the one that raised it. It is not
reset per stage on purpose: resetting the kernel's mark (/proc/self/clear_refs) would also
make `/usr/bin/time -v` report only the last stage. Current RSS (/proc/self/statm) says how
much a stage left behind. Linux values; elsewhere current RSS and available memory are None.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time
from pathlib import Path

GB = 1024**3

__all__ = [
    "GB",
    "Stages",
    "available_bytes",
    "children_peak_rss_bytes",
    "current_rss_bytes",
    "peak_rss_bytes",
    "refuse_unless_fits",
    "usage",
]


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def children_peak_rss_bytes() -> int:
    """The largest peak RSS of any child process that has ended and been waited for (worker
    processes, dbt): not part of this process's own peak."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int | None:
    """Resident set size now, from /proc/self/statm (pages); None where there is no /proc."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def available_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """The kernel's MemAvailable: what can be allocated without swapping; None if unknown."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, IndexError, ValueError):
        return None
    return None


def usage() -> dict[str, float | None]:
    """Peak and current RSS now, in GB (2 decimals): what a stage records."""
    rss = current_rss_bytes()
    return {
        "peak_rss_gb": round(peak_rss_bytes() / GB, 2),
        "rss_gb": None if rss is None else round(rss / GB, 2),
    }


class Stages:
    """Wall seconds and memory per stage of a run (each `lap` ends one), logged and kept.

    `seconds` and `memory` are keyed by stage, for a metrics file; `summary()` adds the totals.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.seconds: dict[str, float] = {}
        self.memory: dict[str, dict[str, float | None]] = {}
        self._started = self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 2)
        self.memory[stage] = usage()
        self._last = now
        self.log.info(
            "stage %s: %.1f s, peak RSS %.2f GB, RSS %s GB",
            stage,
            self.seconds[stage],
            self.memory[stage]["peak_rss_gb"],
            self.memory[stage]["rss_gb"],
        )

    def summary(self) -> dict[str, dict]:
        """{"seconds": per stage + total, "memory_gb": per stage + the run's peak}."""
        total = round(time.perf_counter() - self._started, 2)
        return {
            "seconds": {**self.seconds, "total": total},
            "memory_gb": {**self.memory, "total": usage()},
        }


def refuse_unless_fits(need_bytes: float, *, what: str, limit_gb: float | None, knobs: str) -> None:
    """Exit with a message naming `knobs` when `need_bytes` exceeds the limit in force: the
    smaller of `limit_gb` (when set) and the memory available now. Better than the kernel's
    out-of-memory kill, which says nothing, after minutes of work."""
    limits = []
    if limit_gb is not None:
        limits.append((limit_gb * GB, f"the memory limit of {limit_gb:g} GB"))
    available = available_bytes()
    if available is not None:
        limits.append((available, f"the {available / GB:.1f} GB available now (MemAvailable)"))
    if not limits:
        return
    limit, source = min(limits)
    if need_bytes > limit:
        raise SystemExit(
            f"not enough memory: {what} would need about {need_bytes / GB:.1f} GB, more than "
            f"{source}. {knobs}"
        )
