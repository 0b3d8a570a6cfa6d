"""cluster.toml: defaults, the shipped file, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


MINIMAL = """
[[nodes]]
id = "a"
peer_port = 7001
rpc_port = 8001
"""


def test_shipped_cluster_file_describes_four_local_validators() -> None:
    config = load_config(ROOT / "cluster.toml")
    assert [n.node_id for n in config.nodes] == ["n1", "n2", "n3", "n4"]
    assert all(n.host == "127.0.0.1" for n in config.nodes)
    assert config.data_dir == ROOT / "data"
    assert config.attester.url == "http://127.0.0.1:8100"
    assert config.attester.sender == "dev_outbox"
    assert config.attester.allowed_country_codes == ("82",)
    assert config.attester_pepper_path == ROOT / "data" / "attester" / "pepper"
    assert config.replica_id("n3") == 2


def test_a_file_naming_only_nodes_gets_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL.replace('"a"', '"n1"')))
    assert config.consensus.checkpoint_interval > 0
    assert config.attester.sender == "", "no sender unless asked for: the attester fails closed"
    assert config.attester.trusted_proxies == ()
    assert config.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[nodes]]\nid='a'\n", "lacks 'peer_port'"),
        (MINIMAL + "[consensus]\nbatch_delay = 3\n", "unknown setting 'batch_delay'"),
        (MINIMAL + "[consensus]\ntick_ms = -5\n", "tick_ms must be a positive number"),
        (MINIMAL + "[attester]\nnode = 'n1'\n", "attester.node and attester.dev_outbox are gone"),
        (MINIMAL + "[attester]\ndev_outbox = true\n", "attester.sender"),
        (MINIMAL + "[attester]\nsender = 'carrier-pigeon'\n", 'must be "http"'),
        (MINIMAL + "[attester]\nallowed_country_codes = ['+82']\n", "1 to 3 digits"),
        (MINIMAL + "[attester]\nallowed_country_codes = '82'\n", "list of strings"),
        (MINIMAL + "[attester]\nwrong_guess_budget = 0\n", "must be a positive number"),
        ("not = [toml", "not valid TOML"),
        ("[chain]\n", "at least one node"),
        (MINIMAL + MINIMAL, "unique"),
    ],
)
def test_bad_files_are_refused_with_the_field_named(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no cluster file"):
        load_config(tmp_path / "absent.toml")


def test_logs_default_beside_the_data_directory_and_can_go_elsewhere(tmp_path: Path) -> None:
    """Issue 11: a full data disk must not also silence the log that says so."""
    config = load_config(write(tmp_path, MINIMAL))
    assert config.log_dir == tmp_path / "data-logs"
    assert not config.node_log_path("a").is_relative_to(config.data_dir)
    assert config.attester_log_path == tmp_path / "data-logs" / "attester.log"
    moved = load_config(write(tmp_path, '[chain]\nlog_dir = "/var/log/vc"\n' + MINIMAL))
    assert moved.node_log_path("a") == Path("/var/log/vc/a.log")
    relative = load_config(write(tmp_path, '[chain]\nlog_dir = "logs"\n' + MINIMAL))
    assert relative.log_dir == tmp_path / "logs"
