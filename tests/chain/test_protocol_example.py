"""docs/PROTOCOL.md section 13 must match what the code computes, value for value."""

from __future__ import annotations

import re
from pathlib import Path

from chain.block import Block, BlockHeader
from chain.certificate import CommitCertificate
from chain.genesis import Genesis
from chain.tx import Transaction
from tests.chain.protocol_example import worked_example

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"


def documented_example() -> dict[str, str]:
    text = PROTOCOL.read_text(encoding="utf-8")
    section = text.split("## 13. Worked example", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block, "section 13 has no ```text block"
    pairs = (line.split(" = ", 1) for line in block.group(1).strip().splitlines())
    return {name.strip(): value.strip() for name, value in pairs}


def test_every_documented_value_matches_the_code() -> None:
    documented, computed = documented_example(), worked_example()
    assert list(documented) == list(computed)
    for name, value in computed.items():
        assert documented[name] == value, f"PROTOCOL.md's {name} differs from the code"


def test_documented_bytes_decode_to_the_stated_structures() -> None:
    """An implementer decoding the page's bytes gets what the page's prose says."""
    example = documented_example()
    genesis = Genesis.decode(bytes.fromhex(example["genesis_encoding"]))
    assert genesis.chain_id == "votechain-example"
    assert genesis.genesis_hash.hex() == example["genesis_hash"]
    tx = Transaction.decode(bytes.fromhex(example["tx_encoding"]))
    tx.verify("votechain-example")
    assert (tx.kind, tx.nonce) == ("noop", 42)
    assert tx.tx_id.hex() == example["tx_id"]
    header = BlockHeader.decode(bytes.fromhex(example["block_1_header_encoding"]))
    assert header.prev_hash == genesis.genesis_hash
    Block(header, (tx,)).validate_basic()
    certificate = CommitCertificate.decode(bytes.fromhex(example["certificate_encoding"]))
    certificate.verify(genesis.validator_set, "votechain-example", 1, header.block_hash)
