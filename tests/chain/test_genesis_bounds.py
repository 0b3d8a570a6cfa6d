"""The genesis document's own rules at their bounds, and the words of each refusal
(PROTOCOL.md section 8; chain/genesis.py).

`votechain init` builds a Genesis from genesis.json and refuses there what a store could
not read back (`_check_decodable`); an operator fixing a refused file reads the message.
The mutation run of chain/ found these bounds held by no test: a 64-character chain id,
genesis_time_ms of 2**64 - 1 and 2**64, more than 256 validators or admins, and the
wording that names which list or which name is at fault.
"""

from __future__ import annotations

import json

import pytest

from chain.certificate import MAX_VALIDATORS
from chain.errors import InvalidGenesis
from chain.genesis import MAX_NAME_LENGTH, Genesis, NamedKey
from chain.tx import MAX_CHAIN_ID_LENGTH
from tests.chain.chain_fixtures import make_genesis

GENESIS = make_genesis(4)
U64_MAX = 2**64 - 1


def keys(count: int) -> tuple[bytes, ...]:
    """`count` distinct 32-byte keys."""
    return tuple(i.to_bytes(2, "big") + bytes(30) for i in range(count))


def named(count: int) -> tuple[NamedKey, ...]:
    return tuple(NamedKey(f"n{i}", key) for i, key in enumerate(keys(count)))


def refusal(**changes: object) -> str:
    fields = {
        "chain_id": GENESIS.chain_id,
        "genesis_time_ms": GENESIS.genesis_time_ms,
        "validators": GENESIS.validators,
        "admins": GENESIS.admins,
        "attesters": GENESIS.attesters,
    }
    fields.update(changes)
    with pytest.raises(InvalidGenesis) as refused:
        Genesis(**fields)  # type: ignore[arg-type]
    return str(refused.value)


def test_a_chain_id_of_exactly_64_characters_and_the_largest_time_are_accepted() -> None:
    genesis = Genesis(
        "c" * MAX_CHAIN_ID_LENGTH, U64_MAX, GENESIS.validators, GENESIS.admins, GENESIS.attesters
    )
    assert Genesis.decode(genesis.encode()) == genesis


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chain_id": ""}, "chain_id must be 1..64 characters"),
        ({"chain_id": "c" * (MAX_CHAIN_ID_LENGTH + 1)}, "chain_id must be 1..64 characters"),
        ({"validators": ()}, "genesis lists no validators"),
        ({"validators": GENESIS.validators[:1] * 2}, "genesis lists a validator key twice"),
        ({"admins": ()}, "genesis lists no admin key"),
        ({"genesis_time_ms": 2**64}, f"genesis_time_ms {2**64} is not a u64"),
        ({"genesis_time_ms": -1}, "genesis_time_ms -1 is not a u64"),
        (
            {"validators": named(MAX_VALIDATORS + 1)},
            f"genesis lists {MAX_VALIDATORS + 1} validators, at most {MAX_VALIDATORS}",
        ),
        (
            {"admins": keys(MAX_VALIDATORS + 1)},
            f"genesis lists {MAX_VALIDATORS + 1} admins, at most {MAX_VALIDATORS}",
        ),
        (
            {"attesters": named(MAX_VALIDATORS + 1)},
            f"genesis lists {MAX_VALIDATORS + 1} attesters, at most {MAX_VALIDATORS}",
        ),
        ({"admins": (bytes(31),)}, "every public key must be 32 bytes"),
        ({"attesters": (NamedKey("a", bytes(33)),)}, "every public key must be 32 bytes"),
    ],
)
def test_a_genesis_out_of_bounds_is_refused_saying_which_rule(
    changes: dict[str, object], message: str
) -> None:
    assert refusal(**changes) == message


def test_a_name_too_long_is_refused_showing_its_first_16_characters() -> None:
    name = "abcdefghijklmnopqrstuvwxyz" * 5
    assert len(name) > MAX_NAME_LENGTH
    assert refusal(attesters=(NamedKey(name, bytes(32)),)) == (
        f"name 'abcdefghijklmnop'... is longer than {MAX_NAME_LENGTH} characters"
    )


def test_genesis_json_that_is_not_an_object_is_refused_saying_so() -> None:
    with pytest.raises(InvalidGenesis) as refused:
        Genesis.from_json("[]")
    assert str(refused.value) == "genesis.json must hold a JSON object"


def test_a_public_key_in_genesis_json_that_is_not_32_bytes_is_named() -> None:
    doc = json.loads(GENESIS.to_json())
    doc["admins"] = ["abcd"]
    with pytest.raises(InvalidGenesis) as refused:
        Genesis.from_json(json.dumps(doc))
    assert str(refused.value) == (
        "genesis.json is malformed: public key 'abcd' is not 32 bytes of hex"
    )


def test_genesis_json_is_written_one_field_a_line_indented_by_two() -> None:
    """Operators compare and review this file by eye; its hash is not taken from it."""
    text = GENESIS.to_json()
    assert text.endswith("}\n")
    lines = text.splitlines()
    assert lines[0] == "{"
    assert lines[1] == '  "version": 1,'
    assert lines[2] == f'  "chain_id": "{GENESIS.chain_id}",'
    assert lines[5] == "    {"
    assert lines[6] == '      "name": "validator-0",'
