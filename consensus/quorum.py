"""Counting distinct replicas that agree: the small quorum type of the protocol.

A Quorum holds at most one message per replica, each filed under the value it speaks
for (a block hash, a (view, block hash) pair, a checkpoint). The replica asks how many
distinct replicas back a value and for their messages, to build certificates. It never
counts a replica twice, whatever a Byzantine sender repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from consensus.types import ReplicaId

K = TypeVar("K", bound=Hashable)
M = TypeVar("M")


class Quorum(Generic[K, M]):
    """One message per replica, grouped by the value it backs."""

    def __init__(self, needed: int) -> None:
        self.needed = needed
        self._by_replica: dict[ReplicaId, tuple[K, M]] = {}

    def __len__(self) -> int:
        return len(self._by_replica)

    def add(
        self,
        replica: ReplicaId,
        value: K,
        message: M,
        supersedes: Callable[[M, M], bool] | None = None,
    ) -> bool:
        """File `message` from `replica` under `value`; False if it was not taken.

        A replica's first message stays unless `supersedes(new, old)` says the new one
        replaces it (for example a commit from a later view).
        """
        held = self._by_replica.get(replica)
        if held is not None and (supersedes is None or not supersedes(message, held[1])):
            return False
        self._by_replica[replica] = (value, message)
        return True

    def get(self, replica: ReplicaId) -> M | None:
        held = self._by_replica.get(replica)
        return None if held is None else held[1]

    def count(self, value: K) -> int:
        return sum(1 for held, _ in self._by_replica.values() if held == value)

    def messages_for(self, value: K) -> list[M]:
        """The messages backing `value`, in replica order."""
        return [
            message
            for _, (held, message) in sorted(self._by_replica.items(), key=lambda kv: kv[0])
            if held == value
        ]

    def values_reaching(self, needed: int | None = None) -> list[K]:
        """Every value backed by at least `needed` (default: the quorum) replicas."""
        threshold = self.needed if needed is None else needed
        counts: dict[K, int] = {}
        for held, _ in self._by_replica.values():
            counts[held] = counts.get(held, 0) + 1
        return [value for value, count in counts.items() if count >= threshold]

    def items(self) -> list[tuple[ReplicaId, K, M]]:
        return [(r, v, m) for r, (v, m) in sorted(self._by_replica.items(), key=lambda kv: kv[0])]

    def remove_if(self, predicate: Callable[[K, M], bool]) -> None:
        for replica in [r for r, (v, m) in self._by_replica.items() if predicate(v, m)]:
            del self._by_replica[replica]

    def clear(self) -> None:
        self._by_replica.clear()
