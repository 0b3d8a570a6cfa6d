"""The peer hello: only a validator of this chain, addressed to us, recently, gets in."""

from __future__ import annotations

import pytest

from chain.certificate import ValidatorSet
from chain.errors import DecodeError
from chain.keys import PrivateKey
from node.transport import check_hello, make_hello

KEYS = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(4)]
VALIDATORS = ValidatorSet(tuple(k.public_key for k in KEYS))
NOW = 1_800_000_000_000


def test_a_validator_hello_names_its_sender() -> None:
    hello = make_hello(KEYS[2], "c", 2, 0, NOW)
    assert check_hello(hello, "c", VALIDATORS, 0, NOW + 1000) == 2


@pytest.mark.parametrize(
    ("hello", "message"),
    [
        (make_hello(KEYS[2], "other", 2, 0, NOW), "chain"),
        (make_hello(KEYS[2], "c", 2, 1, NOW), "addressed to replica 1"),
        (make_hello(KEYS[2], "c", 2, 0, NOW - 120_000), "timestamp"),
        (make_hello(KEYS[3], "c", 2, 0, NOW), "bad signature"),
        (make_hello(PrivateKey.from_seed(b"x" * 32), "c", 1, 0, NOW), "bad signature"),
        (make_hello(KEYS[2], "c", 9, 0, NOW), "outside"),
        (b"\x93\x01\x02\x03", "expected 6 fields"),
        (b"\xc1", "not valid msgpack"),
        (b"\xff\xff", "trailing bytes"),
    ],
)
def test_anything_else_is_refused_with_a_reason(hello: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        check_hello(hello, "c", VALIDATORS, 0, NOW)
