"""py-spy profiles of the nodes during the closed-loop maximum (`python -m bench --profile
DIR`): where each node's CPU goes at full load, the question every change of issue 13
starts from.

py-spy samples a running process from outside (no change to the node, no restart). Each
profile is written in py-spy's raw format (one collapsed stack a line, then its sample
count), which flamegraph.pl and speedscope read, and is summarised here as the functions
with the most samples on top of the stack (self) and anywhere in it (total).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES_PER_S = 100
TOP_ENTRIES = 12
STOP_TIMEOUT_S = 30.0


@dataclass
class Recording:
    name: str
    path: Path
    process: subprocess.Popen[bytes]


def find_py_spy() -> str | None:
    """py-spy on PATH, or beside this Python (an activated-or-not venv)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def start(py_spy: str, pids: dict[str, int], folder: Path, duration_s: float) -> list[Recording]:
    """One `py-spy record` per process, for `duration_s`, in the background."""
    folder.mkdir(parents=True, exist_ok=True)
    recordings = []
    for name, pid in pids.items():
        path = folder / f"{name}.txt"
        command = [
            py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(path),
            "--rate", str(SAMPLES_PER_S), "--duration", str(max(1, round(duration_s))),
            "--nonblocking",  # do not pause the node to sample it: its timing is the figure
        ]  # fmt: skip
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        recordings.append(Recording(name, path, process))
    return recordings


def finish(recordings: list[Recording]) -> dict[str, Any]:
    """Wait for the recordings; each one's summary, or why there is none."""
    summaries: dict[str, Any] = {}
    for recording in recordings:
        try:
            recording.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            recording.process.kill()
            recording.process.wait()
        if not recording.path.exists():
            summaries[recording.name] = {"error": f"no profile; see {recording.path}.log"}
            continue
        summaries[recording.name] = summarise(recording.path.read_text()) | {
            "file": str(recording.path)
        }
    return summaries


def summarise(raw: str, top: int = TOP_ENTRIES) -> dict[str, Any]:
    """Samples, and the `top` functions by self and by total share of the samples."""
    self_samples: Counter[str] = Counter()
    total_samples: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        self_samples[frames[-1]] += count
        for frame in set(frames):
            total_samples[frame] += count

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[round(100 * c / samples, 1), f] for f, c in counter.most_common(top)]

    if not samples:
        return {"samples": 0, "self_pct": [], "total_pct": []}
    return {"samples": samples, "self_pct": share(self_samples), "total_pct": share(total_samples)}


def summary_text(name: str, summary: dict[str, Any]) -> str:
    if "error" in summary:
        return f"{name}: {summary['error']}"
    lines = [f"{name}: {summary['samples']:,} samples; top self:"]
    lines += [f"  {pct:5.1f}%  {frame}" for pct, frame in summary["self_pct"]]
    return "\n".join(lines)
