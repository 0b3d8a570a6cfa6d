"""The genesis document (PROTOCOL.md section 8): what an operator writes and an auditor pins."""

from __future__ import annotations

import json

import pytest

from chain import encoding
from chain.errors import DecodeError, InvalidGenesis
from chain.genesis import MAX_NAME_LENGTH, Genesis
from chain.keys import PrivateKey
from chain.store import ChainStore
from tests.chain.chain_fixtures import genesis_writes, make_genesis

GENESIS = make_genesis(4)


def test_genesis_round_trips_through_json_and_the_canonical_encoding() -> None:
    assert Genesis.from_json(GENESIS.to_json()) == GENESIS
    assert Genesis.decode(GENESIS.encode()) == GENESIS
    assert Genesis.from_json(GENESIS.to_json()).genesis_hash == GENESIS.genesis_hash


def test_the_genesis_hash_covers_every_field() -> None:
    doc = json.loads(GENESIS.to_json())
    variants = [
        {**doc, "chain_id": "other"},
        {**doc, "genesis_time_ms": doc["genesis_time_ms"] + 1},
        {**doc, "validators": doc["validators"][:3]},
        {**doc, "validators": list(reversed(doc["validators"]))},
        {**doc, "attesters": []},
        {**doc, "admins": [doc["validators"][0]["public_key"]]},
    ]
    hashes = {Genesis.from_json(json.dumps(v)).genesis_hash for v in variants}
    assert len(hashes) == len(variants) and GENESIS.genesis_hash not in hashes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(validators=[]), "no validators"),
        (lambda d: d.update(admins=[]), "no admin"),
        (lambda d: d.update(validators=d["validators"][:1] * 2), "validator key twice"),
        (lambda d: d.update(chain_id=""), "chain_id"),
        (lambda d: d["validators"][0].update(public_key="abcd"), "malformed"),
        (lambda d: d.pop("admins"), "malformed"),
    ],
)
def test_from_json_refuses_an_inconsistent_document(change, message: str) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(GENESIS.to_json())
    change(doc)
    with pytest.raises(InvalidGenesis, match=message):
        Genesis.from_json(json.dumps(doc))


@pytest.mark.parametrize("text", ["", "[]", "null", "{", '{"chain_id": 1}'])
def test_from_json_refuses_text_that_is_not_a_genesis_document(text: str) -> None:
    with pytest.raises(InvalidGenesis):
        Genesis.from_json(text)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["validators"][0].update(name="v" * (MAX_NAME_LENGTH + 1)),
        lambda d: d.update(genesis_time_ms=-1),
        lambda d: d.update(attesters=[{"name": "a", "public_key": "00" * 32}] * 257),
    ],
    ids=["long-name", "negative-time", "257-attesters"],
)
def test_what_decode_would_refuse_is_refused_from_json_already(change) -> None:  # type: ignore[no-untyped-def]
    """`votechain init` must not write a genesis that no store could read back."""
    doc = json.loads(GENESIS.to_json())
    change(doc)
    with pytest.raises(InvalidGenesis):
        Genesis.from_json(json.dumps(doc))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["validators"][0].update(name="v" * MAX_NAME_LENGTH),
        lambda d: d.update(genesis_time_ms=0),
        lambda d: d.update(
            attesters=[
                {
                    "name": f"a{i}",
                    "public_key": PrivateKey.from_seed(bytes([i]) * 32).public_key.hex(),
                }
                for i in range(256)
            ]
        ),
    ],
    ids=["longest-name", "time-zero", "256-attesters"],
)
def test_a_genesis_at_the_limits_is_accepted_decoded_and_reopened(change, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(GENESIS.to_json())
    change(doc)
    genesis = Genesis.from_json(json.dumps(doc))
    decoded = Genesis.decode(genesis.encode())
    assert decoded == genesis and decoded.genesis_hash == genesis.genesis_hash
    with ChainStore(tmp_path / "data") as store:
        store.initialize(genesis, genesis_writes())
    with ChainStore(tmp_path / "data") as reopened:
        assert reopened.genesis == genesis


def test_decode_refuses_an_unknown_version() -> None:
    value = GENESIS.to_value()
    value[0] = 2
    with pytest.raises(DecodeError, match="unknown version 2"):
        Genesis.decode(encoding.encode(value))


def test_genesis_json_carries_its_version_and_a_file_without_one_reads_as_version_1() -> None:
    doc = json.loads(GENESIS.to_json())
    assert doc["version"] == 1
    del doc["version"]
    assert Genesis.from_json(json.dumps(doc)) == GENESIS


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_genesis_json_of_another_version_is_refused_naming_it(version: object) -> None:
    doc = json.loads(GENESIS.to_json())
    doc["version"] = version
    with pytest.raises(InvalidGenesis, match="version"):
        Genesis.from_json(json.dumps(doc))
