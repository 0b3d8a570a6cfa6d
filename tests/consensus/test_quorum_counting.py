"""The quorum type counts distinct replicas per value (consensus.quorum.Quorum).

Castro & Liskov (OSDI'99, section 4.2): a replica is prepared or committed when 2f + 1
*distinct* replicas agree on the same value. A Byzantine replica that repeats itself or
speaks for two values must never count twice.
"""

from __future__ import annotations

from consensus.quorum import Quorum
from consensus.types import ReplicaId


def test_count_is_the_number_of_distinct_replicas_backing_that_value() -> None:
    quorum: Quorum[str, str] = Quorum(3)
    assert quorum.count("A") == 0
    quorum.add(ReplicaId(0), "A", "m0")
    quorum.add(ReplicaId(1), "A", "m1")
    quorum.add(ReplicaId(2), "B", "m2")
    assert quorum.count("A") == 2
    assert quorum.count("B") == 1
    assert quorum.count("C") == 0
    quorum.add(ReplicaId(3), "A", "m3")
    assert quorum.count("A") == 3
    assert quorum.values_reaching() == ["A"]


def test_a_replica_repeating_itself_or_changing_its_value_counts_once() -> None:
    quorum: Quorum[str, str] = Quorum(3)
    quorum.add(ReplicaId(1), "A", "first")
    assert not quorum.add(ReplicaId(1), "A", "again")
    assert not quorum.add(ReplicaId(1), "B", "other value")
    assert quorum.count("A") == 1 and quorum.count("B") == 0
    # a message that supersedes (a later view's) replaces the replica's vote, not adds one
    assert quorum.add(ReplicaId(1), "B", "later", supersedes=lambda new, old: True)
    assert quorum.count("A") == 0 and quorum.count("B") == 1
    assert len(quorum) == 1
