"""Free loopback ports for the clusters that tests and benchmarks start.

A port is chosen some seconds before its server binds it. A port from the kernel's
ephemeral range (bind to port 0) can be taken in between by any outgoing connection on
the machine, and a flooding test opens thousands: CI lost an attester so. Ports here come
from below that range, where the kernel never picks on its own; each pytest-xdist worker
draws from its own slice, and a process starts at a random place in its slice, so two
processes rarely try the same port and a port in use is skipped.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

LOWEST_PORT = 10_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _slice() -> range:
    """This process's ports: the whole non-ephemeral range, or an xdist worker's share."""
    low, high = LOWEST_PORT, max(LOWEST_PORT + 1_000, _ephemeral_low())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        width = (high - low) // count
        low += int(worker[2:]) % count * width
        high = low + width
    return range(low, high)


class _Ports:
    def __init__(self) -> None:
        self.ports = _slice()
        self.next = random.randrange(len(self.ports))
        self.handed_out: set[int] = set()

    def take(self) -> int:
        for _ in range(2):
            for _ in range(len(self.ports)):
                port = self.ports[self.next % len(self.ports)]
                self.next += 1
                if port not in self.handed_out and _bindable(port):
                    self.handed_out.add(port)
                    return port
            self.handed_out.clear()  # all handed out once: the earliest are long closed
        raise RuntimeError(f"no free port in {self.ports.start}-{self.ports.stop - 1}")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_PORTS: _Ports | None = None


def free_port() -> int:
    """A loopback port nobody listens on, never one this process handed out before."""
    global _PORTS
    if _PORTS is None:
        _PORTS = _Ports()
    return _PORTS.take()
