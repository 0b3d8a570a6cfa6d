"""`votechain init`: keys and genesis for a cluster, idempotent, never overwriting a key.

Layout under the cluster's data_dir:

    genesis.json                 the chain's genesis (validators, admin, attester)
    keys/admin.pem               genesis admin: registers organisations
    keys/demo-org.pem            a demo organisation key (registered by `votechain up`)
    attester/                    the attester service's own folder, mode 0700 (no validator
                                 reads it; attester.key_file/pepper_file may point elsewhere)
    attester/attester.pem        the phone-verification service's key
    attester/pepper              the attester's HMAC pepper (hex), mode 0600
    attester/outbox/             the development SMS outbox (attester.sender = "dev_outbox")
    <node id>/validator.pem      each validator's consensus key
    <node id>/chain/             each node's LevelDB store (created on first start)

Older set-ups kept the attester's key and pepper under keys/; `init` moves them to the
attester's folder, so the pepper never sits beside validator keys.

On a real deployment each operator runs `votechain keygen` on their own machine and only
public keys are gathered into genesis.json; this command is the local shortcut.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from chain.genesis import Genesis, NamedKey
from chain.keyfile import load_key, save_key
from chain.keys import PrivateKey
from node.config import ClusterConfig, ConfigError

MIN_PEPPER_BYTES = 16


@dataclass(frozen=True)
class InitResult:
    genesis: Genesis
    created: tuple[Path, ...]


def init_cluster(config: ClusterConfig) -> InitResult:
    """Create whatever keys and genesis are missing; return the genesis in force."""
    created: list[Path] = []
    _move_attester_secrets(config, created)
    if config.genesis_path.exists():
        genesis = Genesis.from_json(config.genesis_path.read_text(encoding="utf-8"))
        if genesis.chain_id != config.chain_id:
            raise ConfigError(
                f"{config.genesis_path} is for chain {genesis.chain_id!r} but the cluster "
                f"file says {config.chain_id!r}"
            )
        return InitResult(genesis, tuple(created))
    config.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    validators = []
    for address in config.nodes:
        key = _load_or_create(config.node_dir(address.node_id) / "validator.pem", created)
        validators.append(NamedKey(address.node_id, key.public_key))
    admin = _load_or_create(config.keys_dir / "admin.pem", created)
    _load_or_create(config.keys_dir / "demo-org.pem", created)
    _private_folder(config.attester_key_path.parent)
    attester = _load_or_create(config.attester_key_path, created)
    pepper_path = config.attester_pepper_path
    if not pepper_path.exists():
        _private_folder(pepper_path.parent)
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
    """The attester's pepper; only the attester service (and tests) call this."""
    path = config.attester_pepper_path
    try:
        pepper = bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the attester pepper at {path}: {exc}") from exc
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ConfigError(f"the attester pepper at {path} is under {MIN_PEPPER_BYTES} bytes")
    return pepper


def _move_attester_secrets(config: ClusterConfig, created: list[Path]) -> None:
    """Move the attester's key and pepper out of keys/ (where validators' operators also
    look) into the attester's own folder; never overwrite what is already there."""
    for old, new in (
        (config.keys_dir / "attester-pepper", config.attester_pepper_path),
        (config.keys_dir / "attester.pem", config.attester_key_path),
    ):
        if old.exists() and not new.exists():
            _private_folder(new.parent)
            shutil.move(old, new)
            new.chmod(0o600)
            created.append(new)


def _private_folder(path: Path) -> None:
    """Create a missing folder as 0700; a folder the operator chose is left as it is."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is masked by the umask


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
