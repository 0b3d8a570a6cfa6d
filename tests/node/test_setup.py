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
        "genesis.json",
        "keys/admin.pem",
        "keys/attester-pepper",
        "keys/attester.pem",
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
