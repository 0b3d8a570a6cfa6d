"""Ed25519 key files (PROTOCOL.md section 3): PEM, mode 0600, never overwritten silently."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chain.errors import KeyFileError
from chain.keyfile import load_key, save_key
from chain.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify_signature

SEED = bytes(range(32))


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave a new file world-readable, so 0600 must be set on purpose."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_save_writes_pkcs8_pem_readable_by_the_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / "keys" / "validator.pem"
    save_key(PrivateKey.from_seed(SEED), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_bytes()
    assert text.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert text.rstrip().endswith(b"-----END PRIVATE KEY-----")


def test_save_refuses_to_overwrite_an_existing_key(tmp_path: Path) -> None:
    path = tmp_path / "validator.pem"
    first = PrivateKey.from_seed(SEED)
    save_key(first, path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists") as info:
        save_key(PrivateKey.generate(), path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert load_key(path).public_key == first.public_key


def test_save_overwrites_only_when_asked(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "validator.pem"
    path.write_bytes(b"old")
    path.chmod(0o644)
    replacement = PrivateKey.from_seed(SEED)
    save_key(replacement, path, overwrite=True)
    assert load_key(path).public_key == replacement.public_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_saved_key_loads_back_and_signs_the_same(tmp_path: Path) -> None:
    key = PrivateKey.generate()
    path = tmp_path / "k.pem"
    save_key(key, path)
    loaded = load_key(path)
    assert loaded.public_key == key.public_key
    assert loaded.seed() == key.seed()
    message = b"commit block 7"
    assert loaded.sign(message) == key.sign(message)
    assert verify_signature(key.public_key, loaded.sign(message), message)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a key\n", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
    ids=["empty", "text", "bad-pem"],
)
def test_loading_a_file_that_is_not_a_key_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "genesis.json"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as info:
        load_key(path)
    assert str(path) in str(info.value)


def test_loading_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.pem"
    with pytest.raises(KeyFileError, match="cannot read") as info:
        load_key(path)
    assert str(path) in str(info.value)


def test_loading_a_key_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ecdsa.pem"
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyFileError, match="not an Ed25519 key") as info:
        load_key(path)
    assert str(path) in str(info.value)


def test_loading_an_encrypted_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "encrypted.pem"
    key = PrivateKey.from_seed(SEED)
    path.write_bytes(
        key._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(KeyFileError, match="unencrypted") as info:
        load_key(path)
    assert str(path) in str(info.value)


def test_from_seed_is_deterministic() -> None:
    one, two = PrivateKey.from_seed(SEED), PrivateKey.from_seed(SEED)
    assert one.public_key == two.public_key
    assert one.sign(b"m") == two.sign(b"m")
    assert one.seed() == SEED
    assert len(one.public_key) == PUBLIC_KEY_SIZE
    assert len(one.sign(b"m")) == SIGNATURE_SIZE
    assert PrivateKey.from_seed(bytes(32)).public_key != one.public_key


def test_rfc8032_test_vector_1() -> None:
    """RFC 8032 section 7.1, TEST 1: the empty message."""
    key = PrivateKey.from_seed(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert key.public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_from_seed_refuses_a_seed_of_the_wrong_size(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey.from_seed(bytes(size))


def test_verify_signature_refuses_wrong_lengths_and_other_messages() -> None:
    key = PrivateKey.from_seed(SEED)
    signature = key.sign(b"m")
    assert verify_signature(key.public_key, signature, b"m")
    assert not verify_signature(key.public_key, signature, b"n")
    assert not verify_signature(key.public_key[:31], signature, b"m")
    assert not verify_signature(key.public_key, signature[:63], b"m")
    assert not verify_signature(PrivateKey.generate().public_key, signature, b"m")
    assert not verify_signature(bytes(32), signature, b"m")


def test_a_malleated_signature_with_s_plus_l_is_refused() -> None:
    """PROTOCOL.md section 3: S >= L is refused, so a tx_id names one signed transaction."""
    group_order = 2**252 + 27742317777372353535851937790883648493
    key = PrivateKey.from_seed(SEED)
    signature = key.sign(b"m")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + group_order).to_bytes(32, "little")
    assert malleated != signature
    assert not verify_signature(key.public_key, malleated, b"m")
