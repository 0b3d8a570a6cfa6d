"""The worked example of docs/PROTOCOL.md section 13, computed from its stated inputs.

`python -m tests.chain.protocol_example` prints the block to paste into the page after a
deliberate format change; test_protocol_example.py checks the page against this.
"""

from __future__ import annotations

from chain import encoding
from chain.block import Block, make_header
from chain.certificate import CommitCertificate
from chain.genesis import Genesis, NamedKey
from chain.keys import PrivateKey
from chain.merkle import merkle_proof
from chain.state import ZERO_HASH, next_app_hash
from chain.tx import Transaction

CHAIN_ID = "votechain-example"


def seeded_key(byte: int) -> PrivateKey:
    return PrivateKey.from_seed(bytes([byte]) * 32)


def worked_example() -> dict[str, str]:
    """name -> lowercase hex, in the order the page lists them."""
    validators = [seeded_key(0x11 + i) for i in range(4)]
    admin, signer = seeded_key(0x21), seeded_key(0x01)
    genesis = Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=1_764_000_000_000,
        validators=tuple(NamedKey(f"n{i + 1}", k.public_key) for i, k in enumerate(validators)),
        admins=(admin.public_key,),
        attesters=(),
    )
    body = encoding.encode(["hello", 7])
    tx = Transaction.create(signer, CHAIN_ID, "noop", body, nonce=42)
    genesis_writes: list[tuple[bytes, bytes | None]] = [(b"example/key", b"value")]
    app_hash_0 = next_app_hash(ZERO_HASH, genesis_writes)
    header = make_header(
        chain_id=CHAIN_ID,
        height=1,
        timestamp_ms=1_764_000_001_000,
        prev_hash=genesis.genesis_hash,
        transactions=(tx,),
        prev_app_hash=app_hash_0,
        prev_receipts_root=ZERO_HASH,
        proposer=validators[0].public_key,
    )
    block = Block(header, (tx,))
    certificate = CommitCertificate.sign(validators[:3], CHAIN_ID, 0, 1, block.block_hash)
    second = Transaction.create(signer, CHAIN_ID, "noop", body, nonce=43)
    proof = merkle_proof([tx.tx_id, second.tx_id, ZERO_HASH], 2)
    return {
        "validator_1_public_key": validators[0].public_key.hex(),
        "signer_public_key": signer.public_key.hex(),
        "genesis_encoding": genesis.encode().hex(),
        "genesis_hash": genesis.genesis_hash.hex(),
        "tx_body": body.hex(),
        "tx_sign_bytes": tx.sign_bytes.hex(),
        "tx_signature": tx.signature.hex(),
        "tx_encoding": tx.encode().hex(),
        "tx_id": tx.tx_id.hex(),
        "genesis_write_set_app_hash": app_hash_0.hex(),
        "block_1_tx_root": header.tx_root.hex(),
        "block_1_header_encoding": header.encode().hex(),
        "block_1_hash": block.block_hash.hex(),
        "commit_vote_sign_bytes": certificate.sign_bytes.hex(),
        "certificate_encoding": certificate.encode().hex(),
        "proof_leaf_2_of_3": encoding.encode(proof.to_value()).hex(),
    }


def main() -> None:
    for name, value in worked_example().items():
        print(f"{name} = {value}")


if __name__ == "__main__":
    main()
