"""Key files: Ed25519 private keys as unencrypted PKCS#8 PEM, mode 0600, never overwritten
unless asked. Kept apart from chain/keys.py so the pure cores never import file I/O."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chain.errors import KeyFileError
from chain.keys import PrivateKey


def save_key(key: PrivateKey, path: Path | str, overwrite: bool = False) -> None:
    """Write `key` as PKCS#8 PEM with mode 0600; refuse to replace a file unless asked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(key.to_pem())
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)


def load_key(path: Path | str) -> PrivateKey:
    """Read an Ed25519 key file; KeyFileError names the file and what is wrong."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return PrivateKey(key)
