"""What happens to a replica: the only inputs of Replica.step.

The node turns network frames, mempool admissions, its clock and state-transfer
replies into these frozen values. Nothing else reaches the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from chain.block import Block
from chain.certificate import CommitCertificate
from chain.tx import Transaction
from consensus.messages import Message
from consensus.types import ReplicaId


@dataclass(frozen=True)
class MessageReceived:
    """`message` arrived on the authenticated connection of peer `sender`.

    The core still checks the message's own signature, and drops it unless its
    `replica` field is `sender`.
    """

    sender: ReplicaId
    message: Message


@dataclass(frozen=True)
class RequestReceived:
    """The node's mempool admitted `tx`; the core orders it (duplicates are ignored)."""

    tx: Transaction


@dataclass(frozen=True)
class Tick:
    """One tick of the node's timer; `now_ms` is the node's wall clock (Unix ms).

    Timeouts count ticks. `now_ms` is used only to propose and check block timestamps.
    """

    now_ms: int


@dataclass(frozen=True)
class FlushRequests:
    """The node finished a burst of work (one turn of its event loop): send now what waits.

    A backup hands the requests it queued for the primary over in RequestBatches at once,
    instead of at the next tick. Optional: a node that never sends it loses nothing but
    that tick of latency (the simulator does not). Like every event, it also lets the
    replica act on blocks the node executed since its last step (the primary proposes the
    next block).
    """


@dataclass(frozen=True)
class BlocksFetched:
    """Reply to a FetchBlocks effect: committed blocks with their certificates, in order."""

    blocks: tuple[tuple[Block, CommitCertificate], ...]


Event: TypeAlias = MessageReceived | RequestReceived | Tick | BlocksFetched | FlushRequests
