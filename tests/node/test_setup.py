"""`votechain init`: keys and genesis once; a second run changes nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from node.config import ConfigError, load_config
from node.setup import init_cluster, load_genesis
from tests.cluster.harness import cluster_toml


def test_init_creates_keys_and_genesis_once_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(cluster_toml(4))
    config = load_config(tmp_path / "cluster.toml")
    first = init_cluster(config)
    names = sorted(p.relative_to(config.data_dir).as_posix() for p in first.created)
    assert names == [
        "attester/attester.pem",
        "attester/pepper",
        "genesis.json",
        "keys/admin.pem",
        "keys/demo-org.pem",
        "n1/validator.pem",
        "n2/validator.pem",
        "n3/validator.pem",
        "n4/validator.pem",
    ]
    for path in first.created:
        if path.name != "genesis.json":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    before = {p: p.read_bytes() for p in first.created}
    second = init_cluster(config)
    assert second.created == ()
    assert second.genesis == first.genesis == load_genesis(config)
    assert {p: p.read_bytes() for p in first.created} == before
    assert [v.name for v in first.genesis.validators] == ["n1", "n2", "n3", "n4"]


def test_init_refuses_a_genesis_of_another_chain(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(cluster_toml(4))
    init_cluster(load_config(tmp_path / "cluster.toml"))
    text = (tmp_path / "cluster.toml").read_text().replace("votechain-test", "other-chain")
    (tmp_path / "cluster.toml").write_text(text)
    with pytest.raises(ConfigError, match="other-chain"):
        init_cluster(load_config(tmp_path / "cluster.toml"))


def test_the_pepper_lives_in_the_attesters_own_private_folder_and_no_validators(
    tmp_path: Path,
) -> None:
    """Finding 6: no validator's data dir (nor keys/) holds the pepper; only data/attester/,
    mode 0700, with the pepper file 0600."""
    (tmp_path / "cluster.toml").write_text(cluster_toml(4))
    config = load_config(tmp_path / "cluster.toml")
    init_cluster(config)
    assert config.attester_pepper_path.parent == config.attester_dir
    assert stat.S_IMODE(config.attester_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(config.attester_pepper_path.stat().st_mode) == 0o600
    pepper = config.attester_pepper_path.read_bytes()
    for path in config.data_dir.rglob("*"):
        if path.is_file() and config.attester_dir not in path.parents:
            assert pepper.strip() not in path.read_bytes(), path


def test_init_moves_an_old_pepper_and_key_out_of_keys(tmp_path: Path) -> None:
    (tmp_path / "cluster.toml").write_text(cluster_toml(4))
    config = load_config(tmp_path / "cluster.toml")
    init_cluster(config)
    pepper, key = config.attester_pepper_path.read_bytes(), config.attester_key_path.read_bytes()
    # the layout of earlier versions: both under keys/, beside the admin key
    config.attester_pepper_path.rename(config.keys_dir / "attester-pepper")
    config.attester_key_path.rename(config.keys_dir / "attester.pem")
    result = init_cluster(config)
    assert set(result.created) == {config.attester_pepper_path, config.attester_key_path}
    assert config.attester_pepper_path.read_bytes() == pepper
    assert config.attester_key_path.read_bytes() == key
    assert not (config.keys_dir / "attester-pepper").exists()
    assert not (config.keys_dir / "attester.pem").exists()
    assert stat.S_IMODE(config.attester_pepper_path.stat().st_mode) == 0o600
    assert init_cluster(config).created == ()
