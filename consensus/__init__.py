"""consensus: PBFT (Castro & Liskov, OSDI'99 / TOCS'02) as a pure state machine.

The core has no sockets, no timers, no disk, no clock and no randomness. A Replica is
an object the node feeds with events; it answers each with a list of effects. The same
code runs in the node and in the deterministic simulator (tests/simulation).

Starting a replica
------------------

    config = ReplicaConfig(chain_id, genesis.validator_set, ReplicaId(my_index),
                           genesis_time_ms=genesis.genesis_time_ms)
    records = [decode_record(k, v) for k, v in stored_consensus_records]  # [] at first start
    verified = VerifiedTransactions()   # chain.verified; also given to the mempool
    replica = Replica(config, my_key, app, records, store.head_height, store.head_hash,
                      verified)

`app` implements consensus.Application (build_block, validate_block, is_committed). At
height 0, pass the genesis hash as the head hash. `verified` is the node's one set of
transactions whose signatures it checked: pass the same one to the mempool and to block
validation (Block.verify_signatures), so each signature is checked once per node.

The loop
--------

    for event in events:                       # MessageReceived, RequestReceived, Tick,
        for effect in replica.step(event):     # BlocksFetched, FlushRequests
            carry_out(effect)                  # in order, all before the next step

The node's duties, in order (consensus.effects says the same, per effect):

1. Feed every event through `step`, one at a time, never concurrently.
   - MessageReceived(sender, decode_message(frame)) for frames from authenticated
     validator connections (the core checks each signature again).
   - RequestReceived(tx) for each transaction the mempool admits.
   - Tick(now_ms) at a fixed interval (e.g. every 100 ms); timeouts are in ticks.
   - BlocksFetched(blocks) when a FetchBlocks reply comes back.
   - FlushRequests() once at the end of a burst of RequestReceived events (the end of
     the event loop's turn), so a backup forwards them now, not at the next tick.
2. Persist(record): store record.value under record.key durably, before executing any
   later Send or Broadcast of the same list. Keep these records with the chain store.
3. Send / Broadcast: encode_message(message) and send; loss is tolerated.
4. Deliver(block, certificate): execute the block and append it with its certificate to
   the store before the next step. Blocks come in height order, each once.
5. FetchBlocks(from, to_hint, peers): fetch certified blocks from peers, feed them back.

Modules: replica (step and the handlers), messages, events, effects, app (the
Application protocol), records (what is persisted), log (slots and watermarks), quorum,
signatures (checks with a cache), viewchange (ViewChange/NewView rules), transfer (state
transfer), requests (pending client requests), types (View, Height, ReplicaId, config).

Which handler handles what: see consensus.replica's module docstring. Message formats
and validity rules: docs/PROTOCOL.md section 12. Why one block is in flight at a time:
docs/adr/003-one-block-in-flight.md.
"""

from consensus.app import Application
from consensus.effects import Broadcast, Deliver, Effect, FetchBlocks, Persist, Send
from consensus.errors import InvalidMessage, InvariantViolation
from consensus.events import (
    BlocksFetched,
    Event,
    FlushRequests,
    MessageReceived,
    RequestReceived,
    Tick,
)
from consensus.messages import (
    Checkpoint,
    Commit,
    Message,
    NewView,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    RequestBatch,
    ViewChange,
    decode_message,
    encode_message,
)
from consensus.records import Record, decode_record
from consensus.replica import Replica, ReplicaStats
from consensus.types import Height, ReplicaConfig, ReplicaId, View

__all__ = [
    "Application",
    "BlocksFetched",
    "Broadcast",
    "Checkpoint",
    "Commit",
    "Deliver",
    "Effect",
    "Event",
    "FetchBlocks",
    "FlushRequests",
    "Height",
    "InvalidMessage",
    "InvariantViolation",
    "Message",
    "MessageReceived",
    "NewView",
    "Persist",
    "PrePrepare",
    "Prepare",
    "PreparedCertificate",
    "Record",
    "Replica",
    "ReplicaConfig",
    "ReplicaId",
    "ReplicaStats",
    "RequestBatch",
    "RequestReceived",
    "Send",
    "Tick",
    "View",
    "ViewChange",
    "decode_message",
    "decode_record",
    "encode_message",
]
