"""A validator's key file is never readable by anyone else, not even while it is written
(chain/keyfile.py).

save_key creates the file with mode 0600 and sets 0600 again afterwards. The second step
alone would leave a window in which a file created with the umask's mode (0644, or 0666
under umask 0) holds the private key readable by every local user; these tests take the
second step away to see the first.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from chain.errors import KeyFileError
from chain.keyfile import load_key, save_key
from chain.keys import PrivateKey

KEY = PrivateKey.from_seed(bytes(range(32)))


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_key_file_is_created_owner_only_before_anything_is_written(
    tmp_path: Path, permissive_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    path = tmp_path / "validator.pem"
    save_key(KEY, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_file_is_saved_into_folders_that_do_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "node-1" / "keys" / "validator.pem"
    save_key(KEY, path)
    assert load_key(path).public_key == KEY.public_key


def test_a_key_of_another_algorithm_is_refused_naming_the_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "x25519.pem"
    path.write_bytes(
        X25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyFileError) as refused:
        load_key(path)
    assert str(refused.value) == f"{path} holds a X25519PrivateKey, not an Ed25519 key"
