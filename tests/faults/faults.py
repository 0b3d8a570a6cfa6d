"""Faults as small classes: `inject` breaks something, `heal` undoes it.

Each fault names its kind (the campaign counts faults by kind) and its victim(s). The
campaign runs one fault at a time: inject, hold for the fault's duration, heal. A node a
fault stopped comes back through the cluster's supervisor, as it would in production.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from node.service import DISK_PROBE_INTERVAL_S, EXIT_DISK_FAILED
from tests.faults.cluster import FaultCluster

FILL_CHUNKS_BYTES = (1 << 20, 65536, 4096, 1)
STOP_GRACE_S = 5.0
"""Beyond the node's probe interval, how long a full disk may take to stop its node
(a supervisor's poll, a slow exit on a loaded machine)."""


@dataclass
class Fault:
    kind = "fault"
    victim: str
    duration_s: float

    def inject(self, cluster: FaultCluster) -> None:
        raise NotImplementedError

    def heal(self, cluster: FaultCluster) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind} {self.victim} for {self.duration_s:.1f} s"


@dataclass
class Kill(Fault):
    """SIGKILL: no chance to flush anything; the node is down until healed."""

    kind = "kill"

    def inject(self, cluster: FaultCluster) -> None:
        cluster.hold_down(self.victim, signal.SIGKILL)

    def heal(self, cluster: FaultCluster) -> None:
        cluster.release(self.victim)


@dataclass
class KillPrimary(Kill):
    """SIGKILL of the current primary: the others must change view to commit again."""

    kind = "kill_primary"


@dataclass
class Terminate(Kill):
    """SIGTERM: a graceful stop under load (must finish well inside the supervisor's grace)."""

    kind = "terminate"

    def inject(self, cluster: FaultCluster) -> None:
        cluster.hold_down(self.victim, signal.SIGTERM)


@dataclass
class Pause(Fault):
    """SIGSTOP, then SIGCONT: a node that stalls (swap storm, VM pause) and comes back with
    stale timers and half-read sockets."""

    kind = "stop"

    def inject(self, cluster: FaultCluster) -> None:
        cluster.send_signal(self.victim, signal.SIGSTOP)

    def heal(self, cluster: FaultCluster) -> None:
        cluster.send_signal(self.victim, signal.SIGCONT)


@dataclass
class Partition(Fault):
    """The victim is cut from the other validators (the test still reaches it)."""

    kind = "partition"

    def inject(self, cluster: FaultCluster) -> None:
        cluster.network.partition({cluster.node_ids.index(self.victim)})

    def heal(self, cluster: FaultCluster) -> None:
        cluster.network.heal()


@dataclass
class SplitPartition(Fault):
    """Two against two: no side has a quorum; nothing may commit, then both sides resume."""

    kind = "partition_split"
    partner: str = ""

    def inject(self, cluster: FaultCluster) -> None:
        ids = cluster.node_ids
        cluster.network.partition({ids.index(self.victim), ids.index(self.partner)})

    def heal(self, cluster: FaultCluster) -> None:
        cluster.network.heal()

    def describe(self) -> str:
        return f"{self.kind} {self.victim}+{self.partner} for {self.duration_s:.1f} s"


@dataclass
class DiskFull(Fault):
    """The victim's data disk fills up: it must stop at its first refused write (exit 74),
    be refused a restart while full, and catch up once the filler is removed."""

    kind = "disk_full"
    filler: Path | None = field(default=None, repr=False)
    fail_stopped: bool = False
    """Whether the victim exited with EXIT_DISK_FAILED while its disk was full."""
    _exits_before: int = 0
    _filled_at: float = 0.0

    def inject(self, cluster: FaultCluster) -> None:
        # a node still starting from an earlier fault would only be refused its start;
        # the fault is about a serving node whose disk fills under it
        cluster.wait_serving(self.victim, 30)
        self._exits_before = cluster.exits_by_node[self.victim][EXIT_DISK_FAILED]
        self.filler = fill(cluster.disk(self.victim))
        self._filled_at = time.monotonic()

    def heal(self, cluster: FaultCluster) -> None:
        # The node promises to stop within its probe interval of the disk filling, even
        # idle; the hold may end sooner (filling takes part of it on a loaded machine), so
        # wait out the rest of that promise before calling it missed.
        deadline = self._filled_at + DISK_PROBE_INTERVAL_S + STOP_GRACE_S
        while True:
            cluster.settle(self.victim)
            exits = cluster.exits_by_node[self.victim][EXIT_DISK_FAILED]
            self.fail_stopped = exits > self._exits_before
            if self.fail_stopped or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if self.filler is not None:
            self.filler.unlink(missing_ok=True)
        cluster.release(self.victim)  # restart now rather than at the end of the back-off


@dataclass
class ClockSkew(Fault):
    """The victim restarts with its wall clock off by offset_ms; healed by a restart
    with the true clock. Within the drift bound nothing may change; beyond it, the node's
    proposals and votes on others' proposals are refused, and the others carry on."""

    kind = "clock_skew"
    offset_ms: int = 0

    def inject(self, cluster: FaultCluster) -> None:
        cluster.restart_with_clock(self.victim, self.offset_ms)

    def heal(self, cluster: FaultCluster) -> None:
        cluster.restart_with_clock(self.victim, 0)

    def describe(self) -> str:
        return f"{self.kind} {self.victim} {self.offset_ms:+d} ms for {self.duration_s:.1f} s"


@dataclass
class ClockSkewBeyond(ClockSkew):
    kind = "clock_skew_beyond"


def fill(folder: Path) -> Path:
    """Fill the file system holding `folder` to the last byte."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk_bytes in FILL_CHUNKS_BYTES:
            block = b"\0" * chunk_bytes
            try:
                while True:
                    os.write(fd, block)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler
