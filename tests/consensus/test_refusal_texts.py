"""What a node's log and metrics say about a refused consensus message or record, word for
word.

A malformed message from a peer is logged with its refusal, and a damaged record stops a
restart naming it; the replica's drops are counted by reason at /metrics. For every
position (three levels deep) of an honest message of each kind and of each record kind,
the value there is replaced by text, an empty array and zero, and the refusal is compared
with testdata/refusal_texts.json (`VOTECHAIN_REWRITE=1` writes it again; read the diff).
Issue 12's mutation sample of consensus/ left these texts unread by any test: field names
in capitals, `None` for a refusal's words, a drop reason misspelt.
"""

from __future__ import annotations

import dataclasses
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.encoding import Value, decode, encode
from chain.errors import DecodeError
from chain.state import ZERO_HASH
from consensus import (
    BlocksFetched,
    Checkpoint,
    Commit,
    InvalidMessage,
    Message,
    NewView,
    Prepare,
    PrePrepare,
    ViewChange,
    decode_message,
    decode_record,
    encode_message,
)
from consensus.messages import sign
from consensus.types import Height, ReplicaId, View
from tests.consensus.harness import START_MS, Cluster
from tests.simulation.cluster import CHAIN_ID, GENESIS_HASH, validator_key

GOLDEN = Path(__file__).parent / "testdata" / "refusal_texts.json"
REPLACEMENTS: dict[str, Value] = {"text": "x", "empty array": [], "zero": 0}
DEPTH = 3
"""Deeper lie blocks and certificates, whose decoders chain/ tests field by field."""


@cache
def _history() -> tuple[dict[str, Message], dict[bytes, bytes]]:
    """One honest message of each kind (the fullest one sent), and r1's records: three
    blocks, the third prepared in view 0 and committed in view 1 after r0 crashed."""
    cluster = Cluster()
    cluster.commit_blocks(2)
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit) and m.view == 0)
    cluster.submit(0)
    cluster.deliver_all()
    cluster.crash(0)
    cluster.run_until(lambda: all(m.store.height == 3 for m in cluster.members[1:]))
    cluster.heal()
    cluster.submit(2)  # a backup forwards it: a RequestBatch
    cluster.deliver_all()
    kinds: dict[str, Message] = {}
    for member in cluster.members:
        for message in member.sent:
            name = type(message).__name__
            if name not in kinds or len(encode_message(message)) > len(encode_message(kinds[name])):
                kinds[name] = message
    return kinds, dict(cluster[1].disk)


def _positions(value: Value, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = [prefix]
    if isinstance(value, list) and len(prefix) < DEPTH:
        for i, item in enumerate(value):
            found += _positions(item, (*prefix, i))
    return found


def _replaced(value: Value, path: tuple[int, ...], new: Value) -> Value:
    if not path:
        return new
    assert isinstance(value, list)
    copy = list(value)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


def _walk(honest: Value, refuse: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in _positions(honest):
        for label, new in REPLACEMENTS.items():
            where = f"[{', '.join(map(str, path))}] {label}"
            try:
                refuse(encode(_replaced(honest, path, new)))
            except (InvalidMessage, DecodeError) as exc:
                found[where] = str(exc)
            else:
                found[where] = "accepted"
    return found


def _texts() -> dict[str, dict[str, str]]:
    messages, disk = _history()
    texts: dict[str, dict[str, str]] = {}
    for name, message in sorted(messages.items()):
        texts[f"message {name}"] = _walk(decode(encode_message(message)), decode_message)
    for key, value in sorted(disk.items()):
        kind = type(decode_record(key, value)).__name__
        texts[f"record {kind} under {key!r}"] = _walk(
            decode(value), lambda data, key=key: decode_record(key, data)
        )
    short = {}
    for name, message in sorted(messages.items()):
        try:
            dataclasses.replace(message, signature=bytes(63)).validate_basic()
        except InvalidMessage as exc:
            short[name] = str(exc)
    texts["built in memory with a 63-byte signature"] = short
    return texts


def test_every_refusal_of_a_message_or_record_reads_as_the_golden_file_says() -> None:
    texts = _texts()
    if os.environ.get("VOTECHAIN_REWRITE"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(texts, indent=1, ensure_ascii=False) + "\n")
    assert texts == json.loads(GOLDEN.read_text())


def test_the_history_holds_a_view_change_with_a_prepared_block_and_a_re_proposal() -> None:
    """The walk reaches inside a prepared certificate and a NewView's re-proposal."""
    messages, _ = _history()
    view_change, new_view = messages["ViewChange"], messages["NewView"]
    assert isinstance(view_change, ViewChange) and view_change.prepared
    assert isinstance(new_view, NewView) and new_view.reproposals


# ---- the replica's drops, by the reason /metrics shows --------------------------------


def test_each_refused_pre_prepare_is_counted_under_its_reason() -> None:
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: True)
    tx = cluster.submit(0)
    pre_prepare = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    backup = cluster[1].up

    cluster.inject(1, 1, dataclasses.replace(pre_prepare, replica=ReplicaId(1)))
    assert backup.stats.dropped == {"not from another validator": 1}

    by_a_backup = PrePrepare(View(0), Height(1), pre_prepare.block, ReplicaId(2))
    cluster.inject(2, 1, sign(by_a_backup, validator_key(2), CHAIN_ID))
    assert backup.stats.dropped["pre-prepare not from the primary"] == 1

    app = cluster[2].app
    assert app is not None
    block = app.build_block(1, cluster.now_ms, GENESIS_HASH, (tx,))  # r2 named as proposer
    cluster.inject(
        0, 1, sign(PrePrepare(View(0), Height(1), block, ReplicaId(0)), validator_key(0), CHAIN_ID)
    )
    assert backup.stats.dropped["proposal refused: proposer"] == 1
    assert sum(backup.stats.dropped.values()) == 3


def test_a_fetched_block_of_another_chain_is_counted_under_its_reason() -> None:
    cluster = Cluster(auto_fetch=False)
    cluster.commit_blocks(1)
    _, certificate = cluster[0].store.blocks[0]
    header = make_header(
        "another-chain",
        1,
        START_MS + 1,
        GENESIS_HASH,
        (),
        ZERO_HASH,
        ZERO_HASH,
        validator_key(0).public_key,
    )
    fresh = Cluster(auto_fetch=False)
    fresh.step(0, BlocksFetched(((Block(header, ()), certificate),)))
    assert fresh[0].up.stats.dropped == {"fetched block refused: another chain": 1}


def test_a_vote_at_or_below_a_stable_checkpoint_not_yet_committed_is_counted_as_such() -> None:
    """r3 missed two blocks but saw the checkpoints that made height 2 stable: a vote for
    height 1 is below its low watermark, though above its committed height 0."""
    cluster = Cluster(auto_fetch=False)
    cluster.drop_if(lambda s, t, m: t == 3 and not isinstance(m, Checkpoint))
    for height in (1, 2):
        cluster.submit(0)
        cluster.run_until(lambda: cluster.heights()[:3] == [height] * 3)  # noqa: B023
    cluster.deliver_all()
    lagging = cluster[3].up
    assert lagging.committed_height == 0 and lagging._log.low == 2
    prepare = next(m for m in cluster[1].sent if isinstance(m, Prepare) and m.height == 1)
    cluster.inject(1, 3, prepare)
    assert lagging.stats.dropped["below the low watermark"] == 1


def test_a_view_change_with_a_forged_commit_certificate_is_counted_as_invalid() -> None:
    cluster = Cluster()
    cluster.commit_blocks(1)
    block, certificate = cluster[0].store.blocks[0]
    short = CommitCertificate.sign(
        [validator_key(2)], CHAIN_ID, certificate.view, 1, block.block_hash
    )  # one signature where a quorum is needed
    view_change = sign(ViewChange(View(1), ReplicaId(2), short, ()), validator_key(2), CHAIN_ID)
    cluster.inject(2, 1, view_change)
    assert cluster[1].up.stats.dropped["invalid view-change"] == 1
    assert not cluster[1].up.view_changing


def test_a_fresh_pre_prepare_at_the_new_views_floor_is_counted_as_such() -> None:
    """Block 1 was prepared in view 0 and is re-proposed by view 1's NewView; r2 has not
    committed it (no commit reaches r2). A fresh pre-prepare for height 1 in view 1 is
    at the floor the NewView set, and is dropped under that reason."""
    cluster = Cluster()
    cluster.drop_if(lambda s, t, m: isinstance(m, Commit) and (m.view == 0 or t == 2))
    cluster.submit(0)
    cluster.deliver_all()
    original = next(m for m in cluster[0].sent if isinstance(m, PrePrepare))
    cluster.crash(0)
    cluster.run_until(lambda: cluster[2].up.view == 1 and not cluster[2].up.view_changing)
    replica = cluster[2].up
    assert replica.committed_height == 0
    fresh = PrePrepare(View(1), Height(1), original.block, ReplicaId(1))
    cluster.inject(1, 2, sign(fresh, validator_key(1), CHAIN_ID))
    assert replica.stats.dropped["pre-prepare at or below the new view's floor"] == 1
