"""bench/diskuse.py on a small chain: the families it reports are the store's, counted
right. Byte figures of a fixed generated chain are deterministic (same keys, same
signatures), so the bounds below cannot flake; the on-disk figures depend on LevelDB's
background compactions and are only checked to be there."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import diskuse
from bench.chaingen import ChainSpec

SPEC = ChainSpec(ballots=500, polls=4, block_txs=100)


@pytest.fixture(scope="module")
def use(tmp_path_factory: pytest.TempPathFactory) -> diskuse.DiskUse:
    return diskuse.disk_use(SPEC, tmp_path_factory.mktemp("diskuse"), consensus_records=True)


@pytest.mark.parametrize(
    ("key", "family"),
    [
        (b"block/\0\0\0\0\0\0\0\1", "block/"),
        (b"state/ballot/" + b"\1" * 64, "state/ballot/"),
        (b"state/stat/ballots", "state/stat/"),
        (b"local/consensus/slot/\0\0\0\1", "local/consensus/slot/"),
        (b"local/consensus/committed", "local/consensus/committed"),
        (b"meta/head", "meta/"),
        (b"txi/" + b"\xff" * 8, "txi/"),
        (b"weird", "weird"),
    ],
)
def test_a_key_belongs_to_the_family_of_its_prefix(key: bytes, family: str) -> None:
    assert diskuse.family_of(key) == family


def test_families_sum_keys_and_bytes_largest_first() -> None:
    found = diskuse.families([(b"a/1", b"xx"), (b"b/1", b"x" * 10), (b"a/22", b"")])
    assert found == (diskuse.Family("b/", 1, 3, 10), diskuse.Family("a/", 2, 7, 2))


def test_every_transaction_and_ballot_is_counted(use: diskuse.DiskUse) -> None:
    by_name = {f.name: f for f in use.families}
    assert use.ballots == 500
    voters = 500 // SPEC.polls
    # block 1 registers the org, block 2 creates the polls, then enrolments and ballots.
    assert use.transactions == 1 + SPEC.polls + voters + 500 + SPEC.polls
    assert by_name["block/"].keys == use.blocks
    assert by_name["rcpt/"].keys == use.blocks + 1  # and genesis's
    assert by_name["state/ballot/"].keys == 500
    assert by_name["state/participation/"].keys == 500
    assert by_name["state/voterkey/"].keys == voters
    # Every tx is indexed once; at 8 bytes none of these few shares a txi/ key.
    assert by_name["txi/"].keys == use.transactions and "txf/" not in by_name


def test_the_store_keeps_no_copy_of_what_the_block_holds(use: diskuse.DiskUse) -> None:
    """Layout 2's per-transaction figures (issue 13, disk): no layout 1 family is left,
    receipts cost their code and poll id, the index its 8-byte key and 4 varints, and
    no delivered block's slot record remains."""
    by_name = {f.name: f for f in use.families}
    assert not {"tx/", "receipts/", "local/consensus/slot/"} & set(by_name)
    assert "local/consensus/committed" in by_name
    per_tx = {name: by_name[name].total / use.transactions for name in ("rcpt/", "txi/")}
    assert per_tx["rcpt/"] < 45  # "accepted" and a poll id: 43; layout 1 stored 76 more
    assert per_tx["txi/"] < 4 + 8 + 10  # layout 1: 3 + 32 + 12


def test_the_disk_figures_and_table_are_reported(use: diskuse.DiskUse) -> None:
    assert use.written_bytes > 0 and use.compacted_bytes > 0
    figures = use.to_json()
    assert figures["ballots"] == 500
    assert set(figures["families"]) == {f.name for f in use.families}
    table = diskuse.format_table(use)
    assert "B/ballot" in table and "state/ballot/" in table


def test_the_command_prints_the_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "disk.json"
    assert (
        diskuse.main(["--ballots", "40", "--polls", "2", "--block-txs", "20", "--json", str(out)])
        == 0
    )
    assert "on disk compacted:" in capsys.readouterr().out
    assert '"ballots": 40' in out.read_text()
