"""What the benchmark reads from the machine: CPU seconds and memory of processes from
/proc, disk usage of folders, and latency percentiles.

CPU time of a process is utime + stime from /proc/PID/stat (fields 14 and 15, in clock
ticks; proc(5)), summed over its threads by the kernel. A cluster's CPU over a run is the
sum, over its processes and their live descendants, of that figure after the run minus
before it; a process that starts or ends between the two readings counts what it had.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    cpu_s: float
    """utime + stime of the process (all its threads), in seconds."""


def parse_stat(text: str) -> ProcStat:
    """One /proc/PID/stat line. The command name (field 2) is in parentheses and may hold
    spaces or parentheses itself, so the fields are counted from the last ')'."""
    pid = int(text.split(" ", 1)[0])
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    ppid, utime, stime = int(rest[1]), int(rest[11]), int(rest[12])
    return ProcStat(pid, ppid, (utime + stime) / CLOCK_TICKS_PER_S)


def read_stat(pid: int, proc: Path = PROC) -> ProcStat | None:
    """The process's figures, or None if it has gone."""
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def process_tree(roots: Iterable[int], proc: Path = PROC) -> list[int]:
    """The roots and every live descendant (signature workers, thread pools are threads
    and already counted in their process)."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name), proc)
            if stat is not None:
                children.setdefault(stat.ppid, []).append(stat.pid)
    found: list[int] = []
    pending = list(roots)
    while pending:  # bounded: each pid is visited once, the tree has no cycles
        pid = pending.pop()
        if pid in found:
            continue
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def cpu_seconds(roots: Iterable[int], proc: Path = PROC) -> dict[int, float]:
    """CPU seconds so far of each process in the trees under `roots`, by pid."""
    result = {}
    for pid in process_tree(roots, proc):
        stat = read_stat(pid, proc)
        if stat is not None:
            result[pid] = stat.cpu_s
    return result


def cpu_used_s(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings of `cpu_seconds`. A process that appeared
    in between counts all it used; one that vanished counts what it had at the first
    reading as spent before (its last seconds are lost: /proc no longer has them)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    """Resident set size (VmRSS in /proc/PID/status), 0 if the process has gone."""
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024  # the kernel writes kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


def disk_bytes(folder: Path) -> int:
    """Bytes the folder's files occupy on disk (st_blocks, as `du` counts them)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue  # LevelDB removed a file between listing and stat
    return total


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of unsorted values (fraction 0.5 is the median, 0.99 the
    p99): the smallest value with at least that fraction of values at or below it;
    NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_summary_ms(latencies_s: Sequence[float]) -> dict[str, float | int]:
    """Count, p50, p99 and max of latencies given in seconds, in milliseconds."""
    if not latencies_s:
        return {"count": 0}
    return {
        "count": len(latencies_s),
        "p50_ms": round(percentile(latencies_s, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies_s, 0.99) * 1000, 1),
        "max_ms": round(max(latencies_s) * 1000, 1),
    }
