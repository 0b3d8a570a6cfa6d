"""The peer handshake: only a validator of this chain, addressed to us, answering the
challenge of this very connection, gets in; a captured hello is worth nothing elsewhere."""

from __future__ import annotations

import pytest

from chain.certificate import ValidatorSet
from chain.errors import DecodeError
from chain.keys import PrivateKey
from node.transport import check_challenge, check_hello, make_challenge, make_hello

KEYS = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(4)]
VALIDATORS = ValidatorSet(tuple(k.public_key for k in KEYS))
NONCE = bytes(range(32))
OTHER_NONCE = bytes(32)


def test_a_validator_hello_names_its_sender() -> None:
    hello = make_hello(KEYS[2], "c", 2, 0, NONCE)
    assert check_hello(hello, "c", VALIDATORS, 0, NONCE) == 2


def test_a_hello_captured_on_one_connection_is_refused_on_another() -> None:
    captured = make_hello(KEYS[2], "c", 2, 0, OTHER_NONCE)
    with pytest.raises(DecodeError, match="replayed"):
        check_hello(captured, "c", VALIDATORS, 0, NONCE)


@pytest.mark.parametrize(
    ("hello", "message"),
    [
        (make_hello(KEYS[2], "other", 2, 0, NONCE), "chain"),
        (make_hello(KEYS[2], "c", 2, 1, NONCE), "addressed to replica 1"),
        (make_hello(KEYS[3], "c", 2, 0, NONCE), "bad signature"),
        (make_hello(PrivateKey.from_seed(b"x" * 32), "c", 1, 0, NONCE), "bad signature"),
        (make_hello(KEYS[2], "c", 9, 0, NONCE), "outside"),
        (make_hello(KEYS[2], "c", 2, 0, NONCE[:16]), "expected 32 bytes"),
        (make_challenge("c", 2, NONCE), "expected 6 fields"),
        (b"\x93\x01\x02\x03", "expected 6 fields"),
        (b"\xc1", "not valid msgpack"),
        (b"\xff\xff", "trailing bytes"),
    ],
)
def test_anything_else_is_refused_with_a_reason(hello: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        check_hello(hello, "c", VALIDATORS, 0, NONCE)


def test_a_dialer_reads_the_nonce_only_from_the_peer_it_dialled() -> None:
    assert check_challenge(make_challenge("c", 1, NONCE), "c", 1) == NONCE
    for frame, message in [
        (make_challenge("c", 2, NONCE), "dialled 1"),
        (make_challenge("other", 1, NONCE), "chain"),
        (make_challenge("c", 1, NONCE[:8]), "expected 32 bytes"),
        (make_hello(KEYS[1], "c", 1, 0, NONCE), "expected 4 fields"),
    ]:
        with pytest.raises(DecodeError, match=message):
            check_challenge(frame, "c", 1)
