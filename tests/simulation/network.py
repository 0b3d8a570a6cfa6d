"""The simulated network: a seeded, virtual-time message queue with faults.

Messages travel as encoded bytes (so every frame goes through decode_message). Each
send is dropped, duplicated or delayed by the seeded random source; random delays
reorder messages. Partitions are sets of cut directed links: `cut(a, b)`, `isolate(r)`,
`heal()`. Replay re-injects a message sent earlier, as an attacker on the wire could.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

MAX_REPLAY_HISTORY = 200


@dataclass
class NetworkFaults:
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    replay_rate: float = 0.0


class SimNetwork:
    """Decides when, and whether, each message arrives."""

    def __init__(
        self, rng: random.Random, replicas: int, delay_ms_min: int, delay_ms_max: int
    ) -> None:
        self.rng = rng
        self.replicas = replicas
        self.delay_ms_min = delay_ms_min
        self.delay_ms_max = delay_ms_max
        self.faults = NetworkFaults()
        self._cut: set[tuple[int, int]] = set()
        self._history: deque[tuple[int, int, bytes]] = deque(maxlen=MAX_REPLAY_HISTORY)
        self.sent = 0
        self.dropped = 0

    def cut(self, a: int, b: int) -> None:
        """Cut both directions between a and b."""
        self._cut.add((a, b))
        self._cut.add((b, a))

    def isolate(self, replica: int) -> None:
        for other in range(self.replicas):
            if other != replica:
                self.cut(replica, other)

    def heal(self) -> None:
        self._cut.clear()

    def connected(self, a: int, b: int) -> bool:
        return (a, b) not in self._cut

    def route(self, sender: int, to: int, data: bytes) -> list[tuple[int, int, int, bytes]]:
        """Arrivals (delay_ms, sender, to, data) for one send; empty if it is lost."""
        self.sent += 1
        if not self.connected(sender, to) or self.rng.random() < self.faults.drop_rate:
            self.dropped += 1
            return []
        arrivals = [(self._delay(), sender, to, data)]
        if self.rng.random() < self.faults.duplicate_rate:
            arrivals.append((self._delay() * 2, sender, to, data))
        replay = self.faults.replay_rate and self._history
        if replay and self.rng.random() < self.faults.replay_rate:
            old_sender, old_to, old_data = self.rng.choice(self._history)
            if self.connected(old_sender, old_to):
                arrivals.append((self._delay() * 5, old_sender, old_to, old_data))
        self._history.append((sender, to, data))
        return arrivals

    def _delay(self) -> int:
        return self.rng.randint(self.delay_ms_min, self.delay_ms_max)
