"""What a replica wants done: the only outputs of Replica.step.

Replica.step returns a list of effects. The node carries them out IN LIST ORDER, and
finishes the whole list before it calls step again. Its duties, in order:

1. Persist(record): write `record.value` under `record.key` to durable storage (a
   synced write) BEFORE executing any later Send or Broadcast of the same list. Records
   with the same key replace each other; keys are few, so storage stays bounded
   (consensus.records lists them). This is what stops a restarted replica from
   contradicting a message it sent before it crashed.
2. Send(to, message) / Broadcast(message): encode with consensus.messages.encode_message
   and send to replica `to` / to every other replica. Best effort: losing, delaying,
   duplicating or reordering messages is allowed; the core retransmits.
3. Deliver(block, certificate): blocks come strictly in height order, each exactly once.
   Execute the block with the voting state machine and append it, with its certificate,
   to the chain store, before the next call to step. (The core asks the Application about
   the next block in that next step, so the state must be there by then.)
4. FetchBlocks(from_height, to_height_hint, peers): state transfer. Ask `peers` (most
   advanced first) for committed blocks from `from_height` on, with their certificates,
   and feed what comes back as one BlocksFetched event, in height order. No reply at all
   is fine: the core asks again after a timeout. The core verifies everything it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from chain.block import Block
from chain.certificate import CommitCertificate
from consensus.messages import Message
from consensus.records import Record
from consensus.types import Height, ReplicaId


@dataclass(frozen=True)
class Persist:
    """Durably store `record` (record.key -> record.value) before any later send."""

    record: Record


@dataclass(frozen=True)
class Send:
    """Send `message` to replica `to`."""

    to: ReplicaId
    message: Message


@dataclass(frozen=True)
class Broadcast:
    """Send `message` to every replica except this one."""

    message: Message


@dataclass(frozen=True)
class Deliver:
    """Execute and store committed `block`, whose commit certificate is `certificate`."""

    block: Block
    certificate: CommitCertificate


@dataclass(frozen=True)
class FetchBlocks:
    """Fetch committed blocks from `from_height` up to about `to_height_hint` from `peers`."""

    from_height: Height
    to_height_hint: Height
    peers: tuple[ReplicaId, ...]


Effect: TypeAlias = Persist | Send | Broadcast | Deliver | FetchBlocks


def describe_effect(effect: Effect) -> str:
    """One line for logs and simulator traces."""
    match effect:
        case Persist(record):
            return f"persist {record.describe()}"
        case Send(to, message):
            return f"send to r{to}: {message.describe()}"
        case Broadcast(message):
            return f"broadcast: {message.describe()}"
        case Deliver(block, certificate):
            return (
                f"deliver h={block.height} block={block.block_hash.hex()[:8]} "
                f"txs={len(block.transactions)} certified in v={certificate.view}"
            )
        case FetchBlocks(from_height, to_height_hint, peers):
            return f"fetch blocks {from_height}..{to_height_hint} from {list(peers)}"
