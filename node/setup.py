"""`votechain init`: keys and genesis for a cluster, idempotent, never overwriting a key.

Layout under the cluster's data_dir:

    genesis.json                 the chain's genesis (validators, admin, attester)
    keys/admin.pem               genesis admin: registers organisations
    keys/demo-org.pem            a demo organisation key (registered by `votechain up`)
    keys/attester.pem            the phone-verification service's key
    keys/attester-pepper         the attester's HMAC pepper (hex), mode 0600
    <node id>/validator.pem      each validator's consensus key
    <node id>/chain/             each node's LevelDB store (created on first start)
    <node id>/outbox/            the development SMS outbox of the attester node

On a real deployment each operator runs `votechain keygen` on their own machine and only
public keys are gathered into genesis.json; this command is the local shortcut.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from chain.genesis import Genesis, NamedKey
from chain.keyfile import load_key, save_key
from chain.keys import PrivateKey
from node.config import ClusterConfig, ConfigError


@dataclass(frozen=True)
class InitResult:
    genesis: Genesis
    created: tuple[Path, ...]


def init_cluster(config: ClusterConfig) -> InitResult:
    """Create whatever keys and genesis are missing; return the genesis in force."""
    created: list[Path] = []
    if config.genesis_path.exists():
        genesis = Genesis.from_json(config.genesis_path.read_text(encoding="utf-8"))
        if genesis.chain_id != config.chain_id:
            raise ConfigError(
                f"{config.genesis_path} is for chain {genesis.chain_id!r} but the cluster "
                f"file says {config.chain_id!r}"
            )
        return InitResult(genesis, ())
    config.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    validators = []
    for address in config.nodes:
        key = _load_or_create(config.node_dir(address.node_id) / "validator.pem", created)
        validators.append(NamedKey(address.node_id, key.public_key))
    admin = _load_or_create(config.keys_dir / "admin.pem", created)
    _load_or_create(config.keys_dir / "demo-org.pem", created)
    attester = _load_or_create(config.keys_dir / "attester.pem", created)
    pepper_path = config.keys_dir / "attester-pepper"
    if not pepper_path.exists():
        _write_secret(pepper_path, secrets.token_hex(32) + "\n")
        created.append(pepper_path)
    genesis = Genesis(
        chain_id=config.chain_id,
        genesis_time_ms=int(time.time() * 1000),
        validators=tuple(validators),
        admins=(admin.public_key,),
        attesters=(NamedKey("phone-verification", attester.public_key),),
    )
    config.genesis_path.parent.mkdir(parents=True, exist_ok=True)
    config.genesis_path.write_text(genesis.to_json(), encoding="utf-8")
    created.append(config.genesis_path)
    return InitResult(genesis, tuple(created))


def load_genesis(config: ClusterConfig) -> Genesis:
    if not config.genesis_path.exists():
        raise ConfigError(f"no genesis at {config.genesis_path}: run `votechain init` first")
    return Genesis.from_json(config.genesis_path.read_text(encoding="utf-8"))


def load_pepper(config: ClusterConfig) -> bytes:
    path = config.keys_dir / "attester-pepper"
    try:
        return bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the attester pepper at {path}: {exc}") from exc


def _load_or_create(path: Path, created: list[Path]) -> PrivateKey:
    if path.exists():
        return load_key(path)
    key = PrivateKey.generate()
    save_key(key, path)
    created.append(path)
    return key


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
