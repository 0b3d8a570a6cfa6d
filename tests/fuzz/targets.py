"""Decoders that read bytes from peers, clients and files, as fuzz targets.

Each target feeds one input to one decoder and knows the one error type that decoder may
raise on bad input (DecodeError for chain/ and the peer handshake, InvalidMessage for
consensus messages, which wraps DecodeError). Anything else escaping is a bug: a node
must never crash on what a peer or client sends. The seeds are valid encodings, so a
mutating fuzzer starts deep inside each format rather than at its first type check.

Used by the short hypothesis runs in tests/fuzz/test_decoders.py (in `make test`) and by
the coverage-guided runner `python -m tests.fuzz.run_atheris TARGET` (docs/TESTING.md).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from chain import encoding
from chain.block import Block
from chain.certificate import CommitCertificate, ValidatorSet
from chain.errors import DecodeError
from chain.genesis import Genesis, NamedKey
from chain.tx import Transaction
from consensus import InvalidMessage, PrePrepare, decode_message, encode_message
from node.rpc import decode_raw_block
from node.transport import check_challenge, check_hello, make_challenge, make_hello
from tests.consensus.test_messages import _sample_messages
from tests.simulation.cluster import CHAIN_ID, validator_key
from tests.votingcontract.test_bodies import EXAMPLES
from votingcontract.bodies import BODY_TYPES, decode_body
from votingcontract.receipts import Receipt

NONCE = bytes(range(32))
VALIDATORS = ValidatorSet(tuple(validator_key(r).public_key for r in range(4)))
LISTENER = 1
MSGPACK_MARKERS = (
    0x00,
    0x7F,
    0x80,
    0x90,
    0x9F,
    0xC0,
    0xC1,
    0xC4,
    0xCC,
    0xCF,
    0xD3,
    0xDB,
    0xDC,
    0xDD,
    0xDE,
    0xFF,
)
"""Bytes that start msgpack types and lengths: where a mutation most often lands in a
decoder's corner (wrong type, huge length, nil, reserved 0xC1)."""


@dataclass(frozen=True)
class Target:
    decode: Callable[[bytes], object]
    allowed: type[Exception]
    """The one error the decoder may raise on bad input."""
    seeds: Callable[[], list[bytes]]


@cache
def _messages() -> list[bytes]:
    return [encode_message(m) for m in _sample_messages()]


@cache
def _pre_prepare() -> PrePrepare:
    return next(m for m in _sample_messages() if isinstance(m, PrePrepare))


def _blocks() -> list[bytes]:
    return [_pre_prepare().block.encode()]


def _txs() -> list[bytes]:
    return [tx.encode() for tx in _pre_prepare().block.transactions]


def _certificates() -> list[bytes]:
    block_hash = _pre_prepare().block_hash
    keys = [validator_key(r) for r in range(3)]
    return [CommitCertificate.sign(keys, CHAIN_ID, 0, 1, block_hash).encode()]


def _raw_blocks() -> list[bytes]:
    block = encoding.decode(_blocks()[0])
    certificate = encoding.decode(_certificates()[0])
    return [encoding.encode([block, certificate, [b"\x93\x00\x00\xc0"]])]


def _hellos() -> list[bytes]:
    return [make_hello(validator_key(0), CHAIN_ID, 0, LISTENER, NONCE)]


def _challenges() -> list[bytes]:
    return [make_challenge(CHAIN_ID, LISTENER, NONCE)]


def _genesis() -> list[bytes]:
    validators = tuple(NamedKey(f"v{r}", validator_key(r).public_key) for r in range(4))
    attester = NamedKey("attester", validator_key(9).public_key)
    admins = (validator_key(8).public_key,)
    return [Genesis(CHAIN_ID, 1_700_000_000_000, validators, admins, (attester,)).encode()]


def _bodies() -> list[bytes]:
    """Every kind's example bodies, each prefixed by its kind's index (see _decode_any_body)."""
    kinds = sorted(BODY_TYPES)
    return [bytes([kinds.index(b.KIND)]) + b.encode() for b in EXAMPLES]


def _decode_any_body(data: bytes) -> object:
    """The first byte picks the transaction kind, the rest is its body (as a block's
    transactions carry them to votingcontract.decode_body)."""
    kinds = sorted(BODY_TYPES)
    if not data:
        raise DecodeError("empty")
    return decode_body(kinds[data[0] % len(kinds)], data[1:])


def _receipts() -> list[bytes]:
    tx_id, poll_id = b"\x07" * 32, b"\x03" * 32
    return [
        Receipt(tx_id, 3, "accepted", poll_id).encode(),
        Receipt(tx_id, 0, "duplicate").encode(),
    ]


def _all_seeds() -> list[bytes]:
    return [*_messages(), *_blocks(), *_txs(), *_certificates(), *_hellos(), *_challenges()]


TARGETS: dict[str, Target] = {
    "consensus_message": Target(decode_message, InvalidMessage, _messages),
    "peer_hello": Target(
        lambda data: check_hello(data, CHAIN_ID, VALIDATORS, LISTENER, NONCE),
        DecodeError,
        _hellos,
    ),
    "peer_challenge": Target(
        lambda data: check_challenge(data, CHAIN_ID, LISTENER), DecodeError, _challenges
    ),
    "transaction": Target(Transaction.decode, DecodeError, _txs),
    "block": Target(Block.decode, DecodeError, _blocks),
    "certificate": Target(CommitCertificate.decode, DecodeError, _certificates),
    "raw_block": Target(decode_raw_block, DecodeError, _raw_blocks),
    "genesis": Target(Genesis.decode, DecodeError, _genesis),
    "tx_body": Target(_decode_any_body, DecodeError, _bodies),
    "receipt": Target(Receipt.decode, DecodeError, _receipts),
    "encoding": Target(encoding.decode, DecodeError, _all_seeds),
}


def run_one(name: str, data: bytes) -> None:
    """Feed `data` to target `name`; return normally or raise only its allowed error."""
    target = TARGETS[name]
    with contextlib.suppress(target.allowed):
        target.decode(data)


def mutate(data: bytes, rng: random.Random, edits_max: int = 8) -> bytes:
    """`data` with a few bytes flipped, set, inserted, removed or cut off (seeded)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, edits_max)):
        if not out:
            break
        at = rng.randrange(len(out))
        op = rng.choice(["flip", "set", "insert", "delete", "truncate"])
        if op == "flip":
            out[at] ^= 1 << rng.randrange(8)
        elif op == "set":
            out[at] = rng.choice(MSGPACK_MARKERS)
        elif op == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 9))
        elif op == "delete":
            del out[at : at + rng.randint(1, 8)]
        else:
            del out[at:]
    return bytes(out)


def mutate_value(data: bytes, rng: random.Random) -> bytes:
    """`data` decoded, one element of its tree replaced, encoded again canonically: input
    that passes the byte-level checks and tests the rules behind them (an empty list, a
    value twice, a number out of range), which byte flips rarely reach."""
    try:
        value = encoding.decode(data)
    except DecodeError:
        return data
    lists = _lists(value)
    if not lists:
        return data
    parent = rng.choice(lists)
    if not parent:
        parent.append(rng.choice(REPLACEMENTS))
        return _encode_or(value, data)
    at = rng.randrange(len(parent))
    choice = rng.randrange(4)
    if choice == 0:
        parent[at] = rng.choice(REPLACEMENTS)
    elif choice == 1:
        parent.insert(at, parent[rng.randrange(len(parent))])  # an element twice
    elif choice == 2:
        del parent[at]
    else:
        parent[:] = []
    return _encode_or(value, data)


REPLACEMENTS: tuple[object, ...] = (
    [],
    "",
    b"",
    0,
    -1,
    1,
    2**63,
    2**64 - 1,
    -(2**63),
    None,
    True,
    "x" * 300,
    b"\x00" * 32,
    [[]],
    {"k": 1},
)


def _encode_or(value: object, fallback: bytes) -> bytes:
    try:
        return encoding.encode(value)
    except (DecodeError, ValueError, TypeError, OverflowError):
        return fallback  # a replacement the canonical encoder refuses to write


def _lists(value: object) -> list[list[object]]:
    found: list[list[object]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            found.append(item)
            stack.extend(item)
    return found
