"""Every decoder of ballotcrypto refuses any malformed input with a DecodeError (which
names the field), never another exception: random structures and single-byte changes of
honest encodings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballotcrypto import dkg, question
from ballotcrypto.decryption import PartialDecryption
from ballotcrypto.dkg import Complaint, Dealing, TransportKey
from ballotcrypto.errors import MalformedCrypto
from ballotcrypto.question import QuestionRule
from chain.encoding import decode, encode
from chain.errors import DecodeError
from tests.ballotcrypto.fixtures import CHAIN_ID, POLL_ID, Scalars, ballot_context, keypair
from tests.ballotcrypto.trustees import run_ceremony

BUDGET = QuestionRule(3, 0, 3, costs=(3, 2, 5), cap=7, floor=2)
PICK_ONE = QuestionRule(3, 1, 1)

DECODERS: dict[str, Callable[[Any], object]] = {
    "transport key": TransportKey.from_value,
    "dealing": Dealing.from_value,
    "complaint": Complaint.from_value,
    "partial decryption": PartialDecryption.from_value,
    "pick-one question": lambda value: question.decode(value, PICK_ONE, "q"),
    "budget question": lambda value: question.decode(value, BUDGET, "q"),
}

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.sampled_from([bytes(32), b"\xff" * 32, b"\x01" + bytes(31)])
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(DECODERS)), values)
def test_random_structures_are_refused_as_decode_errors(name: str, value: Any) -> None:
    with contextlib.suppress(DecodeError):
        DECODERS[name](value)


def honest_encodings() -> dict[str, bytes]:
    ceremony = run_ceremony(2, 3, seed=30)
    scalars = Scalars(31)
    key = keypair(scalars)
    encodings = {
        "transport key": encode(ceremony.transport_keys[0].to_value()),
        "dealing": encode(ceremony.dealings[0].to_value()),
        "complaint": encode(
            dkg.complain(
                CHAIN_ID, POLL_ID, ceremony.dealings[0], 2, ceremony.transport_secrets[1], 5
            ).to_value()
        ),
    }
    for name, rule, selections in (
        ("pick-one question", PICK_ONE, [0, 1, 0]),
        ("budget question", BUDGET, [1, 1, 0]),
    ):
        encrypted = question.encrypt(
            ballot_context(),
            key.public,
            rule,
            selections,
            scalars.many(3),
            scalars.many(question.nonce_count(rule)),
        )
        encodings[name] = encode(encrypted.to_value())
    return encodings


HONEST = honest_encodings()


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(HONEST)), st.data())
def test_changed_bytes_of_honest_encodings_decode_or_are_refused(
    name: str, data: st.DataObject
) -> None:
    original = HONEST[name]
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    changed = bytearray(original)
    changed[position] ^= flip
    with contextlib.suppress(DecodeError):
        DECODERS[name](decode(bytes(changed)))


def test_a_share_index_outside_the_dealing_is_refused() -> None:
    ceremony = run_ceremony(2, 3, seed=32)
    with pytest.raises(MalformedCrypto, match="no share for trustee 4"):
        dkg.receive_share(CHAIN_ID, POLL_ID, ceremony.dealings[0], 4, 1)


def paths(value: Any, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """Every position in a nested array, the arrays themselves included."""
    found = [prefix]
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def replaced(value: Any, path: tuple[int, ...], new: Any) -> Any:
    if not path:
        return new
    copy = list(value)
    copy[path[0]] = replaced(copy[path[0]], path[1:], new)
    return copy


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(HONEST)), st.data())
def test_any_field_replaced_deep_inside_is_refused_as_a_decode_error(
    name: str, data: st.DataObject
) -> None:
    honest = decode(HONEST[name])
    path = data.draw(st.sampled_from(paths(honest)))
    with contextlib.suppress(DecodeError):
        DECODERS[name](replaced(honest, path, data.draw(values)))
